// Defensive readers for values that may still be malformed (cross-field rules run even when
// the schema already reported errors, so that all problems are reported at once).
export const list = <T>(value: T[] | undefined | unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);
export const isString = (value: unknown): value is string => typeof value === 'string';

/** The environments a (possibly malformed) spec declares: prod, the schema's default, when it names none. */
export const declaredEnvironments = (spec: { readonly spec?: { readonly environments?: unknown } }): string[] =>
  Array.isArray(spec.spec?.environments) ? list<unknown>(spec.spec.environments).filter(isString) : ['prod'];

/**
 * The ingress controller in front of the web UIs (Harbor, Grafana, Argo, JupyterHub, the static
 * pages) of a (possibly malformed) spec: siteforge's ingress-nginx when enabled, else on RKE2 the
 * Traefik RKE2 bundles unless spec.distribution.ingressController is none; none otherwise.
 */
export type SiteIngress = 'ingressNginx' | 'rke2Traefik';
export function siteIngressOf(spec: { readonly spec?: { readonly components?: unknown; readonly distribution?: unknown } }): SiteIngress | null {
  const components = spec.spec?.components as { ingressNginx?: { enabled?: unknown } } | undefined;
  const distribution = spec.spec?.distribution as { type?: unknown; ingressController?: unknown } | undefined;
  if (components?.ingressNginx?.enabled === true) return 'ingressNginx';
  if (distribution?.type === 'rke2' && distribution.ingressController !== 'none') return 'rke2Traefik';
  return null;
}

/**
 * Whether a front end that can have a MetalLB address of its own (Harbor, JupyterHub, the static
 * pages) takes it rather than the ingress: when the ingress is RKE2's Traefik, which listens on
 * host ports of every node, and MetalLB gives addresses — as these front ends had before RKE2's
 * Traefik became the site's ingress.
 */
export const loadBalancerBeforeIngress = (ingress: SiteIngress | null, metallb: boolean): boolean => ingress === 'rke2Traefik' && metallb;
