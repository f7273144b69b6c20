// siteforge verify with the real upstream charts (../shared/charts): every example and test site
// deploys as rendered (0 problems), and the report a reviewer reads. Variants of the example
// (tainted servers, CIS, restricted environments, SSO, BGP pools) are in
// verify-sites.test.ts, the undeployable corpus in verify-undeployable.test.ts (all with the
// integration suite: each renders every chart).
import t from 'tap';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, siteforge, tempDir } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';

const CHARTS = join(ROOT, '..', 'shared', 'charts');
/** The upstream kustomize trees (the MPI operator's tag) as source archives. */
const MANIFESTS = join(ROOT, '..', 'shared', 'manifests');

t.test('the shared upstream charts are there (CI has ../shared beside the clone)', async (t) => {
  t.ok(existsSync(join(CHARTS, 'harbor-1.19.1.tgz')), CHARTS);
});

for (const spec of ['site.yaml', 'examples/k0s-gpu.yaml', 'examples/minimal.yaml', 'examples/hpk.yaml', 'examples/sandia.yaml', 'examples/mdx.yaml']) {
  t.test(`${spec} verifies clean with the real upstream charts`, async (t) => {
    const out = spec === 'site.yaml' ? ROOT : await tempDir();
    if (out !== ROOT) t.equal((await siteforge(['generate', spec, '--out', out, '--no-commit'])).code, 0);
    // How long it takes is measured by npm run bench, not asserted here.
    const res = await siteforge(['verify', spec, '--out', out, '--charts', CHARTS, '--manifests', MANIFESTS, '--json']);
    t.equal(res.code, 0, res.stdout + res.stderr);
    const json = JSON.parse(res.stdout);
    t.ok(json.releases.length >= 1, 'releases rendered');
    for (const r of json.releases) t.ok(r.objects > 0, `${r.name}: objects rendered`);
    t.ok(json.releases.filter((r: { upstream: string | null }) => r.upstream).every((r: { upstream: string }) => /\d/.test(r.upstream)), 'upstream charts named with their versions');
    t.same(json.problems, []);
    t.same(json.skipped, [], 'every release rendered, kustomize trees included');
    if (out !== ROOT) await rm(out, { recursive: true, force: true });
  });
}

t.test('the MPI operator is rendered from its upstream tag as the generated CI fetches it', async (t) => {
  // The CI line, run for real: git clone of the pinned tag (served here from a local repository
  // holding the tag's tree, through git's insteadOf), git archive, then verify --manifests.
  const out = await tempDir();
  t.equal((await siteforge(['generate', 'examples/k0s-gpu.yaml', '--out', out, '--no-commit'])).code, 0);
  const workflow = parse(await readFile(join(out, '.github/workflows/siteforge.yml'), 'utf8'));
  const line: string = workflow.jobs.review.steps.map((s: { run?: string }) => s.run ?? '').find((r: string) => r.includes('verify'));
  const fetchPart = line.slice(0, line.indexOf(' && for c in charts/'));
  t.match(fetchPart, /git clone -q --depth 1 --branch v0\.8\.0 https:\/\/github\.com\/kubeflow\/mpi-operator\.git/);
  const upstream = await tempDir();
  await runTool('tar', ['-xzf', join(MANIFESTS, 'mpi-operator-v0.8.0.tar.gz'), '-C', upstream, '--strip-components=1']);
  for (const args of [['init', '-q'], ['add', '-A'], ['-c', 'user.name=t', '-c', 'user.email=t@example.net', 'commit', '-q', '-m', 'v0.8.0'], ['tag', 'v0.8.0']]) {
    t.equal((await runTool('git', args, { cwd: upstream })).code, 0, `git ${args.join(' ')}`);
  }
  const tmp = await tempDir();
  const env = { TMPDIR: tmp, GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: `url.file://${upstream}.insteadOf`, GIT_CONFIG_VALUE_0: 'https://github.com/kubeflow/mpi-operator.git' };
  const fetched = await runTool('bash', ['-c', fetchPart], { cwd: out, env });
  t.equal(fetched.code, 0, fetched.stderr);
  const res = await siteforge(['verify', 'examples/k0s-gpu.yaml', '--out', out, '--charts', CHARTS, '--manifests', join(tmp, 'siteforge-manifests'), '--json']);
  t.equal(res.code, 0, res.stdout);
  const json = JSON.parse(res.stdout);
  const mpi = json.releases.find((r: { name: string }) => r.name === 'mpi-operator');
  t.match(mpi, { upstream: 'mpi-operator v0.8.0 (kustomize manifests/overlays/standalone)' });
  t.ok(mpi.objects >= 5, 'its CRD, Deployment, RBAC and namespace');
  t.same(json.skipped, []);
});

t.test('the report a reviewer reads: per release, the checks, the count', async (t) => {
  const res = await siteforge(['verify', 'site.yaml', '--charts', CHARTS, '--manifests', MANIFESTS]);
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /^verify hpc4 \(.*\): \d+ releases rendered, \d+ objects\n/);
  t.match(res.stdout, /\n {2}harbor +\d+ objects {2}upstream harbor 1\.19\.1/);
  t.match(res.stdout, /\nchecks: namespaces exist, .*built-in objects match the Kubernetes API schemas \(strict\), .*Harbor reachable and trusted by the node mirrors, .*no unauthenticated admin UI, pods meet their namespace's Pod Security level, fields the charts fill in are left alone by the GitOps engine, HPK: nothing needs a node, a Service address or a GPU resource\n/);
  t.match(res.stdout, /\n0 problems\n$/);
});
