// StorageClasses of type localPath (one-node sites): Rancher's local-path-provisioner with a
// directory per volume on the pod's node. The provisioner's image cannot run here (no container
// runtime); its configuration is read the way the provisioner reads it (config.json with
// storageClassConfigs, nodePathMap left empty), and the helper pod's setup and teardown scripts
// run under busybox with the variables the provisioner gives them. verify's provisioner check runs
// on objects; the whole site verifies with the real charts in test/integration/storage.test.ts.
import t from 'tap';
import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, siteforge, tempDir } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';
import { parseManifests } from './helpers/k8s.ts';
import { CHECKS, type CheckContext } from '../generator/verify/checks.ts';

/** The minimal example with a localPath class (and a second one with its own path). */
async function oneNodeSite(): Promise<string> {
  const dir = await tempDir();
  const text = (await readFile(join(ROOT, 'examples/minimal.yaml'), 'utf8')).replace(
    '  environments: [prod]\n',
    '  storage:\n    classes:\n      - {name: local, type: localPath, default: true}\n      - {name: scratch, type: localPath, path: /scratch/k8s, reclaimPolicy: Delete}\n  environments: [prod]\n',
  );
  await writeFile(join(dir, 'site.yaml'), text);
  const res = await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit']);
  if (res.code !== 0) throw new Error(res.stderr);
  return dir;
}

const out = await oneNodeSite();
const rendered = await runTool('helm', ['template', 'local-path-provisioner', join(out, 'charts/local-path-provisioner'), '--namespace', 'local-path-storage']);
const objects = parseManifests(rendered.stdout) as any[];

t.test('the provisioner, its classes and its configuration as the provisioner reads them', async (t) => {
  t.equal(rendered.code, 0, rendered.stderr);
  const classes = objects.filter((o) => o.kind === 'StorageClass');
  t.same(classes.map((c) => [c.metadata.name, c.provisioner, c.volumeBindingMode, c.reclaimPolicy, c.metadata.annotations?.['storageclass.kubernetes.io/is-default-class']]), [
    ['local', 'rancher.io/local-path', 'WaitForFirstConsumer', 'Retain', 'true'],
    ['scratch', 'rancher.io/local-path', 'WaitForFirstConsumer', 'Delete', undefined],
  ], 'bound where the first pod is scheduled (the volume is that node\'s directory)');
  const config = JSON.parse(objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'local-path-config').data['config.json']);
  t.same(config, {
    nodePathMap: [],
    storageClassConfigs: {
      local: { nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: ['/var/lib/siteforge/local-path'] }] },
      scratch: { nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: ['/scratch/k8s'] }] },
    },
  }, 'each class its own directory (storageClassConfigs; nodePathMap empty, as the provisioner requires with them)');
  const deployment = objects.find((o) => o.kind === 'Deployment');
  const c = deployment.spec.template.spec.containers[0];
  t.same([c.image, c.command], ['docker.io/rancher/local-path-provisioner:v0.0.37', ['local-path-provisioner', 'start', '--config', '/etc/config/config.json']]);
  t.equal(c.volumeMounts[0].mountPath, '/etc/config/', 'where it reads config.json and the helper pod');
  const helper = parse(objects.find((o) => o.kind === 'ConfigMap').data['helperPod.yaml']);
  t.equal(helper.spec.containers[0].image, 'docker.io/library/busybox:1.38.0', 'the helper pod\'s image is pinned');
  const images = await readFile(join(out, 'images.txt'), 'utf8');
  for (const image of ['docker.io/rancher/local-path-provisioner:v0.0.37', 'docker.io/library/busybox:1.38.0']) t.ok(images.includes(image), `${image} is in images.txt (mirrored for air-gapped sites)`);
});

t.test('the helper pod\'s scripts make and remove a volume\'s directory, and nothing else', async (t) => {
  const data = objects.find((o) => o.kind === 'ConfigMap').data;
  const dir = await tempDir();
  const bin = join(dir, 'bin');
  await mkdir(bin);
  for (const tool of ['sh', 'mkdir', 'rm']) await symlink('/bin/busybox', join(bin, tool));
  for (const name of ['setup', 'teardown']) await writeFile(join(dir, name), data[name]);
  // As the provisioner runs them: sh <script> with VOL_DIR, VOL_MODE and VOL_SIZE_BYTES.
  const run = (script: string, volDir: string) => runTool('sh', [join(dir, script)], { env: { PATH: bin, VOL_DIR: volDir, VOL_MODE: 'Filesystem', VOL_SIZE_BYTES: '1073741824' } });
  const volume = join(dir, 'var/lib/siteforge/local-path/pvc-1234_prod-mini_data data');
  t.equal((await run('setup', volume)).code, 0);
  t.equal((await stat(volume)).mode & 0o777, 0o777, 'the volume\'s directory, writable by any pod user');
  await writeFile(join(volume, 'file'), 'x');
  t.equal((await run('teardown', volume)).code, 0);
  t.notOk(existsSync(volume), 'teardown removes it with what it holds');
  t.ok(existsSync(join(dir, 'var/lib/siteforge/local-path')), 'and leaves the class\'s directory');
  for (const bad of ['/', '/etc', '']) {
    t.not((await run('teardown', bad)).code, 0, `teardown refuses VOL_DIR=${JSON.stringify(bad)}`);
  }
  t.ok(existsSync('/etc/hostname') || existsSync('/etc/passwd'), 'nothing outside a volume was touched');
});

t.test('verify warns of a class whose provisioner runs nowhere in the site', async (t) => {
  const check = CHECKS.find((c) => c.name === 'claims bind')!.check;
  const sc = (name: string, provisioner: string) => ({ object: { kind: 'StorageClass', metadata: { name }, provisioner }, source: 'test' });
  const provisionerPod = { object: { kind: 'Deployment', metadata: { name: 'local-path-provisioner' }, spec: { template: { spec: { containers: [{ name: 'p', command: ['local-path-provisioner', 'start'] }] } } } }, namespace: 'local-path-storage', source: 'test' };
  const csi = { object: { kind: 'CSIDriver', metadata: { name: 'nfs.csi.k8s.io' } }, source: 'test' };
  const warnings = (objs: unknown[]) => check({ objects: objs } as unknown as CheckContext).map((p) => `${p.severity}: ${p.message}`);
  t.same(warnings([sc('local', 'rancher.io/local-path'), provisionerPod, sc('nfs', 'nfs.csi.k8s.io'), csi]), [], 'both provisioners run');
  t.match(warnings([sc('local', 'rancher.io/local-path'), sc('exa', 'exa.csi.ddn.com')]), [
    /^warning: StorageClass local's provisioner rancher.io\/local-path runs nowhere in this site/,
    /^warning: StorageClass exa's provisioner exa.csi.ddn.com runs nowhere in this site/,
  ]);
});

t.test('a class is of one type: its fields, and a warning for local volumes on a site of several nodes', async (t) => {
  const res = await siteforge(['validate', join(ROOT, 'test/fixtures/invalid/storage-class-types.yaml')]);
  t.equal(res.code, 1);
  t.match(res.stderr, /spec\.storage\.classes\[0\]: NFS class "nfs" has no share/);
  t.match(res.stderr, /spec\.storage\.classes\[1\]\.server: server belongs to an NFS class/);
  t.match(res.stderr, /spec\.storage\.classes\[1\]: class "local" keeps each volume on the disk of one of the 2 nodes/);
});
