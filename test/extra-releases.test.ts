// A way in for any other chart and for the site's own manifests (spec.extraReleases,
// spec.extraManifests): the release is a wrapper chart of the named chart that helm renders with
// the real chart and the spec's values; helmfile, Flux and Argo CD order it after what it needs and
// give it its SOPS values; the site's manifests directory is created once, never rewritten, and
// applied last; mistakes are errors at their field.
import t from 'tap';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseDocument } from 'yaml';
import { generatedSite, ROOT, siteforge, tempDir } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';
import { parseManifests, validateDocument } from './helpers/k8s.ts';

const SPEC = 'test/fixtures/sites/extra-releases.yaml';
const KEY = join(ROOT, 'test/fixtures/keys/example-site.agekey');
const CHARTS = join(ROOT, '..', 'shared', 'charts');
const out = await generatedSite(SPEC, { commit: false });
const yamlDocs = async (path: string) => parseManifests(await readFile(join(out, path), 'utf8'));

t.test('the wrapper chart renders the named chart, pinned, with the spec\'s values', async (t) => {
  const chart = parse(await readFile(join(out, 'charts/jupyterhub/Chart.yaml'), 'utf8'));
  t.same(chart.dependencies, [{ name: 'jupyterhub', version: '4.4.0', repository: 'https://hub.jupyter.org/helm-chart/', condition: 'upstream.enabled' }]);
  await mkdir(join(out, 'charts/jupyterhub/charts'), { recursive: true });
  await copyFile(join(CHARTS, 'jupyterhub-4.4.0.tgz'), join(out, 'charts/jupyterhub/charts/jupyterhub-4.4.0.tgz'));
  const lint = await runTool('helm', ['lint', '--quiet', join(out, 'charts/jupyterhub')]);
  t.equal(lint.code, 0, lint.stdout + lint.stderr);
  const res = await runTool('helm', ['template', 'jupyterhub', join(out, 'charts/jupyterhub'), '--namespace', 'jupyterhub', '--set', 'jupyterhub.proxy.secretToken=0123456789abcdef0123456789abcdef']);
  t.equal(res.code, 0, res.stderr);
  const docs = parseManifests(res.stdout);
  const proxy = docs.find((d) => d.kind === 'Service' && d.metadata.name === 'proxy-public') as any;
  t.equal(proxy.spec.type, 'ClusterIP', 'the spec\'s values reach the chart');
  t.notOk(docs.some((d) => d.kind === 'DaemonSet' && d.metadata.name === 'continuous-image-puller'), 'and turn off what the spec turned off');
  t.ok(docs.every((d) => d.metadata.namespace === undefined || d.metadata.namespace === 'jupyterhub'));
});

t.test('its secret values are a SOPS secret: generated, or a placeholder to fill in', async (t) => {
  const res = await siteforge(['secrets', 'show', join(out, 'secrets/cluster/jupyterhub/jupyterhub-values.values.sops.yaml')], { env: { SOPS_AGE_KEY_FILE: KEY } });
  t.equal(res.code, 0, res.stderr);
  const values = parse(res.stdout).jupyterhub;
  t.match(values.proxy.secretToken, /^[A-Za-z0-9]{64}$/, 'a random 64-character token');
  t.match(values.hub.config.LDAPAuthenticator.lookup_dn_search_password, /^REPLACE-ME: sops secrets\/cluster\/jupyterhub\/jupyterhub-values\.sops\.yaml, then set hub\.config\.LDAPAuthenticator\.lookup_dn_search_password$/);
  const chartValues = await readFile(join(out, 'charts/jupyterhub/values.yaml'), 'utf8');
  t.notMatch(chartValues, values.proxy.secretToken, 'never in the chart\'s plain values');
  t.notMatch(chartValues, /secretToken|lookup_dn_search_password/);
});

t.test('helmfile: after cert-manager, with the SOPS values; the site\'s manifests after it', async (t) => {
  const release = parse(await readFile(join(out, 'releases/jupyterhub.yaml'), 'utf8')).releases[0];
  t.equal(release.chart, './charts/jupyterhub');
  t.equal(release.namespace, 'jupyterhub');
  t.same(release.needs, ['cert-manager/cert-manager', 'cert-manager/cert-manager-issuers']);
  t.same(release.secrets, ['./secrets/cluster/jupyterhub/jupyterhub-values.values.sops.yaml']);
  const root = parse(await readFile(join(out, 'helmfile.yaml'), 'utf8'));
  t.ok(root.repositories.some((r: { url: string }) => r.url === 'https://hub.jupyter.org/helm-chart/'), 'the chart\'s repository is declared');
  t.ok(root.bases.includes('releases/jupyterhub.yaml') && root.bases.includes('releases/extra-manifests.yaml'));
  const manifests = parse(await readFile(join(out, 'releases/extra-manifests.yaml'), 'utf8')).releases[0];
  t.same(manifests, { name: 'extra-manifests', namespace: 'jupyterhub', chart: './extra-manifests', labels: { component: 'extra-manifests' }, needs: ['jupyterhub/jupyterhub'] });
});

t.test('Flux: a HelmRelease in its layer after what it needs; the manifests after that layer', async (t) => {
  const [release] = await yamlDocs('clusters/extra/apps/jupyterhub.yaml') as any[];
  t.same(await validateDocument(release), [], 'a valid HelmRelease');
  t.same(release.spec.dependsOn, [{ name: 'cert-manager', namespace: 'cert-manager' }, { name: 'cert-manager-issuers', namespace: 'cert-manager' }]);
  t.same(release.spec.valuesFrom, [{ kind: 'Secret', name: 'jupyterhub-values', valuesKey: 'values.yaml' }]);
  const sources = await yamlDocs('clusters/extra/sources/helm-repositories.yaml');
  t.ok(sources.some((s: any) => s.kind === 'HelmRepository' && s.spec.url === 'https://hub.jupyter.org/helm-chart/'));
  const layers = await yamlDocs('clusters/extra/flux-system/layers.yaml') as any[];
  const manifests = layers.find((k) => k.metadata.name === 'extra-extra-manifests');
  t.same(await validateDocument(manifests), []);
  t.equal(manifests.spec.path, './extra-manifests');
  t.same(manifests.spec.dependsOn, [{ name: 'extra-apps' }], 'after the layer that holds jupyterhub');
  const [repository] = await yamlDocs('clusters/extra/flux-system/repository.yaml') as any[];
  t.match(repository.spec.ignore, /^!\/extra-manifests\/$/m, 'the GitRepository carries the directory');
  const built = await runTool('kubectl', ['kustomize', join(out, 'clusters/extra/apps')]);
  t.equal(built.code, 0, built.stderr);
});

t.test('Argo CD: Applications in waves, the manifests one wave after the release they need', async (t) => {
  const dir = await tempDir();
  const doc = parseDocument(await readFile(SPEC, 'utf8'));
  doc.setIn(['spec', 'gitops', 'engine'], 'argocd');
  await writeFile(join(dir, 'site.yaml'), doc.toString());
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit'])).code, 0);
  const app = parseManifests(await readFile(join(dir, 'clusters/extra/argocd/applications/jupyterhub.yaml'), 'utf8'))[0] as any;
  const manifests = parseManifests(await readFile(join(dir, 'clusters/extra/argocd/applications/extra-manifests.yaml'), 'utf8'))[0] as any;
  for (const a of [app, manifests]) t.same(await validateDocument(a), [], `${a.metadata.name} is a valid Application`);
  t.ok(app.spec.sources[0].helm.valueFiles.some((f: string) => f.startsWith('secrets://') && f.endsWith('secrets/cluster/jupyterhub/jupyterhub-values.values.sops.yaml')), 'helm-secrets decrypts its values');
  const wave = (a: any) => Number(a.metadata.annotations['argocd.argoproj.io/sync-wave']);
  t.ok(wave(manifests) > wave(app), `manifests (wave ${wave(manifests)}) after jupyterhub (wave ${wave(app)})`);
  t.same(manifests.spec.source, { repoURL: 'ssh://git@git.example.net/extra-gitops.git', targetRevision: 'main', path: 'extra-manifests' });
  const project = parseManifests(await readFile(join(dir, 'clusters/extra/argocd/project.yaml'), 'utf8'))[0] as any;
  t.ok(project.spec.sourceRepos.includes('https://hub.jupyter.org/helm-chart/'));
  t.ok(project.spec.destinations.some((d: { namespace: string }) => d.namespace === 'jupyterhub'));
});

t.test('the manifests directory is the site\'s: created once, never rewritten, built by kustomize', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), await readFile(SPEC, 'utf8'));
  t.equal((await siteforge(['generate', join(dir, 'site.yaml')])).code, 0);
  const seed = await readFile(join(dir, 'extra-manifests/kustomization.yaml'), 'utf8');
  t.match(seed, /^namespace: jupyterhub$/m);
  t.equal((await runTool('kubectl', ['kustomize', join(dir, 'extra-manifests')])).code, 0, 'the seed builds');
  // The site adds its own manifest and edits the kustomization.
  await writeFile(join(dir, 'extra-manifests/motd.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: motd\ndata:\n  motd: "maintenance on Friday"\n');
  await writeFile(join(dir, 'extra-manifests/kustomization.yaml'), seed.replace('resources: []', 'resources: [motd.yaml]'));
  const again = await siteforge(['generate', join(dir, 'site.yaml')]);
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, /up to date/);
  t.match(await readFile(join(dir, 'extra-manifests/kustomization.yaml'), 'utf8'), 'resources: [motd.yaml]', 'the site\'s edit stays');
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--check'])).code, 0, 'and is no drift');
  const built = parseManifests((await runTool('kubectl', ['kustomize', join(dir, 'extra-manifests')])).stdout);
  t.same(built.map((d) => `${d.kind}/${d.metadata.namespace}/${d.metadata.name}`), ['ConfigMap/jupyterhub/motd']);
});
