// Harbor signs people in against the site's identity (spec.identity): harbor-core reads its user
// settings from CONFIG_OVERWRITE_JSON at every start. Rendered with the real Harbor chart, the
// variable is expanded the way the kubelet expands it ($(VAR) from an earlier variable, "$$" → "$")
// with the secret as the cluster holds it, then parsed as Harbor parses it: the settings must be
// Harbor's own (the names of its configuration metadata), the secret in its place and nowhere
// else, and nothing the spec wrote may expand.
import t from 'tap';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT, siteforge, tempDir } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';
import { HARBOR_CONFIG_ENV, harborAuthEnv } from '../../generator/components/harbor.ts';

const CHARTS = join(ROOT, '..', 'shared', 'charts');
const KEY = join(ROOT, 'test/fixtures/keys/example-site.agekey');

/**
 * Harbor's user settings for authentication (src/common/const.go and
 * src/lib/config/metadata/metadatalist.go of Harbor 2.x): anything else in the JSON is ignored
 * by Harbor, so a misspelt key would silently leave Harbor on its database.
 */
const HARBOR_AUTH_KEYS = new Set([
  'auth_mode',
  'ldap_url', 'ldap_search_dn', 'ldap_search_password', 'ldap_base_dn', 'ldap_filter', 'ldap_uid', 'ldap_scope', 'ldap_timeout', 'ldap_verify_cert',
  'ldap_group_base_dn', 'ldap_group_search_filter', 'ldap_group_attribute_name', 'ldap_group_admin_dn', 'ldap_group_membership_attribute', 'ldap_group_search_scope',
  'oidc_name', 'oidc_endpoint', 'oidc_client_id', 'oidc_client_secret', 'oidc_groups_claim', 'oidc_admin_group', 'oidc_group_filter', 'oidc_scope', 'oidc_user_claim', 'oidc_verify_cert', 'oidc_auto_onboard',
]);

type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };

/** The kubelet's expansion of a container's env: $(NAME) of an earlier variable, $$ → $, anything else kept. */
function expandEnv(env: EnvVar[], secrets: Record<string, Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of env) {
    if (e.valueFrom?.secretKeyRef) {
      out[e.name] = secrets[e.valueFrom.secretKeyRef.name]?.[e.valueFrom.secretKeyRef.key] ?? '';
      continue;
    }
    out[e.name] = (e.value ?? '').replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (m === '$$' ? '$' : name !== undefined && name in out ? out[name]! : m));
  }
  return out;
}

/** The example with Harbor's auth block replaced, generated, Harbor rendered with the real chart. */
async function harborCore(harbor: string, identity?: string) {
  const dir = await tempDir();
  let text = (await readFile(join(ROOT, 'site.yaml'), 'utf8')).replace('harbor: {enabled: true, auth: {mode: ldap}}', harbor);
  if (identity) text = text.replace(/  identity:\n(    .*\n|      .*\n)*/, identity);
  await writeFile(join(dir, 'site.yaml'), text);
  const generated = await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit']);
  if (generated.code !== 0) throw new Error(generated.stderr);
  await mkdir(join(dir, 'charts/harbor/charts'), { recursive: true });
  await copyFile(join(CHARTS, 'harbor-1.19.1.tgz'), join(dir, 'charts/harbor/charts/harbor-1.19.1.tgz'));
  const res = await runTool('helm', ['template', 'harbor', join(dir, 'charts/harbor'), '--namespace', 'harbor']);
  if (res.code !== 0) throw new Error(res.stderr);
  const objects = parseAllDocuments(res.stdout).map((d) => d.toJS()).filter(Boolean);
  const core = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'harbor-core');
  const container = core.spec.template.spec.containers.find((c: { name: string }) => c.name === 'core');
  const secretPath = join(dir, 'secrets/cluster/harbor/harbor-auth.sops.yaml');
  const shown = await siteforge(['secrets', 'show', secretPath], { env: { SOPS_AGE_KEY_FILE: KEY } });
  const secret = shown.code === 0 ? (parse(shown.stdout).stringData as Record<string, string>) : undefined;
  const coreSecret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === 'harbor-core');
  return { dir, container, secret, coreSecret, rendered: res.stdout };
}

t.test('LDAP: the directory of spec.identity.ldap, the bind password from its SOPS secret', async (t) => {
  const { container, secret, coreSecret, rendered } = await harborCore(
    'harbor: {enabled: true, auth: {mode: ldap, ldap: {filter: "(objectClass=posixAccount)", adminGroupDn: "cn=hpc-admins,ou=groups,dc=hpc4,dc=example,dc=edu"}}}',
  );
  t.ok(secret, 'the bind password is a SOPS secret of its own');
  t.match(secret!.secret, /^REPLACE-ME: sops secrets\/cluster\/harbor\/harbor-auth\.sops\.yaml/, 'which the admin fills in');
  // As after `sops`: the directory's password for the search account.
  const password = 'bind-pw-7 with $(HOME) and spaces';
  const env = expandEnv(container.env, { 'harbor-auth': { secret: password } });
  const settings = JSON.parse(env[HARBOR_CONFIG_ENV]!);
  t.same(settings, {
    auth_mode: 'ldap_auth',
    ldap_url: 'ldaps://ldap.hpc4.example.edu',
    ldap_search_dn: 'cn=grafana,ou=services,dc=hpc4,dc=example,dc=edu',
    ldap_search_password: password,
    ldap_base_dn: 'ou=people,dc=hpc4,dc=example,dc=edu',
    ldap_uid: 'uid',
    ldap_filter: '(objectClass=posixAccount)',
    ldap_scope: 2,
    ldap_verify_cert: true,
    ldap_group_base_dn: 'ou=groups,dc=hpc4,dc=example,dc=edu',
    ldap_group_search_filter: '(objectClass=groupOfNames)',
    ldap_group_attribute_name: 'cn',
    ldap_group_membership_attribute: 'memberof',
    ldap_group_search_scope: 2,
    ldap_group_admin_dn: 'cn=hpc-admins,ou=groups,dc=hpc4,dc=example,dc=edu',
  });
  for (const key of Object.keys(settings)) t.ok(HARBOR_AUTH_KEYS.has(key), `${key} is a Harbor setting`);
  t.notOk(coreSecret?.data?.[HARBOR_CONFIG_ENV], 'the chart\'s own copy (configureUserSettings) is not used: it would hold the password in values');
  t.notMatch(rendered, /bind-pw-7/, 'the password is in no rendered object');
});

t.test('OIDC: the site\'s provider, a generated client secret, and nothing the spec writes expands', async (t) => {
  const { container, secret } = await harborCore(
    'harbor: {enabled: true, auth: {mode: oidc, oidc: {adminGroup: "hpc-admins", userClaim: preferred_username}}}',
    '  identity:\n    oidc: {issuer: "https://login.hpc4.example.edu/realms/hpc"}\n',
  );
  t.match(secret?.secret, /^[A-Za-z0-9]{40}$/, 'a generated client secret (register it at the provider)');
  const env = expandEnv(container.env, { 'harbor-auth': secret! });
  t.same(JSON.parse(env[HARBOR_CONFIG_ENV]!), {
    auth_mode: 'oidc_auth',
    oidc_name: 'hpc4',
    oidc_endpoint: 'https://login.hpc4.example.edu/realms/hpc',
    oidc_client_id: 'harbor',
    oidc_client_secret: secret!.secret,
    oidc_groups_claim: 'groups',
    oidc_admin_group: 'hpc-admins',
    oidc_user_claim: 'preferred_username',
    oidc_scope: 'openid,profile,email,groups,offline_access',
    oidc_verify_cert: true,
    oidc_auto_onboard: true,
  });
});

t.test('nothing from the spec expands: "$(" is refused at validation, and any "$" that reaches the JSON is written "$$"', async (t) => {
  const refused = await harborCore('harbor: {enabled: true, auth: {mode: oidc, oidc: {adminGroup: "x$(SITEFORGE_AUTH_SECRET)"}}}', '  identity:\n    oidc: {issuer: "https://login.hpc4.example.edu/realms/hpc"}\n').then(
    () => '',
    (e: Error) => e.message,
  );
  t.match(refused, /spec\.components\.harbor\.auth\.oidc\.adminGroup: the string .* is not valid/, 'the admin group cannot carry an expansion');
  // A value with "$" (were a pattern ever to let one through) reaches Harbor as written.
  const auth = { mode: 'oidc', ldap: {}, oidc: { issuer: 'https://login.example.edu/$(SITEFORGE_AUTH_SECRET)/$$x', clientId: 'harbor', groupsClaim: 'groups', scopes: ['openid'] } } as never;
  const env = expandEnv(harborAuthEnv({ name: 'x', identity: {} } as never, auth) as EnvVar[], { 'harbor-auth': { secret: 's3cret' } });
  const settings = JSON.parse(env[HARBOR_CONFIG_ENV]!);
  t.equal(settings.oidc_endpoint, 'https://login.example.edu/$(SITEFORGE_AUTH_SECRET)/$$x', 'kept literally');
  t.equal(settings.oidc_client_secret, 's3cret', 'only the secret\'s own place is expanded');
});

t.test('database (the default): Harbor keeps its own settings, nothing is overwritten', async (t) => {
  const { container, secret } = await harborCore('harbor: {enabled: true}');
  t.notOk((container.env ?? []).some((e: EnvVar) => e.name === HARBOR_CONFIG_ENV));
  t.notOk(secret, 'no auth secret');
});
