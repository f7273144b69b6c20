// Named MetalLB pools, as MetalLB and the Services read them: the example's default and public
// pools render as IPAddressPools with their L2 advertisements (interfaces kept), a component's
// Service names its pool; a BGP pool renders its advertisement and peers; pools stay disjoint, and
// choices name pools that exist.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT, generatedSite, siteforge, tempDir } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';

const render = async (chart: string, namespace: string) => {
  const res = await runTool('helm', ['template', chart.split('/').pop()!, chart, '--namespace', namespace]);
  if (res.code !== 0) throw new Error(res.stderr);
  return parseAllDocuments(res.stdout).map((d) => d.toJS()).filter(Boolean);
};

t.test('the example: a default pool for everyone, a public pool only for who names it', async (t) => {
  const out = await generatedSite('site.yaml', { commit: false });
  const objects = await render(join(out, 'charts/metallb-config'), 'metallb-system');
  const pools = objects.filter((o) => o.kind === 'IPAddressPool').map((o) => [o.metadata.name, o.spec.addresses, o.spec.autoAssign]);
  t.same(pools, [['hpc4-pool', ['10.40.0.200-10.40.0.210'], true], ['public', ['10.40.0.220-10.40.0.229'], false]]);
  const l2 = objects.filter((o) => o.kind === 'L2Advertisement').map((o) => [o.spec.ipAddressPools, o.spec.interfaces]);
  t.same(l2, [[['hpc4-pool'], undefined], [['public'], ['eth0']]], 'each pool announced by L2, public only on eth0');
  const proxy = (await render(join(out, 'charts/ssh-proxy'), 'ssh-proxy')).find((o) => o.kind === 'Service');
  t.equal(proxy.metadata.annotations['metallb.io/address-pool'], 'public', 'the SSH proxy asks MetalLB for the public pool');
  t.equal(proxy.spec.loadBalancerIP, '10.40.0.220');
});

t.test('a BGP pool: its advertisement and peers (verified against the real MetalLB CRDs in integration/verify-sites.test.ts)', async (t) => {
  const dir = await tempDir();
  const spec = (await readFile(join(ROOT, 'site.yaml'), 'utf8')).replace(
    'pools: [{name: public, addresses: [10.40.0.220-10.40.0.229], interfaces: [eth0]}]',
    'pools: [{name: public, addresses: [10.40.0.220-10.40.0.229], advertisement: bgp}]\n      bgpPeers: [{name: core, address: 10.40.0.1, peerASN: 64512, myASN: 64513}]',
  );
  await writeFile(join(dir, 'site.yaml'), spec);
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit'])).code, 0);
  const objects = await render(join(dir, 'charts/metallb-config'), 'metallb-system');
  t.same(objects.filter((o) => o.kind === 'BGPAdvertisement').map((o) => o.spec.ipAddressPools), [['public']]);
  t.same(objects.filter((o) => o.kind === 'BGPPeer').map((o) => [o.apiVersion, o.spec.peerAddress, o.spec.peerASN, o.spec.myASN]), [['metallb.io/v1beta2', '10.40.0.1', 64512, 64513]]);
});

t.test('pools stay disjoint; BGP needs a peer; a choice names a pool that exists', async (t) => {
  const dir = await tempDir();
  const spec = (await readFile(join(ROOT, 'site.yaml'), 'utf8'))
    .replace('pools: [{name: public, addresses: [10.40.0.220-10.40.0.229], interfaces: [eth0]}]', 'pools: [{name: public, addresses: [10.40.0.205-10.40.0.225], advertisement: bgp}]')
    .replace('      pool: public\n', '      pool: dmz\n');
  await writeFile(join(dir, 'site.yaml'), spec);
  const res = await siteforge(['validate', join(dir, 'site.yaml')]);
  t.equal(res.code, 1);
  t.match(res.stderr, /spec\.components\.metallb\.pools\[0\]\.addresses\[0\]: "10\.40\.0\.205-10\.40\.0\.225" of pool public overlaps "10\.40\.0\.200-10\.40\.0\.210" of pool hpc4-pool/);
  t.match(res.stderr, /spec\.components\.metallb\.pools\[0\]\.advertisement: pool "public" is announced by BGP, and there are no bgpPeers/);
  t.match(res.stderr, /spec\.components\.sshProxy\.pool: MetalLB has no pool "dmz"/);
});
