// Wrapper charts and helmfile, checked with the real helm: `helm lint` and `helm template` for
// every release of every example site, each rendered document validated against its schema.
// Slow (helm renders every chart of every example), so with the integration suite.
//
// Upstream charts cannot be downloaded here (no chart repository is reachable): each wrapper
// chart gets its pinned dependency from ../shared/charts (the real upstream chart at the pinned
// version, packaged from its source) in charts/<wrapper>/charts/, as `helm dependency build` leaves it.
import t from 'tap';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generatedSite, ROOT } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';
import { parseManifests, validateDocument, type K8sDocument } from '../helpers/k8s.ts';

const SITES = ['site.yaml', 'examples/k0s-gpu.yaml', 'examples/minimal.yaml', 'examples/hpk.yaml', 'examples/sandia.yaml', 'examples/mdx.yaml'];

interface HelmfileRelease {
  name: string;
  namespace: string;
  chart: string;
  version: string;
  condition?: string;
  values?: string[];
  secrets?: string[];
  needs?: string[];
}


const readYaml = async (path: string) => parse(await readFile(path, 'utf8'));

/** The releases as helmfile assembles them: the root state plus its bases, in order. */
async function helmfileReleases(out: string): Promise<{ root: any; releases: HelmfileRelease[] }> {
  const root = await readYaml(join(out, 'helmfile.yaml'));
  const releases: HelmfileRelease[] = [...(root.releases ?? [])];
  for (const base of root.bases ?? []) releases.push(...((await readYaml(join(out, base))).releases ?? []));
  return { root, releases };
}

const SHARED_CHARTS = join(ROOT, '..', 'shared', 'charts');

/** Puts the real upstream chart of every pinned dependency of every wrapper chart where `helm dependency build` would. */
async function addUpstreamCharts(out: string): Promise<void> {
  for (const chart of await readdir(join(out, 'charts'))) {
    const meta = await readYaml(join(out, 'charts', chart, 'Chart.yaml'));
    for (const dep of meta.dependencies ?? []) {
      const archive = `${dep.name}-${dep.version}.tgz`;
      if (!existsSync(join(SHARED_CHARTS, archive))) throw new Error(`${chart}: the upstream chart ${archive} is not in ../shared/charts`);
      await mkdir(join(out, 'charts', chart, 'charts'), { recursive: true });
      await copyFile(join(SHARED_CHARTS, archive), join(out, 'charts', chart, 'charts', archive));
    }
  }
}

/** An exact version: the upstream pin, or a wrapper chart version (render/chart-versions.ts). */
const PINNED = /^v?[0-9]+\.[0-9]+\.[0-9]+(-sf\.[0-9]+)?$/;

for (const spec of SITES) {
  t.test(`${spec}: helmfile, helm lint, helm template, schemas`, async (t) => {
    const out = await generatedSite(spec, { commit: false });
    const site = parse(await readFile(spec, 'utf8'));
    const { root, releases } = await helmfileReleases(out);
    const envs: string[] = site.spec.environments ?? ['prod'];

    t.same(Object.keys(root.environments).sort(), [...envs].sort(), 'one helmfile environment per spec environment');
    const ids = new Set(releases.map((r) => `${r.namespace}/${r.name}`));
    t.equal(ids.size, releases.length, 'release identities are unique');
    for (const r of releases) {
      t.ok(r.name && r.namespace && r.chart, `${r.name}: name, namespace, chart`);
      t.match(r.version, PINNED, `${r.name}: pinned version`);
      for (const need of r.needs ?? []) t.ok(ids.has(need), `${r.name}: needs ${need} exists`);
      for (const file of [...(r.values ?? []), ...(r.secrets ?? [])]) t.ok(existsSync(join(out, file)), `${r.name}: ${file} exists`);
      if (r.chart.startsWith('./')) t.ok(existsSync(join(out, r.chart, 'Chart.yaml')), `${r.name}: chart exists`);
      if (r.condition) {
        const env = r.condition.split('.')[0]!;
        t.ok(envs.includes(env), `${r.name}: condition names an environment`);
      }
    }
    for (const env of envs) t.ok(existsSync(join(out, 'environments', env, 'helmfile.yaml')), `environments/${env}/helmfile.yaml`);
    // No cycle: every release can be ordered after its needs.
    const done = new Set<string>();
    let progress = true;
    while (progress) {
      progress = false;
      for (const r of releases) {
        const id = `${r.namespace}/${r.name}`;
        if (!done.has(id) && (r.needs ?? []).every((n) => done.has(n))) {
          done.add(id);
          progress = true;
        }
      }
    }
    t.equal(done.size, releases.length, 'needs form no cycle');

    await addUpstreamCharts(out);
    const rendered = new Map<string, K8sDocument[]>();
    for (const r of releases.filter((r) => r.chart.startsWith('./'))) {
      const valuesArgs = (r.values ?? []).flatMap((v) => ['-f', join(out, v)]);
      const lint = await runTool('helm', ['lint', join(out, r.chart), ...valuesArgs]);
      t.equal(lint.code, 0, `helm lint ${r.name}: ${lint.stdout}${lint.stderr}`);
      const tpl = await runTool('helm', ['template', r.name, join(out, r.chart), '--namespace', r.namespace, ...valuesArgs]);
      t.equal(tpl.code, 0, `helm template ${r.name}: ${tpl.stderr}`);
      const docs = parseManifests(tpl.stdout);
      rendered.set(r.name, docs);
      t.ok(docs.length > 0, `${r.name}: renders objects`);
      // The wrapper's own templates against the published models; the upstream chart's objects are
      // validated strictly (Kubernetes API and CRD schemas) by siteforge verify (test/integration/verify.test.ts).
      for (const doc of docs.filter((d) => d.metadata?.labels?.['app.kubernetes.io/part-of'] === 'siteforge')) {
        const problems = await validateDocument(doc);
        t.same(problems, [], `${r.name}: ${doc.kind}/${doc.metadata?.name} is valid`);
      }
    }
    for (const env of envs) {
      const ns = rendered.get('namespaces')?.find((d) => d.kind === 'Namespace' && d.metadata.name === `${env}-${site.metadata.name}`);
      t.ok(ns, `namespace ${env}-${site.metadata.name}`);
      t.equal(ns?.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'baseline');
    }

    const volumes: { name: string; readOnly?: boolean; type: string }[] = site.spec.storage?.volumes ?? [];
    for (const env of envs) {
      const docs = rendered.get(`storage-${env}`) ?? [];
      for (const v of volumes) {
        const pv = docs.find((d) => d.kind === 'PersistentVolume' && d.metadata.name === `${env}-${site.metadata.name}-${v.name}`) as any;
        const pvc = docs.find((d) => d.kind === 'PersistentVolumeClaim' && d.metadata.name === v.name) as any;
        t.ok(pv && pvc, `${env}: PV and PVC for ${v.name}`);
        const mode = v.readOnly ? 'ReadOnlyMany' : 'ReadWriteMany';
        t.same([pv?.spec.accessModes, pvc?.spec.accessModes], [[mode], [mode]], `${env}/${v.name}: ${mode}`);
        t.equal(pvc?.spec.volumeName, pv?.metadata.name, `${env}/${v.name}: claim bound to its volume`);
        if (v.type === 'nfs') t.equal(pv?.spec.csi?.readOnly ?? pv?.spec.nfs?.readOnly, Boolean(v.readOnly), `${env}/${v.name}: readOnly at the volume source`);
      }
      // Workflows whose steps are names (a sequence through run-step); DAG workflows are read back in workflows.test.ts.
      const flows = (site.spec.workflows ?? []).filter((w: { environment: string; steps: unknown[] }) => w.environment === env && w.steps.every((s) => typeof s === 'string'));
      const wdocs = rendered.get(`workflows-${env}`) ?? [];
      for (const w of flows) {
        const tpl = wdocs.find((d) => d.kind === 'WorkflowTemplate' && d.metadata.name === w.name) as any;
        t.ok(tpl, `${env}: WorkflowTemplate ${w.name}`);
        const mounts = tpl?.spec.templates.find((x: { name: string }) => x.name === 'run-step')?.container.volumeMounts ?? [];
        const builds = mounts.find((m: { name: string }) => m.name === 'builds');
        if (volumes.some((v) => v.name === 'builds')) {
          t.same(builds, { name: 'builds', mountPath: '/mnt/builds', readOnly: false }, `${w.name} mounts builds read-write`);
        }
        for (const v of volumes.filter((v) => v.readOnly)) {
          t.equal(mounts.find((m: { name: string }) => m.name === v.name)?.readOnly, true, `${w.name} mounts ${v.name} read-only`);
        }
        t.same(tpl?.spec.templates[0].steps.map((s: { name: string }[]) => s[0]!.name), w.steps, `${w.name}: steps in order`);
        const cron = wdocs.find((d) => d.kind === 'CronWorkflow' && d.metadata.name === w.name) as any;
        if (w.schedule) t.same(cron?.spec.schedules, [w.schedule], `${w.name}: CronWorkflow on its schedule`);
        else t.notOk(cron, `${w.name}: no CronWorkflow without a schedule`);
      }
    }

    const metallb = site.spec.components?.metallb;
    if (metallb?.enabled) {
      const pool = rendered.get('metallb-config')?.find((d) => d.kind === 'IPAddressPool') as any;
      t.same(pool?.spec.addresses, metallb.addresses, 'MetalLB pool equals the spec');
      const l2 = rendered.get('metallb-config')?.find((d) => d.kind === 'L2Advertisement') as any;
      t.same(l2?.spec.ipAddressPools, [pool?.metadata.name], 'L2Advertisement announces the pool');
    }

    const networks = site.spec.components?.networkOperator?.networks ?? [];
    if (networks.length) {
      const docs = rendered.get('network-operator-policy') ?? [];
      const policy = docs.find((d) => d.kind === 'NicClusterPolicy') as any;
      t.ok(policy?.spec.nvIpam, 'NVIDIA IPAM deployed for the secondary networks');
      t.ok(policy?.spec.rdmaSharedDevicePlugin, 'RDMA shared device plugin');
      // IPPools and attachments: their own release after the policy (the operator installs the IPPool CRD).
      const networkDocs = rendered.get('network-operator-networks') ?? [];
      for (const n of networks) {
        const pool = networkDocs.find((d) => d.kind === 'IPPool' && d.metadata.name === n.name) as any;
        t.equal(pool?.spec.subnet, n.subnet, `${n.name}: IP pool on its subnet`);
        for (const env of envs) {
          if (n.type === 'ipvlan') {
            // A NetworkAttachmentDefinition in the environment namespace, under the site's attachment name.
            const nad = networkDocs.find((d) => d.kind === 'NetworkAttachmentDefinition' && d.metadata.name === (n.attachmentName ?? n.name) && d.metadata.namespace === `${env}-${site.metadata.name}`) as any;
            const config = JSON.parse(nad?.spec.config ?? '{}');
            t.same([config.type, config.mode, config.master, config.ipam], ['ipvlan', 'l2', n.master, { poolName: n.name, type: 'nv-ipam' }], `${env}/${n.name}: an L2 ipvlan attachment with addresses from nv-ipam`);
            continue;
          }
          const kind = n.type === 'ipoib' ? 'IPoIBNetwork' : 'MacvlanNetwork';
          const net = networkDocs.find((d) => d.kind === kind && d.metadata.name === `${env}-${n.name}`) as any;
          t.equal(net?.spec.networkNamespace, `${env}-${site.metadata.name}`, `${env}/${n.name}: attachment in the environment namespace`);
          t.same(JSON.parse(net?.spec.ipam ?? '{}'), { poolName: n.name, type: 'nv-ipam' }, `${env}/${n.name}: addresses from nv-ipam`);
          t.equal(net?.spec.master, n.master);
        }
      }
    }

    // No literal secret in any values file: only references to existing Secrets.
    const LITERAL_SECRET_KEYS = /^(password|passwd|harborAdminPassword|adminPassword|secret|secretKey|token|accessKey|xsrfKey)$/i;
    const valuesFiles = [
      ...(await readdir(join(out, 'charts'))).map((c) => `charts/${c}/values.yaml`),
      ...envs.flatMap((e) => releases.flatMap((r) => (r.values ?? []).filter((v) => v.includes(`/${e}/`)))),
    ];
    const offenders: string[] = [];
    const walk = (value: unknown, path: string) => {
      if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) {
        if (LITERAL_SECRET_KEYS.test(k) && typeof v === 'string' && v.length) offenders.push(`${path}.${k}`);
        walk(v, `${path}.${k}`);
      }
    };
    for (const file of valuesFiles) walk(await readYaml(join(out, file)), file);
    t.same(offenders, [], 'no literal secret in values files');
  });
}

t.test('the version table pins every upstream chart the charts use', async (t) => {
  const table = parse(await readFile('generator/components/upstream-charts.yaml', 'utf8'));
  for (const spec of SITES) {
    const out = await generatedSite(spec, { commit: false });
    for (const chart of await readdir(join(out, 'charts'))) {
      const meta = await readYaml(join(out, 'charts', chart, 'Chart.yaml'));
      t.equal(meta.apiVersion, 'v2');
      for (const dep of meta.dependencies ?? []) {
        t.equal(dep.version, String(table[dep.name]?.version), `${chart} → ${dep.name} pinned from the table`);
        t.equal(dep.repository, table[dep.name]?.repository);
        t.equal(dep.condition, 'upstream.enabled');
      }
    }
  }
});
