// How a web front end (Harbor, Grafana, Argo Workflows, Argo CD, JupyterHub, the static pages) is
// reached: through the site's ingress controller (siteforge's ingress-nginx, or the Traefik RKE2
// bundles) with a certificate from the site CA when cert-manager is enabled.
import type { SiteModel } from '../model/site.ts';
import { CLUSTER_ISSUER } from './cert-manager.ts';
import { INGRESS_CLASS } from './ingress-nginx.ts';
import { loadBalancerBeforeIngress } from '../spec/guards.ts';

/** The IngressClass RKE2's bundled Traefik creates (rke2-traefik's ingressClass.name; the only class it serves). */
export const RKE2_TRAEFIK_CLASS = 'traefik';

/** The IngressClass of the site's ingress controller, or null when it has none. */
export const ingressClassOf = (site: SiteModel): string | null =>
  site.ingress === 'ingressNginx' ? INGRESS_CLASS : site.ingress === 'rke2Traefik' ? RKE2_TRAEFIK_CLASS : null;

/** Whether a front end that can have a MetalLB address of its own takes it rather than the ingress (loadBalancerBeforeIngress). */
export const loadBalancerFirst = (site: Pick<SiteModel, 'ingress' | 'componentSettings'>): boolean => loadBalancerBeforeIngress(site.ingress, site.componentSettings.metallb.enabled);

/**
 * Values for a typical chart's `ingress` block, or null when the site has no ingress controller —
 * or, for a front end that can take a MetalLB address instead (`orLoadBalancer`), when it takes that.
 */
export function ingressFor(site: SiteModel, host: string, tlsSecret: string, opts: { orLoadBalancer?: boolean } = {}): Record<string, unknown> | null {
  const className = ingressClassOf(site);
  if (!className || (opts.orLoadBalancer && loadBalancerFirst(site))) return null;
  const tls = site.componentSettings.certManager.enabled;
  return {
    ingressClassName: className,
    ...(tls ? { annotations: { 'cert-manager.io/cluster-issuer': CLUSTER_ISSUER } } : {}),
    hosts: [host],
    ...(tls ? { tls: [{ secretName: tlsSecret, hosts: [host] }] } : {}),
  };
}
