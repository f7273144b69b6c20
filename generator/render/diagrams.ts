// Mermaid diagrams of the site for the generated docs (GitHub and GitLab render them in Markdown):
// the release graph by layer, the cluster topology, the path of a build. Drawn from the model
// only, in model order, so a diff of a diagram is a reviewable diff of the architecture.
import { hpkJobName } from '../model/hpk.ts';
import type { NodeModel, SiteModel } from '../model/site.ts';
import { siteReleases } from '../model/releases.ts';
import { workflowSteps, workflowVolumeNames, type WorkflowModel } from '../model/workflows.ts';
import { RELEASE_LAYERS } from '../components/types.ts';
import { harborExposure, harborHostname } from '../components/harbor.ts';
import { volumesOf } from '../components/storage.ts';
import { addressPools } from '../components/metallb.ts';
import { imageRegistry } from '../spec/formats.ts';

export interface Diagram {
  /** Heading above the block. */
  readonly title: string;
  /** One sentence saying how to read it. */
  readonly legend: string;
  /** Mermaid source (flowchart). */
  readonly source: string;
}

/**
 * A Mermaid node id for a name, one-to-one: letters and digits stay, a "-" or "." between two of
 * them stays, every other character becomes _ and its code in hex ("--" would start an arrow).
 */
export function mermaidId(prefix: string, name: string): string {
  return `${prefix}_${name.replace(/[^A-Za-z0-9]/g, (c, i: number) => ((c === '-' || c === '.') && /[A-Za-z0-9]/.test(name[i - 1] ?? '') && /[A-Za-z0-9]/.test(name[i + 1] ?? '') ? c : `_${c.charCodeAt(0).toString(16).padStart(2, '0')}`))}`;
}

/** A quoted Mermaid label of one or more lines; characters Mermaid reads as markup become entity codes. */
function label(lines: readonly string[]): string {
  const text = lines.map((l) => l.replace(/[#"<>`&]/g, (c) => `#${c.charCodeAt(0)};`)).join('<br/>');
  return `["${text}"]`;
}

/** Groups of more nodes than this are drawn as one box (first and last name, count): a 5,000-node site stays renderable. */
export const NODES_DRAWN_PER_GROUP = 16;

/** The release graph: one box per release inside its layer, an arrow from each release to what needs it. */
function releaseGraph(site: SiteModel): Diagram {
  const { releases } = siteReleases(site);
  const lines = ['flowchart LR'];
  for (const layer of RELEASE_LAYERS) {
    const inLayer = releases.filter((r) => r.layer === layer);
    if (!inLayer.length) continue;
    lines.push(`  subgraph ${mermaidId('layer', layer)}${label([`${layer}`])}`, '    direction TB');
    for (const r of inLayer) lines.push(`    ${mermaidId('release', r.name)}${label([r.name, r.namespace])}`);
    lines.push('  end');
  }
  // Transitive reduction: an arrow another path already implies is left out (the order is the same, the picture readable).
  const byName = new Map(releases.map((r) => [r.name, r]));
  const ancestors = new Map<string, Set<string>>();
  const ancestorsOf = (name: string): Set<string> => {
    let set = ancestors.get(name);
    if (!set) {
      set = new Set(byName.get(name)!.needs.flatMap((n) => [n, ...ancestorsOf(n)]));
      ancestors.set(name, set);
    }
    return set;
  };
  for (const r of releases) {
    for (const need of r.needs) {
      if (r.needs.some((other) => other !== need && ancestorsOf(other).has(need))) continue;
      lines.push(`  ${mermaidId('release', need)} --> ${mermaidId('release', r.name)}`);
    }
  }
  return {
    title: 'Releases by layer',
    legend: 'Each box is a release and its namespace; an arrow points from a release to one deployed after it (helmfile `needs:`, Flux `dependsOn`, Argo CD sync waves; an arrow that other arrows already imply is left out).',
    source: lines.join('\n'),
  };
}

const nodeLines = (n: NodeModel): string[] => [
  n.name + (n.bootstrap ? ' (bootstrap)' : ''),
  n.address,
  ...Object.entries(n.extraAddresses).map(([net, address]) => `${net} ${address}`),
];

/** Agents with the same labels, taints and GPUs form a pool, in the order their first node appears. */
function agentPools(site: SiteModel): { title: string; nodes: NodeModel[] }[] {
  const pools = new Map<string, { title: string; nodes: NodeModel[] }>();
  for (const n of site.agents) {
    const facts = [
      ...Object.entries(n.labels).map(([k, v]) => `${k}=${v}`),
      ...(n.gpus ? [`${n.gpus.count ?? ''}${n.gpus.count ? ' × ' : ''}${n.gpus.vendor} GPU`] : []),
      ...n.taints.map((t) => `taint ${t}`),
    ];
    const key = JSON.stringify(facts);
    const pool = pools.get(key) ?? { title: facts.length ? facts.join(', ') : 'agents', nodes: [] };
    pool.nodes.push(n);
    pools.set(key, pool);
  }
  return [...pools.values()];
}

/** The nodes of a group, each a box, or one box for a large group. */
function groupNodes(nodes: readonly NodeModel[], indent: string): string[] {
  if (nodes.length <= NODES_DRAWN_PER_GROUP) return nodes.map((n) => `${indent}${mermaidId('node', n.name)}${label(nodeLines(n))}`);
  const [first, last] = [nodes[0]!, nodes.at(-1)!];
  return [`${indent}${mermaidId('node', first.name)}${label([`${nodes.length} nodes`, `${first.name} … ${last.name}`, `${first.address} … ${last.address}`])}`];
}

/** Servers and agent pools, the API endpoint they join, and the site's address ranges. */
/** HPK: the control-plane host with its container and hpk-kubelet, and Slurm running every pod. */
function hpkTopology(site: SiteModel, hpk: NonNullable<SiteModel['distribution']['hpk']>): Diagram {
  const d = site.distribution;
  const host = site.bootstrapServer;
  const api = mermaidId('api', site.name);
  const hostId = mermaidId('host', host.name);
  const kubelet = mermaidId('kubelet', site.name);
  const slurm = mermaidId('slurm', site.name);
  const podJob = (what: string, job: { partition?: string; constraint?: string; qos?: string }, extra: string[] = []) =>
    [what, `partition ${job.partition ?? 'default'}${job.constraint ? `, constraint ${job.constraint}` : ''}${job.qos ? `, QoS ${job.qos}` : ''}`, ...extra];
  const lines = [
    'flowchart TB',
    `  subgraph ${hostId}${label([`control-plane host ${host.name} (${host.address})${hpk.supervisor === 'slurm' ? `, Slurm job ${hpkJobName(site)}` : ', user service'}`])}`,
    '    direction LR',
    `    ${api}${label([`Kubernetes API (hpk ${d.version})`, `https://${host.address}:${hpk.apiPort}`, `${hpk.runtime} container`])}`,
    `    ${kubelet}${label(['hpk-kubelet', 'one virtual node'])}`,
    '  end',
    `  ${kubelet} --- ${api}`,
    `  subgraph ${slurm}${label([`Slurm: every pod a job${hpk.account ? `, account ${hpk.account}` : ''}`])}`,
    '    direction LR',
    `    ${mermaidId('jobs', 'pods')}${label(podJob('pods', hpk.pods))}`,
    ...(hpk.pods.gpu ? [`    ${mermaidId('jobs', 'gpu')}${label(podJob('GPU steps', { partition: hpk.pods.gpu.partition ?? hpk.pods.partition, constraint: hpk.pods.gpu.constraint, qos: hpk.pods.gpu.qos }, [`GRES ${hpk.pods.gpu.gres}`]))}`] : []),
    '  end',
    `  ${kubelet} -->|sbatch| ${slurm}`,
  ];
  return {
    title: 'Cluster topology',
    legend: 'The control-plane host (the API server in its container, hpk-kubelet) and Slurm, which runs every pod as a job: no node is dedicated to Kubernetes.',
    source: lines.join('\n'),
  };
}

function topology(site: SiteModel): Diagram {
  const d = site.distribution;
  if (d.type === 'hpk' && d.hpk) return hpkTopology(site, d.hpk);
  const endpoint = d.apiEndpoint;
  const api = mermaidId('api', site.name);
  const servers = mermaidId('servers', site.name);
  const taints = site.servers[0]!.taints;
  const lines = [
    'flowchart TB',
    `  ${api}${label([
      `Kubernetes API (${d.type} ${d.version})`,
      `https://${endpoint?.hostname ?? d.joinAddress}:6443`,
      endpoint ? `${endpoint.address}, ${endpoint.type === 'kubeVip' ? 'kube-vip on the servers' : 'external load balancer'}` : `first server ${d.joinAddress}`,
    ])}`,
    `  subgraph ${servers}${label([`control plane: ${site.servers.length} server${site.servers.length === 1 ? '' : 's'}${taints.length ? `, taint ${taints.join(', ')}` : ''}`])}`,
    '    direction LR',
    ...groupNodes(site.servers, '    '),
    '  end',
    `  ${api} --- ${servers}`,
  ];
  for (const pool of agentPools(site)) {
    const id = mermaidId('pool', pool.nodes[0]!.name);
    lines.push(`  subgraph ${id}${label([`${pool.nodes.length} agent${pool.nodes.length === 1 ? '' : 's'}: ${pool.title}`])}`, '    direction LR', ...groupNodes(pool.nodes, '    '), '  end', `  ${id} -->|join| ${api}`);
  }
  const networks = mermaidId('networks', site.name);
  const metallb = site.componentSettings.metallb;
  lines.push(
    `  subgraph ${networks}${label(['address ranges'])}`,
    '    direction LR',
    `    ${mermaidId('net', 'pods')}${label(['pods', d.clusterCIDR])}`,
    `    ${mermaidId('net', 'services')}${label(['services', d.serviceCIDR])}`,
    ...(metallb.enabled ? addressPools(site.name, metallb).map((p) => `    ${mermaidId('pool', p.name)}${label([`MetalLB pool ${p.name} (${p.advertisement === 'bgp' ? 'BGP' : 'L2'}${p.autoAssign ? ', default' : ''})`, ...p.addresses])}`) : []),
    '  end',
  );
  return {
    title: 'Cluster topology',
    legend: 'Servers and agent pools (agents with the same labels, taints and GPUs) with their addresses, the API endpoint every node joins, and the address ranges the cluster uses.',
    source: lines.join('\n'),
  };
}

/** A workflow's box: one per environment it runs in. */
export const workflowNodeId = (w: Pick<WorkflowModel, 'name' | 'environment'>) => mermaidId('workflow', `${w.environment}.${w.name}`);

/** Each workflow: the namespace it runs in, the volumes it mounts, the registries its images come from. */
function buildPath(site: SiteModel): Diagram | undefined {
  if (!site.componentSettings.argoWorkflows.enabled || !site.workflows.length) return undefined;
  const harbor = site.componentSettings.harbor.enabled ? harborHostname(site) : undefined;
  const lines = ['flowchart LR'];
  const declared = new Set<string>();
  const declare = (id: string, text: readonly string[]) => {
    if (!declared.has(id)) lines.push(`  ${id}${label(text)}`);
    declared.add(id);
    return id;
  };
  for (const w of site.workflows) {
    const { dag, steps } = workflowSteps(w);
    const env = site.environments.find((e) => e.name === w.environment)!;
    const envVolumes = site.componentSettings.storage.enabled ? volumesOf(site, env.name) : [];
    const wf = declare(workflowNodeId(w), [w.environments.length > 1 ? `${w.name} (${w.environment})` : w.name, w.schedule ? `cron ${w.schedule}` : 'on demand', `${steps.length} step${steps.length === 1 ? '' : 's'}${dag ? ', DAG' : ''}`]);
    lines.push(`  ${wf} -->|runs in| ${declare(mermaidId('namespace', env.namespace), [`namespace ${env.namespace}`])}`);
    for (const name of workflowVolumeNames(steps, envVolumes)) {
      const v = envVolumes.find((x) => x.name === name)!;
      const source = v.type === 'nfs' ? `nfs ${v.server}:${v.path}` : v.type === 'hostPath' ? `hostPath ${v.path}` : v.type;
      lines.push(`  ${wf} -->|mounts| ${declare(mermaidId('volume', name), [`volume ${name}`, source, v.readOnly ? 'read-only' : 'read-write'])}`);
    }
    for (const host of [...new Set(steps.map((s) => imageRegistry(s.image)))]) {
      const id = host === harbor ? declare(mermaidId('registry', host), [`Harbor ${host}`, `exposed through ${harborExposure(site) === 'ingress' ? 'the ingress' : 'a LoadBalancer address'}`]) : declare(mermaidId('registry', host), [`registry ${host}`]);
      lines.push(`  ${wf} -->|images from| ${id}`);
    }
  }
  return {
    title: 'The path of a build',
    legend: 'Each workflow, the environment namespace it runs in, the volumes its steps mount and the registries its images come from.',
    source: lines.join('\n'),
  };
}

/** The site's diagrams, in the order the docs show them. */
export function siteDiagrams(site: SiteModel): Diagram[] {
  return [releaseGraph(site), topology(site), buildPath(site)].filter((d): d is Diagram => d !== undefined);
}

/** Diagrams as Markdown: a heading, the legend and a fenced mermaid block each. */
export function diagramsMarkdown(diagrams: readonly Diagram[], level = '###'): string {
  return diagrams.map((d) => `${level} ${d.title}\n\n${d.legend}\n\n\`\`\`mermaid\n${d.source}\n\`\`\``).join('\n\n');
}
