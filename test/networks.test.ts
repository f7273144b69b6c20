// Secondary networks of the Network Operator as the pods get them: an ipvlan (L2) network is a
// NetworkAttachmentDefinition in every environment namespace under the name the site chose (mdx's
// rdma-ipvlan-conf), its CNI configuration what the ipvlan plugin and nv-ipam read; macvlan and
// IPoIB stay the operator's own networks. A range that holds a node's address, two ranges that
// overlap and a name given twice are errors at their field.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generatedSite, siteforge, tempDir } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';
import { parseManifests } from './helpers/k8s.ts';

t.test('an ipvlan network: the site\'s attachment name in every environment, an L2 ipvlan CNI configuration with nv-ipam', async (t) => {
  const out = await generatedSite('examples/k0s-gpu.yaml', { commit: false });
  const res = await runTool('helm', ['template', 'network-operator-networks', join(out, 'charts/network-operator-networks'), '--namespace', 'nvidia-network-operator']);
  t.equal(res.code, 0, res.stderr);
  const docs = parseManifests(res.stdout) as any[];
  const nads = docs.filter((d) => d.kind === 'NetworkAttachmentDefinition');
  t.same(nads.map((d) => `${d.metadata.namespace}/${d.metadata.name}`), ['prod-gpufarm/rdma-ipvlan-conf'], 'in the environment namespace, under the chosen name');
  const config = JSON.parse(nads[0].spec.config);
  t.same(config, { cniVersion: '0.3.1', name: 'rdma-ipvlan-conf', type: 'ipvlan', master: 'ens1f0', mode: 'l2', mtu: 9000, ipam: { type: 'nv-ipam', poolName: 'roce' } });
  const pools = docs.filter((d) => d.kind === 'IPPool').map((d) => `${d.metadata.name} ${d.spec.subnet}`);
  t.same(pools, ['ib-fabric 172.30.0.0/16', 'roce 172.31.0.0/16'], 'nv-ipam pools the networks draw from');
  t.ok(docs.some((d) => d.kind === 'IPoIBNetwork' && d.metadata.name === 'prod-ib-fabric'), 'IPoIB stays the operator\'s own network');
});

t.test('mdx\'s range: pods get 10.146.18.100 to .120 of the RoCE network, where the VMs\' own addresses are too', async (t) => {
  const out = await generatedSite('examples/mdx.yaml', { commit: false });
  const res = await runTool('helm', ['template', 'network-operator-networks', join(out, 'charts/network-operator-networks'), '--namespace', 'nvidia-network-operator']);
  t.equal(res.code, 0, res.stderr);
  const pool = (parseManifests(res.stdout) as any[]).find((d) => d.kind === 'IPPool' && d.metadata.name === 'roce');
  t.equal(pool.spec.subnet, '10.146.16.0/21', 'the pods\' interface has the RoCE network\'s mask');
  // What nv-ipam hands out: every address of the subnet outside its exclusions (startIP..endIP) and the gateway.
  const num = (ip: string) => ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
  const excluded = (ip: number) => (pool.spec.exclusions as { startIP: string; endIP: string }[]).some((x) => num(x.startIP) <= ip && ip <= num(x.endIP));
  const first = num('10.146.16.0');
  const free: number[] = [];
  for (let ip = first; ip < first + 2048; ip++) if (!excluded(ip)) free.push(ip);
  t.same([free.length, free[0], free.at(-1)], [21, num('10.146.18.100'), num('10.146.18.120')], 'exactly rangeStart..rangeEnd');
  const site = (await import('yaml')).parse(await readFile('examples/mdx.yaml', 'utf8'));
  for (const node of site.spec.nodes) t.notOk(free.includes(num(node.extraAddresses.roce)), `${node.name}'s RoCE address is never a pod's`);
});

t.test('ranges that hold a node address or overlap, and names given twice, are errors at their field', async (t) => {
  const dir = await tempDir();
  const text = (await readFile('examples/k0s-gpu.yaml', 'utf8')).replace(
    '        - {name: roce, type: ipvlan, master: ens1f0, attachmentName: rdma-ipvlan-conf, subnet: 172.31.0.0/16, mtu: 9000}\n',
    [
      '        - {name: roce, type: ipvlan, master: ens1f0, attachmentName: rdma-ipvlan-conf, subnet: 192.168.50.0/24}',
      '        - {name: roce2, type: ipvlan, master: ens1f1, attachmentName: rdma-ipvlan-conf, subnet: 172.30.128.0/17}',
      '        - {name: eth, type: macvlan, master: eth1, attachmentName: mine, subnet: 172.29.0.0/16}',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'site.yaml'), text);
  const res = await siteforge(['validate', join(dir, 'site.yaml')]);
  t.equal(res.code, 1);
  t.match(res.stderr, /networks\[1\]\.subnet: 192\.168\.50\.0\/24 includes 192\.168\.50\.10, node "ctl1"'s address: nv-ipam would give it to a pod/);
  t.match(res.stderr, /networks\[2\]\.subnet: 172\.30\.128\.0\/17 overlaps network "ib-fabric"'s 172\.30\.0\.0\/16/);
  t.match(res.stderr, /networks\[3\]\.attachmentName: attachmentName names an ipvlan network's attachment/);
  t.match(res.stderr, /two ipvlan networks are attached as "rdma-ipvlan-conf"/);
  t.match(res.stderr, /site\.yaml:\d+:\d+: error: spec\.components\.networkOperator\.networks\[1\]\.subnet/, 'with its position');
});

t.test('SR-IOV: a node policy per NIC, its IP pool and an attachment per environment; checked like the networks', async (t) => {
  const out = await generatedSite('examples/k0s-gpu.yaml', { commit: false });
  const res = await runTool('helm', ['template', 'network-operator-sriov', join(out, 'charts/network-operator-sriov'), '--namespace', 'nvidia-network-operator']);
  t.equal(res.code, 0, res.stderr);
  const docs = parseManifests(res.stdout) as any[];
  const policy = docs.find((d) => d.kind === 'SriovNetworkNodePolicy');
  t.same(policy.spec, { resourceName: 'sriov_rdma', numVfs: 8, deviceType: 'netdevice', isRdma: true, linkType: 'eth', nicSelector: { pfNames: ['ens1f1'], vendor: '15b3' }, nodeSelector: { 'hpc/pool': 'gpu' } });
  t.equal(policy.metadata.namespace, 'nvidia-network-operator', 'in the operator\'s namespace, where it watches');
  const network = docs.find((d) => d.kind === 'SriovNetwork');
  t.same([network.metadata.name, network.spec.networkNamespace, JSON.parse(network.spec.ipam)], ['prod-sriov-rdma', 'prod-gpufarm', { poolName: 'sriov-rdma', type: 'nv-ipam' }]);
  t.equal(docs.find((d) => d.kind === 'IPPool').spec.subnet, '172.28.0.0/16');
  // Without sriov: true, with a range over a node and a resource given twice: errors at their field.
  const dir = await tempDir();
  const text = (await readFile('examples/k0s-gpu.yaml', 'utf8'))
    .replace('      sriov: true\n', '')
    .replace('resourceName: sriov_rdma, nodeSelector: {hpc/pool: gpu}, subnet: 172.28.0.0/16}', 'resourceName: sriov_rdma, nodeSelector: {hpc/pool: gpu}, subnet: 192.168.0.0/16}\n        - {name: sriov-two, pfNames: [ens2f0], numVfs: 4, resourceName: sriov_rdma}');
  await writeFile(join(dir, 'site.yaml'), text);
  const bad = await siteforge(['validate', join(dir, 'site.yaml')]);
  t.equal(bad.code, 1);
  t.match(bad.stderr, /sriovPolicies: SR-IOV policies need the SR-IOV network operator, and sriov is not true/);
  t.match(bad.stderr, /sriovPolicies\[0\]\.subnet: 192\.168\.0\.0\/16 includes 192\.168\.50\.10, node "ctl1"'s address/);
  t.match(bad.stderr, /sriovPolicies\[1\]\.resourceName: resource "sriov_rdma" is given by two policies/);
});
