// ingress-nginx: the ingress controller for the web front ends (Harbor, Grafana, Argo).
// Upstream retired the project in March 2026 (no further security fixes): RKE2 sites have RKE2's
// maintained Traefik instead (spec.distribution.ingressController), other sites should plan a
// Gateway API implementation; it stays here, off by default, for sites that already run it.
import { Type } from '@sinclair/typebox';
import { Enabled, ChartVersion } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef, webhookCaBundles } from './types.ts';

export const INGRESS_CLASS = 'nginx';

export const ingressNginx = defineComponent({
  name: 'ingressNginx',
  title: 'ingress-nginx controller (retired upstream in 2026; off by default)',
  dependsOn: ['metallb'],
  notUnderHpk: 'the controller needs a LoadBalancer Service or host ports on nodes, and HPK has neither: every Service is headless and a pod runs wherever Slurm puts its job',
  settings: Type.Object({ enabled: Enabled(false), chartVersion: ChartVersion() }, { additionalProperties: false }),
  check(ctx) {
    ctx.report('warning', ['spec', 'components', 'ingressNginx', 'enabled'], 'ingress-nginx was retired upstream in March 2026: it gets no security fixes, and it is the front door of every web UI here', {
      hint:
        (ctx.spec.spec?.distribution as { type?: unknown } | undefined)?.type === 'rke2'
          ? 'drop ingressNginx: RKE2\'s maintained Traefik is then the ingress (spec.distribution.ingressController, traefik by default), with the same host names and certificates'
          : 'plan the move to a maintained Gateway API implementation; until then keep the pinned chart current with Renovate',
    });
  },
  releases: (site): ReleaseDef[] => {
    // Behind a MetalLB address when the site has MetalLB; otherwise on ports 80/443 of every node
    // (a DaemonSet with host ports), since a LoadBalancer Service would never get an address.
    const metallb = site.componentSettings.metallb.enabled;
    return [
      {
        name: 'ingress-nginx',
        description: metallb ? 'ingress-nginx controller behind a MetalLB address' : 'ingress-nginx controller on ports 80/443 of every node',
        scope: 'cluster',
        namespace: 'ingress-nginx',
        upstream: { chart: 'ingress-nginx' },
        // The admission-patch job writes the webhook's CA.
        selfMutated: webhookCaBundles(['ValidatingWebhookConfiguration']),
        // Where the chart takes pod tolerations, with its defaults at the pin (kept beside spec.placement's).
        podTolerations: {
          'controller.tolerations': [],
          'controller.admissionWebhooks.patch.tolerations': [],
          'defaultBackend.tolerations': [],
        },
        values: {
          'ingress-nginx': {
            controller: {
              ingressClassResource: { name: INGRESS_CLASS, default: true },
              ...(metallb ? { service: { type: 'LoadBalancer' } } : { kind: 'DaemonSet', hostPort: { enabled: true }, service: { type: 'ClusterIP' } }),
              metrics: { enabled: true },
            },
          },
        },
      },
    ];
  },
});
