// GitOps output read back from the generated files: every Flux and Argo CD object validates
// against its published schema, every Kustomization path builds with kubectl kustomize, the
// dependency order agrees across helmfile, Flux and Argo CD, and every SOPS file is decrypted.
// Also the `plan` command and the matching commit summary.
import t from 'tap';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import { simpleGit } from 'simple-git';
import { generatedSite, listFiles, siteforge, tempDir } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';
import { parseManifests, validateDocument, type K8sDocument } from '../helpers/k8s.ts';



async function docsUnder(out: string, dir: string): Promise<K8sDocument[]> {
  const docs: K8sDocument[] = [];
  for (const f of (await listFiles(join(out, dir))).filter((f) => f.endsWith('.yaml') && !f.endsWith('kustomization.yaml'))) {
    docs.push(...parseManifests(await readFile(join(out, dir, f), 'utf8')));
  }
  return docs;
}

/** helmfile's order: release name → names it needs. */
async function helmfileNeeds(out: string): Promise<Map<string, string[]>> {
  const root = parse(await readFile(join(out, 'helmfile.yaml'), 'utf8'));
  const needs = new Map<string, string[]>();
  for (const base of root.bases) {
    for (const r of parse(await readFile(join(out, base), 'utf8')).releases) needs.set(r.name, (r.needs ?? []).map((n: string) => n.split('/')[1]));
  }
  return needs;
}

t.test('Flux (site.yaml): schemas, kustomize builds, dependsOn = needs, decryption where SOPS files are', async (t) => {
  const out = await generatedSite('site.yaml');
  const cluster = 'clusters/hpc4';
  const docs = await docsUnder(out, cluster);
  t.ok(docs.length > 10);
  for (const doc of docs) t.same(await validateDocument(doc), [], `${doc.kind}/${doc.metadata.name} validates`);
  const versions = new Set(docs.map((d) => `${d.apiVersion} ${d.kind}`));
  for (const v of ['source.toolkit.fluxcd.io/v1 GitRepository', 'kustomize.toolkit.fluxcd.io/v1 Kustomization', 'helm.toolkit.fluxcd.io/v2 HelmRelease', 'source.toolkit.fluxcd.io/v1 HelmRepository']) {
    t.ok(versions.has(v), `uses ${v}`);
  }

  // Flux's own controllers come from the release's OCI artifact (test/flux-self.test.ts), never pruned; the rest from this repository.
  const fluxItself = docs.filter((d: any) => d.kind === 'Kustomization' && d.spec.sourceRef.kind === 'OCIRepository') as any[];
  t.same(fluxItself.map((k) => [k.metadata.name, k.spec.sourceRef.name, k.spec.prune]), [['hpc4-flux', 'flux-manifests', false]]);
  const kustomizations = docs.filter((d: any) => d.kind === 'Kustomization' && d.spec.sourceRef.kind === 'GitRepository') as any[];
  t.equal(kustomizations.length + fluxItself.length, docs.filter((d) => d.kind === 'Kustomization').length, 'every Kustomization reads one of the two');
  for (const k of kustomizations) {
    const path = join(out, k.spec.path);
    t.ok(existsSync(join(path, 'kustomization.yaml')), `${k.metadata.name}: ${k.spec.path} has a kustomization.yaml`);
    const build = await runTool('kubectl', ['kustomize', path]);
    t.equal(build.code, 0, `kubectl kustomize ${k.spec.path}: ${build.stderr}`);
    t.equal(k.spec.prune, true, `${k.metadata.name}: prune`);
    for (const d of k.spec.dependsOn ?? []) t.ok(kustomizations.some((x) => x.metadata.name === d.name), `${k.metadata.name} dependsOn ${d.name} exists`);
  }
  const repo = docs.find((d) => d.kind === 'GitRepository' && d.metadata.name === 'hpc4') as any;
  t.equal(repo.spec.url, 'ssh://git@git.example.edu/hpc/hpc4-gitops.git');
  t.same(repo.spec.ref, { branch: 'main' });
  t.equal(repo.spec.secretRef.name, 'hpc4-deploy-key', 'deploy key referenced');
  const files = await listFiles(out);
  t.notOk(files.some((f) => /deploy-key|sops-age|\.agekey/.test(f)), 'neither deploy key nor sops-age key is committed');

  // Every SOPS-encrypted file Flux applies sits under a Kustomization with sops decryption.
  const sopsFiles = files.filter((f) => f.startsWith('secrets/') && f.endsWith('.sops.yaml') && !f.endsWith('.values.sops.yaml'));
  t.ok(sopsFiles.length > 0);
  for (const f of sopsFiles) {
    const owner = kustomizations.find((k) => `${f}`.startsWith(`${k.spec.path.replace(/^\.\//, '')}/`));
    t.ok(owner, `${f} is inside a Kustomization path`);
    t.same(owner?.spec.decryption, { provider: 'sops', secretRef: { name: 'sops-age' } }, `${f}: decrypted with sops-age`);
    const listed = parse(await readFile(join(out, owner.spec.path, 'kustomization.yaml'), 'utf8')).resources as string[];
    t.ok(listed.includes(relative(owner.spec.path.replace(/^\.\//, ''), f)), `${f} is listed in its kustomization.yaml`);
  }

  // One dependency order: HelmRelease dependsOn = helmfile needs; layers never run a release early.
  const needs = await helmfileNeeds(out);
  const releases = docs.filter((d) => d.kind === 'HelmRelease') as any[];
  t.same(releases.map((r) => r.metadata.name).sort(), [...needs.keys()].sort(), 'same releases in helmfile and Flux');
  for (const r of releases) {
    t.same((r.spec.dependsOn ?? []).map((d: { name: string }) => d.name).sort(), [...needs.get(r.metadata.name)!].sort(), `${r.metadata.name}: dependsOn = needs`);
  }
  const layerOf = new Map<string, string>();
  for (const k of kustomizations) {
    for (const r of await docsUnder(out, k.spec.path)) if (r.kind === 'HelmRelease') layerOf.set(r.metadata.name, k.metadata.name);
  }
  const before = (a: string, b: string): boolean => {
    // a's Kustomization is b's or one b depends on (transitively)
    if (a === b) return true;
    const k = kustomizations.find((x) => x.metadata.name === b);
    return (k?.spec.dependsOn ?? []).some((d: { name: string }) => before(a, d.name));
  };
  for (const [name, deps] of needs) for (const d of deps) t.ok(before(layerOf.get(d)!, layerOf.get(name)!), `${d} (${layerOf.get(d)}) is applied no later than ${name} (${layerOf.get(name)})`);

  // HelmReleases deploy the wrapper charts with helmfile's values files.
  for (const r of releases) {
    const file = (needs.has(r.metadata.name) ? r.spec.chart.spec.valuesFiles : []) as string[];
    for (const v of file) t.ok(existsSync(join(out, v)), `${r.metadata.name}: ${v} exists`);
  }
  const harbor = releases.find((r) => r.metadata.name === 'harbor');
  t.same(harbor.spec.valuesFrom, [{ kind: 'Secret', name: 'harbor-database-values', valuesKey: 'values.yaml' }], 'harbor takes its database password from the SOPS Secret');
});

t.test('Argo CD (k0s-gpu example): schemas, sync waves follow the same graph', async (t) => {
  const out = await generatedSite('examples/k0s-gpu.yaml');
  const dir = 'clusters/gpufarm/argocd';
  const build = await runTool('kubectl', ['kustomize', join(out, dir)]);
  t.equal(build.code, 0, build.stderr);
  const docs = parseManifests(build.stdout);
  for (const doc of [...docs, ...parseManifests(await readFile(join(out, 'clusters/gpufarm/argocd-root.yaml'), 'utf8'))]) {
    t.same(await validateDocument(doc), [], `${doc.kind}/${doc.metadata.name} validates`);
  }
  const project = docs.find((d) => d.kind === 'AppProject') as any;
  const apps0 = docs.filter((d) => d.kind === 'Application') as any[];
  const allowed = new Set(project.spec.destinations.map((d: { namespace: string }) => d.namespace));
  t.notOk(allowed.has('*'), 'the project is limited to the site\'s namespaces');
  for (const a of apps0) if (a.spec.destination.namespace) t.ok(allowed.has(a.spec.destination.namespace), `${a.metadata.name}: destination allowed by the project`);
  const apps = docs.filter((d) => d.kind === 'Application' && !d.metadata.name.includes('secrets')) as any[];
  const wave = (name: string) => Number(apps.find((a) => a.metadata.name === `gpufarm-${name}`)?.metadata.annotations['argocd.argoproj.io/sync-wave']);
  const needs = await helmfileNeeds(out);
  t.equal(apps.length, needs.size, 'one Application per release');
  for (const [name, deps] of needs) for (const d of deps) t.ok(wave(d) < wave(name), `wave(${d})=${wave(d)} < wave(${name})=${wave(name)}`);
  for (const a of apps) {
    t.same(a.spec.syncPolicy.automated, { prune: true, selfHeal: true }, `${a.metadata.name}: automated prune + self-heal`);
  }
  const secrets = docs.filter((d) => d.kind === 'Application' && d.metadata.name.includes('secrets')) as any[];
  t.ok(secrets.length > 0, 'an Application for the SOPS secrets');
  for (const s of secrets) t.equal(s.metadata.annotations['argocd.argoproj.io/sync-wave'], '0', 'secrets sync before every release');
  t.match(await readFile(join(out, 'RUNBOOK.md'), 'utf8'), /KSOPS/);
});

t.test('plan names a Flux upgrade and a change of the web front ends\' ingress, and what Flux applies for it', async (t) => {
  const out = await generatedSite('site.yaml');
  const spec = join(await tempDir(), 'site.yaml');
  const original = await readFile('site.yaml', 'utf8');
  const changed = original
    .replace('    repository: ssh://git@git.example.edu/hpc/hpc4-gitops.git\n', '    repository: ssh://git@git.example.edu/hpc/hpc4-gitops.git\n    flux: {version: v2.9.5}\n')
    .replace(/\n    ingressNginx: \{enabled: true\}/, '');
  t.not(changed, original);
  await writeFile(spec, changed);
  const json = await siteforge(['plan', spec, '--out', out, '--json']);
  t.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  t.ok(report.summary.lines.includes('GitOps engine: Flux v2.9.4, managed from this repository → Flux v2.9.5, managed from this repository'), report.summary.lines.join('\n'));
  t.ok(report.summary.lines.some((l: string) => l.startsWith('web front ends\' ingress: ingress-nginx → RKE2\'s Traefik')), 'the DNS move is named');
  const files = [...report.files.changed].map((f: { path: string }) => f.path);
  t.ok(files.includes('clusters/hpc4/flux-system/flux.yaml'), 'the OCIRepository\'s tag and signature identity change');
  t.ok(files.includes('ansible/group_vars/all.yml'), 'and the servers\' ingress-controller');
});

t.test('plan shows an added node and a bumped chart version, and the commit says the same', async (t) => {
  const out = await generatedSite('site.yaml');
  const specDir = await tempDir();
  const spec = join(specDir, 'site.yaml');
  const original = await readFile('site.yaml', 'utf8');
  const changed = original
    .replace('    - name: k8s-cpu1\n', '    - {name: k8s-cpu2, address: 10.40.0.32, role: agent, labels: {hpc/pool: cpu}}\n    - name: k8s-cpu1\n')
    .replace('harbor: {enabled: true, auth: {mode: ldap}}', 'harbor: {enabled: true, auth: {mode: ldap}, chartVersion: 1.19.2}');
  t.not(changed, original);
  await writeFile(spec, changed);

  const json = await siteforge(['plan', spec, '--out', out, '--json']);
  t.equal(json.code, 0, json.stderr);
  const report = JSON.parse(json.stdout);
  t.same(report.summary.lines, ['nodes added: k8s-cpu2 (10.40.0.32 agent)', 'chart versions bumped: harbor 1.19.1 → 1.19.2', 'releases that upgrade: harbor (cluster-wide, shared by dev, prod: new wrapper chart version)']);
  t.same(report.summary.nodesAdded, ['k8s-cpu2']);
  t.same(report.summary.chartsBumped, [{ name: 'harbor', from: '1.19.1', to: '1.19.2' }]);
  const paths = [...report.files.added, ...report.files.changed].map((f: { path: string; family: string }) => `${f.family}:${f.path}`).sort();
  t.same(paths, [
    'ansible:ansible/inventory/hosts.yaml',
    'charts:charts/harbor/Chart.yaml',
    'docs:RUNBOOK.md',
    'docs:docs/releases.md',
    'helmfile:releases/harbor.yaml',
  ]);
  t.same(report.files.removed, []);

  const text = await siteforge(['plan', spec, '--out', out]);
  t.match(text.stdout, /nodes added: k8s-cpu2 \(10\.40\.0\.32 agent\)\n {2}chart versions bumped: harbor 1\.19\.1 → 1\.19\.2\n {2}releases that upgrade: harbor \(cluster-wide, shared by dev, prod: new wrapper chart version\)\n/);
  t.match(text.stdout, /ansible:\n {2}~ ansible\/inventory\/hosts\.yaml/);

  const gen = await siteforge(['generate', spec, '--out', out]);
  t.equal(gen.code, 0, gen.stderr);
  const message = (await simpleGit(out).log()).latest!;
  t.match(`${message.message}\n${message.body}`, /nodes added: k8s-cpu2 \(10\.40\.0\.32 agent\)\nchart versions bumped: harbor 1\.19\.1 → 1\.19\.2/);
  const again = await siteforge(['plan', spec, '--out', out, '--json']);
  t.same(JSON.parse(again.stdout).summary.lines, [], 'nothing left to plan');
});

t.test('Argo CD: values that only exist as SOPS values files reach the chart through helm-secrets', async (t) => {
  const dir = await tempDir();
  const spec = join(dir, 'site.yaml');
  await writeFile(spec, (await readFile('site.yaml', 'utf8')).replace('engine: flux', 'engine: argocd'));
  const out = await generatedSite(spec);
  const app = parse(await readFile(join(out, 'clusters/hpc4/argocd/applications/harbor.yaml'), 'utf8'));
  const valueFiles = app.spec.sources[0].helm.valueFiles as string[];
  t.same(valueFiles, ['$values/charts/harbor/values.yaml', 'secrets://../../secrets/cluster/harbor/harbor-database-values.values.sops.yaml']);
  t.ok(existsSync(join(out, 'charts/harbor', '../../secrets/cluster/harbor/harbor-database-values.values.sops.yaml')), 'the path resolves from the chart directory');
  t.notOk(existsSync(join(out, 'clusters/hpc4/flux-system')), 'no Flux objects for an Argo CD site');
});

t.test('plan --markdown: the pull-request comment for a chart bump and a node addition', async (t) => {
  const out = await tempDir();
  t.equal((await siteforge(['generate', 'site.yaml', '--out', out])).code, 0);
  const spec = join(await tempDir(), 'site.yaml');
  await writeFile(
    spec,
    (await readFile('site.yaml', 'utf8'))
      .replace('    harbor: {enabled: true', '    harbor: {enabled: true, chartVersion: 1.19.2')
      .replace('  storage:\n', '  storage:\n'),
  );
  const text = (await readFile(spec, 'utf8')).replace(/(  nodes:\n)/, '$1    - {name: k8s-cpu9, address: 10.40.0.39, role: agent}\n');
  await writeFile(spec, text);
  const res = await siteforge(['plan', spec, '--out', out, '--markdown']);
  t.equal(res.code, 0, res.stderr);
  const md = res.stdout;
  t.match(md, /^<!-- siteforge-plan -->\n## siteforge plan: hpc4\n\n\*\*\d+ added, \d+ changed, 0 removed\*\*/);
  t.match(md, /### What changes\n\n- nodes added: k8s-cpu9 \(10\.40\.0\.39 agent\)\n- chart versions bumped: harbor 1\.19\.1 → 1\.19\.2\n/);
  t.match(md, /### Releases that upgrade\n\n\| release \| environment \| why \|\n\| --- \| --- \| --- \|\n\| `harbor` \| cluster-wide, shared by dev, prod \| new wrapper chart version \|/);
  t.match(md, /<details><summary>ansible \(1\)<\/summary>\n\n```diff\n~ ansible\/inventory\/hosts\.yaml\n```/);
  t.match(md, /<summary>charts \(\d+\)<\/summary>[^]*~ charts\/harbor\/Chart\.yaml/);
  t.notMatch(md, /### Refused/);
});
