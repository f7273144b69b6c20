// Argo Workflows single sign-on against the site's OIDC provider, as the real chart renders it:
// the server's SSO configuration (issuer, client id and secret from Secrets, callback, scopes,
// RBAC on), and per RBAC entry a ServiceAccount with its rule, its token Secret and RoleBindings in
// the environments it covers (verify of this site: integration/verify-sites.test.ts).
import t from 'tap';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT, siteforge, tempDir } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';

const CHARTS = join(ROOT, '..', 'shared', 'charts');
const SSO = `argoWorkflows: {enabled: true, sso: {enabled: true, issuer: "https://login.hpc4.example.edu/realms/hpc", clientId: argo-hpc4, rbac: [{group: hpc-admins, role: admin}, {group: spack-devs, role: developer, environments: [dev]}, {group: users, role: viewer}]}}`;

const dir = await tempDir();
const spec = join(dir, 'site.yaml');
await writeFile(spec, (await readFile(join(ROOT, 'site.yaml'), 'utf8')).replace('argoWorkflows: {enabled: true}', SSO));
const generated = await siteforge(['generate', spec, '--no-commit']);
if (generated.code !== 0) throw new Error(generated.stderr);

t.test('the real chart renders the server\'s SSO and the RBAC accounts', async (t) => {
  await mkdir(join(dir, 'charts/argo-workflows/charts'), { recursive: true });
  await copyFile(join(CHARTS, 'argo-workflows-1.0.18.tgz'), join(dir, 'charts/argo-workflows/charts/argo-workflows-1.0.18.tgz'));
  const res = await runTool('helm', ['template', 'argo-workflows', join(dir, 'charts/argo-workflows'), '--namespace', 'argo']);
  t.equal(res.code, 0, res.stderr);
  const objects = parseAllDocuments(res.stdout).map((d) => d.toJS()).filter(Boolean);
  const find = (kind: string, name: string, namespace?: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace));
  const config = parse(find('ConfigMap', 'argo-workflows-workflow-controller-configmap')?.data?.config ?? find('ConfigMap', 'argo-workflows-workflow-controller-configmap')?.data?.sso ?? '{}');
  const sso = config.sso ?? config;
  t.equal(sso.issuer, 'https://login.hpc4.example.edu/realms/hpc');
  t.same(sso.clientId, { name: 'argo-server-sso-client-id', key: 'client-id' });
  t.same(sso.clientSecret, { name: 'argo-server-sso', key: 'client-secret' });
  t.equal(sso.redirectUrl, 'https://argo.hpc4.example.edu/oauth2/callback');
  t.same(sso.scopes, ['openid', 'profile', 'email', 'groups']);
  t.equal(sso.rbac?.enabled, true, 'SSO RBAC is on: a login maps to a ServiceAccount, never to the server\'s own rights');
  const server = find('Deployment', 'argo-workflows-server');
  t.match(JSON.stringify(server.spec.template.spec.containers[0].args), /"--auth-mode=sso","--auth-mode=client"|"--auth-mode","sso"/, 'the server runs SSO (and client tokens)');
  t.equal(find('Secret', 'argo-server-sso-client-id', 'argo')?.stringData?.['client-id'], 'argo-hpc4', 'the client id from the spec');

  const admins = find('ServiceAccount', 'argo-sso-1-admin', 'argo');
  t.equal(admins?.metadata.annotations['workflows.argoproj.io/rbac-rule'], '"hpc-admins" in groups');
  t.equal(admins?.metadata.annotations['workflows.argoproj.io/rbac-rule-precedence'], '3', 'the first entry wins over later ones');
  t.equal(find('Secret', 'argo-sso-1-admin.service-account-token', 'argo')?.type, 'kubernetes.io/service-account-token', 'its token Secret, which the server reads');
  const bindings = objects.filter((o) => o.kind === 'RoleBinding' && o.metadata.name.startsWith('argo-sso-'));
  t.same(
    bindings.map((b) => `${b.metadata.namespace}:${b.subjects[0].name}->${b.roleRef.name}`).sort(),
    [
      'dev-hpc4:argo-sso-1-admin->argo-sso-admin',
      'dev-hpc4:argo-sso-2-developer->argo-sso-developer',
      'dev-hpc4:argo-sso-3-viewer->argo-sso-viewer',
      'prod-hpc4:argo-sso-1-admin->argo-sso-admin',
      'prod-hpc4:argo-sso-3-viewer->argo-sso-viewer',
    ],
    'each group in the environments it covers, developers in dev only',
  );
  const viewer = find('ClusterRole', 'argo-sso-viewer');
  t.notMatch(JSON.stringify(viewer.rules), /"create"|"delete"|"patch"/, 'viewers only read');
});

t.test('the client secret is generated and SOPS-encrypted', async (t) => {
  const secret = await readFile(join(dir, 'secrets/cluster/argo/argo-server-sso.sops.yaml'), 'utf8');
  t.match(secret, /client-secret: ENC\[AES256_GCM/);
});

t.test('the provider may be named once for the site (spec.identity.oidc)', async (t) => {
  const d = await tempDir();
  const own = join(d, 'site.yaml');
  await writeFile(own, (await readFile(spec, 'utf8')).replace('issuer: "https://login.hpc4.example.edu/realms/hpc", ', '').replace('  identity:\n', '  identity:\n    oidc: {issuer: "https://sso.hpc4.example.edu/realms/site"}\n'));
  const res = await siteforge(['generate', own, '--no-commit']);
  t.equal(res.code, 0, res.stderr);
  const values = parse(await readFile(join(d, 'charts/argo-workflows/values.yaml'), 'utf8'));
  t.equal(values['argo-workflows'].server.sso.issuer, 'https://sso.hpc4.example.edu/realms/site', 'the site\'s provider');
  t.match(await readFile(join(d, 'RUNBOOK.md'), 'utf8'), 'logs people in through `https://sso.hpc4.example.edu/realms/site`');
});

t.test('SSO needs a provider, and RBAC environments exist', async (t) => {
  const bad = join(await tempDir(), 'site.yaml');
  await writeFile(bad, (await readFile(spec, 'utf8')).replace('issuer: "https://login.hpc4.example.edu/realms/hpc", ', '').replace('environments: [dev]}', 'environments: [staging]}'));
  const res = await siteforge(['validate', bad]);
  t.equal(res.code, 1);
  t.match(res.stderr, /spec\.components\.argoWorkflows\.sso: SSO needs the site's OIDC provider/);
  t.match(res.stderr, /spec\.components\.argoWorkflows\.sso\.rbac\[1\]\.environments\[0\]: environment "staging" is not in spec\.environments/);
});
