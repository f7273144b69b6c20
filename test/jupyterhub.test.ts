// JupyterHub through Slurm, rendered with the real Zero to JupyterHub chart: users come from the
// site's LDAP, each profile is a Slurm job shape the spawner submits as the user, the hub API is on
// a MetalLB address the compute nodes may reach (and nothing else from outside), munged runs beside
// the hub with the cluster's key from SOPS, and the Slurm client configuration names the
// controller. The job script and client configuration run against a real Slurm in
// test/integration/jupyterhub-slurm.test.ts.
import t from 'tap';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generatedSite, ROOT, siteforge, tempDir } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';
import { parseManifests, validateDocument } from './helpers/k8s.ts';

const SPEC = 'test/fixtures/sites/jupyterhub.yaml';
const KEY = join(ROOT, 'test/fixtures/keys/example-site.agekey');
const out = await generatedSite(SPEC, { commit: false });
const chart = join(out, 'charts/jupyterhub');
await mkdir(join(chart, 'charts'), { recursive: true });
await copyFile(join(ROOT, '..', 'shared', 'charts', 'jupyterhub-4.4.0.tgz'), join(chart, 'charts', 'jupyterhub-4.4.0.tgz'));
const rendered = await runTool('helm', ['template', 'jupyterhub', chart, '--namespace', 'jupyterhub']);
const docs = parseManifests(rendered.stdout);
const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name) as any;

t.test('the chart renders with the spec\'s values, every object valid', async (t) => {
  t.equal(rendered.code, 0, rendered.stderr);
  for (const d of docs) t.same(await validateDocument(d), [], `${d.kind}/${d.metadata.name}`);
  t.notOk(docs.some((d) => ['DaemonSet', 'StatefulSet'].includes(d.kind) || /user-scheduler|image-puller|user-placeholder/.test(d.metadata.name)), 'no pre-puller, user scheduler or placeholders: servers are Slurm jobs');
});

t.test('the hub: the site\'s image as root (it submits as each user), munged beside it, the Slurm client configuration', async (t) => {
  const pod = find('Deployment', 'hub').spec.template.spec;
  const hub = pod.containers.find((c: { name: string }) => c.name === 'hub');
  t.equal(hub.image, 'registry.hpc.example.gov/jupyter/k8s-hub-slurm:4.4.0');
  t.equal(hub.securityContext.runAsUser, 0, 'sudo -u <user> sbatch needs root');
  t.ok(hub.volumeMounts.some((m: { mountPath: string; subPath?: string }) => m.mountPath === '/etc/slurm/slurm.conf' && m.subPath === 'slurm.conf'));
  const munged = pod.containers.find((c: { name: string }) => c.name === 'munged');
  t.match(munged.command.join(' '), /base64 -d \/etc\/munge-secret\/munge\.key\.b64 .* munged --foreground --force --key-file=\/tmp\/munge\.key --socket=\/run\/munge\/munge\.socket\.2/);
  const shared = (c: any) => c.volumeMounts.find((m: { mountPath: string }) => m.mountPath === '/run/munge')?.name;
  t.equal(shared(hub), shared(munged), 'the hub\'s sbatch reaches munged\'s socket');
  t.ok(pod.volumes.some((v: any) => v.secret?.secretName === 'munge-key'), 'the key from the SOPS secret');
  t.equal(find('ConfigMap', 'slurm-client').data['slurm.conf'], 'ClusterName=snl\nSlurmctldHost=slurmctld.hpc.example.gov\nSlurmctldPort=6817\nAuthType=auth/munge\nAuthInfo=socket=/run/munge/munge.socket.2\nGresTypes=gpu\n', 'GresTypes declared: sbatch refuses --gres=gpu otherwise');
});

t.test('the hub API is on its MetalLB address, open to the compute networks only', async (t) => {
  const svc = find('Service', 'hub');
  t.equal(svc.spec.type, 'LoadBalancer');
  t.equal(svc.spec.loadBalancerIP, '10.20.0.205');
  const policy = find('NetworkPolicy', 'hub');
  const fromCompute = policy.spec.ingress.find((r: any) => r.from?.some((f: any) => f.ipBlock));
  t.same(fromCompute.from, [{ ipBlock: { cidr: '10.20.64.0/18' } }]);
  t.same(fromCompute.ports, [{ port: 8081, protocol: 'TCP' }]);
  const ingress = find('Ingress', 'jupyterhub');
  t.equal(ingress.spec.rules[0].host, 'jupyter.hpc.example.gov');
  t.equal(ingress.metadata.annotations['cert-manager.io/cluster-issuer'], 'site-ca', 'TLS from the site CA');
  t.equal(find('Service', 'proxy-public').spec.type, 'ClusterIP', 'users come in through the ingress');
});

t.test('the hub configuration: LDAP sign-in, profiles as Slurm jobs, the API the servers call back', async (t) => {
  // The chart hands hub.config to JupyterHub through the hub Secret's values.yaml.
  const secret = find('Secret', 'hub');
  const values = parse(Buffer.from(secret.data['values.yaml'], 'base64').toString());
  const config = values.hub.config;
  t.same(config.JupyterHub, { authenticator_class: 'ldapauthenticator.LDAPAuthenticator', spawner_class: 'wrapspawner.ProfilesSpawner', hub_bind_url: 'http://:8081', hub_connect_url: 'http://10.20.0.205:8081', admin_access: false });
  t.match(config.LDAPAuthenticator, { server_address: 'ldap.hpc.example.gov', server_port: 636, tls_strategy: 'on_connect', user_search_base: 'ou=people,dc=hpc,dc=example,dc=gov', user_attribute: 'uid', lookup_dn: true, lookup_dn_search_user: 'cn=jupyterhub,ou=services,dc=hpc,dc=example,dc=gov', allowed_groups: ['jupyter-users'] });
  t.notOk('lookup_dn_search_password' in config.LDAPAuthenticator, 'the bind password is not in the chart values');
  t.same(config.ProfilesSpawner.profiles, [
    ['CPU, 4 cores, 8 hours', 'cpu', 'batchspawner.SlurmSpawner', { req_partition: 'batch', req_runtime: '08:00:00', req_nprocs: '4', req_memory: '16G', req_options: '' }],
    ['GPU, 1 A100, 4 hours', 'gpu', 'batchspawner.SlurmSpawner', { req_partition: 'gpu', req_runtime: '04:00:00', req_nprocs: '8', req_memory: '64G', req_options: '--gres=gpu:1 --account=jupyter' }],
  ]);
  t.equal(config.SlurmSpawner.exec_prefix, 'sudo -E -u {username}');
  const password = await siteforge(['secrets', 'show', join(out, 'secrets/cluster/jupyterhub/jupyterhub-ldap.values.sops.yaml')], { env: { SOPS_AGE_KEY_FILE: KEY } });
  t.equal(password.code, 0, password.stderr);
  t.match(parse(password.stdout).jupyterhub.hub.config.LDAPAuthenticator.lookup_dn_search_password, /^REPLACE-ME: sops secrets\/cluster\/jupyterhub\/jupyterhub-ldap\.sops\.yaml/, 'a placeholder you fill in with sops, in SOPS values');
});

t.test('what JupyterHub needs is an error at its field when missing', async (t) => {
  const dir = await tempDir();
  const text = (await readFile(SPEC, 'utf8'))
    .replace(/  identity:\n(    .*\n)+/, '')
    .replace('      hubImage: registry.hpc.example.gov/jupyter/k8s-hub-slurm:4.4.0\n', '')
    .replace('      hub: {loadBalancerIP: 10.20.0.205}\n', '      hub: {loadBalancerIP: 10.30.0.5}\n');
  await writeFile(join(dir, 'site.yaml'), text);
  const res = await siteforge(['validate', join(dir, 'site.yaml')]);
  t.equal(res.code, 1);
  t.match(res.stderr, /error: spec\.components\.jupyterhub: JupyterHub needs the site's hub image/);
  t.match(res.stderr, /error: spec\.components\.jupyterhub: JupyterHub signs users in against the site's LDAP, and spec\.identity\.ldap is not set/);
  t.match(res.stderr, /error: spec\.components\.jupyterhub\.hub\.loadBalancerIP: 10\.30\.0\.5 is outside every MetalLB pool/);
});
