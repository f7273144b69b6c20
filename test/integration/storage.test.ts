// Storage that binds: a volume exposed to some environments only, and the dynamic class that
// Harbor's and Prometheus's claims use — checked on what helm renders with the real charts.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, siteforge, tempDir } from '../helpers/cli.ts';

const CHARTS = join(ROOT, '..', 'shared', 'charts');

t.test('a volume named for one environment is claimed and mounted there only; every stateful claim binds', async (t) => {
  const dir = await tempDir();
  const spec = (await readFile(join(ROOT, 'examples/minimal.yaml'), 'utf8')).replace(
    '  environments: [prod]\n',
    `  environments: [dev, prod]
  storage:
    volumes:
      - {name: scratch, type: nfs, server: 172.16.0.5, path: /export/scratch, size: 1Ti, environments: [dev]}
      - {name: software, type: nfs, server: 172.16.0.5, path: /export/software, size: 1Ti, readOnly: true}
    classes:
      - {name: nfs, server: 172.16.0.5, share: /export/k8s, default: true}
  components:
    certManager: {enabled: true}
    ingressNginx: {enabled: true}
    harbor: {enabled: true}
    monitoring: {enabled: true}
    argoWorkflows: {enabled: true}
  workflows:
    - {name: test, environment: dev, image: harbor.mini.example.net/library/spack:0.22.1, steps: [run]}
    - {name: release, environment: prod, image: harbor.mini.example.net/library/spack:0.22.1, steps: [run]}
`,
  );
  await writeFile(join(dir, 'site.yaml'), spec);
  const res = await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit']);
  t.equal(res.code, 0, res.stderr);
  const names = async (file: string, key: string) => (parse(await readFile(join(dir, file), 'utf8'))[key] as { name: string }[]).map((v) => v.name).sort();
  t.same(await names('environments/dev/storage.yaml', 'volumes'), ['scratch', 'software']);
  t.same(await names('environments/prod/storage.yaml', 'volumes'), ['software'], 'prod gets no claim for the dev-only volume');
  const workflowVolumes = async (env: string) => (parse(await readFile(join(dir, `environments/${env}/workflows.yaml`), 'utf8')).workflows as { spec: { volumes?: { name: string; persistentVolumeClaim?: unknown }[] } }[]).flatMap((w) => (w.spec.volumes ?? []).filter((v) => v.persistentVolumeClaim).map((v) => v.name)).sort();
  t.same(await workflowVolumes('prod'), ['software'], 'prod workflows do not mount it');
  t.same(await workflowVolumes('dev'), ['scratch', 'software'], 'dev workflows mount both');
  const verify = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--json']);
  const report = JSON.parse(verify.stdout);
  t.same(report.problems, [], 'every claim binds (Harbor, Prometheus, the volumes) and every mount resolves');
  t.equal(verify.code, 0);

  const bad = await siteforge(['validate', join(dir, 'site.yaml')].concat([]), {});
  t.equal(bad.code, 0);
  await writeFile(join(dir, 'site.yaml'), spec.replace('environments: [dev]}', 'environments: [test]}'));
  const unknown = await siteforge(['validate', join(dir, 'site.yaml')]);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /spec\.storage\.volumes\[0\]\.environments\[0\]: environment "test" is not in spec\.environments/);
});

t.test('a one-node site on local paths: Harbor\'s and Prometheus\'s claims bind to the localPath class, its provisioner runs', async (t) => {
  const dir = await tempDir();
  const spec = (await readFile(join(ROOT, 'examples/minimal.yaml'), 'utf8')).replace(
    '  environments: [prod]\n',
    `  environments: [prod]
  storage:
    classes: [{name: local, type: localPath, default: true}]
  components:
    certManager: {enabled: true}
    metallb: {enabled: true, addresses: [172.16.0.200-172.16.0.210]}
    harbor: {enabled: true}
    monitoring: {enabled: true}
`,
  );
  await writeFile(join(dir, 'site.yaml'), spec);
  const generated = await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit']);
  t.equal(generated.code, 0, generated.stderr);
  const verify = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--json']);
  const report = JSON.parse(verify.stdout) as { problems: unknown[]; releases: { name: string }[] };
  t.same(report.problems, [], 'every claim binds (claims bind: the class exists, and its provisioner runs)');
  t.ok(report.releases.some((r) => r.name === 'local-path-provisioner'), 'the provisioner is a release of the site');
  t.equal(verify.code, 0);
});
