// Argo CD managing itself (spec.components.argoCd), rendered with the real argo-cd chart: its repo
// server can decrypt what siteforge encrypts (KSOPS as a kustomize exec plugin, helm-secrets for
// secrets:// value files, the age key where the RUNBOOK's bootstrap puts it), its own Application
// is in the app of apps, and Applications report their health — the Lua check in argocd-cm is run
// with Lua 5.1 (the language of Argo CD's gopher-lua) on the statuses Argo CD gives it. With the
// site's OIDC provider, people sign in through it and the spec's groups are admins.
import t from 'tap';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT, siteforge, tempDir } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';
import { validateDocument } from '../helpers/k8s.ts';
import { SOPS_AGE_KEY, SOPS_AGE_SECRET } from '../../generator/secrets/types.ts';

const CHARTS = join(ROOT, '..', 'shared', 'charts');
const EXAMPLE = 'examples/k0s-gpu.yaml';

async function rendered(edit: (text: string) => string = (s) => s) {
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), edit(await readFile(join(ROOT, EXAMPLE), 'utf8')));
  const generated = await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit']);
  if (generated.code !== 0) throw new Error(generated.stderr);
  await mkdir(join(dir, 'charts/argo-cd/charts'), { recursive: true });
  await copyFile(join(CHARTS, 'argo-cd-10.1.1.tgz'), join(dir, 'charts/argo-cd/charts/argo-cd-10.1.1.tgz'));
  const res = await runTool('helm', ['template', 'argo-cd', join(dir, 'charts/argo-cd'), '--namespace', 'argocd']);
  if (res.code !== 0) throw new Error(res.stderr);
  const objects = parseAllDocuments(res.stdout).map((d) => d.toJS()).filter(Boolean);
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  return { dir, objects, find };
}

const base = await rendered();
const cm = base.find('ConfigMap', 'argocd-cm')!.data as Record<string, string>;

t.test('the real chart renders with the site\'s values, every built-in object valid', async (t) => {
  for (const o of base.objects.filter((o) => !/argoproj\.io/.test(o.apiVersion) && o.kind !== 'CustomResourceDefinition')) t.same(await validateDocument(o), [], `${o.kind}/${o.metadata.name}`);
  t.notOk(base.objects.some((o) => o.kind === 'Job' && /redis-secret-init/.test(o.metadata.name)), 'no pre-install Job makes the Redis password: it is a SOPS secret of the site');
  t.ok(await readFile(join(base.dir, 'secrets/cluster/argocd/argocd-redis.sops.yaml'), 'utf8'), 'argocd-redis is generated');
});

t.test('the repo server decrypts: KSOPS and kustomize on PATH, exec plugins allowed, helm-secrets with the bootstrap\'s age key', async (t) => {
  t.equal(cm['kustomize.buildOptions'], '--enable-alpha-plugins --enable-exec', 'kustomize runs the KSOPS exec generator');
  t.match(cm['helm.valuesFileSchemes'], /\bsecrets\b/, 'secrets:// value files are allowed');
  const repo = base.find('Deployment', 'argo-cd-argocd-repo-server')!.spec.template.spec;
  const tools = repo.initContainers.find((c: { name: string }) => c.name === 'siteforge-tools');
  t.equal(tools.image, 'ghcr.io/example/argocd-tools:1.0.0');
  const server = repo.containers.find((c: { name: string }) => c.name === 'repo-server');
  const mounts = Object.fromEntries(server.volumeMounts.map((m: { mountPath: string; name: string; subPath?: string }) => [m.mountPath, `${m.name}${m.subPath ? `/${m.subPath}` : ''}`]));
  t.equal(mounts['/usr/local/bin/ksops'], 'custom-tools/ksops', 'ksops is on the PATH kustomize searches');
  t.equal(mounts['/usr/local/bin/kustomize'], 'custom-tools/kustomize', 'with the kustomize it was built for');
  t.same(tools.volumeMounts, [{ name: 'custom-tools', mountPath: '/custom-tools' }], 'the init container fills the same volume');
  const env = Object.fromEntries(server.env.map((e: { name: string; value?: string }) => [e.name, e.value]));
  const age = repo.volumes.find((v: { name: string }) => v.name === 'sops-age');
  t.equal(age.secret.secretName, SOPS_AGE_SECRET, 'the Secret the bootstrap creates');
  t.equal(env.SOPS_AGE_KEY_FILE, `${Object.entries(mounts).find(([, v]) => v === 'sops-age')![0]}/${SOPS_AGE_KEY}`, 'the key file under the name the bootstrap gives it');
  t.equal(env.HELM_PLUGINS, '/custom-tools/helm-plugins/');
  t.equal(env.HELM_SECRETS_SOPS_PATH, '/custom-tools/sops');
  t.equal(env.HELM_SECRETS_VALUES_ALLOW_PATH_TRAVERSAL, 'true', 'the value files are ../../secrets/... from the chart');
  const runbook = await readFile(join(base.dir, 'RUNBOOK.md'), 'utf8');
  t.match(runbook, new RegExp(`create secret generic ${SOPS_AGE_SECRET} --from-file=${SOPS_AGE_KEY.replace('.', '\\.')}=`), 'the RUNBOOK makes that Secret with that key');
  // The secrets directories are what KSOPS reads: a generator listing the SOPS files, never resources.
  const k = parse(await readFile(join(base.dir, 'secrets/cluster/kustomization.yaml'), 'utf8'));
  t.same(k.generators, ['ksops.yaml']);
  t.notOk(k.resources, 'no SOPS file is applied as it is');
  const app = parse(await readFile(join(base.dir, 'clusters/gpufarm/argocd/applications/argo-cd.yaml'), 'utf8'));
  t.equal(app.spec.sources[0].path, 'charts/argo-cd', 'Argo CD\'s own Application: it manages itself');
  t.equal(app.spec.destination.namespace, 'argocd');
});

t.test('Applications report their health: the argocd-cm check, run in Lua 5.1', async (t) => {
  const lua = cm['resource.customizations.health.argoproj.io_Application']!;
  const dir = await tempDir();
  // Argo CD calls the script with `obj` set to the object and reads the table it returns.
  const run = async (obj: string) => {
    await writeFile(join(dir, 'check.lua'), `obj = ${obj}\nlocal function check()\n${lua}\nend\nlocal hs = check()\nio.write(hs.status .. "|" .. hs.message)\n`);
    const res = await runTool('lua5.1', [join(dir, 'check.lua')]);
    t.equal(res.code, 0, res.stderr);
    return res.stdout;
  };
  t.equal(await run('{ status = { health = { status = "Healthy" } } }'), 'Healthy|');
  t.equal(await run('{ status = { health = { status = "Degraded", message = "1 of 3 pods crash" } } }'), 'Degraded|1 of 3 pods crash');
  t.equal(await run('{ status = {} }'), 'Progressing|', 'not yet reconciled: the wave waits');
  t.equal(await run('{}'), 'Progressing|');
});

t.test('with spec.identity.oidc: sign-in through the provider, the spec\'s groups admins, no local admin', async (t) => {
  const oidc = await rendered((s) =>
    s
      .replace('  secrets:\n', '  identity:\n    oidc: {issuer: "https://login.example.org/realms/hpc"}\n  secrets:\n')
      .replace('argoCd: {enabled: true, toolsImage: ghcr.io/example/argocd-tools:1.0.0}', 'argoCd: {enabled: true, toolsImage: ghcr.io/example/argocd-tools:1.0.0, adminGroups: [gpu-admins]}'),
  );
  const data = oidc.find('ConfigMap', 'argocd-cm')!.data as Record<string, string>;
  t.same(parse(data['oidc.config']!), { name: 'SSO', issuer: 'https://login.example.org/realms/hpc', clientID: 'argocd', clientSecret: '$argocd-oidc:client-secret', requestedScopes: ['openid', 'profile', 'email', 'groups'] });
  t.equal(data['admin.enabled'], 'false');
  const rbac = oidc.find('ConfigMap', 'argocd-rbac-cm')!.data as Record<string, string>;
  t.equal(rbac['policy.default'], 'role:readonly');
  t.equal(rbac['policy.csv'], 'g, "gpu-admins", role:admin\n');
  const secret = parse(await readFile(join(oidc.dir, 'secrets/cluster/argocd/argocd-oidc.sops.yaml'), 'utf8'));
  t.equal(secret.metadata.labels['app.kubernetes.io/part-of'], 'argocd', 'Argo CD resolves $argocd-oidc:… only in Secrets with its label');
  t.match(secret.stringData['client-secret'], /^ENC\[AES256_GCM/, 'the client secret is encrypted');
});

t.test('validation: Argo CD needs the argocd engine and a pinned tools image', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), (await readFile(join(ROOT, EXAMPLE), 'utf8')).replace('engine: argocd', 'engine: flux').replace('toolsImage: ghcr.io/example/argocd-tools:1.0.0', 'toolsImage: ghcr.io/example/argocd-tools'));
  const res = await siteforge(['validate', join(dir, 'site.yaml')]);
  t.equal(res.code, 1);
  t.match(res.stderr, /spec\.components\.argoCd\.enabled: Argo CD is enabled, and gitops\.engine is "flux"/);
  t.match(res.stderr, /spec\.components\.argoCd\.toolsImage: the tools image "ghcr\.io\/example\/argocd-tools" is not pinned/);
});
