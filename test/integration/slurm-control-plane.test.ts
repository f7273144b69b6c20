// The Slurm control plane as its pod runs it, with Debian's real daemons (slurmctld, slurmdbd,
// munged, MariaDB) and a real compute node (slurmd, configless). The wrapper chart is rendered
// with helm; the controller pod's own containers — the config init container, the munged
// sidecar, slurmctld and slurmdbd — run with their rendered commands, users and environment
// (Secrets decrypted from the generated SOPS files), in namespaces shaped like the pod: its host
// name (UTS), its volumes at their mount paths (mount), and a loopback network (net) where the
// names Kubernetes gives (slurm-db, the controller's hostAlias, the node's DNS name) resolve as
// there. MariaDB runs Debian's mariadbd with the chart's arguments and the database and user the
// official image makes from its MARIADB_* variables. Then, as on the cluster: slurmd on the node
// fetches its configuration from slurmctld, an account is added with sacctmgr, a user's job
// runs and is recorded in accounting, so does one submitted with the client configuration of a
// JupyterHub beside it (which names this control plane by default), a GPU job gets the node's GPU through the gres.conf slurmctld
// serves (and accounting counts it), a user outside accounting is refused, the accounting sync's
// container makes a real slapd's groups into accounts, and the job counter survives a slurmctld
// restart (state on the volume).
import t from 'tap';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { generatedSite, ROOT, siteforge, tempDir } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';
import { parseManifests, type K8sDocument } from '../helpers/k8s.ts';

const root = process.getuid?.() === 0;
/** The controller pod's address in its network namespace (every name below resolves to it, as Services and DNS would). */
const POD_IP = '10.244.0.10';
const KEY = join(ROOT, 'test/fixtures/keys/example-site.agekey');
const have = (cmd: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};
const skip = !root ? 'needs root (namespaces, slurmd, switching users)' : !['slurmctld', 'slurmdbd', 'slurmd', 'mariadbd', 'munged', 'slapd', 'ldapsearch', 'unshare'].every(have) ? 'needs slurmctld, slurmdbd, slurmd, mariadbd, munged, slapd, ldapsearch (scripts/setup.sh)' : false;

/** One word for bash. */
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The test directory: the search account, and two posixGroups (one with members Slurm would refuse). */
const DIRECTORY = `dn: dc=hpc,dc=example,dc=gov
objectClass: dcObject
objectClass: organization
o: hpc
dc: hpc

dn: ou=groups,dc=hpc,dc=example,dc=gov
objectClass: organizationalUnit
ou: groups

dn: ou=services,dc=hpc,dc=example,dc=gov
objectClass: organizationalUnit
ou: services

dn: cn=slurm-sync,ou=services,dc=hpc,dc=example,dc=gov
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: slurm-sync
userPassword: sync-secret-1

dn: cn=hpc-users,ou=groups,dc=hpc,dc=example,dc=gov
objectClass: posixGroup
cn: hpc-users
gidNumber: 5000
memberUid: nobody
memberUid: daemon
memberUid: bad name
memberUid: -x

dn: cn=chemistry,ou=groups,dc=hpc,dc=example,dc=gov
objectClass: posixGroup
cn: chemistry
gidNumber: 5001
memberUid: daemon
memberUid: bin
`;

/** slapd (Debian's, static configuration): the directory above; only the search account may read it. */
const slapdConf = (dir: string) => `include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile ${dir}/slapd.pid
database mdb
suffix "dc=hpc,dc=example,dc=gov"
rootdn "cn=admin,dc=hpc,dc=example,dc=gov"
rootpw admin-secret
directory ${dir}
access to attrs=userPassword by anonymous auth by * none
access to * by dn.exact="cn=slurm-sync,ou=services,dc=hpc,dc=example,dc=gov" read by * none
`;

type Container = { name: string; image: string; command?: string[]; args?: string[]; env?: { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[]; securityContext?: { runAsUser?: number } };

t.test('the controller pod runs Slurm for bare-metal nodes: configless slurmd, accounting in MariaDB, state kept', { skip, timeout: 240_000 }, async (t) => {
  const slurmUid = Number(execFileSync('id', ['-u', 'slurm']).toString().trim());
  // The example fixture, with one compute node this machine can be (names and sizes of its own).
  const spec = parse(await readFile(join(ROOT, 'test/fixtures/sites/slurm.yaml'), 'utf8'));
  const s = spec.spec.components.slurm;
  s.slurmUser = { name: 'slurm', uid: slurmUid };
  // This sandbox's kernel gives no cgroup delegation to a nested slurmd.
  s.cgroups = false;
  // One GPU (GRES), as gres.conf names it: /dev/nvidia0, a stand-in device file in the pod's /dev below.
  s.nodeSets = [{ name: 'cpu', nodes: 'cn001', cpus: 1, realMemory: 500, gpus: { count: 1, type: 'a100' } }];
  s.partitions = [{ name: 'batch', nodeSets: ['cpu'], default: true, maxTime: '01:00:00' }];
  // The test directory (slapd below) speaks plain LDAP.
  spec.spec.identity.ldap.url = 'ldap://ldap.hpc.example.gov';
  // A JupyterHub beside it, with no slurm block of its own: it submits to this control plane.
  spec.spec.components.jupyterhub = {
    enabled: true,
    hubImage: 'registry.hpc.example.gov/jupyter/k8s-hub-slurm:4.4.0',
    hub: { loadBalancerIP: '10.20.0.205' },
    profiles: [{ name: 'cpu', display: 'CPU, 1 core', partition: 'batch', time: '00:10:00', cpus: 1, memory: '100M' }],
  };
  const work = await tempDir('siteforge-slurmcp-');
  const specPath = join(work, 'site.yaml');
  await writeFile(specPath, stringify(spec));
  const out = await generatedSite(specPath, { commit: false });

  const rendered = await runTool('helm', ['template', 'slurm', join(out, 'charts/slurm'), '--namespace', 'slurm']);
  t.equal(rendered.code, 0, rendered.stderr);
  const docs = parseManifests(rendered.stdout);
  const find = (kind: string, name: string) => docs.find((d) => d.kind === kind && d.metadata?.name === name) as (K8sDocument & { data?: Record<string, string>; spec?: any }) | undefined;
  const config = find('ConfigMap', 'slurm-config')!.data!;
  const controller = find('StatefulSet', 'slurm-controller')!.spec.template.spec;
  const database = find('StatefulSet', 'slurm-db')!.spec.template.spec;
  t.equal(controller.securityContext.runAsUser, slurmUid, 'the pod runs as the Slurm user');
  const syncFiles = find('ConfigMap', 'slurm-accounting-sync')!.data!;
  const syncPod = (find('CronJob', 'slurm-accounting-sync') as any).spec.jobTemplate.spec.template.spec;
  t.equal(syncPod.securityContext.runAsUser, slurmUid, 'the accounting sync runs as the Slurm user (slurmdbd\'s administrator)');

  // The Secrets as the cluster has them (decrypted from the generated SOPS files).
  const secrets: Record<string, Record<string, string>> = {};
  for (const name of ['slurm-munge-key', 'slurm-database', 'slurm-ldap']) {
    const shown = await siteforge(['secrets', 'show', join(out, `secrets/cluster/slurm/${name}.sops.yaml`)], { env: { SOPS_AGE_KEY_FILE: KEY } });
    t.equal(shown.code, 0, shown.stderr);
    secrets[name] = parse(shown.stdout).stringData;
  }
  t.equal(Buffer.from(secrets['slurm-munge-key']!['munge.key.b64']!, 'base64').length, 128, 'a 1024-bit munge key');
  t.match(secrets['slurm-ldap']!.password, /^REPLACE-ME: sops secrets\/cluster\/slurm\/slurm-ldap\.sops\.yaml/, 'the bind password is the admin\'s to fill in');
  // What the admin sets with sops: the search account's password in the directory below.
  secrets['slurm-ldap']!.password = 'sync-secret-1';

  // The pod's volumes, as the kubelet makes them, under D (bound at their mount paths below).
  const D = await tempDir('siteforge-slurmpod-');
  // The daemons' users (mysql, slurm, nobody) reach their directories below it.
  await chmod(D, 0o755);
  await mkdir(join(D, 'config-source'));
  for (const [file, text] of Object.entries(config)) await writeFile(join(D, 'config-source', file), text);
  await mkdir(join(D, 'sync-config'));
  for (const [file, text] of Object.entries(syncFiles)) await writeFile(join(D, 'sync-config', file), text);
  await writeFile(join(D, 'dit.ldif'), DIRECTORY);
  // The hub's Slurm client configuration as its chart values carry it (mounted at /etc/slurm/slurm.conf in the hub pod).
  await writeFile(join(D, 'hub-slurm.conf'), parse(await readFile(join(out, 'charts/jupyterhub/values.yaml'), 'utf8')).slurmConf);
  await writeFile(join(D, 'slapd.conf'), slapdConf(join(D, 'ldap-db')));
  await mkdir(join(D, 'ldap-db'));
  await mkdir(join(D, 'munge-secret'));
  await writeFile(join(D, 'munge-secret', 'munge.key.b64'), secrets['slurm-munge-key']!['munge.key.b64']!);
  const envOf = (c: Container) =>
    (c.env ?? []).map((e) => `${e.name}=${e.value ?? secrets[e.valueFrom!.secretKeyRef.name]![e.valueFrom!.secretKeyRef.key]!}`);
  /** A container's command, as its user, with only its environment (a container has no other). */
  const run = (c: Container, uid: number) =>
    ['setpriv', `--reuid=${uid}`, `--regid=${uid}`, '--clear-groups', 'env', '-i', 'PATH=/usr/sbin:/usr/bin:/sbin:/bin', ...envOf(c), ...(c.command ?? []), ...(c.args ?? [])].map(q).join(' ');
  const init = controller.initContainers as Container[];
  const containers = controller.containers as Container[];
  const byName = (list: Container[], name: string) => list.find((c) => c.name === name)!;
  const mariadb = database.containers[0] as Container;
  const dbEnv = Object.fromEntries(envOf(mariadb).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const hostname = s.hostname as string;
  const script = `#!/bin/bash
set -euo pipefail
D=${q(D)}
log() { echo "STEP $*"; }
wait_for() { for _ in $(seq 1 "$2"); do if eval "$1" >/dev/null 2>&1; then return 0; fi; sleep 0.5; done; echo "FAILED waiting for: $1"; return 1; }
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# The pod's network: loopback and eth0 with a pod address (one end of a veth pair).
ip link set lo up
ip link add eth0 type veth peer name eth0-peer
ip addr add ${POD_IP}/24 dev eth0
ip link set eth0 up && ip link set eth0-peer up
# The pod's host name, and the names the cluster resolves: the pod's own, the slurm-db Service, the
# node's DNS name, and the pod's hostAliases as rendered.
hostname slurm-controller-0
mount -t overlay overlay -o "lowerdir=/etc,upperdir=$D/etc-up,workdir=$D/etc-work" /etc
{
  echo "127.0.0.1 localhost"
  echo "${POD_IP} slurm-controller-0 slurm-controller slurm-db cn001 ldap.hpc.example.gov"
${(controller.hostAliases as { ip: string; hostnames: string[] }[]).map((a) => `  echo ${q(`${a.ip} ${a.hostnames.join(' ')}`)}`).join('\n')}
} > /etc/hosts
for d in /run /var/spool /var/log; do mount -t tmpfs tmpfs "$d"; done
# A /dev of its own, with the host's usual devices and a stand-in GPU device file.
mkdir "$D/hostdev" && mount --rbind /dev "$D/hostdev" && mount -t tmpfs -o mode=0755 tmpfs /dev
for n in null zero random urandom full tty; do touch "/dev/$n"; mount --bind "$D/hostdev/$n" "/dev/$n"; done
mkdir /dev/pts /dev/shm && mount --rbind "$D/hostdev/pts" /dev/pts && mount -t tmpfs tmpfs /dev/shm
mknod /dev/nvidia0 c 1 3
mkdir -p /run/mysqld /var/log/slurm /var/spool/slurmd /run/munge /run/munge-key /run/slurmctld /run/slurmdbd /etc/munge-secret /etc/slurm-siteforge
rm -rf /etc/slurm && mkdir /etc/slurm
# emptyDirs (0777) and the state volume (group-owned through fsGroup)
chmod 0777 /etc/slurm /run/munge /run/munge-key /run/slurmctld /run/slurmdbd
mkdir -p /var/spool/slurmctld && chown root:${slurmUid} /var/spool/slurmctld && chmod 2775 /var/spool/slurmctld
mount --bind "$D/config-source" /etc/slurm-siteforge
cp "$D/munge-secret/munge.key.b64" /etc/munge-secret/ && chown root:${slurmUid} /etc/munge-secret/munge.key.b64 && chmod 0440 /etc/munge-secret/munge.key.b64

log mariadb
chown mysql:mysql /run/mysqld "$D/mysql"
mariadb-install-db --user=mysql --datadir="$D/mysql" --skip-test-db >"$D/log/mariadb-install.log" 2>&1
mariadbd --no-defaults --user=mysql --datadir="$D/mysql" --socket=/run/mysqld/mysqld.sock --port=3306 ${(mariadb.args ?? []).map(q).join(' ')} >"$D/log/mariadb.log" 2>&1 &
wait_for 'port_open 3306' 60
# What the official image does with MARIADB_DATABASE, MARIADB_USER and MARIADB_PASSWORD.
mariadb --socket=/run/mysqld/mysqld.sock -uroot <<SQL
CREATE DATABASE \\\`${dbEnv.MARIADB_DATABASE}\\\`;
CREATE USER '${dbEnv.MARIADB_USER}'@'%' IDENTIFIED BY '${dbEnv.MARIADB_PASSWORD}';
GRANT ALL ON \\\`${dbEnv.MARIADB_DATABASE}\\\`.* TO '${dbEnv.MARIADB_USER}'@'%';
SQL

log controller pod
${run(byName(init, 'config'), slurmUid)}
echo "RESULT slurmdbd.conf=$(stat -c '%a %U' /etc/slurm/slurmdbd.conf)"
${run(byName(init, 'munged'), slurmUid)} >"$D/log/munged.log" 2>&1 &
wait_for 'test -S /run/munge/munge.socket.2' 60
${run(byName(containers, 'slurmdbd'), slurmUid)} >"$D/log/slurmdbd.log" 2>&1 &
wait_for 'port_open ${6819}' 120
start_slurmctld() { ${run(byName(containers, 'slurmctld'), slurmUid)} >>"$D/log/slurmctld.log" 2>&1 & CTLD=$!; wait_for 'port_open 6817' 120; }
start_slurmctld

log compute node
# The node as the RUNBOOK sets it up: the cluster's munge key (shared here with the sidecar's munged) and slurmd from the controller.
slurmd --conf-server ${q(`${hostname}:6817`)} -N cn001 >"$D/log/slurmd-start.log" 2>&1
export SLURM_CONF=/var/spool/slurmd/conf-cache/slurm.conf
wait_for 'sinfo --noheader --format=%T --nodes cn001 | grep -q idle' 120
echo "RESULT fetched=$(grep -c . "$SLURM_CONF")"
echo "RESULT partition=$(sinfo --noheader --format=%P)"

log accounting
echo "RESULT cluster=$(sacctmgr -n -P show cluster format=cluster)"
sacctmgr -i add account research Description=research Organization=hpc >/dev/null
sacctmgr -i add user nobody Account=research >/dev/null
echo "RESULT associations=$(sacctmgr -n -P show associations format=cluster,account,user where user=nobody)"
mkdir -p "$D/out" && chmod 0777 "$D/out"
refused=0
setpriv --reuid=daemon --regid=daemon --clear-groups sbatch -o "$D/out/refused.out" --wrap true >"$D/log/refused.log" 2>&1 || refused=1
echo "RESULT refused=$refused $(tr '\\n' ' ' < "$D/log/refused.log")"
job=$(setpriv --reuid=nobody --regid=nogroup --clear-groups sbatch --parsable -o "$D/out/job-%j.out" --wrap 'echo "ran on $SLURMD_NODENAME in $SLURM_JOB_PARTITION"')
wait_for "sacct -n -X -P -j $job -o State | grep -q COMPLETED" 120
echo "RESULT job=$job $(sacct -n -X -P -j "$job" -o State,User,Account,Cluster,NodeList)"
echo "RESULT output=$(cat "$D/out/job-$job.out")"
hubjob=$(SLURM_CONF="$D/hub-slurm.conf" setpriv --reuid=nobody --regid=nogroup --clear-groups sbatch --parsable -p batch -o /dev/null --wrap true)
wait_for "sacct -n -X -P -j $hubjob -o State | grep -q COMPLETED" 120
echo "RESULT hub=$(sacct -n -X -P -j "$hubjob" -o State,User)"
gpujob=$(setpriv --reuid=nobody --regid=nogroup --clear-groups sbatch --parsable --gres=gpu:a100:1 -o "$D/out/gpu-%j.out" --wrap 'echo "gpus=$CUDA_VISIBLE_DEVICES"')
wait_for "sacct -n -X -P -j $gpujob -o State | grep -q COMPLETED" 120
echo "RESULT gpu=$(cat "$D/out/gpu-$gpujob.out") $(sacct -n -X -P -j "$gpujob" -o AllocTRES)"

log directory
slapadd -f "$D/slapd.conf" -l "$D/dit.ldif" >"$D/log/slapadd.log" 2>&1
slapd -f "$D/slapd.conf" -h 'ldap://0.0.0.0:389/' >"$D/log/slapd.log" 2>&1
wait_for 'port_open 389' 60
# The CronJob's pod: its ConfigMap and the filled-in bind password at their mount paths; munged
# with the cluster's key is already running (the sidecar is the same container).
mkdir -p /etc/slurm-sync /etc/ldap-secret
cp "$D"/sync-config/* /etc/slurm-sync/
printf '%s' ${q(secrets['slurm-ldap']!.password!)} > /etc/ldap-secret/password
chown root:${slurmUid} /etc/ldap-secret/password && chmod 0440 /etc/ldap-secret/password
sync() { ${run(syncPod.containers[0], slurmUid)} >"$D/log/sync-$1.log" 2>&1 && echo "RESULT sync$1=0 $(tail -n 1 "$D/log/sync-$1.log")" || echo "RESULT sync$1=$? $(tr '\n' ' ' < "$D/log/sync-$1.log")"; }
assoc() { sacctmgr -n -P show associations where cluster=${q(String(s.clusterName))} format=account,user | awk -F'|' '($1 == "hpc-users" || $1 == "chemistry") && $2 != ""' | sort | tr '\\n' ' '; }
sync 1
echo "RESULT warnings=$(grep -c warning "$D/log/sync-1.log")"
echo "RESULT assoc1=$(assoc)"
sync 2
ldapmodify -x -H ldap://127.0.0.1/ -D 'cn=admin,dc=hpc,dc=example,dc=gov' -w admin-secret >/dev/null <<'LDIF'
dn: cn=chemistry,ou=groups,dc=hpc,dc=example,dc=gov
changetype: modify
delete: memberUid
memberUid: bin
LDIF
sync 3
echo "RESULT assoc3=$(assoc)"
ran=$(setpriv --reuid=daemon --regid=daemon --clear-groups sbatch --parsable -A chemistry -o /dev/null --wrap true 2>&1 || true)
echo "RESULT daemon=$ran"

log restart
kill "$CTLD"; wait "$CTLD" || true
start_slurmctld
wait_for 'sinfo --noheader --format=%T --nodes cn001 | grep -Eq "idle|mix"' 120
next=$(setpriv --reuid=nobody --regid=nogroup --clear-groups sbatch --parsable -o /dev/null --wrap true)
echo "RESULT next=$next"
scontrol shutdown >/dev/null 2>&1 || true
`;
  await mkdir(join(D, 'etc-up'));
  await mkdir(join(D, 'etc-work'));
  await mkdir(join(D, 'mysql'));
  await mkdir(join(D, 'log'));
  await writeFile(join(D, 'pod.sh'), script);
  const res = await runTool('unshare', ['--net', '--mount', '--uts', '--pid', '--fork', '--mount-proc', 'bash', join(D, 'pod.sh')]);
  const logs = async () => {
    const parts: string[] = [];
    for (const f of ['sync-1.log', 'sync-3.log', 'slapadd.log', 'slapd.log', 'slurmdbd.log', 'slurmctld.log', 'slurmd-start.log', 'munged.log', 'mariadb.log', 'mariadb-install.log']) parts.push(`--- ${f}\n${(await readFile(join(D, 'log', f), 'utf8').catch(() => '')).slice(-1500)}`);
    return parts.join('\n');
  };
  const results = Object.fromEntries([...res.stdout.matchAll(/^RESULT (\w[\w.]*)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
  if (res.code !== 0) t.fail(`the pod script failed (exit ${res.code}): ${res.stdout.slice(-2000)}\n${res.stderr.slice(-2000)}\n${await logs()}`);
  t.equal(results['slurmdbd.conf'], '600 slurm', 'the config init container leaves slurmdbd.conf (with the password) to the Slurm user alone');
  t.ok(Number(results.fetched) > 10, 'slurmd fetched slurm.conf from slurmctld (configless)');
  t.equal(results.partition, 'batch*', 'the node is in the spec\'s default partition');
  t.equal(results.cluster, 'snl', 'slurmctld registered its cluster with slurmdbd itself');
  t.match(results.associations ?? '', /^snl\|research\|nobody$/m, 'sacctmgr added the user through slurmdbd');
  t.match(results.refused ?? '', /^1 .*(Invalid account|association)/i, 'a user with no association is refused (AccountingStorageEnforce)');
  t.match(results.job ?? '', /^\d+ COMPLETED\|nobody\|research\|snl\|cn001$/, 'the job ran on the node and is in accounting, with user, account and cluster');
  t.equal(results.output, 'ran on cn001 in batch', 'the job ran as submitted');
  const first = Number((results.job ?? '').split(' ')[0]);
  t.equal(results.hub, 'COMPLETED|nobody', 'a job submitted with JupyterHub\'s client configuration (its default: this control plane) runs');
  t.match(results.gpu ?? '', /^gpus=0 .*gres\/gpu(:a100)?=1/, 'a GPU job gets the node\'s GPU from the served gres.conf, and accounting counts it (AccountingStorageTRES)');
  t.equal(Number(results.next), first + 4, 'after a slurmctld restart the job counter continues: its state is on the volume');
  t.equal(results.sync1, '0 accounting-sync: snl: 4 user associations added, 0 removed, 0 problems', 'the CronJob\'s container made the LDAP groups accounts and their members users');
  t.equal(results.warnings, '2', 'members whose names Slurm would not take (a space, an option) are skipped with a warning');
  t.equal(results.assoc1, 'chemistry|bin chemistry|daemon hpc-users|daemon hpc-users|nobody ', 'one association per group member');
  t.equal(results.sync2, '0 accounting-sync: snl: 0 user associations added, 0 removed, 0 problems', 'a second run changes nothing');
  t.equal(results.sync3, '0 accounting-sync: snl: 0 user associations added, 1 removed, 0 problems', 'a member who left a group loses its association (prune)');
  t.equal(results.assoc3, 'chemistry|daemon hpc-users|daemon hpc-users|nobody ');
  t.match(results.daemon ?? '', /^\d+$/, 'a user the sync added may now submit, where before they were refused');
});
