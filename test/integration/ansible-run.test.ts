// Ansible against real targets on this machine: the generated CI's lint job (yamllint, ansible-lint
// production profile) run as written, and site.yml in check mode with one server and one agent
// mapped to localhost, whose rendered RKE2/k0s configuration, registry trust and mirrors are
// asserted; reset.yml's confirmation. Slow: part of `npm run test:integration`.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { generatedSite, tempDir } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';
import { checkModeRun, failures, inventoryList, rendered, renderedLoop, siteCaOf } from '../helpers/ansible.ts';
import { kubesprayEnv } from '../helpers/kubespray.ts';

for (const spec of ['site.yaml', 'examples/k0s-gpu.yaml', 'examples/hpk.yaml', 'examples/sandia.yaml']) {
  t.test(`${spec}: the generated CI lint job passes`, async (t) => {
    const out = await generatedSite(spec, { commit: false });
    // The generated CI's lint job, run as it is written (yamllint over the generated YAML, ansible-lint's
    // production profile over ansible/, or shellcheck over HPK's scripts); GitLab runs the same commands. ansible-lint reads the roles and
    // playbooks, which are the same for every site of a distribution.
    {
      const workflow = parse(await readFile(join(out, '.github/workflows/siteforge.yml'), 'utf8'));
      const hpk = spec === 'examples/hpk.yaml';
      const lintRun: string = workflow.jobs.lint.steps.find((s: { name?: string }) => s.name === (hpk ? 'yamllint and shellcheck' : 'yamllint and ansible-lint')).run;
      t.same(parse(await readFile(join(out, '.gitlab-ci.yml'), 'utf8'))['siteforge-lint'].script, lintRun.split('\n'), 'GitLab lints the same way');
      t.match(lintRun, /yamllint --strict/);
      t.match(lintRun, hpk ? /shellcheck -x \*\.sh hpk\.sbatch hpk\.env/ : /ansible-lint --offline --profile production/);
      // A Kubespray site's CI installs the Kubespray collection first (its install step); here the stand-in is it.
      const lint = await runTool('bash', ['-euo', 'pipefail', '-c', lintRun], { cwd: out, ...(spec === 'examples/sandia.yaml' ? { env: kubesprayEnv } : {}) });
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

t.test('RKE2 check-mode run renders the server and agent configuration', async (t) => {
  const out = await generatedSite('site.yaml');
  const inv = await inventoryList(out);
  const report = await checkModeRun(out, inv, 'k8s-master1', 'k8s-gpu1');
  t.same(failures(report), [], 'no task failed (no undefined variable)');
  t.same(Object.keys(report.stats).sort(), ['k8s-gpu1', 'k8s-master1']);
  for (const [host, s] of Object.entries(report.stats)) t.same([s.failures, s.unreachable], [0, 0], `${host} stats`);

  const server = parse(rendered(report, 'Write the RKE2 configuration', 'k8s-master1'));
  t.same(server['tls-san'], ['k8s.hpc4.example.edu', '10.40.0.10', '10.40.0.11', '10.44.0.11', '10.40.0.12', '10.44.0.12', '10.40.0.13', '10.44.0.13'], 'the API endpoint first, then every server address');
  // The API endpoint's virtual IP: kube-vip as a static pod on the servers, holding 10.40.0.10 on eth0.
  const vip = parse(rendered(report, 'Write the kube-vip static pod', 'k8s-master1'));
  t.equal(vip.spec.containers[0].image, 'ghcr.io/kube-vip/kube-vip:v1.2.2');
  t.same(Object.fromEntries(vip.spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value])).address, '10.40.0.10');
  t.equal(Object.fromEntries(vip.spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value])).vip_interface, 'eth0');
  t.equal(server['cluster-cidr'], '10.140.0.0/16');
  t.equal(server['service-cidr'], '10.144.0.0/16');
  t.equal(server['node-ip'], '10.40.0.11');
  t.equal(server['write-kubeconfig-mode'], '0600');
  t.equal(server['ingress-controller'], 'none', 'siteforge\'s ingress-nginx serves the front ends: RKE2 deploys no controller beside it (nor its IngressClass nginx)');
  t.notOk('server' in server, 'the bootstrap server joins nobody');
  const numaArgs = ['cpu-manager-policy=static', 'topology-manager-policy=single-numa-node', 'kube-reserved=cpu=500m,memory=1100Mi'];
  t.same(server['kubelet-arg'], numaArgs);
  t.equal(server['etcd-snapshot-schedule-cron'], '0 */6 * * *', 'etcd snapshots on the spec\'s schedule');
  t.equal(server['etcd-snapshot-retention'], 28);

  const agentText = rendered(report, 'Write the RKE2 configuration', 'k8s-gpu1');
  const agent = parse(agentText);
  t.notOk('ingress-controller' in agent, 'a server setting only');
  t.equal(agent.server, 'https://10.40.0.10:9345', 'agents join through the API endpoint, not the first server');
  t.notOk(report.plays.flatMap((p) => p.tasks).find((x) => x.task.name.endsWith('Write the kube-vip static pod'))?.hosts['k8s-gpu1']?.diff, 'agents run no kube-vip');
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
  await writeFile(join(dir, 'k0s-gpu.yaml'), (await readFile('examples/k0s-gpu.yaml', 'utf8')).replace('    monitoring: {enabled: true}', '    monitoring: {enabled: true}\n    harbor: {enabled: true}\n    certManager: {enabled: true}\n    metallb: {enabled: true, addresses: [192.168.50.200-192.168.50.210]}'));
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


t.test('restore.yml refuses without a snapshot and its confirmation word, and a snapshot that is not there', async (t) => {
  const out = await generatedSite('examples/minimal.yaml', { commit: false });
  const inventory = join(out, 'restore-test-inventory.yaml');
  await writeFile(inventory, stringify({ all: { vars: { ansible_connection: 'local', ansible_python_interpreter: '/usr/bin/python3' }, children: { cluster: { children: { servers: { hosts: { node1: {} } }, agents: { hosts: {} } } } } } }));
  const run = (...extra: string[]) => runTool('ansible-playbook', ['-i', inventory, 'ansible/restore.yml', '--check', ...extra], { cwd: out, env: { ANSIBLE_BECOME_METHOD: 'su' } });
  const refused = await run();
  t.not(refused.code, 0, 'refused');
  t.match(refused.stdout, /-e snapshot=<file in the backup dir> -e confirm_restore=restore-mini/);
  const missing = await run('-e', 'snapshot=etcd-snapshot-none', '-e', 'confirm_restore=restore-mini');
  t.not(missing.code, 0, 'refused: no such snapshot');
  t.match(missing.stdout, /no \/var\/lib\/rancher\/rke2\/server\/db\/snapshots\/etcd-snapshot-none on node1/);
  const traversal = await run('-e', 'snapshot=../../etc/shadow', '-e', 'confirm_restore=restore-mini');
  t.not(traversal.code, 0, 'a path outside the snapshot directory is refused');
});
