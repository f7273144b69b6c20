// Which Kubernetes versions the pinned charts support: the table in upstream-charts.yaml holds
// each chart's own kubeVersion (checked against the real charts in ../shared/charts), Helm's
// range syntax is read as Helm reads it, and validate warns when the site is outside a range.
import t from 'tap';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, siteforge, tempDir } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';
import { satisfies } from '../generator/model/compatibility.ts';

t.test('Helm kubeVersion ranges', async (t) => {
  const cases: [string, string, boolean][] = [
    ['v1.31.4', '>= 1.22.0-0', true],
    ['v1.24.9', '>=1.25.0-0', false],
    ['v1.25.0', '>=1.25.0-0', true],
    ['v1.31.4', '>=1.25.0-0 <1.31.0-0', false],
    ['v1.30.9', '>=1.25.0-0, <1.31.0-0', true],
    ['v1.20.1', '>=1.25.0 || <1.21', true],
    ['v1.22.0', '>=1.25.0 || <1.21', false],
  ];
  for (const [version, range, expected] of cases) t.equal(satisfies(version, range), expected, `${version} in ${range}`);
});

t.test('the table holds each pinned chart\'s own kubeVersion', async (t) => {
  const table = parse(await readFile(join(ROOT, 'generator/components/upstream-charts.yaml'), 'utf8')) as Record<string, { repository?: string; version: string; kubeVersion?: string }>;
  const shared = join(ROOT, '..', 'shared', 'charts');
  const archives = await readdir(shared);
  for (const [name, entry] of Object.entries(table).filter(([, e]) => e.repository)) {
    const archive = archives.find((a) => a === `${name}-${entry.version}.tgz`);
    if (!archive) {
      t.fail(`${name} ${entry.version} is not in ../shared/charts`);
      continue;
    }
    const chart = parse((await runTool('tar', ['-xzOf', join(shared, archive), `${name}/Chart.yaml`])).stdout) as { kubeVersion?: string };
    t.equal(entry.kubeVersion, chart.kubeVersion, `${name}: kubeVersion as its Chart.yaml declares it`);
  }
});

t.test('validate warns when a pinned chart does not declare the site\'s Kubernetes version', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), (await readFile('site.yaml', 'utf8')).replace('version: v1.31.4+rke2r1', 'version: v1.24.9+rke2r1'));
  const res = await siteforge(['validate', join(dir, 'site.yaml')]);
  t.equal(res.code, 0, 'a warning, not an error');
  t.match(res.stderr, /site\.yaml:\d+:14: warning: spec\.distribution\.version: monitoring: the pinned kube-prometheus-stack chart declares Kubernetes >=1\.25\.0-0, and the site runs v1\.24\.9\+rke2r1/);
  t.notMatch((await siteforge(['validate', 'site.yaml'])).stderr, /declares Kubernetes/, 'the example is inside every range');
});
