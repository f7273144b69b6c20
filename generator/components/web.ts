// How a web front end (Harbor, Grafana, Argo Workflows) is reached: through ingress-nginx with a
// certificate from the site CA when those components are enabled.
import type { SiteModel } from '../model/site.ts';
import { CLUSTER_ISSUER } from './cert-manager.ts';
import { INGRESS_CLASS } from './ingress-nginx.ts';

/** Values for a typical chart's `ingress` block, or null when the site has no ingress controller. */
export function ingressFor(site: SiteModel, host: string, tlsSecret: string): Record<string, unknown> | null {
  if (!site.componentSettings.ingressNginx.enabled) return null;
  const tls = site.componentSettings.certManager.enabled;
  return {
    ingressClassName: INGRESS_CLASS,
    ...(tls ? { annotations: { 'cert-manager.io/cluster-issuer': CLUSTER_ISSUER } } : {}),
    hosts: [host],
    ...(tls ? { tls: [{ secretName: tlsSecret, hosts: [host] }] } : {}),
  };
}
