// spec.identity.ldap's second reader: Grafana (kube-prometheus-stack, the real chart) signs users in
// with their LDAP account. The ldap.toml the chart mounts is read back as TOML and holds the
// directory, the search account with its password read from the SOPS secret's mounted file (never
// in the values), and the roles the spec's groups give; without Viewer groups every user views.
import t from 'tap';
import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parse as parseToml } from 'smol-toml';
import { generatedSite, ROOT, siteforge } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';
import { parseManifests } from './helpers/k8s.ts';
import { grafanaLdapToml } from '../generator/components/monitoring.ts';

const KEY = join(ROOT, 'test/fixtures/keys/example-site.agekey');
const out = await generatedSite('site.yaml', { commit: false });
const chart = join(out, 'charts/monitoring');
await mkdir(join(chart, 'charts'), { recursive: true });
await copyFile(join(ROOT, '..', 'shared', 'charts', 'kube-prometheus-stack-88.5.3.tgz'), join(chart, 'charts', 'kube-prometheus-stack-88.5.3.tgz'));
const rendered = await runTool('helm', ['template', 'monitoring', chart, '--namespace', 'monitoring']);
const docs = parseManifests(rendered.stdout) as any[];

t.test('Grafana mounts an ldap.toml that names the site\'s directory and maps its groups', async (t) => {
  t.equal(rendered.code, 0, rendered.stderr);
  const secret = docs.find((d) => d.kind === 'Secret' && d.data?.['ldap-toml']);
  const toml = parseToml(Buffer.from(secret.data['ldap-toml'], 'base64').toString()) as any;
  const [server] = toml.servers;
  t.match(server, { host: 'ldap.hpc4.example.edu', port: 636, use_ssl: true, start_tls: false, ssl_skip_verify: false, bind_dn: 'cn=grafana,ou=services,dc=hpc4,dc=example,dc=edu', search_filter: '(uid=%s)', search_base_dns: ['ou=people,dc=hpc4,dc=example,dc=edu'], group_search_base_dns: ['ou=groups,dc=hpc4,dc=example,dc=edu'] });
  t.equal(server.bind_password, '$__file{/etc/secrets/grafana-ldap/password}', 'the password is read from the mounted secret');
  t.same(server.group_mappings, [
    { group_dn: 'cn=hpc-admins,ou=groups,dc=hpc4,dc=example,dc=edu', org_role: 'Admin', grafana_admin: true },
    { group_dn: '*', org_role: 'Viewer' },
  ]);
  const ini = docs.find((d) => d.kind === 'ConfigMap' && d.data?.['grafana.ini']).data['grafana.ini'] as string;
  t.match(ini, /\[auth\.ldap\]\n(?:.*\n)*?enabled = true/);
  t.match(ini, /config_file = \/etc\/grafana\/ldap\.toml/);
  const pod = docs.find((d) => d.kind === 'Deployment' && /grafana/.test(d.metadata.name)).spec.template.spec;
  const grafana = pod.containers.find((c: { name: string }) => c.name === 'grafana');
  t.ok(grafana.volumeMounts.some((m: { mountPath: string }) => m.mountPath === '/etc/grafana/ldap.toml'));
  t.ok(grafana.volumeMounts.some((m: { name: string; mountPath: string }) => m.name === 'ldap-password' && m.mountPath === '/etc/secrets/grafana-ldap'));
  t.ok(pod.volumes.some((v: any) => v.name === 'ldap-password' && v.secret?.secretName === 'grafana-ldap'));
});

t.test('the search account\'s password is only a SOPS secret, a placeholder to fill in', async (t) => {
  const values = await readFile(join(chart, 'values.yaml'), 'utf8');
  t.notMatch(values, /REPLACE-ME|bind_password = "[^$]/, 'no password in the chart values');
  const res = await siteforge(['secrets', 'show', join(out, 'secrets/cluster/monitoring/grafana-ldap.sops.yaml')], { env: { SOPS_AGE_KEY_FILE: KEY } });
  t.equal(res.code, 0, res.stderr);
  t.match(parse(res.stdout).stringData.password, /^REPLACE-ME: sops secrets\/cluster\/monitoring\/grafana-ldap\.sops\.yaml/);
});

t.test('without a search account users bind as themselves; StartTLS on ldap://; Viewer groups replace "everyone views"', async (t) => {
  const toml = parseToml(grafanaLdapToml({ url: 'ldap://ldap.example.edu:1389', startTls: true, userBase: 'ou=people,dc=example,dc=edu', userAttribute: 'uid' }, { Admin: [], Editor: ['cn=devs,dc=example,dc=edu'], Viewer: ['cn=users,dc=example,dc=edu'] })) as any;
  const [server] = toml.servers;
  t.match(server, { host: 'ldap.example.edu', port: 1389, use_ssl: false, start_tls: true, bind_dn: 'uid=%s,ou=people,dc=example,dc=edu' });
  t.notOk('bind_password' in server);
  t.same(server.group_mappings.map((m: { org_role: string }) => m.org_role), ['Editor', 'Viewer']);
  t.notOk(server.group_mappings.some((m: { group_dn: string }) => m.group_dn === '*'), 'only the listed groups get in');
});
