// The Slurm control plane's wrapper chart as helm renders it: slurmctld and slurmdbd in one pod
// whose host name is what slurm.conf and slurmdbd.conf name, its DNS name resolving to the pod
// itself inside it, one MetalLB address for both daemons (and its DNS record with externalDns),
// MariaDB reachable from the controller only, passwords only in Secrets, and the configuration
// files the nodes fetch. The pod's containers run with the real daemons in
// test/integration/slurm-control-plane.test.ts.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { generatedSite, ROOT, siteforge, tempDir } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';
import { parseManifests, validateDocument, type K8sDocument } from './helpers/k8s.ts';
import { CONTROLLER_HOST, expandHostlist } from '../generator/components/slurm.ts';
import { podSecurityViolations } from '../generator/verify/pod-security.ts';

const FIXTURE = 'test/fixtures/sites/slurm.yaml';
const KEY = join(ROOT, 'test/fixtures/keys/example-site.agekey');

/** The fixture, changed by `edit`, generated and its slurm chart rendered. */
async function render(edit: (spec: any) => void = () => {}) {
  const spec = parse(await readFile(join(ROOT, FIXTURE), 'utf8'));
  edit(spec);
  const dir = await tempDir('siteforge-slurm-spec-');
  await writeFile(join(dir, 'site.yaml'), stringify(spec));
  const out = await generatedSite(join(dir, 'site.yaml'), { commit: false });
  const res = await runTool('helm', ['template', 'slurm', join(out, 'charts/slurm'), '--namespace', 'slurm']);
  const docs = parseManifests(res.stdout);
  const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata.name === name) as (K8sDocument & Record<string, any>) | undefined;
  return { out, res, docs, find, config: find('ConfigMap', 'slurm-config')?.data as Record<string, string> };
}

const lines = (text: string, key: string) => text.split('\n').filter((l) => l.startsWith(`${key}=`));

const base = await render();

t.test('the chart renders, every object valid against the Kubernetes schemas', async (t) => {
  t.equal(base.res.code, 0, base.res.stderr);
  t.same(base.docs.map((d) => `${d.kind}/${d.metadata.name}`).sort(), [
    'ConfigMap/slurm-accounting-sync',
    'ConfigMap/slurm-config',
    'CronJob/slurm-accounting-sync',
    'NetworkPolicy/slurm-db',
    'Service/slurm-controller',
    'Service/slurm-db',
    'StatefulSet/slurm-controller',
    'StatefulSet/slurm-db',
  ]);
  for (const d of base.docs) t.same(await validateDocument(d), [], `${d.kind}/${d.metadata.name}`);
  for (const d of base.docs.filter((d) => d.kind === 'StatefulSet')) t.same(podSecurityViolations((d as any).spec.template.spec, 'restricted'), [], `${d.metadata.name} meets the restricted Pod Security level`);
  t.same(podSecurityViolations(base.find('CronJob', 'slurm-accounting-sync')!.spec.jobTemplate.spec.template.spec, 'restricted'), [], 'so does the accounting sync');
});

t.test('slurmctld and slurmdbd share one pod, and the configuration names that pod and its DNS name', async (t) => {
  const sts = base.find('StatefulSet', 'slurm-controller')!;
  t.equal(`${sts.metadata.name}-0`, CONTROLLER_HOST, 'the one pod\'s host name');
  t.equal(sts.spec.replicas, 1);
  const pod = sts.spec.template.spec;
  t.same(pod.containers.map((c: { name: string }) => c.name), ['slurmctld', 'slurmdbd']);
  t.same(pod.initContainers.map((c: { name: string; restartPolicy?: string }) => `${c.name}:${c.restartPolicy ?? 'once'}`), ['config:once', 'munged:Always'], 'munged is a sidecar, started before the daemons');
  const conf = base.config['slurm.conf']!;
  t.same(lines(conf, 'SlurmctldHost'), [`SlurmctldHost=${CONTROLLER_HOST}(slurm.hpc.example.gov)`]);
  t.same(lines(conf, 'SlurmctldParameters'), ['SlurmctldParameters=enable_configless'], 'the nodes fetch this file from slurmctld');
  t.same(lines(conf, 'AccountingStorageHost'), ['AccountingStorageHost=slurm.hpc.example.gov']);
  t.same(lines(base.config['slurmdbd.conf.in']!, 'DbdHost'), [`DbdHost=${CONTROLLER_HOST}`]);
  t.same(lines(base.config['slurmdbd.conf.in']!, 'StorageHost'), ['StorageHost=slurm-db'], 'the database Service');
  t.ok(base.find('Service', 'slurm-db'), 'which exists');
  t.same(pod.hostAliases, [{ ip: '127.0.0.1', hostnames: ['slurm.hpc.example.gov'] }], 'inside the pod the DNS name is the pod: slurmctld reaches slurmdbd without hairpinning through the LoadBalancer');
  t.notOk(lines(base.config['slurmdbd.conf.in']!, 'StoragePass').length, 'no password in the ConfigMap');
  const config = pod.initContainers.find((c: { name: string }) => c.name === 'config');
  t.same(config.env, [{ name: 'STORAGE_PASS', valueFrom: { secretKeyRef: { name: 'slurm-database', key: 'password' } } }], 'the password comes from the Secret');
  t.same(sts.spec.volumeClaimTemplates.map((c: any) => [c.metadata.name, c.spec.storageClassName ?? '(default)', c.spec.resources.requests.storage]), [['state', 'nfs-k8s', '10Gi']], 'the site\'s default class');
  const ctld = pod.containers[0];
  t.ok(ctld.volumeMounts.some((m: { name: string; mountPath: string }) => m.name === 'state' && m.mountPath === lines(conf, 'StateSaveLocation')[0]!.split('=')[1]), 'StateSaveLocation is the volume');
});

t.test('one MetalLB address for slurmctld and slurmdbd, client addresses kept, published by externalDns when enabled', async (t) => {
  const svc = base.find('Service', 'slurm-controller')!;
  t.equal(svc.spec.type, 'LoadBalancer');
  t.equal(svc.spec.loadBalancerIP, '10.20.0.201');
  t.equal(svc.spec.externalTrafficPolicy, 'Local', 'slurmctld answers srun at the address it connected from');
  t.same(svc.spec.ports.map((p: { port: number }) => p.port), [6817, 6819]);
  t.notOk(svc.metadata.annotations?.['external-dns.alpha.kubernetes.io/hostname'], 'no DNS annotation without externalDns');
  const dns = await render((s) => {
    s.spec.components.externalDns = { enabled: true, dnsServer: '10.20.0.53' };
  });
  t.equal(dns.res.code, 0, dns.res.stderr);
  t.equal(dns.find('Service', 'slurm-controller')!.metadata.annotations?.['external-dns.alpha.kubernetes.io/hostname'], 'slurm.hpc.example.gov');
});

t.test('MariaDB: its own volume, reachable from the controller pod only, no password outside the Secret', async (t) => {
  const db = base.find('StatefulSet', 'slurm-db')!;
  t.same(db.spec.volumeClaimTemplates.map((c: any) => [c.metadata.name, c.spec.resources.requests.storage]), [['data', '50Gi']]);
  const env = Object.fromEntries(db.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value ?? `secret:${e.valueFrom.secretKeyRef.name}/${e.valueFrom.secretKeyRef.key}`]));
  t.same(env, { MARIADB_DATABASE: 'slurm_acct_db', MARIADB_USER: 'slurm', MARIADB_PASSWORD: 'secret:slurm-database/password', MARIADB_ROOT_PASSWORD: 'secret:slurm-database/root-password', MARIADB_AUTO_UPGRADE: '1' });
  t.same(lines(base.config['slurmdbd.conf.in']!, 'StorageLoc'), ['StorageLoc=slurm_acct_db']);
  t.same(lines(base.config['slurmdbd.conf.in']!, 'StorageUser'), ['StorageUser=slurm']);
  const policy = base.find('NetworkPolicy', 'slurm-db')!;
  t.same(policy.spec.ingress, [{ from: [{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'slurm-controller' } } }], ports: [{ port: 3306, protocol: 'TCP' }] }]);
  const secrets = await readFile(join(base.out, 'secrets/cluster/slurm/slurm-database.sops.yaml'), 'utf8');
  for (const key of ['password', 'root-password']) t.match(secrets, new RegExp(`${key}: ENC\\[AES256_GCM`), `${key} is SOPS-encrypted`);
  const shown = await siteforge(['secrets', 'show', join(base.out, 'secrets/cluster/slurm/slurm-database.sops.yaml')], { env: { SOPS_AGE_KEY_FILE: KEY } });
  t.equal(shown.code, 0, shown.stderr);
  const passwords = Object.values(parse(shown.stdout).stringData as Record<string, string>);
  t.equal(passwords.length, 2);
  const chart = base.res.stdout + (await readFile(join(base.out, 'charts/slurm/values.yaml'), 'utf8'));
  for (const p of passwords) t.notOk(chart.includes(p), 'no password in the rendered chart or its values');
});

t.test('the nodes\' configuration: node sets, partitions, GPUs as GRES, cgroups', async (t) => {
  const conf = base.config['slurm.conf']!;
  t.same(lines(conf, 'NodeName'), [
    'NodeName=cn[001-128] CPUs=128 Sockets=2 CoresPerSocket=64 ThreadsPerCore=1 RealMemory=500000 State=UNKNOWN',
    'NodeName=gn[01-08] CPUs=64 RealMemory=1000000 Gres=gpu:a100:4 Features=a100 State=UNKNOWN',
  ]);
  t.same(lines(conf, 'NodeSet'), ['NodeSet=cpu Nodes=cn[001-128]', 'NodeSet=gpu Nodes=gn[01-08]']);
  t.same(lines(conf, 'PartitionName'), ['PartitionName=batch Nodes=cpu Default=YES MaxTime=2-00:00:00 DefaultTime=01:00:00 State=UP', 'PartitionName=gpu Nodes=gpu MaxTime=1-00:00:00 State=UP']);
  t.same(lines(conf, 'GresTypes'), ['GresTypes=gpu']);
  t.equal(base.config['gres.conf'], 'AutoDetect=off\nNodeName=gn[01-08] Name=gpu Type=a100 File=/dev/nvidia[0-3]\n');
  t.same(lines(conf, 'ProctrackType'), ['ProctrackType=proctrack/cgroup']);
  t.match(base.config['cgroup.conf'], /^ConstrainRAMSpace=yes$/m);
  t.same(lines(conf, 'AccountingStorageEnforce'), ['AccountingStorageEnforce=associations,limits,qos,safe']);
  t.same(lines(base.config['slurmdbd.conf.in']!, 'PurgeJobAfter'), ['PurgeJobAfter=24months']);
  const plain = await render((s) => {
    s.spec.components.slurm.cgroups = false;
    s.spec.components.slurm.nodeSets = s.spec.components.slurm.nodeSets.slice(0, 1);
    s.spec.components.slurm.partitions = s.spec.components.slurm.partitions.slice(0, 1);
  });
  t.same(Object.keys(plain.config).sort(), ['slurm.conf', 'slurmdbd.conf.in'], 'no cgroup.conf or gres.conf where nothing needs them');
  t.same(lines(plain.config['slurm.conf']!, 'ProctrackType'), ['ProctrackType=proctrack/linuxproc']);
  t.same(lines(plain.config['slurm.conf']!, 'GresTypes'), []);
});

t.test('a JupyterHub beside it submits to this control plane without its own slurm block', async (t) => {
  const spec = parse(await readFile(join(ROOT, 'test/fixtures/sites/jupyterhub.yaml'), 'utf8'));
  delete spec.spec.components.jupyterhub.slurm;
  const slurm = parse(await readFile(join(ROOT, FIXTURE), 'utf8')).spec.components.slurm;
  spec.spec.components.slurm = slurm;
  const dir = await tempDir('siteforge-slurm-jh-');
  await writeFile(join(dir, 'site.yaml'), stringify(spec));
  const out = await generatedSite(join(dir, 'site.yaml'), { commit: false });
  const values = parse(await readFile(join(out, 'charts/jupyterhub/values.yaml'), 'utf8'));
  t.match(values.slurmConf, /^ClusterName=snl\nSlurmctldHost=slurm\.hpc\.example\.gov\nSlurmctldPort=6817\n/);
  const index = await readFile(join(out, 'helmfile.yaml'), 'utf8');
  t.ok(index.indexOf('name: slurm\n') < index.indexOf('name: jupyterhub\n'), 'the hub is installed after the control plane');
});

t.test('the accounting sync: a CronJob with munged beside it, reaching slurmdbd through the Service, the directory as the spec describes it', async (t) => {
  const job = base.find('CronJob', 'slurm-accounting-sync')!;
  t.equal(job.spec.concurrencyPolicy, 'Forbid', 'one run at a time');
  const pod = job.spec.jobTemplate.spec.template.spec;
  t.same(pod.initContainers.map((c: { name: string; restartPolicy?: string }) => `${c.name}:${c.restartPolicy}`), ['munged:Always'], 'munged as a sidecar: the Job ends when the sync does');
  t.same(pod.initContainers[0], base.find('StatefulSet', 'slurm-controller')!.spec.template.spec.initContainers[1], 'the same munged as the controller\'s');
  const env = Object.fromEntries(pod.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
  t.match(env, { LDAP_URL: 'ldaps://ldap.hpc.example.gov', LDAP_GROUP_BASE: 'ou=groups,dc=hpc,dc=example,dc=gov', LDAP_BIND_DN: 'cn=slurm-sync,ou=services,dc=hpc,dc=example,dc=gov', SYNC_GROUPS: 'hpc-users chemistry', SYNC_PRUNE: 'true', SLURM_CLUSTER: 'snl', LDAP_MEMBER_ATTRIBUTE: 'memberUid' });
  const files = base.find('ConfigMap', 'slurm-accounting-sync')!.data as Record<string, string>;
  t.same(lines(files['slurm.conf']!, 'AccountingStorageHost'), ['AccountingStorageHost=slurm-controller'], 'slurmdbd through the controller Service, inside the cluster');
  t.ok(base.find('Service', 'slurm-controller'), 'which exists');
  const dir = await tempDir('siteforge-slurm-sync-');
  await writeFile(join(dir, 'accounting-sync.sh'), files['accounting-sync.sh']!);
  const lint = await runTool('shellcheck', ['-s', 'sh', '--severity=style', join(dir, 'accounting-sync.sh')]);
  t.equal(lint.code, 0, `shellcheck: ${lint.stdout}`);
  t.ok((await readFile(join(base.out, 'secrets/cluster/slurm/slurm-ldap.sops.yaml'), 'utf8')).includes('password: ENC['), 'the bind password is a SOPS secret (the admin fills it in)');
  const off = await render((s) => {
    s.spec.components.slurm.accountingSync.enabled = false;
  });
  t.notOk(off.docs.some((d) => d.kind === 'CronJob'), 'no sync unless asked for');
});

t.test('host lists expand as Slurm reads them', async (t) => {
  t.same(expandHostlist('cn[001-003],gn1,x[8-10]y'), ['cn001', 'cn002', 'cn003', 'gn1', 'x8y', 'x9y', 'x10y']);
  t.same(expandHostlist('gn[01-02,07]'), ['gn01', 'gn02', 'gn07']);
  t.equal(expandHostlist('a[1-999999]', 1000).length, 1000, 'bounded');
});
