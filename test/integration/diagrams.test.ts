// The Mermaid diagrams in the generated RUNBOOK.md, read as GitHub reads them: each block parsed
// by Mermaid's own grammar (the mermaid package, in a jsdom window), then the parsed graph compared
// with the model: every release and every node drawn exactly once, in the right place, and the
// arrows giving exactly the deployment order of the dependency graph.
import t from 'tap';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { JSDOM } from 'jsdom';
import { stringify, parse } from 'yaml';
import { generatedSite, tempDir, ROOT } from '../helpers/cli.ts';
import { loadSite } from '../../generator/pipeline.ts';
import { siteReleases } from '../../generator/model/releases.ts';
import type { SiteModel } from '../../generator/model/site.ts';
import { mermaidId, siteDiagrams, workflowNodeId, NODES_DRAWN_PER_GROUP } from '../../generator/render/diagrams.ts';

const { window } = new JSDOM('');
Object.assign(globalThis, { window, document: window.document });
const { default: mermaid } = await import('mermaid');

interface ParsedFlowchart {
  vertices: Map<string, { text: string }>;
  edges: { start: string; end: string }[];
  subgraphs: { id: string; title: string; nodes: string[] }[];
}

/** Mermaid's parse (throws on a syntax error), then the flowchart it built. */
async function parseFlowchart(source: string): Promise<ParsedFlowchart> {
  const { diagramType } = (await mermaid.parse(source)) as { diagramType: string };
  if (!diagramType.startsWith('flowchart')) throw new Error(`not a flowchart: ${diagramType}`);
  const diagram = (await mermaid.mermaidAPI.getDiagramFromText(source)) as unknown as { db: any };
  return { vertices: diagram.db.getVertices(), edges: diagram.db.getEdges(), subgraphs: diagram.db.getSubGraphs() };
}

const mermaidBlocks = (markdown: string) => [...markdown.matchAll(/^```mermaid\n([\s\S]*?)\n```$/gm)].map((m) => m[1]!);

/** How often a node id is declared (id followed by its label) in the source. */
const declarations = (source: string, id: string) => source.split('\n').filter((l) => l.trim().startsWith(`${id}[`)).length;

async function model(spec: string): Promise<SiteModel> {
  const loaded = await loadSite(join(ROOT, spec));
  if (!loaded.ok) throw new Error(`${spec} does not load`);
  return loaded.site;
}

/** What must come before what: each name → every name reachable backwards over the edges. */
function closure(edges: readonly [string, string][]): Map<string, Set<string>> {
  const before = new Map<string, Set<string>>();
  const preds = new Map<string, string[]>();
  for (const [a, b] of edges) preds.set(b, [...(preds.get(b) ?? []), a]);
  const walk = (n: string): Set<string> => {
    let set = before.get(n);
    if (set) return set;
    set = new Set();
    before.set(n, set);
    for (const p of preds.get(n) ?? []) for (const x of [p, ...walk(p)]) set.add(x);
    return set;
  };
  for (const [, b] of edges) walk(b);
  for (const [a] of edges) walk(a);
  return before;
}

for (const spec of ['site.yaml', 'examples/k0s-gpu.yaml', 'examples/minimal.yaml']) {
  t.test(`${spec}: the RUNBOOK's diagrams parse and draw the model`, async (t) => {
    const site = await model(spec);
    const out = await generatedSite(spec, { commit: false });
    const blocks = mermaidBlocks(await readFile(join(out, 'RUNBOOK.md'), 'utf8'));
    await rm(out, { recursive: true, force: true });
    const diagrams = siteDiagrams(site);
    t.same(blocks, diagrams.map((d) => d.source), 'the RUNBOOK carries each diagram of the model, in order');
    t.ok(blocks.length >= 2, 'at least the release graph and the topology');
    const [releaseSource, topologySource, buildSource] = blocks as [string, string, string | undefined];

    // Releases: one box each, in its layer's subgraph, arrows giving exactly the graph's order.
    const { releases } = siteReleases(site);
    const graph = await parseFlowchart(releaseSource);
    const releaseIds = new Map(releases.map((r) => [mermaidId('release', r.name), r]));
    const drawn = [...graph.vertices.keys()].filter((id) => id.startsWith('release_'));
    t.same(drawn.sort(), [...releaseIds.keys()].sort(), 'every release is a box, and nothing else is');
    for (const [id, r] of releaseIds) {
      t.equal(declarations(releaseSource, id), 1, `${r.name} is declared once`);
      t.equal(graph.vertices.get(id)!.text.split('<br')[0], r.name, `${r.name}'s box is labelled with its name`);
      const homes = graph.subgraphs.filter((s) => s.nodes.includes(id));
      t.same(homes.map((s) => s.title), [r.layer], `${r.name} is in its layer (${r.layer})`);
    }
    const drawnOrder = closure(graph.edges.map((e) => [e.start, e.end]));
    const modelOrder = closure(releases.flatMap((r) => r.needs.map((n): [string, string] => [mermaidId('release', n), mermaidId('release', r.name)])));
    for (const id of releaseIds.keys()) {
      t.same([...(drawnOrder.get(id) ?? [])].sort(), [...(modelOrder.get(id) ?? [])].sort(), `what comes before ${releaseIds.get(id)!.name} is what the dependency graph says`);
    }

    // Topology: every node once, servers in the control plane, agents in their pool.
    const topology = await parseFlowchart(topologySource);
    const nodeIds = [...topology.vertices.keys()].filter((id) => id.startsWith('node_'));
    t.same(nodeIds.sort(), site.nodes.map((n) => mermaidId('node', n.name)).sort(), 'every node is a box, and nothing else is');
    for (const n of site.nodes) {
      const id = mermaidId('node', n.name);
      t.equal(declarations(topologySource, id), 1, `${n.name} is declared once`);
      t.match(topology.vertices.get(id)!.text, n.address, `${n.name}'s box shows its address`);
      const home = topology.subgraphs.filter((s) => s.nodes.includes(id));
      t.equal(home.length, 1, `${n.name} is in one group`);
      t.match(home[0]!.title, n.role === 'server' ? /^control plane/ : /agents?:/, `${n.name} is with the ${n.role}s`);
    }
    for (const text of [site.distribution.clusterCIDR, site.distribution.serviceCIDR, site.distribution.joinAddress]) {
      t.ok([...topology.vertices.values()].some((v) => v.text.includes(text)), `${text} is drawn`);
    }

    // The path of a build: each workflow, its namespace, its registries.
    if (site.workflows.length && site.componentSettings.argoWorkflows.enabled) {
      const build = await parseFlowchart(buildSource!);
      for (const w of site.workflows) {
        const id = workflowNodeId(w);
        const ns = mermaidId('namespace', site.environments.find((e) => e.name === w.environment)!.namespace);
        t.ok(build.edges.some((e) => e.start === id && e.end === ns), `${w.name} runs in its environment's namespace`);
        t.ok(build.edges.some((e) => e.start === id && e.end.startsWith('registry_')), `${w.name} names where its images come from`);
      }
    } else {
      t.equal(buildSource, undefined, 'no build diagram without workflows');
    }
  });
}

t.test('a large site stays within what GitHub renders (Mermaid maxTextSize 50,000, maxEdges 500)', async (t) => {
  const dir = await tempDir();
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const spec = parse(await readFile(join(ROOT, 'site.yaml'), 'utf8'));
  const agents = Array.from({ length: 1200 }, (_, i) => ({ name: `cn${String(i + 1).padStart(4, '0')}`, address: `10.41.${Math.floor(i / 250)}.${(i % 250) + 1}`, role: 'agent', labels: { 'hpc/pool': i < 600 ? 'cpu' : 'bigmem' } }));
  spec.spec.nodes.push(...agents);
  await writeFile(join(dir, 'site.yaml'), stringify(spec));
  const loaded = await loadSite(join(dir, 'site.yaml'));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics.slice(0, 3)));
  for (const d of siteDiagrams(loaded.site)) {
    t.ok(d.source.length < 50_000, `${d.title}: ${d.source.length} characters`);
    const parsed = await parseFlowchart(d.source);
    t.ok(parsed.edges.length < 500, `${d.title}: ${parsed.edges.length} arrows`);
  }
  const topology = siteDiagrams(loaded.site)[1]!;
  t.match(topology.source, /601 nodes<br\/>k8s-cpu1 … cn0600/, 'a large pool is one box with its count and first and last node (k8s-cpu1 shares the cpu pool)');
  t.match(topology.source, /600 nodes<br\/>cn0601 … cn1200/);
  t.match(topology.source, /node_k8s-gpu1\[/, `pools of up to ${NODES_DRAWN_PER_GROUP} nodes are still drawn node by node`);
});

t.test('node ids are one-to-one and never read as arrows', async (t) => {
  const names = ['xn--bcher-kva', 'a.b', 'a-b', 'a-.b', 'end', 'a--b', 'a_2d-b'];
  const ids = names.map((n) => mermaidId('node', n));
  t.equal(new Set(ids).size, names.length, 'distinct names, distinct ids');
  const parsed = await parseFlowchart(['flowchart LR', ...ids.map((id, i) => `  ${id}["${names[i]}"]`), `  ${ids[0]} --> ${ids[1]}`].join('\n'));
  t.same([...parsed.vertices.keys()].sort(), [...ids].sort(), 'each id is its own vertex');
  t.same(parsed.edges.map((e) => [e.start, e.end]), [[ids[0], ids[1]]], 'and the one arrow joins the first two');
});

t.test('examples/hpk.yaml: the topology shows the control-plane host and Slurm, not nodes', async (t) => {
  const site = await model('examples/hpk.yaml');
  const diagrams = siteDiagrams(site);
  const topologySource = diagrams.find((d) => d.title === 'Cluster topology')!.source;
  const topology = await parseFlowchart(topologySource);
  const text = (id: string) => topology.vertices.get(id)?.text ?? '';
  const api = mermaidId('api', site.name);
  const kubelet = mermaidId('kubelet', site.name);
  t.match(text(api), 'https://10.10.1.21:8444', 'the API at the host\'s address and the HPK port');
  t.match(text(api), 'podman-hpc container');
  const host = topology.subgraphs.find((s) => s.nodes.includes(api))!;
  t.match(host.title, /control-plane host wf01 \(10\.10\.1\.21\), Slurm job hpk-perlhpk/);
  t.ok(host.nodes.includes(kubelet), 'hpk-kubelet runs beside the API server');
  const slurm = topology.subgraphs.find((s) => s.nodes.includes(mermaidId('jobs', 'pods')))!;
  t.match(slurm.title, 'Slurm: every pod a job, account m3792');
  t.match(text(mermaidId('jobs', 'gpu')), 'GRES gpu');
  t.match(text(mermaidId('jobs', 'gpu')), 'partition gpu, constraint gpu');
  t.ok(topology.edges.some((e) => e.start === kubelet && e.end === slurm.id), 'hpk-kubelet submits to Slurm');
  t.same([...topology.vertices.keys()].filter((id) => id.startsWith('node_')), [], 'no node boxes: HPK has no nodes of its own');
});
