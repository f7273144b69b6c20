// distribution.type kubespray: siteforge writes Kubespray's inventory and variables and imports the
// pinned release's playbooks after its own node preparation. Kubespray cannot be installed here
// (its collection comes from GitHub), so test/fixtures/kubespray holds a stand-in collection with
// the same playbook names that checks the inventory as Kubespray v2.31.0 does (its
// validate_inventory role and the shapes its templates read). Checked with the real
// ansible-inventory and ansible-playbook: the groups, the syntax of every playbook, the variables
// Kubespray reads (through a Kubespray playbook started on its own), and what they say.
import t from 'tap';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generatedSite, tempDir } from '../helpers/cli.ts';
import { hpc4OnKubespray, kubesprayEnv as env, kubesprayVars } from '../helpers/kubespray.ts';
import { runTool } from '../helpers/tools.ts';
import { group, inventoryList } from '../helpers/ansible.ts';

const sandia = await generatedSite('examples/sandia.yaml', { commit: false });
const hpc4Out = await hpc4OnKubespray();

t.test('examples/sandia.yaml: Kubespray\'s groups over the site\'s nodes; every playbook passes the syntax check', async (t) => {
  const out = sandia;
  const inv = await inventoryList(out);
  t.same(group(inv, 'kube_control_plane').hosts, ['k8s1', 'k8s2', 'k8s3'], 'the servers are the control plane');
  t.same(group(inv, 'etcd').children, ['kube_control_plane'], 'and the etcd members');
  t.same(group(inv, 'kube_node').hosts, ['k8s4', 'k8s5'], 'the agents are the workers');
  t.same(group(inv, 'k8s_cluster').children?.sort(), ['kube_control_plane', 'kube_node']);
  t.same(group(inv, 'cluster').children?.sort(), ['agents', 'servers'], 'siteforge\'s own groups stay for its roles');
  for (const n of ['k8s1', 'k8s4']) t.equal(inv._meta.hostvars[n]?.ip, inv._meta.hostvars[n]?.ansible_host, `${n}: ip, the address Kubespray binds to`);
  t.equal(inv._meta.hostvars.k8s2?.etcd_member_name, 'k8s2', 'etcd members are named after their nodes');

  const playbooks = ['site.yml', 'upgrade.yml', 'reset.yml', 'restore.yml', 'remove-node.yml'].map((p) => `ansible/${p}`);
  const syntax = await runTool('ansible-playbook', ['-i', 'ansible/inventory/hosts.yaml', ...playbooks, '--syntax-check'], { cwd: out, env });
  t.equal(syntax.code, 0, `${syntax.stderr}${syntax.stdout}`);

  const site = parse(await readFile(join(out, 'ansible/site.yml'), 'utf8'));
  t.same(site.map((p: { name: string; tags: string[] }) => [p.name, p.tags]), [
    ['Stage 2: prepare every node', ['prepare']],
    ['Stage 3: Kubespray v2.31.0 builds the cluster', ['cluster']],
    ['Stage 3: scheduled etcd snapshots on the servers', ['cluster']],
    ['Fetch the admin kubeconfig to the bastion', ['kubeconfig']],
  ], 'node preparation first, then Kubespray, then the snapshots and the kubeconfig');
  t.equal(site[1]['ansible.builtin.import_playbook'], 'kubernetes_sigs.kubespray.cluster');
  const requirements = parse(await readFile(join(out, 'ansible/requirements.yml'), 'utf8'));
  t.same(requirements.collections.at(-1), { name: 'https://github.com/kubernetes-sigs/kubespray', type: 'git', version: 'v2.31.0' }, 'the pinned release, from its git tag');
  const kubeconfig = parse(await readFile(join(out, 'ansible/roles/kubeconfig/defaults/main.yml'), 'utf8'));
  t.equal(kubeconfig.kubeconfig_source.kubespray, '/etc/kubernetes/admin.conf', 'the admin kubeconfig where kubeadm writes it');
});

t.test('the variables Kubespray reads say what the spec says', async (t) => {
  const vars = await kubesprayVars(sandia);
  t.same(
    [vars.kube_version, vars.kube_network_plugin, vars.kube_pods_subnet, vars.kube_service_addresses, vars.dns_domain],
    ['1.34.3', 'calico', '10.42.0.0/16', '10.43.0.0/16', 'cluster.local'],
    'Kubernetes 1.34.3 with Calico in the spec\'s ranges; the DNS domain is not the site name',
  );
  t.same(
    [vars.kube_vip_enabled, vars.kube_vip_controlplane_enabled, vars.kube_vip_address, vars.kube_vip_interface, vars.loadbalancer_apiserver, vars.apiserver_loadbalancer_domain_name, vars.kube_proxy_strict_arp],
    [true, true, '10.20.0.10', 'eth0', { address: '10.20.0.10', port: 6443 }, 'k8s.hpc.example.gov', true],
    'the API endpoint: kube-vip holds 10.20.0.10 (ARP, so IPVS answers strictly)',
  );
  t.notOk('containerd_registries_mirrors' in vars, 'without Harbor, Kubespray\'s own registry default stays');

  const hpc4 = await kubesprayVars(hpc4Out);
  t.same([hpc4.kube_network_plugin, hpc4.kube_network_plugin_multus], ['cilium', true], 'multus,cilium: Cilium with Multus in front');
  const mirrors = hpc4.containerd_registries_mirrors as { prefix: string; mirrors: { ca?: string }[] }[];
  t.same(mirrors.find((m) => m.prefix === 'docker.io'), { prefix: 'docker.io', server: 'https://registry-1.docker.io', mirrors: [{ host: 'https://harbor.hpc4.example.edu/v2/dockerhub', capabilities: ['pull', 'resolve'], skip_verify: false, override_path: true, ca: '/etc/siteforge/site-ca.crt' }] }, 'docker.io through Harbor\'s proxy cache, verified against the site CA');
  t.same(mirrors.find((m) => m.prefix === 'harbor.hpc4.example.edu')?.mirrors[0]?.ca, '/etc/siteforge/site-ca.crt', 'Harbor itself verified against the site CA (pulls and pushes)');
  t.same(
    [hpc4.kubelet_cpu_manager_policy, hpc4.kubelet_topology_manager_policy, hpc4.kube_reserved, hpc4.kube_cpu_reserved, hpc4.kube_memory_reserved],
    ['static', 'single-numa-node', true, '500m', '1100Mi'],
    'the NUMA policies and the reservation the static CPU manager needs',
  );
  const gpu = parse(await readFile(join(hpc4Out, 'ansible/inventory/group_vars/gpu.yml'), 'utf8'));
  t.same(gpu.containerd_additional_runtimes, [{ name: 'nvidia', type: 'io.containerd.runc.v2', options: { Root: '', SystemdCgroup: 'true', BinaryName: '/usr/local/nvidia/toolkit/nvidia-container-runtime' } }], 'Kubespray\'s containerd config keeps the runtime the GPU operator\'s toolkit adds');
  const operator = parse(await readFile(join(hpc4Out, 'charts/gpu-operator/values.yaml'), 'utf8'))['gpu-operator'];
  const toolkitEnv = Object.fromEntries(operator.toolkit.env.map((e: { name: string; value: string }) => [e.name, e.value]));
  t.same([toolkitEnv.CONTAINERD_CONFIG, toolkitEnv.CONTAINERD_SOCKET, operator.hostPaths.kubeletRootDir], ['/etc/containerd/config.toml', '/run/containerd/containerd.sock', '/var/lib/kubelet'], 'the GPU operator finds Kubespray\'s containerd and kubelet');
});

t.test('reset, remove-node and restore answer Kubespray\'s prompts only after siteforge\'s own confirmation', async (t) => {
  const out = sandia;
  const reset = parse(await readFile(join(out, 'ansible/reset.yml'), 'utf8'));
  t.equal(reset[0].any_errors_fatal, true, 'a refused confirmation stops the run');
  t.match(reset[0].tasks[0]['ansible.builtin.assert'].that[0], /confirm_reset/);
  t.same([reset[1]['ansible.builtin.import_playbook'], reset[1].vars], ['kubernetes_sigs.kubespray.reset', { reset_confirmation: true }]);
  const refused = await runTool('ansible-playbook', ['-i', 'ansible/inventory/hosts.yaml', 'ansible/reset.yml', '-e', 'ansible_connection=local'], { cwd: out, env });
  t.not(refused.code, 0, 'reset without -e confirm_reset is refused');
  t.notMatch(refused.stdout, /Kubespray reset checks/, 'before Kubespray\'s reset starts');
  const remove = parse(await readFile(join(out, 'ansible/remove-node.yml'), 'utf8'));
  t.same([remove[1]['ansible.builtin.import_playbook'], remove[1].vars], ['kubernetes_sigs.kubespray.remove_node', { skip_confirmation: true }]);
  const bootstrap = await runTool('ansible-playbook', ['-i', 'ansible/inventory/hosts.yaml', 'ansible/remove-node.yml', '-e', 'node=k8s1', '-e', 'ansible_connection=local'], { cwd: out, env });
  t.not(bootstrap.code, 0, 'removing the bootstrap server is refused');
  t.match(bootstrap.stdout, /bootstrap or last server/);
  const restore = parse(await readFile(join(out, 'ansible/restore.yml'), 'utf8'));
  t.same(restore[1]['ansible.builtin.import_playbook'], 'kubernetes_sigs.kubespray.recover_control_plane');
  t.equal(restore[1].vars.etcd_snapshot, '{{ playbook_dir }}/.restore/{{ snapshot }}', 'Kubespray restores the snapshot fetched from the first server');
  const upgrade = parse(await readFile(join(out, 'ansible/upgrade.yml'), 'utf8'));
  t.same([upgrade.at(-1)['ansible.builtin.import_playbook'], upgrade.at(-1).vars], ['kubernetes_sigs.kubespray.upgrade_cluster', { serial: '25%' }], 'Kubespray upgrades, in batches of the spec\'s agentBatch');
});

t.test('the etcd snapshot script is valid shell and keeps the newest snapshots', async (t) => {
  const out = sandia;
  const template = await readFile(join(out, 'ansible/roles/etcd_snapshots/templates/etcd-snapshot.sh.j2'), 'utf8');
  const all = parse(await readFile(join(out, 'ansible/group_vars/all.yml'), 'utf8'));
  t.same(all.etcd_snapshots, { schedule: '0 */6 * * *', retention: 28, dir: '/var/lib/etcd-snapshots', etcdctl: '/usr/local/bin/etcdctl.sh' }, 'the spec\'s schedule and retention, through Kubespray\'s etcdctl wrapper');
  // Rendered as the template module would (Jinja2), with a stand-in etcdctl.sh and a directory here.
  const dir = await tempDir();
  const etcdctl = join(dir, 'etcdctl.sh');
  await writeFile(etcdctl, '#!/bin/sh\n# stand-in: snapshot save <file>\n[ "$1" = --endpoints=https://127.0.0.1:2379 ] && [ "$2" = snapshot ] && [ "$3" = save ] && echo data > "$4"\n', { mode: 0o755 });
  const vars = JSON.stringify({ etcd_snapshots: { ...all.etcd_snapshots, dir: join(dir, 'snapshots'), retention: 2, etcdctl }, inventory_hostname: 'k8s1', ansible_managed: 'managed' });
  const renderScript = `import json,sys,jinja2,shlex\nenv=jinja2.Environment(undefined=jinja2.StrictUndefined)\nenv.filters['quote']=shlex.quote\nprint(env.from_string(sys.stdin.read()).render(**json.loads(sys.argv[1])),end='')`;
  const rendered = await runTool('python3', ['-c', renderScript, vars], { input: template });
  t.equal(rendered.code, 0, rendered.stderr);
  const script = join(dir, 'snapshot.sh');
  await writeFile(script, rendered.stdout, { mode: 0o755 });
  const sc = await runTool('shellcheck', [script]);
  t.equal(sc.code, 0, sc.stdout);
  await mkdir(join(dir, 'snapshots'));
  for (const old of ['etcd-k8s1-20200101T000000Z.db', 'etcd-k8s1-20210101T000000Z.db']) await writeFile(join(dir, 'snapshots', old), 'old');
  t.equal((await runTool('sh', [script])).code, 0);
  const kept = (await readdir(join(dir, 'snapshots'))).sort();
  t.equal(kept.length, 2, 'retention: the newest two kept');
  t.equal(kept[0], 'etcd-k8s1-20210101T000000Z.db', 'the oldest went');
  t.match(kept[1], /^etcd-k8s1-\d{8}T\d{6}Z\.db$/, 'the new one is named by member and time, no partial file left');
  t.equal(await readFile(join(dir, 'snapshots', kept[1]!), 'utf8'), 'data\n', 'and holds what etcdctl saved');
});
