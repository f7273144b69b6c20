// Only changed releases roll: a wrapper chart's version changes exactly when what it renders can
// change, is stable otherwise, grows monotonically, and Flux upgrades on it (ChartVersion).
import t from 'tap';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, siteforge, tempDir } from './helpers/cli.ts';
import { nextChartVersion } from '../generator/render/chart-versions.ts';

async function chartVersions(out: string): Promise<Record<string, string>> {
  const names = await readdir(join(out, 'charts'));
  return Object.fromEntries(await Promise.all(names.map(async (n) => [n, parse(await readFile(join(out, 'charts', n, 'Chart.yaml'), 'utf8')).version as string])));
}

t.test('a chart\'s values bump that chart alone; an environment\'s values roll that environment\'s release only; plan names both', async (t) => {
  const dir = await tempDir();
  const base = (await readFile(join(ROOT, 'examples/minimal.yaml'), 'utf8')).replace(
    '  environments: [prod]\n',
    '  environments: [dev, prod]\n  storage:\n    volumes:\n      - {name: builds, type: nfs, server: 172.16.0.5, path: /export/builds, size: 1Ti}\n',
  );
  await writeFile(join(dir, 'site.yaml'), base);
  t.equal((await siteforge(['generate', join(dir, 'site.yaml')])).code, 0);
  const first = await chartVersions(dir);
  t.same(first, { 'csi-driver-nfs': '4.13.4-sf.1', namespaces: '0.1.0-sf.1', storage: '0.1.0-sf.1' });

  // The README (a seed) and a comment in the spec change nothing a chart renders.
  await writeFile(join(dir, 'README.md'), '# our site\n');
  await writeFile(join(dir, 'site.yaml'), `${base}# a comment\n`);
  t.equal((await siteforge(['generate', join(dir, 'site.yaml')])).code, 0);
  t.same(await chartVersions(dir), first, 'no chart version changes');

  // One environment's values (here: the volume size, in each environment's storage values) roll
  // those releases, and no chart: the shared chart renders the same.
  await writeFile(join(dir, 'site.yaml'), base.replace('size: 1Ti', 'size: 2Ti'));
  const plan = await siteforge(['plan', join(dir, 'site.yaml')]);
  t.match(plan.stdout, /releases that upgrade: storage-dev \(dev: its environment values changed\), storage-prod \(prod: its environment values changed\)\n/);
  t.equal((await siteforge(['generate', join(dir, 'site.yaml')])).code, 0);
  t.same(await chartVersions(dir), first, 'no chart version moves for environment values');
  const release = parse(await readFile(join(dir, 'clusters/mini/infrastructure/storage-prod.yaml'), 'utf8'));
  t.equal(release.spec.chart.spec.reconcileStrategy, 'ChartVersion', 'Flux builds a new chart artifact only on a version change');
  t.equal(release.spec.values.volumes[0].size, '2Ti', 'prod\'s values are in its HelmRelease: Flux upgrades it because they changed');
  t.same(release.spec.chart.spec.valuesFiles, ['./charts/storage/values.yaml'], 'the chart artifact carries only the shared values');

  // A chart's own values (the namespaces' Pod Security level) bump that chart alone, by one.
  await writeFile(join(dir, 'site.yaml'), base.replace('size: 1Ti', 'size: 2Ti').replace('  environments: [dev, prod]\n', '  environments: [dev, prod]\n  components:\n    namespaces: {podSecurity: restricted}\n'));
  const bump = await siteforge(['plan', join(dir, 'site.yaml')]);
  t.match(bump.stdout, /releases that upgrade: namespaces \(cluster-wide, shared by dev, prod: new wrapper chart version\)\n/);
  t.equal((await siteforge(['generate', join(dir, 'site.yaml')])).code, 0);
  t.same(await chartVersions(dir), { ...first, namespaces: '0.1.0-sf.2' }, 'only the namespaces chart moves, by one');
  t.match(await readFile(join(dir, 'releases/namespaces.yaml'), 'utf8'), /chart: \.\/charts\/namespaces\n\s+version: 0\.1\.0-sf\.2\n/, 'helmfile names the same version');
  await rm(dir, { recursive: true, force: true });
});

t.test('versions: stable for the same content, one up for new content, reset when the upstream moves', async (t) => {
  t.equal(nextChartVersion('1.19.1', 'h1', undefined), '1.19.1-sf.1');
  t.equal(nextChartVersion('1.19.1', 'h1', { hash: 'h1', version: '1.19.1-sf.4' }), '1.19.1-sf.4');
  t.equal(nextChartVersion('1.19.1', 'h2', { hash: 'h1', version: '1.19.1-sf.9' }), '1.19.1-sf.10');
  t.equal(nextChartVersion('1.19.2', 'h2', { hash: 'h1', version: '1.19.1-sf.9' }), '1.19.2-sf.1');
});
