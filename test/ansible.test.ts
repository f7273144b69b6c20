// Ansible output checked by the real tools: ansible-inventory, ansible-playbook --syntax-check,
// ansible-lint (production profile), and a check-mode run on this machine with one server and
// one agent mapped to localhost, whose rendered RKE2/k0s configuration is asserted.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { generatedSite, siteforge, tempDir } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';

const SITES = [
  { spec: 'site.yaml', distribution: 'rke2' },
  { spec: 'examples/k0s-gpu.yaml', distribution: 'k0s' },
  { spec: 'examples/minimal.yaml', distribution: 'rke2' },
] as const;


interface InventoryList {
  _meta: { hostvars: Record<string, Record<string, unknown>> };
  [group: string]: { hosts?: string[]; children?: string[] } | InventoryList['_meta'];
}

const group = (inv: InventoryList, name: string) => (inv[name] as { hosts?: string[]; children?: string[] } | undefined) ?? {};

async function inventoryList(out: string): Promise<InventoryList> {
  const res = await runTool('ansible-inventory', ['-i', 'ansible/inventory/hosts.yaml', '--list'], { cwd: out });
  if (res.code !== 0) throw new Error(res.stderr);
  return JSON.parse(res.stdout) as InventoryList;
}

for (const { spec } of SITES) {
  t.test(`${spec}: inventory, syntax check and ansible-lint`, async (t) => {
    const out = await generatedSite(spec, { commit: false });
    const site = parse(await readFile(spec, 'utf8'));
    const inv = await inventoryList(out);
    t.same(group(inv, 'cluster').children?.sort(), ['agents', 'servers']);
    for (const node of site.spec.nodes) {
      t.equal(inv._meta.hostvars[node.name]?.ansible_host, node.address, `${node.name}: ansible_host`);
      t.ok(group(inv, node.role === 'server' ? 'servers' : 'agents').hosts?.includes(node.name), `${node.name} in ${node.role}s`);
      t.equal(Boolean(group(inv, 'gpu').hosts?.includes(node.name)), Boolean(node.gpus), `${node.name}: gpu group membership`);
    }
    const firstServer = site.spec.nodes.find((n: { role: string }) => n.role === 'server').name;
    t.equal(group(inv, 'servers').hosts?.[0], firstServer, 'the first server is listed first (bootstrap)');

    const playbooks = ['site.yml', 'upgrade.yml', 'reset.yml', 'remove-node.yml'].map((p) => `ansible/${p}`);
    const syntax = await runTool('ansible-playbook', ['-i', 'ansible/inventory/hosts.yaml', ...playbooks, '--syntax-check'], { cwd: out });
    t.equal(syntax.code, 0, `${syntax.stderr}${syntax.stdout}`);
    for (const p of playbooks) t.match(syntax.stdout, `playbook: ${p}`, `${p} passes the syntax check`);

    // The generated CI's lint job, run as it is written (yamllint over the generated YAML, ansible-lint's
    // production profile over ansible/); GitLab runs the same commands. ansible-lint reads the roles and
    // playbooks, which are the same for every site of a distribution.
    if (spec !== 'examples/minimal.yaml') {
      const workflow = parse(await readFile(join(out, '.github/workflows/siteforge.yml'), 'utf8'));
      const lintRun: string = workflow.jobs.lint.steps.find((s: { name?: string }) => s.name === 'yamllint and ansible-lint').run;
      t.same(parse(await readFile(join(out, '.gitlab-ci.yml'), 'utf8'))['siteforge-lint'].script, lintRun.split('\n'), 'GitLab lints the same way');
      t.match(lintRun, /yamllint --strict/);
      t.match(lintRun, /ansible-lint --offline --profile production/);
      const lint = await runTool('bash', ['-euo', 'pipefail', '-c', lintRun], { cwd: out });
      t.equal(lint.code, 0, `the CI lint job: ${lint.stdout}${lint.stderr}`);
      if (spec === 'site.yaml') {
        await writeFile(join(out, 'ansible/group_vars/servers.yml'), `${await readFile(join(out, 'ansible/group_vars/servers.yml'), 'utf8')}drain_timeout: 5m\ndrain_timeout: 10m\n`);
        const broken = await runTool('bash', ['-euo', 'pipefail', '-c', lintRun], { cwd: out });
        t.not(broken.code, 0, 'and it fails on a duplicate key in a generated file');
        t.match(broken.stdout, /duplication of key "drain_timeout"/);
      }
    }
  });
}

interface PlaybookJson {
  plays: { tasks: { task: { name: string }; hosts: Record<string, { failed?: boolean; msg?: string; diff?: unknown }> }[] }[];
  stats: Record<string, { failures: number; unreachable: number }>;
}

/** Runs site.yml in check mode with the given hosts mapped to this machine; returns the JSON report. */
async function checkModeRun(out: string, inv: InventoryList, server: string, agent: string | undefined): Promise<PlaybookJson> {
  const vars = (host: string) => ({ ...inv._meta.hostvars[host], ansible_host: '127.0.0.1' });
  const test = {
    all: {
      vars: {
        ansible_connection: 'local',
        ansible_python_interpreter: '/usr/bin/python3',
        // This machine has no sudo; as root, su works the same for a check run.
        ansible_become_method: 'ansible.builtin.su',
        // The test machine keeps its own host name.
        prepare_set_hostname: false,
      },
      children: {
        cluster: { children: { servers: { hosts: { [server]: vars(server) } }, agents: { hosts: agent ? { [agent]: vars(agent) } : {} } } },
        ...(agent && group(inv, 'gpu').hosts?.includes(agent) ? { gpu: { hosts: { [agent]: null } } } : {}),
      },
    },
  };
  const path = join(out, 'test-only-inventory.yaml');
  await writeFile(path, stringify(test));
  const res = await runTool('ansible-playbook', ['-i', path, 'ansible/site.yml', '--check', '--diff'], {
    cwd: out,
    env: { ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_CONFIG: join(out, 'ansible', 'ansible.cfg'), ANSIBLE_NOCOLOR: '1' },
  });
  let report: PlaybookJson;
  try {
    report = JSON.parse(res.stdout) as PlaybookJson;
  } catch {
    throw new Error(`check run printed no JSON (exit ${res.code}): ${res.stderr}`);
  }
  return report;
}

/** The content a template/copy task would write for a host, from its --diff output. */
function rendered(report: PlaybookJson, taskName: string, host: string): string {
  for (const play of report.plays) {
    for (const task of play.tasks) {
      if (!task.task.name.endsWith(taskName)) continue;
      const result = task.hosts[host];
      const diffs = Array.isArray(result?.diff) ? result.diff : [result?.diff];
      for (const d of diffs as { after?: unknown }[]) if (typeof d?.after === 'string') return d.after;
    }
  }
  throw new Error(`no rendered output of "${taskName}" for ${host}`);
}

function failures(report: PlaybookJson): string[] {
  return report.plays.flatMap((p) =>
    p.tasks.flatMap((task) => Object.entries(task.hosts).filter(([, r]) => r.failed).map(([h, r]) => `${h}: ${task.task.name}: ${r.msg}`)),
  );
}

t.test('RKE2 check-mode run renders the server and agent configuration', async (t) => {
  const out = await generatedSite('site.yaml');
  const inv = await inventoryList(out);
  const report = await checkModeRun(out, inv, 'k8s-master1', 'k8s-gpu1');
  t.same(failures(report), [], 'no task failed (no undefined variable)');
  t.same(Object.keys(report.stats).sort(), ['k8s-gpu1', 'k8s-master1']);
  for (const [host, s] of Object.entries(report.stats)) t.same([s.failures, s.unreachable], [0, 0], `${host} stats`);

  const server = parse(rendered(report, 'Write the RKE2 configuration', 'k8s-master1'));
  t.same(server['tls-san'], ['k8s.hpc4.example.edu', '10.40.0.11', '10.44.0.11', '10.40.0.12', '10.44.0.12', '10.40.0.13', '10.44.0.13']);
  t.equal(server['cluster-cidr'], '10.140.0.0/16');
  t.equal(server['service-cidr'], '10.144.0.0/16');
  t.equal(server['node-ip'], '10.40.0.11');
  t.equal(server['write-kubeconfig-mode'], '0600');
  t.notOk('server' in server, 'the bootstrap server joins nobody');
  const numaArgs = ['cpu-manager-policy=static', 'topology-manager-policy=single-numa-node', 'kube-reserved=cpu=500m,memory=1100Mi'];
  t.same(server['kubelet-arg'], numaArgs);
  t.equal(server['etcd-snapshot-schedule-cron'], '0 */6 * * *', 'etcd snapshots on the spec\'s schedule');
  t.equal(server['etcd-snapshot-retention'], 28);

  const agentText = rendered(report, 'Write the RKE2 configuration', 'k8s-gpu1');
  const agent = parse(agentText);
  t.equal(agent.server, 'https://10.40.0.11:9345');
  t.equal(agent['token-file'], '/etc/rancher/rke2/join-token', 'the token is referenced by file');
  t.notOk('etcd-snapshot-schedule-cron' in agent, 'agents run no etcd');
  t.notMatch(agentText, /^token:/m, 'no token value in the configuration');
  t.same(agent['node-label'], ['hpc/pool=gpu']);
  t.same(agent['node-taint'], ['nvidia.com/gpu=present:NoSchedule']);
  t.same(agent['kubelet-arg'], numaArgs);
  t.notOk('cluster-cidr' in agent, 'server-only keys stay off agents');

  const mirrors = parse(rendered(report, 'Write the registry mirrors', 'k8s-gpu1'));
  t.same(mirrors.mirrors['docker.io'], { endpoint: ['https://harbor.hpc4.example.edu'], rewrite: { '^(.*)$': 'dockerhub/$1' } });
  // Harbor's certificate comes from the site CA: containerd verifies it with the CA file the prepare role writes.
  t.same(mirrors.configs, { 'harbor.hpc4.example.edu': { tls: { ca_file: '/etc/siteforge/site-ca.crt' } } });
  const ca = siteCaOf(await readFile(join(out, 'secrets/cluster/cert-manager/site-ca.sops.yaml'), 'utf8'));
  t.equal(rendered(report, 'Install the site CA for containerd', 'k8s-gpu1'), ca, 'the CA file containerd reads is the site CA');
  t.equal(rendered(report, 'Add the site CA to the OS trust store', 'k8s-master1'), ca, 'and the OS trust store gets the same certificate');
  t.match(rendered(report, 'Raise inotify limits for the GPU operator\'s components', 'k8s-gpu1'), /fs\.inotify\.max_user_watches = 524288/);
  t.match(rendered(report, 'Persist kernel parameters', 'k8s-master1'), /net\.bridge\.bridge-nf-call-iptables = 1/);
});

t.test('k0s check-mode run renders the controller and worker configuration, Harbor mirrors included', async (t) => {
  // The k0s example with Harbor enabled: its nodes pull through the same mirrors RKE2 nodes get.
  const dir = await tempDir();
  await writeFile(join(dir, 'k0s-gpu.yaml'), (await readFile('examples/k0s-gpu.yaml', 'utf8')).replace('    monitoring: {enabled: true}', '    monitoring: {enabled: true}\n    harbor: {enabled: true}\n    certManager: {enabled: true}'));
  const out = await generatedSite(join(dir, 'k0s-gpu.yaml'));
  const inv = await inventoryList(out);
  const report = await checkModeRun(out, inv, 'ctl1', 'gpu1');
  t.same(failures(report), [], 'no task failed (no undefined variable)');
  t.match(rendered(report, 'Point containerd at the registry hosts directory', 'gpu1'), /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.registry\]\n {2}config_path = "\/etc\/containerd\/certs\.d"/);
  const hosts = renderedLoop(report, 'Write the registry mirrors (containerd hosts.toml)', 'gpu1');
  t.same([...hosts.keys()].sort(), ['docker.io', 'ghcr.io', 'harbor.gpufarm.example.org', 'nvcr.io', 'quay.io', 'registry.k8s.io'], 'the same registries RKE2 mirrors, and Harbor itself');
  t.match(hosts.get('docker.io'), /^server = "https:\/\/registry-1\.docker\.io"$/m);
  t.match(hosts.get('docker.io'), /^\[host\."https:\/\/harbor\.gpufarm\.example\.org\/v2\/dockerhub"\]\n {2}capabilities = \["pull", "resolve"\]\n {2}override_path = true$/m);
  t.match(hosts.get('nvcr.io'), /\/v2\/nvcr"\]/);
  for (const [registry, text] of hosts) {
    if (registry !== 'harbor.gpufarm.example.org') t.match(text, /\n {2}override_path = true\n {2}ca = "\/etc\/siteforge\/site-ca\.crt"\n$/, `${registry}: the Harbor mirror is verified against the site CA`);
  }
  t.match(hosts.get('harbor.gpufarm.example.org'), /^server = "https:\/\/harbor\.gpufarm\.example\.org"\nca = "\/etc\/siteforge\/site-ca\.crt"\n$/m, 'direct pulls from Harbor verify the site CA too');
  t.equal(rendered(report, 'Install the site CA for containerd', 'gpu1'), siteCaOf(await readFile(join(out, 'secrets/cluster/cert-manager/site-ca.sops.yaml'), 'utf8')));
  for (const [host, s] of Object.entries(report.stats)) t.same([s.failures, s.unreachable], [0, 0], `${host} stats`);

  const config = parse(rendered(report, 'Write the cluster configuration', 'ctl1'));
  t.equal(config.kind, 'ClusterConfig');
  t.same(config.spec.api.sans, ['api.gpufarm.example.org', '192.168.50.10']);
  t.equal(config.spec.api.address, '192.168.50.10');
  t.same(config.spec.network, { provider: 'kuberouter', podCIDR: '10.244.0.0/16', serviceCIDR: '10.96.0.0/12' });
  t.same(config.spec.workerProfiles, [
    {
      name: 'hpc-numa',
      values: {
        cpuManagerPolicy: 'static',
        topologyManagerPolicy: 'single-numa-node',
        topologyManagerScope: 'pod',
        memoryManagerPolicy: 'Static',
        kubeReserved: { cpu: '1', memory: '2Gi' },
        evictionHard: { 'memory.available': '100Mi' },
        reservedMemory: [{ numaNode: 0, limits: { memory: '2148Mi' } }],
      },
    },
  ]);

  const controller = parse(rendered(report, 'Record how this node is installed (a change reinstalls the service)', 'ctl1'));
  t.same(controller.argv, ['/usr/local/bin/k0s', 'install', 'controller', '--config', '/etc/k0s/k0s.yaml']);
  const worker = parse(rendered(report, 'Record how this node is installed (a change reinstalls the service)', 'gpu1'));
  t.equal(worker.api, 'https://192.168.50.10:6443', 'workers join the first controller');
  t.same(worker.argv, [
    '/usr/local/bin/k0s', 'install', 'worker', '--token-file', '/etc/k0s/join-token',
    '--labels=hpc/pool=gpu', '--profile=hpc-numa', '--kubelet-extra-args=--node-ip=192.168.50.21',
  ]);
});

/** The site CA certificate as the secrets stage published it (the clear annotation of its SOPS Secret). */
function siteCaOf(sopsText: string): string {
  const ca = parse(sopsText).metadata.annotations['siteforge.io/public.tls.crt'];
  if (!/^-----BEGIN CERTIFICATE-----\n/.test(ca)) throw new Error('no published CA certificate');
  return ca;
}

/** What a looped template task renders, per loop item label. */
function renderedLoop(report: PlaybookJson, taskName: string, host: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const play of report.plays) {
    for (const task of play.tasks) {
      if (!task.task.name.endsWith(taskName)) continue;
      const results = (task.hosts[host] as { results?: { item?: { registry?: string }; diff?: { after?: unknown } | { after?: unknown }[] }[] } | undefined)?.results ?? [];
      for (const r of results) {
        const diffs = Array.isArray(r.diff) ? r.diff : [r.diff];
        for (const d of diffs) if (typeof d?.after === 'string') out.set(String(r.item?.registry), d.after);
      }
    }
  }
  return out;
}

t.test('rolling changes: every node is drained before its distribution role restarts anything; NUMA state is reset with the kubelet stopped', async (t) => {
  for (const [spec, role, service] of [['site.yaml', 'rke2', 'RKE2'], ['examples/k0s-gpu.yaml', 'k0s', 'k0s']] as const) {
    const out = await generatedSite(spec, { commit: false });
    const plays = parse(await readFile(join(out, 'ansible', 'upgrade.yml'), 'utf8')) as { name: string; hosts: string; serial?: unknown; pre_tasks?: Record<string, string>[]; roles?: { role: string }[]; post_tasks?: Record<string, string>[]; tasks?: { name: string }[] }[];
    t.match(plays[0]!.tasks?.map((x) => x.name), ['The API server is healthy', 'Read the kubelet versions of every node', 'Refuse a downgrade or a jump of more than one minor version'], `${spec}: health and version skew checked first`);
    for (const play of plays.slice(1)) {
      t.same(play.pre_tasks?.map((x) => x['ansible.builtin.import_tasks']), ['tasks/drain.yml'], `${spec}: ${play.name}: drained before the role`);
      t.same(play.roles, [{ role }], `${spec}: ${play.name}: then the distribution role (its handlers restart)`);
      t.same(play.post_tasks?.map((x) => x['ansible.builtin.import_tasks']), ['tasks/uncordon.yml'], `${spec}: ${play.name}: then Ready and uncordoned`);
    }
    t.equal(plays.find((p) => p.hosts === 'servers')?.serial, 1, 'servers one at a time');
    const drain = parse(await readFile(join(out, 'ansible', 'tasks', 'drain.yml'), 'utf8'))[0];
    t.match(drain['ansible.builtin.command'].argv, /'drain', inventory_hostname, '--ignore-daemonsets'.*'--timeout='/, 'kubectl drain (PDB-respecting eviction) with a timeout');
    const handlers = (parse(await readFile(join(out, 'ansible', 'roles', role, 'handlers', 'main.yml'), 'utf8')) as { name: string }[]).map((h) => h.name);
    const order = [`Stop ${service} for the kubelet state reset`, 'Reset the kubelet CPU and memory manager state', `Restart ${service}`].map((h) => handlers.indexOf(h));
    t.ok(order.every((i) => i >= 0) && order[0]! < order[1]! && order[1]! < order[2]!, `${spec}: handlers stop, then reset the state, then restart (${order})`);
    const tasks = parse(await readFile(join(out, 'ansible', 'roles', role, 'tasks', 'main.yml'), 'utf8')) as { name: string; notify?: string[] }[];
    const numa = tasks.find((x) => /kubelet NUMA/.test(x.name));
    t.same(numa?.notify, [`Stop ${service} for the kubelet state reset`, 'Reset the kubelet CPU and memory manager state', `Restart ${service}`], `${spec}: a NUMA policy change notifies all three`);
  }
});

t.test('reset.yml refuses without the site\'s confirmation word', async (t) => {
  const out = await generatedSite('examples/minimal.yaml', { commit: false });
  const inventory = join(out, 'reset-test-inventory.yaml');
  await writeFile(inventory, stringify({ all: { vars: { ansible_connection: 'local', ansible_python_interpreter: '/usr/bin/python3' }, children: { cluster: { hosts: { node1: {} } } } } }));
  const refused = await runTool('ansible-playbook', ['-i', inventory, 'ansible/reset.yml', '--check'], { cwd: out, env: { ANSIBLE_BECOME_METHOD: 'su' } });
  t.not(refused.code, 0, 'refused');
  t.match(refused.stdout, /rerun with -e confirm_reset=destroy-mini/);
  const confirmed = await runTool('ansible-playbook', ['-i', inventory, 'ansible/reset.yml', '--check', '-e', 'confirm_reset=destroy-mini'], { cwd: out, env: { ANSIBLE_BECOME_METHOD: 'su' } });
  t.equal(confirmed.code, 0, `confirmed (check mode: nothing uninstalled)\n${confirmed.stdout}${confirmed.stderr}`);
});

t.test('changing one node changes only that node\'s lines', async (t) => {
  const out = await generatedSite('site.yaml');
  const manifest = () => readFile(join(out, '.siteforge/manifest.json'), 'utf8').then((s) => JSON.parse(s).files as Record<string, string>);
  const m1 = await manifest();
  const a = (await readFile(join(out, 'ansible/inventory/hosts.yaml'), 'utf8')).split('\n');
  const spec = await readFile('site.yaml', 'utf8');
  const changed = spec.replace('address: 10.40.0.22', 'address: 10.40.0.23');
  t.not(changed, spec);
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), changed);
  const res = await siteforge(['generate', join(dir, 'site.yaml'), '--out', out, '--no-commit']);
  t.equal(res.code, 0, res.stderr);
  const m2 = await manifest();
  const differing = Object.keys(m2).filter((p) => m1[p] !== m2[p]);
  t.same(differing, ['ansible/inventory/hosts.yaml'], 'only the inventory changes');
  const b = (await readFile(join(out, differing[0]!), 'utf8')).split('\n');
  t.equal(a.length, b.length);
  const lines = a.flatMap((line, i) => (line !== b[i] ? [[line.trim(), b[i]!.trim()]] : []));
  t.same(lines, [
    ['ansible_host: 10.40.0.22', 'ansible_host: 10.40.0.23'],
    ['node_ip: 10.40.0.22', 'node_ip: 10.40.0.23'],
  ]);
});
