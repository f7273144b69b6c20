// Release instances of a site (one per cluster-scoped release, one per environment for
// environment-scoped ones) and the one dependency graph between them. helmfile `needs:`, Flux
// `dependsOn` and Argo CD sync waves are all read from here.
import { componentNames, type ComponentName } from '../components/catalog.ts';
import { EXTRA_RELEASES, extraReleaseDef } from './extra-releases.ts';
import { RELEASE_LAYERS, type ReleaseDef, type ReleaseLayer } from '../components/types.ts';
import { buildDependencyGraph, type DependencyGraph } from './graph.ts';
import { chartOf } from '../components/upstream.ts';
import { tolerationFor } from './taints.ts';
import type { EnvironmentModel, SiteModel } from './site.ts';

/** What a release comes from: a catalog component, or the spec's extraReleases. */
export type ReleaseSource = ComponentName | typeof EXTRA_RELEASES;

export interface Release {
  /** Unique name: the release name, suffixed with the environment for environment-scoped ones. */
  readonly name: string;
  readonly def: ReleaseDef;
  readonly component: ReleaseSource;
  readonly environment?: EnvironmentModel;
  readonly namespace: string;
  /** Wrapper chart directory (absent for kustomize-sourced releases). */
  readonly chartPath?: string;
  /** Per-environment values file, relative to the output root. */
  readonly environmentValuesPath?: string;
  /** Names of the releases that must be deployed first (direct dependencies). */
  readonly needs: readonly string[];
  /** 0 for releases without dependencies, else 1 + the highest level of their needs. */
  readonly level: number;
  /** GitOps layer, never earlier than the layers of its needs. */
  readonly layer: ReleaseLayer;
}

export interface SiteReleases {
  /** In dependency order. */
  readonly releases: readonly Release[];
  readonly graph: DependencyGraph;
  /** Every distinct release definition (one wrapper chart each), in dependency order. */
  readonly definitions: readonly { component: ReleaseSource; def: ReleaseDef }[];
}

const cache = new WeakMap<SiteModel, SiteReleases>();

export interface UpstreamRepository {
  /** The chart's name, or the URL's last segment when several charts come from it. */
  readonly name: string;
  readonly url: string;
}

/** The Helm repositories the site's upstream charts come from, sorted by name (helmfile, Flux, Argo CD). */
export function upstreamRepositories(site: SiteModel): UpstreamRepository[] {
  const chartsByUrl = new Map<string, Set<string>>();
  for (const { def } of siteReleases(site).definitions) {
    if (!def.upstream) continue;
    const url = chartOf(def.upstream).repository;
    chartsByUrl.set(url, (chartsByUrl.get(url) ?? new Set()).add(def.upstream.chart));
  }
  return [...chartsByUrl]
    .map(([url, charts]) => ({ name: charts.size === 1 ? [...charts][0]! : url.replace(/\/+$/, '').split('/').pop()!.toLowerCase(), url }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * A cluster component's release with the site's cluster tolerations (spec.placement) added at
 * every place its upstream chart takes pod tolerations, after the chart's own defaults.
 */
function withPlacement(site: SiteModel, def: ReleaseDef): ReleaseDef {
  if (!site.clusterTolerations.length || !def.podTolerations || !def.upstream || def.scope !== 'cluster') return def;
  const key = def.upstream.alias ?? def.upstream.chart;
  const values = structuredClone(def.values ?? {}) as Record<string, any>;
  const root = (values[key] ??= {}) as Record<string, any>;
  for (const [path, defaults] of Object.entries(def.podTolerations)) {
    const parts = path.split('.');
    let node = root;
    for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, any>;
    const last = parts.at(-1)!;
    node[last] = [...((node[last] as Record<string, string>[] | undefined) ?? defaults), ...site.clusterTolerations.map(tolerationFor)];
  }
  return { ...def, values };
}

export function siteReleases(site: SiteModel): SiteReleases {
  const cached = cache.get(site);
  if (cached) return cached;
  const definitions: { component: ReleaseSource; def: ReleaseDef }[] = [
    ...site.components.flatMap((c) => {
      const override = (c.settings as { chartVersion?: string }).chartVersion;
      return c.module.releases(site, c.settings as never).map((def) => ({
        component: c.name as ReleaseSource,
        def: withPlacement(site, override && def.upstream ? { ...def, upstream: { ...def.upstream, version: override } } : def),
      }));
    }),
    // The site's extra releases come after the components they need, as the spec orders them.
    ...site.extraReleases.map((x) => ({ component: EXTRA_RELEASES as ReleaseSource, def: extraReleaseDef(x, componentNames, site.extraReleases.map((e) => e.name)) })),
  ];
  const enabled = new Set(site.components.map((c) => c.name as string));
  const instances = definitions.flatMap(({ component, def }) =>
    def.scope === 'environment'
      ? site.environments.map((env) => ({ name: `${def.name}-${env.name}`, component, def, environment: env }))
      : [{ name: def.name, component, def, environment: undefined as EnvironmentModel | undefined }],
  );
  const byDef = new Map<string, typeof instances>();
  for (const i of instances) byDef.set(i.def.name, [...(byDef.get(i.def.name) ?? []), i]);
  const instancesOfDef = (name: string, env: EnvironmentModel | undefined) =>
    (byDef.get(name) ?? []).filter((i) => !env || !i.environment || i.environment === env).map((i) => i.name);
  const dependsOn = (i: (typeof instances)[number]) => [
    ...(i.def.after ?? []).flatMap((name) => instancesOfDef(name, i.environment)),
    ...[...(site.graph.needs.get(i.component as ComponentName) ?? []), ...(i.def.afterComponents ?? []).filter((c) => enabled.has(c))].flatMap((dep) =>
      definitions.filter((d) => d.component === dep).flatMap((d) => instancesOfDef(d.def.name, i.environment)),
    ),
  ];
  const graph = buildDependencyGraph(instances.map((i) => ({ name: i.name, dependsOn: dependsOn(i) })));
  const byName = new Map(instances.map((i) => [i.name, i]));
  const layerOf = new Map<string, ReleaseLayer>();
  const releases = graph.order.map((name): Release => {
    const i = byName.get(name)!;
    const needs = graph.needs.get(name) ?? [];
    // Never before the layer of anything it needs (dependencies come first in graph.order).
    const index = Math.max(RELEASE_LAYERS.indexOf(i.def.layer ?? 'infrastructure'), ...needs.map((n) => RELEASE_LAYERS.indexOf(layerOf.get(n)!)));
    const layer = RELEASE_LAYERS[index]!;
    layerOf.set(name, layer);
    return {
      layer,
      name,
      def: i.def,
      component: i.component,
      environment: i.environment,
      namespace: i.environment ? i.environment.namespace : (i.def.namespace ?? 'default'),
      chartPath: i.def.kustomization ? undefined : `charts/${i.def.name}`,
      environmentValuesPath: i.environment ? `environments/${i.environment.name}/${i.def.name}.yaml` : undefined,
      needs: graph.needs.get(name) ?? [],
      level: graph.level.get(name) ?? 0,
    };
  });
  const result = { releases, graph, definitions };
  cache.set(site, result);
  return result;
}

/**
 * Namespaces a CIS-hardened RKE2 cluster exempts from its restricted default Pod Security level:
 * RKE2's own (kube-system, cis-operator-system, tigera-operator), the GitOps engine's, and every
 * cluster component's (operators and node agents need host access). Environment namespaces are
 * not exempt: their own labels set their level.
 */
export function podSecurityExemptions(site: SiteModel): string[] {
  const own = ['kube-system', 'cis-operator-system', 'tigera-operator', site.gitops.engine === 'flux' ? 'flux-system' : 'argocd'];
  const components = siteReleases(site).releases.filter((r) => !r.environment).map((r) => r.namespace);
  return [...new Set([...own, ...components])].sort();
}
