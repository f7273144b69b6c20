// The node-level Ansible for real: the generated prepare role (kernel modules and sysctls files,
// swap, the site CA in the OS trust store) and the registry configuration of each distribution
// (RKE2 registries.yaml, k0s containerd hosts.toml) applied to a Debian root file system made
// by debootstrap, through Ansible's chroot connection. The second run changes nothing; the files
// written are read back as containerd and the TLS libraries would (YAML, TOML, the CA bundle).
// What a chroot cannot show: the running kernel and services (image mode: prepare_live false,
// *_manage_service false), which the check-mode runs in ansible-run.test.ts cover.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { parse as parseToml } from 'smol-toml';
import { generatedSite, tempDir } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';

/** Root file systems are cached here between runs (debootstrap takes minutes). */
const CACHE = process.env.SITEFORGE_ROOTFS_CACHE ?? '/var/cache/siteforge-tests';
/** What a server image has beyond minbase: python3 (+ apt bindings, for Ansible), CA certificates, chrony, sudo, cron, rsyslog. */
const PACKAGES = ['python3', 'python3-apt', 'ca-certificates', 'chrony', 'sudo', 'cron', 'rsyslog'];
const ROOTFS = join(CACHE, `bookworm-minbase-${createHash('sha256').update(PACKAGES.join(',')).digest('hex').slice(0, 8)}`);

/** A Debian bookworm minbase root with PACKAGES, made once by debootstrap and cached by its package list. */
function cachedRootFs(): string {
  if (existsSync(join(ROOTFS, 'usr/bin/python3'))) return ROOTFS;
  mkdirSync(CACHE, { recursive: true });
  const building = `${ROOTFS}.tmp`;
  rmSync(building, { recursive: true, force: true });
  execFileSync('debootstrap', ['--variant=minbase', `--include=${PACKAGES.join(',')}`, 'bookworm', building], { stdio: 'ignore', timeout: 15 * 60_000 });
  renameSync(building, ROOTFS);
  return ROOTFS;
}

interface PlayStats {
  stats: Record<string, { changed: number; failures: number; unreachable: number; ok: number }>;
  plays: { tasks: { task: { name: string }; hosts: Record<string, { changed?: boolean; skipped?: boolean; failed?: boolean; msg?: string }> }[] }[];
}

const CASES = [
  { name: 'RKE2', spec: 'site.yaml', role: 'rke2', patch: (s: string) => s },
  {
    name: 'k0s',
    spec: 'examples/k0s-gpu.yaml',
    role: 'k0s',
    patch: (s: string) => s.replace('    monitoring: {enabled: true}', '    monitoring: {enabled: true}\n    harbor: {enabled: true}\n    certManager: {enabled: true}\n    metallb: {enabled: true, addresses: [192.168.50.200-192.168.50.210]}'),
  },
] as const;

const debootstrap = await runTool('sh', ['-c', 'command -v debootstrap']);
t.equal(debootstrap.code, 0, 'debootstrap is installed (npm run setup)');
const rootfs = cachedRootFs();

for (const c of CASES) {
  t.test(`${c.name}: prepare and the registry configuration, applied to a Debian root file system`, async (t) => {
    const dir = await tempDir();
    await writeFile(join(dir, 'site.yaml'), c.patch(await readFile(c.spec, 'utf8')));
    const out = await generatedSite(join(dir, 'site.yaml'), { commit: false });
    const root = join(await tempDir('siteforge-rootfs-'), 'root');
    execFileSync('cp', ['-a', rootfs, root]);
    const server = (parse(await readFile(join(out, 'ansible/inventory/hosts.yaml'), 'utf8')).all.children.cluster.children.servers.hosts as Record<string, unknown>);
    const [host] = Object.keys(server);
    // The generated inventory's host, reached through the chroot connection; the generated group_vars apply as on a node.
    await writeFile(join(out, 'ansible/chroot-inventory.yaml'), stringify({
      all: { children: { cluster: { children: { servers: { hosts: { [host!]: { ...(server[host!] as object), ansible_connection: 'community.general.chroot', ansible_host: root, ansible_python_interpreter: '/usr/bin/python3' } } }, agents: { hosts: {} } } } } },
    }));
    await writeFile(join(out, 'ansible/chroot-play.yml'), stringify([
      {
        name: 'Node preparation and registry configuration in a root file system',
        hosts: 'servers',
        vars: { prepare_live: false, prepare_set_hostname: false, [`${c.role}_manage_service`]: false },
        roles: [{ role: 'prepare' }],
        tasks: [
          { name: 'Registry mirrors and trust', 'ansible.builtin.include_role': { name: c.role, tasks_from: 'registries.yml' } },
          // k0s controllers schedule their own backups (RKE2 schedules etcd snapshots in its config.yaml).
          ...(c.role === 'k0s' ? [{ name: 'Scheduled backups', 'ansible.builtin.include_role': { name: 'k0s', tasks_from: 'backup.yml' } }] : []),
        ],
      },
    ]));
    const play = async () => {
      const res = await runTool('ansible-playbook', ['-i', 'chroot-inventory.yaml', 'chroot-play.yml'], {
        cwd: join(out, 'ansible'),
        env: { ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_CONFIG: join(out, 'ansible', 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' },
      });
      try {
        return { code: res.code, report: JSON.parse(res.stdout) as PlayStats };
      } catch {
        throw new Error(`ansible-playbook printed no JSON (exit ${res.code}): ${res.stderr}${res.stdout.slice(0, 2000)}`);
      }
    };
    const first = await play();
    const failed = first.report.plays.flatMap((p) => p.tasks.flatMap((x) => Object.values(x.hosts).filter((h) => h.failed).map((h) => `${x.task.name}: ${h.msg}`)));
    t.same(failed, [], 'no task failed');
    t.equal(first.code, 0);
    t.ok(first.report.stats[host!]!.changed > 0, `the first run changes the root file system (${first.report.stats[host!]!.changed} changes)`);
    // The registry file's task notifies the restart (a handler skipped here: image mode).
    const registryTask = c.role === 'rke2' ? 'Write the registry mirrors' : 'Write the registry mirrors (containerd hosts.toml)';
    const changedTasks = (r: PlayStats) => r.plays.flatMap((p) => p.tasks).filter((x) => Object.values(x.hosts).some((h) => h.changed)).map((x) => x.task.name.replace(/^[a-z0-9]+ : /, ''));
    t.ok(changedTasks(first.report).includes(registryTask), `${registryTask} changed on the first run`);
    const second = await play();
    t.equal(second.code, 0);
    t.equal(second.report.stats[host!]!.changed, 0, 'the second run changes nothing');
    t.same(changedTasks(second.report), [], 'no task changed, so no restart is notified');

    // What the node now has, read as its consumers read it.
    const ca = parse(await readFile(join(out, 'secrets/cluster/cert-manager/site-ca.sops.yaml'), 'utf8')).metadata.annotations['siteforge.io/public.tls.crt'] as string;
    t.equal(await readFile(join(root, 'etc/siteforge/site-ca.crt'), 'utf8'), ca, 'the CA file containerd reads');
    t.equal(await readFile(join(root, 'usr/local/share/ca-certificates/siteforge-site-ca.crt'), 'utf8'), ca, 'the trust store anchor');
    const body = ca.split('\n').filter((l) => l && !l.startsWith('-----')).join('\n');
    t.ok((await readFile(join(root, 'etc/ssl/certs/ca-certificates.crt'), 'utf8')).includes(body), 'update-ca-certificates put the site CA into the system bundle');
    t.match(await readFile(join(root, 'etc/sysctl.d/90-kubernetes.conf'), 'utf8'), /^net\.ipv4\.ip_forward = 1$/m);
    if (c.role === 'rke2') {
      // The node's rsyslog forwards to the site's receiver: the drop-in, as the node's rsyslogd reads it with the rest of its configuration.
      t.match(await readFile(join(root, 'etc/rsyslog.d/90-siteforge-forward.conf'), 'utf8'), '*.* action(type="omfwd" target="10.40.0.221" port="514" protocol="tcp"');
      const check = await runTool('chroot', [root, 'rsyslogd', '-N1']);
      t.equal(check.code, 0, `rsyslogd -N1 in the root file system: ${check.stderr}`);
    }
    t.same((await readFile(join(root, 'etc/modules-load.d/kubernetes.conf'), 'utf8')).split('\n').filter((l) => l && !l.startsWith('#')), ['br_netfilter', 'overlay'], 'one module per line, as systemd-modules-load reads it');
    if (c.role === 'k0s') {
      t.equal(await readFile(join(root, 'etc/cron.d/siteforge-k0s-backup'), 'utf8'), '# Managed by Ansible (siteforge k0s role): k0s backups on spec.distribution.backup.schedule\n0 */6 * * * root /usr/local/sbin/siteforge-k0s-backup\n', 'cron runs the backup on the spec\'s schedule');
      const script = join(root, 'usr/local/sbin/siteforge-k0s-backup');
      const lint = await runTool('shellcheck', ['-s', 'sh', script]);
      t.equal(lint.code, 0, `shellcheck: ${lint.stdout}`);
      // Retention, run for real in the root file system: k0s itself cannot be fetched here, so its
      // binary is stood in for by true; the script keeps the 28 newest archives.
      const archives = join(root, 'var/lib/k0s-backups');
      for (let i = 0; i < 31; i++) await writeFile(join(archives, `k0s_backup_2026-11-${String(i).padStart(2, '0')}T00_00_00Z.tar.gz`), '');
      const text = (await readFile(script, 'utf8')).replace("'/usr/local/bin/k0s' backup", 'true backup').replace('/usr/local/bin/k0s backup', 'true backup');
      await writeFile(join(root, 'tmp/backup-test.sh'), text);
      const run = await runTool('chroot', [root, '/bin/sh', '/tmp/backup-test.sh']);
      t.equal(run.code, 0, run.stderr);
      const kept = (await readdir(archives)).sort();
      t.equal(kept.length, 28, 'the newest 28 kept');
      t.equal(kept[0], 'k0s_backup_2026-11-03T00_00_00Z.tar.gz', 'the oldest removed');
    }
    const harbor = c.role === 'rke2' ? 'harbor.hpc4.example.edu' : 'harbor.gpufarm.example.org';
    if (c.role === 'rke2') {
      const registries = parse(await readFile(join(root, 'etc/rancher/rke2/registries.yaml'), 'utf8'));
      t.same(registries.mirrors['docker.io'], { endpoint: [`https://${harbor}`], rewrite: { '^(.*)$': 'dockerhub/$1' } });
      t.same(registries.configs, { [harbor]: { tls: { ca_file: '/etc/siteforge/site-ca.crt' } } }, 'Harbor verified against the installed CA');
    } else {
      const dropIn = parseToml(await readFile(join(root, 'etc/k0s/containerd.d/registry-mirrors.toml'), 'utf8')) as any;
      t.equal(dropIn.plugins['io.containerd.grpc.v1.cri'].registry.config_path, '/etc/containerd/certs.d');
      const registries = (await readdir(join(root, 'etc/containerd/certs.d'))).sort();
      t.same(registries, ['docker.io', 'ghcr.io', harbor, 'nvcr.io', 'quay.io', 'registry.k8s.io']);
      for (const r of registries) {
        const hosts = parseToml(await readFile(join(root, 'etc/containerd/certs.d', r, 'hosts.toml'), 'utf8')) as any;
        if (r === harbor) t.same(hosts, { server: `https://${harbor}`, ca: '/etc/siteforge/site-ca.crt' }, `${r}: direct pulls verify the site CA`);
        else t.same(Object.values(hosts.host as Record<string, unknown>)[0], { capabilities: ['pull', 'resolve'], override_path: true, ca: '/etc/siteforge/site-ca.crt' }, `${r}: through Harbor, verified against the site CA`);
      }
    }
  });
}
