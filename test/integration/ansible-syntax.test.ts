// Ansible output checked by the real tools: ansible-inventory and ansible-playbook --syntax-check
// for every example, the rolling play's order read from the generated plays, and minimal diffs.
// Beside the slower runs (ansible-lint, check-mode runs on this machine) of
// test/integration/ansible-run.test.ts.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { decryptSops } from 'sops-age';
import { generatedSite, ROOT, siteforge, tempDir } from '../helpers/cli.ts';
import { readIdentities } from '../../generator/sops/age.ts';
import { runTool } from '../helpers/tools.ts';
import { group, inventoryList } from '../helpers/ansible.ts';

const SITES = [
  { spec: 'site.yaml', distribution: 'rke2' },
  { spec: 'examples/k0s-gpu.yaml', distribution: 'k0s' },
  { spec: 'examples/minimal.yaml', distribution: 'rke2' },
] as const;


for (const { spec } of SITES) {
  t.test(`${spec}: inventory and syntax check`, async (t) => {
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

    const playbooks = ['site.yml', 'upgrade.yml', 'reset.yml', 'restore.yml', 'remove-node.yml'].map((p) => `ansible/${p}`);
    const syntax = await runTool('ansible-playbook', ['-i', 'ansible/inventory/hosts.yaml', ...playbooks, '--syntax-check'], { cwd: out });
    t.equal(syntax.code, 0, `${syntax.stderr}${syntax.stdout}`);
    for (const p of playbooks) t.match(syntax.stdout, `playbook: ${p}`, `${p} passes the syntax check`);

  });
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

t.test('the API endpoint: nodes join it, kubectl uses its name, k0s workers are pointed at it', async (t) => {
  // The host variables as a playbook in ansible/ sees them (its group_vars).
  const hostvars = async (out: string) => {
    const res = await runTool('ansible-inventory', ['-i', 'ansible/inventory/hosts.yaml', '--playbook-dir', 'ansible', '--list'], { cwd: out });
    return (JSON.parse(res.stdout) as { _meta: { hostvars: Record<string, Record<string, any>> } })._meta.hostvars;
  };
  const out = await generatedSite('site.yaml', { commit: false });
  const vars = (await hostvars(out))['k8s-gpu1']!;
  t.equal(vars.cluster_join_address, '10.40.0.10', 'joins go to the virtual IP');
  t.equal(vars.cluster_api_endpoint, 'k8s.hpc4.example.edu', 'the kubeconfig names the endpoint');
  t.same(vars.rke2_kube_vip, { address: '10.40.0.10', interface: 'eth0', image: 'ghcr.io/kube-vip/kube-vip:v1.2.2' });
  t.match(await readFile(join(out, 'images.txt'), 'utf8'), /^ghcr\.io\/kube-vip\/kube-vip:v1\.2\.2 {2}# the API endpoint \(kube-vip\)$/m, 'the kube-vip image is mirrored with the rest');
  const dir = await tempDir();
  await writeFile(join(dir, 'k0s.yaml'), (await readFile('examples/k0s-gpu.yaml', 'utf8')).replace('    tlsSANs: [api.gpufarm.example.org]', '    tlsSANs: [api.gpufarm.example.org]\n    apiEndpoint: {type: external, address: 192.168.50.9, hostname: api.gpufarm.example.org}'));
  const k0s = await hostvars(await generatedSite(join(dir, 'k0s.yaml'), { commit: false }));
  const config = k0s.ctl1!.k0s_cluster_config as { spec: { api: { externalAddress: string; sans: string[] } } };
  t.equal(config.spec.api.externalAddress, '192.168.50.9', 'k0s join tokens point at the load balancer');
  t.same(config.spec.api.sans.slice(0, 2), ['api.gpufarm.example.org', '192.168.50.9']);
  t.equal(k0s.gpu1!.cluster_join_address, '192.168.50.9');
});

t.test('etcd snapshots to S3: RKE2 servers read the target from a SOPS Secret in kube-system', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), (await readFile('site.yaml', 'utf8')).replace('    apiEndpoint:', '    backup: {s3: {endpoint: "s3.hpc4.example.edu:9000", bucket: hpc4-etcd}}\n    apiEndpoint:'));
  const out = await generatedSite(join(dir, 'site.yaml'), { commit: false });
  const res = await runTool('ansible-inventory', ['-i', 'ansible/inventory/hosts.yaml', '--playbook-dir', 'ansible', '--host', 'k8s-master1'], { cwd: out });
  t.match(JSON.parse(res.stdout).rke2_etcd_snapshots, { 'etcd-snapshot-schedule-cron': '0 */6 * * *', 'etcd-s3': true, 'etcd-s3-config-secret': 'etcd-s3-config' });
  const text = await readFile(join(out, 'secrets/cluster/kube-system/etcd-s3-config.sops.yaml'), 'utf8');
  const [identity] = await readIdentities(join(ROOT, 'test/fixtures/keys/example-site.agekey'));
  const secret = (await decryptSops(text, { secretKey: identity!, fileType: 'yaml' })) as { metadata: { namespace: string }; stringData: Record<string, string> };
  t.equal(secret.metadata.namespace, 'kube-system');
  t.match(secret.stringData, { 'etcd-s3-endpoint': 's3.hpc4.example.edu:9000', 'etcd-s3-bucket': 'hpc4-etcd', 'etcd-s3-folder': 'hpc4', 'etcd-s3-insecure': 'false' });
  t.match(secret.stringData['etcd-s3-secret-key'], /^[A-Za-z0-9]{40}$/, 'a generated secret key, encrypted');
  t.notOk(text.includes(secret.stringData['etcd-s3-secret-key']!), 'never in clear');
  const k0s = await tempDir();
  await writeFile(join(k0s, 'k0s.yaml'), (await readFile('examples/k0s-gpu.yaml', 'utf8')).replace('    tlsSANs: [api.gpufarm.example.org]', '    tlsSANs: [api.gpufarm.example.org]\n    backup: {s3: {endpoint: s3.example.org, bucket: etcd}}'));
  const refused = await siteforge(['validate', join(k0s, 'k0s.yaml')]);
  t.equal(refused.code, 1);
  t.match(refused.stderr, /spec\.distribution\.backup\.s3: S3 upload of backups is generated for RKE2 only/);
});

t.test('changing one node changes only that node\'s lines', async (t) => {
  const out = await generatedSite('site.yaml');
  const manifest = () => readFile(join(out, '.siteforge/manifest.json'), 'utf8').then((s) => JSON.parse(s).files as Record<string, string>);
  const m1 = await manifest();
  const a = (await readFile(join(out, 'ansible/inventory/hosts.yaml'), 'utf8')).split('\n');
  const runbookBefore = (await readFile(join(out, 'RUNBOOK.md'), 'utf8')).split('\n');
  const spec = await readFile('site.yaml', 'utf8');
  const changed = spec.replace('address: 10.40.0.22', 'address: 10.40.0.23');
  t.not(changed, spec);
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), changed);
  const res = await siteforge(['generate', join(dir, 'site.yaml'), '--out', out, '--no-commit']);
  t.equal(res.code, 0, res.stderr);
  const m2 = await manifest();
  const differing = Object.keys(m2).filter((p) => m1[p] !== m2[p]);
  t.same(differing, ['RUNBOOK.md', 'ansible/inventory/hosts.yaml'], 'only the inventory changes, and the topology diagram');
  const runbookAfter = (await readFile(join(out, 'RUNBOOK.md'), 'utf8')).split('\n');
  t.same(
    runbookBefore.flatMap((line, i) => (line !== runbookAfter[i] ? [[line.trim(), runbookAfter[i]!.trim()]] : [])),
    [['node_k8s-gpu2["k8s-gpu2<br/>10.40.0.22"]', 'node_k8s-gpu2["k8s-gpu2<br/>10.40.0.23"]']],
    'the diagram changes in that node\'s box only',
  );
  const b = (await readFile(join(out, 'ansible/inventory/hosts.yaml'), 'utf8')).split('\n');
  t.equal(a.length, b.length);
  const lines = a.flatMap((line, i) => (line !== b[i] ? [[line.trim(), b[i]!.trim()]] : []));
  t.same(lines, [
    ['ansible_host: 10.40.0.22', 'ansible_host: 10.40.0.23'],
    ['node_ip: 10.40.0.22', 'node_ip: 10.40.0.23'],
  ]);
});
