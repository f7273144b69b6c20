// siteforge verify with the real upstream charts on variants of the example that each exercise a
// check on many charts at once: tainted servers (every chart's toleration paths), the CIS profile
// and restricted environments (Pod Security), SSO RBAC objects, BGP address pools (MetalLB CRDs).
// Slow (each renders every chart), so with the integration suite.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, siteforge, tempDir } from '../helpers/cli.ts';

const CHARTS = join(ROOT, '..', 'shared', 'charts');
/** The upstream kustomize trees (the MPI operator's tag) as source archives. */
const MANIFESTS = join(ROOT, '..', 'shared', 'manifests');

/** Generates the spec text in a new directory and verifies it; returns the directory and the report. */
async function verified(spec: string, extra: string[] = []): Promise<{ dir: string; code: number; problems: unknown[] }> {
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), spec);
  const generated = await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit']);
  if (generated.code !== 0) throw new Error(generated.stderr);
  const res = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, ...extra, '--json']);
  return { dir, code: res.code, problems: JSON.parse(res.stdout).problems };
}

t.test('cluster components tolerate spec.placement: a site with tainted servers verifies clean', async (t) => {
  // Every cluster component's pods must fit a node: verify's scheduling check proves each chart's toleration paths.
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), await readFile('test/fixtures/sites/tainted-servers.yaml', 'utf8'));
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit'])).code, 0);
  const res = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--json']);
  t.equal(res.code, 0, res.stdout);
  t.same(JSON.parse(res.stdout).problems, []);
  const inventory = parse(await readFile(join(dir, 'ansible/inventory/hosts.yaml'), 'utf8'));
  t.same(inventory.all.children.cluster.children.servers.hosts.cp1.node_taints, ['CriticalAddonsOnly=true:NoExecute'], 'the server is tainted by the Ansible output');
  // Without the placement tolerations, the same site does not deploy.
  await writeFile(join(dir, 'site.yaml'), (await readFile(join(dir, 'site.yaml'), 'utf8')).replace('  placement:\n    serverTaints: ["CriticalAddonsOnly=true:NoExecute"]\n', '  placement: {}\n').replace('{name: cp1, address: 172.16.0.10, role: server}', '{name: cp1, address: 172.16.0.10, role: server, taints: ["CriticalAddonsOnly=true:NoExecute"]}'));
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit'])).code, 0);
  const bare = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--json']);
  t.equal(bare.code, 1);
  t.ok(JSON.parse(bare.stdout).problems.filter((p: { check: string }) => p.check === 'scheduling').length >= 10, 'without them, the components fit no node');
});

t.test('a CIS-hardened RKE2 site verifies clean: restricted by default, the cluster components\' namespaces exempt', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), (await readFile('site.yaml', 'utf8')).replace('    apiEndpoint: {type: kubeVip', '    profile: cis\n    apiEndpoint: {type: kubeVip'));
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit'])).code, 0);
  const res = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--json']);
  t.equal(res.code, 0, res.stdout);
  t.same(JSON.parse(res.stdout).problems, []);
  const vars = parse(await readFile(join(dir, 'ansible/group_vars/all.yml'), 'utf8'), { customTags: [{ tag: '!unsafe', resolve: (v: string) => v }] });
  t.equal(vars.rke2_profile, 'cis');
  t.same(vars.rke2_pss_exemptions, ['argo', 'cert-manager', 'cis-operator-system', 'flux-system', 'gpu-operator', 'harbor', 'ingress-nginx', 'kube-system', 'metallb-system', 'monitoring', 'ssh-proxy', 'static-pages', 'syslog', 'tigera-operator'], 'RKE2\'s own, the GitOps engine\'s and every cluster component\'s; no environment');
});

t.test('a site whose environments enforce the restricted Pod Security level verifies clean', async (t) => {
  // Workflow pods and Argo's executor containers get the restricted security context the namespaces demand.
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), (await readFile('site.yaml', 'utf8')).replace('  components:\n', '  components:\n    namespaces: {podSecurity: restricted}\n'));
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit'])).code, 0);
  const res = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--manifests', MANIFESTS, '--json']);
  t.equal(res.code, 0, res.stdout);
  t.same(JSON.parse(res.stdout).problems, []);
  const values = parse(await readFile(join(dir, 'environments/dev/workflows.yaml'), 'utf8'));
  t.same(values.workflows[0].spec.securityContext, { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
});

t.test('an SSO site verifies clean: the RBAC accounts, their token Secrets and bindings', async (t) => {
  const sso = `argoWorkflows: {enabled: true, sso: {enabled: true, issuer: "https://login.hpc4.example.edu/realms/hpc", rbac: [{group: hpc-admins, role: admin}, {group: spack-devs, role: developer, environments: [dev]}]}}`;
  const { code, problems } = await verified((await readFile(join(ROOT, 'site.yaml'), 'utf8')).replace('argoWorkflows: {enabled: true}', sso));
  t.equal(code, 0);
  t.same(problems, []);
});

t.test('a site with a BGP pool verifies clean against the real MetalLB CRDs', async (t) => {
  const spec = (await readFile(join(ROOT, 'site.yaml'), 'utf8')).replace(
    'pools: [{name: public, addresses: [10.40.0.220-10.40.0.229], interfaces: [eth0]}]',
    'pools: [{name: public, addresses: [10.40.0.220-10.40.0.229], advertisement: bgp}]\n      bgpPeers: [{name: core, address: 10.40.0.1, peerASN: 64512, myASN: 64513}]',
  );
  const { code, problems } = await verified(spec);
  t.equal(code, 0);
  t.same(problems, [], 'BGPAdvertisement and BGPPeer match their CRDs; the pool holds the proxy\'s address');
});

t.test('extra releases and the site\'s own manifests verify like built-in releases, and are held to the same checks', async (t) => {
  // JupyterHub from its real chart, as an extra release; the site's manifests built with kustomize.
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), await readFile('test/fixtures/sites/extra-releases.yaml', 'utf8'));
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit'])).code, 0);
  const clean = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--json']);
  t.equal(clean.code, 0, clean.stdout);
  const report = JSON.parse(clean.stdout);
  t.same(report.problems, []);
  t.ok(report.releases.some((r: { name: string; upstream: string }) => r.name === 'jupyterhub' && r.upstream === 'jupyterhub 4.4.0'), 'rendered with the real chart');
  // The site's own manifest with an image nobody listed, and a claim with no class to bind to.
  await writeFile(join(dir, 'extra-manifests/tool.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: tool}\nspec:\n  selector: {matchLabels: {app: tool}}\n  template:\n    metadata: {labels: {app: tool}}\n    spec:\n      containers: [{name: tool, image: "docker.io/library/busybox:1.37"}]\n');
  await writeFile(join(dir, 'extra-manifests/kustomization.yaml'), (await readFile(join(dir, 'extra-manifests/kustomization.yaml'), 'utf8')).replace('resources: []', 'resources: [tool.yaml]'));
  // And an extra release whose chart runs an image its entry does not list.
  await writeFile(join(dir, 'site.yaml'), (await readFile(join(dir, 'site.yaml'), 'utf8')).replace('        - registry.k8s.io/pause:3.10.1\n', ''));
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit'])).code, 0);
  const caught = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--json']);
  t.equal(caught.code, 1);
  const problems = JSON.parse(caught.stdout).problems as { check: string; object: string; message: string; hint: string }[];
  t.ok(problems.some((p) => p.check === 'images' && p.object.startsWith('Deployment jupyterhub/tool') && /busybox/.test(p.message)), 'the site\'s manifest is checked, in its namespace');
  t.ok(problems.some((p) => p.check === 'images' && /pause:3\.10\.1/.test(p.message) && p.hint === 'list it under spec.extraReleases[0].images'), 'the extra release\'s image, with where to list it');
});

t.test('JupyterHub through Slurm verifies clean with the real chart; without a class for the hub database it does not', async (t) => {
  const dir = await tempDir();
  const spec = await readFile('test/fixtures/sites/jupyterhub.yaml', 'utf8');
  await writeFile(join(dir, 'site.yaml'), spec);
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit'])).code, 0);
  const res = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--json']);
  t.equal(res.code, 0, res.stdout);
  t.same(JSON.parse(res.stdout).problems, []);
  // The hub's database claims from the default class: a class that is not the default leaves it unbound.
  await writeFile(join(dir, 'site.yaml'), spec.replace('share: /export/k8s, default: true}', 'share: /export/k8s}'));
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit'])).code, 0);
  const unbound = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--json']);
  t.equal(unbound.code, 1);
  t.ok(JSON.parse(unbound.stdout).problems.some((p: { check: string; object: string }) => p.check === 'storage' && /hub-db-dir/.test(p.object)), 'the hub database claim that never binds is found');
});

t.test('the Slurm control plane verifies clean; with a class the site lacks its claims do not bind', async (t) => {
  const dir = await tempDir();
  const spec = await readFile('test/fixtures/sites/slurm.yaml', 'utf8');
  await writeFile(join(dir, 'site.yaml'), spec);
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit'])).code, 0);
  const res = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--json']);
  t.equal(res.code, 0, res.stdout);
  t.same(JSON.parse(res.stdout).problems, []);
  // A class named in the spec that no one provisions: the state and database claims never bind.
  await writeFile(join(dir, 'site.yaml'), spec.replace('purgeAfterMonths: 24', 'purgeAfterMonths: 24\n      storageClass: fast-block'));
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit'])).code, 0);
  const unbound = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--json']);
  t.equal(unbound.code, 1);
  const storage = JSON.parse(unbound.stdout).problems.filter((p: { check: string }) => p.check === 'storage').map((p: { object: string }) => p.object);
  t.same(storage.sort(), ['StatefulSet slurm/slurm-controller (from slurm)', 'StatefulSet slurm/slurm-db (from slurm)'], 'the state and database claims are found unbound');
});
