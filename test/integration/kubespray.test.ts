// Kubespray sites against Kubespray's own inventory checks (the stand-in collection in
// test/fixtures/kubespray restates Kubespray v2.31.0's validate_inventory and the shapes its
// templates read): a Kubespray playbook started on its own, as `scale` is, finds siteforge's
// variables beside the inventory and passes; what Kubespray refuses is refused. Then siteforge
// verify with the real charts on a Kubespray site with Harbor. Slow: part of `npm run test:integration`.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generatedSite, ROOT, siteforge } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';
import { hpc4OnKubespray, kubesprayEnv as env } from '../helpers/kubespray.ts';
import { checkModeRun, failures, inventoryList, rendered } from '../helpers/ansible.ts';

t.test('Kubespray\'s own checks pass on the variables siteforge writes, and refuse what Kubespray refuses', async (t) => {
  const out = await generatedSite('examples/sandia.yaml', { commit: false });
  // A Kubespray playbook started on its own (as `scale` is): it finds the variables beside the inventory.
  const run = (...extra: string[]) => runTool('ansible-playbook', ['-i', 'ansible/inventory/hosts.yaml', 'kubernetes_sigs.kubespray.cluster', ...extra], { cwd: out, env });
  const ok = await run();
  t.equal(ok.code, 0, ok.code === 0 ? 'Kubespray\'s checks pass' : ok.stdout);
  t.match(ok.stdout, /k8s1\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0/);
  for (const [bad, why] of [
    ['kube_version=v1.34.3', 'a version with its v'],
    ['kube_version=1.31.4', 'a version Kubespray v2.31.0 does not build'],
    ['kube_network_plugin=weave', 'a plugin it does not have'],
    ['kube_pods_subnet=10.43.0.0/17', 'pods inside the service range'],
    ['{"kube_proxy_strict_arp": false}', 'kube-vip\'s ARP with IPVS and no strict ARP'],
  ] as const) {
    const refused = await run('-e', bad);
    t.not(refused.code, 0, `the stand-in refuses ${why}`);
  }
});

t.test('a Kubespray site with Harbor, GPUs and NUMA settings passes Kubespray\'s checks and siteforge verify', async (t) => {
  const out = await hpc4OnKubespray();
  const ok = await runTool('ansible-playbook', ['-i', 'ansible/inventory/hosts.yaml', 'kubernetes_sigs.kubespray.cluster'], { cwd: out, env });
  t.equal(ok.code, 0, ok.code === 0 ? 'Kubespray\'s checks pass' : ok.stdout);
  const verify = await siteforge(['verify', join(out, 'site.yaml'), '--charts', join(ROOT, '..', 'shared', 'charts'), '--json']);
  const report = JSON.parse(verify.stdout) as { problems: { check: string; message: string }[] };
  t.same(report.problems, [], 'verify: no problems, Harbor trusted by the node mirrors (containerd_registries_mirrors) among its checks');
  t.equal(verify.code, 0);
  // Without the site CA on Harbor's own entry, containerd would not verify Harbor: verify says so.
  const path = join(out, 'ansible/inventory/group_vars/k8s_cluster.yml');
  const text = await readFile(path, 'utf8');
  const at = text.indexOf('  - prefix: harbor.hpc4.example.edu');
  await writeFile(path, text.slice(0, at) + text.slice(at).replace('        ca: /etc/siteforge/site-ca.crt\n', ''));
  const broken = await siteforge(['verify', join(out, 'site.yaml'), '--charts', join(ROOT, '..', 'shared', 'charts'), '--json']);
  t.match((JSON.parse(broken.stdout) as { problems: { message: string }[] }).problems.map((p) => p.message), [/containerd on the nodes does not verify harbor\.hpc4\.example\.edu against the site CA/]);
});

t.test('site.yml in check mode on this machine: node preparation, Kubespray\'s checks, then the etcd snapshot schedule', async (t) => {
  const out = await generatedSite('examples/sandia.yaml', { commit: false });
  const report = await checkModeRun(out, await inventoryList(out), 'k8s1', 'k8s4', env);
  t.same(failures(report), [], 'no task failed (no undefined variable)');
  const tasks = report.plays.flatMap((p) => p.tasks.map((x) => x.task.name));
  const first = (name: string) => tasks.findIndex((x) => x.endsWith(name));
  t.ok(first('Stop if even number of etcd hosts') > first('Install chrony') && first('Install chrony') >= 0, 'Kubespray\'s checks run after the node preparation');
  t.ok(first('Schedule the snapshots') > first('Stop if even number of etcd hosts'), 'and the snapshots are scheduled after Kubespray');
  t.equal(rendered(report, 'Schedule the snapshots', 'k8s1'), '# Managed by Ansible (siteforge etcd_snapshots role): etcd snapshots on spec.distribution.backup.schedule\n0 */6 * * * root /usr/local/sbin/siteforge-etcd-snapshot\n');
  t.match(rendered(report, 'Write the snapshot script', 'k8s1'), /'\/usr\/local\/bin\/etcdctl\.sh' --endpoints=https:\/\/127\.0\.0\.1:2379 snapshot save|\/usr\/local\/bin\/etcdctl\.sh --endpoints=https:\/\/127\.0\.0\.1:2379 snapshot save/);
  t.notOk(Object.keys(report.stats).includes('k8s4') && tasks.some((x) => x.endsWith('Schedule the snapshots') && report.plays.some((p) => p.tasks.some((y) => y.task.name === x && 'k8s4' in y.hosts))), 'only the servers take snapshots');
});
