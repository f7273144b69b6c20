// What a site is, in the few facts a reviewer cares about, and how two of them differ: nodes,
// components, chart versions, distribution, secrets. Stored in the manifest after each run, so
// the next `plan` or commit can say what changed in words, not only in files.
import type { SiteModel } from '../model/site.ts';
import { siteReleases } from '../model/releases.ts';
import { upstreamVersion } from '../components/upstream.ts';
import type { ResolvedSecrets } from '../secrets/store.ts';

export interface SiteSummary {
  readonly distribution: string;
  /** The GitOps engine, with Flux's release and whether the repository manages it (absent in manifests of older generators). */
  readonly engine?: string;
  /** The web front ends' ingress controller, or none (absent in manifests of older generators). */
  readonly ingress?: string;
  /** node name → "address role" */
  readonly nodes: Readonly<Record<string, string>>;
  readonly components: readonly string[];
  /** release (chart) name → upstream chart version */
  readonly charts: Readonly<Record<string, string>>;
  /** namespace/name */
  readonly secrets: readonly string[];
}

export function siteSummary(site: SiteModel, secrets: ResolvedSecrets): SiteSummary {
  const charts: Record<string, string> = {};
  for (const { def } of siteReleases(site).definitions) if (def.upstream) charts[def.name] = upstreamVersion(def.upstream);
  return {
    distribution: `${site.distribution.type} ${site.distribution.version}`,
    engine: site.gitops.engine === 'flux' ? `Flux ${site.gitops.flux.version}${site.gitops.flux.selfManaged ? ', managed from this repository' : ', installed by hand'}` : 'Argo CD',
    ingress: site.ingress === 'rke2Traefik' ? 'RKE2\'s Traefik' : site.ingress === 'ingressNginx' ? 'ingress-nginx' : 'none',
    nodes: Object.fromEntries(site.nodes.map((n) => [n.name, `${n.address} ${n.role}`])),
    components: site.components.map((c) => c.name),
    charts,
    secrets: [...secrets.actions.keys()].sort(),
  };
}

export interface SummaryChange {
  readonly nodesAdded: string[];
  readonly nodesRemoved: string[];
  readonly nodesChanged: string[];
  readonly componentsEnabled: string[];
  readonly componentsDisabled: string[];
  readonly chartsBumped: { name: string; from: string; to: string }[];
  readonly distribution: { from: string; to: string } | null;
  readonly engine: { from: string; to: string } | null;
  readonly ingress: { from: string; to: string } | null;
  readonly secretsAdded: string[];
  readonly secretsRemoved: string[];
  readonly secretsRotated: string[];
  readonly secretsRekeyed: string[];
  /** Release instances that upgrade: their wrapper chart version or their environment's values change (the others do not roll). */
  readonly releasesUpgraded: string[];
  /** The same, with the environment (none: cluster-wide, shared by every environment) and why. */
  readonly releaseUpgrades: ReleaseUpgrade[];
  /** The site's environments (cluster-wide releases are shared by all of them). */
  readonly environments: string[];
}

type ChartRecords = Readonly<Record<string, { version: string; environments?: Readonly<Record<string, string>> }>>;

export interface ReleaseUpgrade {
  readonly release: string;
  /** The environment of an environment-scoped release; absent for a cluster-wide one (shared by every environment). */
  readonly environment?: string;
  readonly why: 'chart' | 'values';
}

/**
 * The releases that will upgrade: those whose wrapper chart existed before and got a new version
 * (every release of the chart), and environment releases whose environment's values changed.
 */
export function releaseUpgrades(site: SiteModel, before: ChartRecords, after: ChartRecords): ReleaseUpgrade[] {
  const upgrades: ReleaseUpgrade[] = [];
  for (const r of siteReleases(site).releases) {
    const [b, a] = [before[r.def.name], after[r.def.name]];
    if (!b || !a) continue;
    const env = r.environment?.name;
    const why = b.version !== a.version ? 'chart' : env && b.environments?.[env] !== undefined && b.environments[env] !== a.environments?.[env] ? 'values' : undefined;
    if (why) upgrades.push({ release: r.name, ...(env ? { environment: env } : {}), why });
  }
  return upgrades.sort((x, y) => (x.release < y.release ? -1 : 1));
}


/** A fact that changed; a fact an older manifest does not record counts as unchanged. */
const changed = (from: string | undefined, to: string | undefined) => (from !== undefined && to !== undefined && from !== to ? { from, to } : null);

export function diffSummary(before: SiteSummary | null, after: SiteSummary, secrets: ResolvedSecrets, upgrades: ReleaseUpgrade[] = [], environments: string[] = []): SummaryChange {
  const b: SiteSummary = before ?? { distribution: after.distribution, nodes: {}, components: [], charts: {}, secrets: [] };
  const keys = (o: Readonly<Record<string, string>>) => Object.keys(o);
  const withAction = (a: string) => [...secrets.actions].filter(([, x]) => x === a).map(([id]) => id).sort();
  return {
    nodesAdded: keys(after.nodes).filter((n) => !(n in b.nodes)),
    nodesRemoved: keys(b.nodes).filter((n) => !(n in after.nodes)),
    nodesChanged: keys(after.nodes).filter((n) => n in b.nodes && b.nodes[n] !== after.nodes[n]),
    componentsEnabled: after.components.filter((c) => !b.components.includes(c)),
    componentsDisabled: b.components.filter((c) => !after.components.includes(c)),
    chartsBumped: keys(after.charts)
      .filter((c) => c in b.charts && b.charts[c] !== after.charts[c])
      .map((name) => ({ name, from: b.charts[name]!, to: after.charts[name]! })),
    distribution: before && before.distribution !== after.distribution ? { from: before.distribution, to: after.distribution } : null,
    engine: changed(before?.engine, after.engine),
    ingress: changed(before?.ingress, after.ingress),
    secretsAdded: withAction('created'),
    secretsRemoved: b.secrets.filter((s) => !after.secrets.includes(s)),
    secretsRotated: withAction('rotated'),
    secretsRekeyed: withAction('rekeyed'),
    releasesUpgraded: upgrades.map((u) => u.release),
    releaseUpgrades: upgrades,
    environments,
  };
}

export const UPGRADE_REASON: Readonly<Record<ReleaseUpgrade['why'], string>> = { chart: 'new wrapper chart version', values: 'its environment values changed' };

/** Where an upgrade happens: its environment, or every environment for a cluster-wide release. */
export const upgradeWhere = (u: ReleaseUpgrade, environments: readonly string[]) => u.environment ?? `cluster-wide, shared by ${environments.join(', ') || 'every environment'}`;

/** Most items one summary line names. */
const MAX_NAMED = 20;

/** One line per kind of change; [] when nothing a reviewer would name changed. */
export function describeChange(c: SummaryChange, after: SiteSummary): string[] {
  const lines: string[] = [];
  // A long list is summarised: the commit message and the console stay readable for 5,000 nodes.
  const list = (label: string, items: string[]) =>
    items.length && lines.push(`${label}: ${items.slice(0, MAX_NAMED).join(', ')}${items.length > MAX_NAMED ? `, and ${items.length - MAX_NAMED} more` : ''}`);
  list('nodes added', c.nodesAdded.map((n) => `${n} (${after.nodes[n]})`));
  list('nodes removed', c.nodesRemoved);
  for (const node of c.nodesRemoved.slice(0, MAX_NAMED)) {
    lines.push(`  before merging, with the current inventory: ansible-playbook -i ansible/inventory/hosts.yaml ansible/remove-node.yml -e node=${node}`);
  }
  list('nodes changed', c.nodesChanged.map((n) => `${n} (${after.nodes[n]})`));
  list('components enabled', c.componentsEnabled);
  list('components disabled', c.componentsDisabled);
  list('chart versions bumped', c.chartsBumped.map((x) => `${x.name} ${x.from} → ${x.to}`));
  if (c.distribution) lines.push(`distribution: ${c.distribution.from} → ${c.distribution.to}`);
  if (c.engine) lines.push(`GitOps engine: ${c.engine.from} → ${c.engine.to}`);
  if (c.ingress) lines.push(`web front ends' ingress: ${c.ingress.from} → ${c.ingress.to} (move their DNS records; RUNBOOK: "The web front ends")`);
  list('secrets added', c.secretsAdded);
  list('secrets removed', c.secretsRemoved);
  list('secrets rotated', c.secretsRotated);
  list('secrets re-wrapped for new recipients', c.secretsRekeyed);
  list('releases that upgrade', c.releaseUpgrades.map((u) => `${u.release} (${upgradeWhere(u, c.environments)}: ${UPGRADE_REASON[u.why]})`));
  return lines;
}

/** Output family of a generated path, for grouping a plan. */
export function familyOf(path: string): string {
  const first = path.split('/')[0]!;
  if (first === 'ansible') return 'ansible';
  if (first === 'charts') return 'charts';
  if (first === 'releases' || first === 'environments' || path === 'helmfile.yaml') return 'helmfile';
  if (first === 'secrets' || path === '.sops.yaml') return 'secrets';
  if (first === 'clusters') return 'gitops';
  if (first === '.github' || path === '.gitlab-ci.yml' || path === 'renovate.json' || path === '.pre-commit-config.yaml' || path === '.gitattributes') return 'review';
  if ((/\.md$/.test(path) && !path.includes('/')) || first === 'docs') return 'docs';
  return 'other';
}
