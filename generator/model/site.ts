// Stage 3: the typed site every renderer reads — defaults resolved, derived facts computed once.
import { basename } from 'node:path';
import type { Static } from '@sinclair/typebox';
import type { AlertingSpec, IdentitySpec, ExtraManifestsSpec, ExtraReleaseSpec, NodeSpec, SiteSpec, StorageClassSpec, VolumeSpec } from '../spec/schema.ts';
import { catalog, componentNames, type ComponentName } from '../components/catalog.ts';
import type { ComponentModule } from '../components/types.ts';
import { buildDependencyGraph, type DependencyGraph } from './graph.ts';
import { siteIngressOf, type SiteIngress } from '../spec/guards.ts';
import { workflowInstances, type WorkflowModel } from './workflows.ts';

export type NodeModel = NodeSpec & {
  /** The first server: it initialises the cluster; every other node joins it. */
  readonly bootstrap: boolean;
};

export interface EnvironmentModel {
  readonly name: string;
  /** <env>-<site> */
  readonly namespace: string;
}

export type ComponentSettings<N extends ComponentName> = Static<(typeof catalog)[N]['settings']>;

export interface EnabledComponent {
  readonly name: ComponentName;
  readonly module: ComponentModule;
  readonly settings: Record<string, unknown>;
}

export interface SiteModel {
  readonly name: string;
  readonly domain: string;
  /** File name of the spec, as written in the "generated from" headers. */
  readonly specFile: string;
  readonly distribution: SiteSpec['spec']['distribution'] & {
    /** The API endpoint's name and address, the user tlsSANs, every server address and extra address, deduplicated, in that order. */
    readonly allTlsSANs: readonly string[];
    /** Where nodes join and kubectl connects: the API endpoint's address, else the first server's. */
    readonly joinAddress: string;
  };
  readonly nodes: readonly NodeModel[];
  readonly servers: readonly NodeModel[];
  readonly agents: readonly NodeModel[];
  readonly bootstrapServer: NodeModel;
  readonly kubelet: SiteSpec['spec']['kubelet'];
  readonly nodeSetup: SiteSpec['spec']['nodeSetup'];
  /** Taints every cluster component tolerates: the server taints, then the further ones, without repeats. */
  readonly clusterTolerations: readonly string[];
  /** The ingress controller in front of the web UIs: siteforge's ingress-nginx, RKE2's bundled Traefik, or none. */
  readonly ingress: SiteIngress | null;
  readonly volumes: readonly VolumeSpec[];
  readonly storageClasses: readonly StorageClassSpec[];
  /** The class marked default, if any: components that need dynamic storage use it unless told otherwise. */
  readonly defaultStorageClass?: StorageClassSpec;
  readonly environments: readonly EnvironmentModel[];
  /** Settings of every catalog component, enabled or not, with defaults. */
  readonly componentSettings: { readonly [N in ComponentName]: ComponentSettings<N> };
  /** Enabled components in dependency order. */
  readonly components: readonly EnabledComponent[];
  readonly graph: DependencyGraph;
  /** Each workflow once per environment it runs in, that environment's pin applied (spec order, then environment order). */
  readonly workflows: readonly WorkflowModel[];
  readonly ageRecipients: readonly string[];
  /** Receivers, grouping and the site's own alert rules (used by monitoring and, with Flux, its notifications). */
  readonly alerting: AlertingSpec;
  readonly gitops: SiteSpec['spec']['gitops'];
  /** The site's directory (spec.identity), read by the services that authenticate users. */
  readonly identity: IdentitySpec;
  /** Releases of charts siteforge has no component for (spec.extraReleases), in spec order. */
  readonly extraReleases: readonly ExtraReleaseSpec[];
  /** The site's own manifests directory, when it has one. */
  readonly extraManifests?: ExtraManifestsSpec;
}

const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const sortedRecord = <V>(record: Readonly<Record<string, V>>): Record<string, V> =>
  Object.fromEntries(Object.entries(record).sort(([a], [b]) => byCodeUnit(a, b)));

export function buildSiteModel(spec: SiteSpec, specPath: string): SiteModel {
  const name = spec.metadata.name;
  const firstServer = spec.spec.nodes.find((n) => n.role === 'server');
  // Maps and lists whose order carries no meaning are sorted, so reordering them in the spec changes nothing.
  const nodes: NodeModel[] = spec.spec.nodes.map((n) => ({
    ...n,
    labels: sortedRecord(n.labels),
    extraAddresses: sortedRecord(n.extraAddresses),
    taints: [...new Set([...n.taints, ...(n.role === 'server' ? spec.spec.placement.serverTaints : [])])].sort(byCodeUnit),
    bootstrap: n === firstServer,
  }));
  const servers = nodes.filter((n) => n.role === 'server');
  const endpoint = spec.spec.distribution.apiEndpoint;
  const sans = [
    ...(endpoint ? [...(endpoint.hostname ? [endpoint.hostname] : []), endpoint.address] : []),
    ...spec.spec.distribution.tlsSANs,
    ...servers.flatMap((s) => [s.address, ...Object.values(s.extraAddresses)]),
  ];
  const componentSettings = Object.fromEntries(componentNames.map((n) => [n, spec.spec.components[n]])) as SiteModel['componentSettings'];
  const enabled = componentNames.filter((n) => (componentSettings[n] as { enabled?: boolean }).enabled === true);
  const graph = buildDependencyGraph(enabled.map((n) => ({ name: n, dependsOn: catalog[n].dependsOn })));
  return {
    name,
    domain: spec.spec.domain,
    specFile: basename(specPath),
    distribution: { ...spec.spec.distribution, allTlsSANs: [...new Set(sans)], joinAddress: endpoint?.address ?? servers[0]!.address },
    nodes,
    servers,
    agents: nodes.filter((n) => n.role === 'agent'),
    bootstrapServer: servers[0]!,
    kubelet: spec.spec.kubelet,
    nodeSetup: spec.spec.nodeSetup,
    clusterTolerations: [...new Set([...spec.spec.placement.serverTaints, ...spec.spec.placement.tolerations])],
    ingress: siteIngressOf(spec),
    volumes: spec.spec.storage.volumes,
    storageClasses: spec.spec.storage.classes,
    defaultStorageClass: spec.spec.storage.classes.find((c) => c.default),
    environments: [...spec.spec.environments].sort(byCodeUnit).map((env) => ({ name: env, namespace: `${env}-${name}` })),
    componentSettings,
    components: graph.order.map((n) => ({
      name: n as ComponentName,
      module: catalog[n as ComponentName] as unknown as ComponentModule,
      settings: componentSettings[n as ComponentName] as Record<string, unknown>,
    })),
    graph,
    workflows: spec.spec.workflows.flatMap(workflowInstances),
    ageRecipients: spec.spec.secrets.ageRecipients,
    alerting: spec.spec.alerting,
    gitops: spec.spec.gitops,
    identity: spec.spec.identity,
    extraReleases: spec.spec.extraReleases,
    ...(spec.spec.extraManifests ? { extraManifests: spec.spec.extraManifests } : {}),
  };
}
