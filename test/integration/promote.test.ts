// Environment promotion: a workflow runs in dev and prod with a dev pin; `siteforge promote dev
// prod` changes the spec only at prod's pin (comments and layout kept), rolls only prod's release,
// and commits with a message naming what was promoted. A per-environment change rolls only that
// environment; a cluster-wide chart bump is said to be shared by every environment.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { parse } from 'yaml';
import { ROOT, siteforge, tempDir } from '../helpers/cli.ts';
import { promoteSpec } from '../../generator/spec/promote.ts';

const EXAMPLE = await readFile(join(ROOT, 'site.yaml'), 'utf8');
const DEV_IMAGE = 'harbor.hpc4.example.edu/library/spack:0.23.0';

/** A committed site from the example spec (text), in a new repository. */
async function committedSite(text = EXAMPLE): Promise<string> {
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), text);
  const res = await siteforge(['generate', join(dir, 'site.yaml')]);
  if (res.code !== 0) throw new Error(res.stderr);
  return dir;
}

t.test('promoteSpec edits only the target pin: every other line, comments included, stays', async (t) => {
  const { text, promoted } = promoteSpec(EXAMPLE, 'dev', 'prod');
  t.same(promoted.map((p) => p.workflow), ['spack-stack'], 'the one workflow that runs in both');
  const before = EXAMPLE.split('\n');
  const after = text.split('\n');
  t.equal(after.length, before.length + 1, 'one line more');
  const added = after.filter((line, i) => line !== before[i - (i > after.indexOf(`        prod: {image: ${DEV_IMAGE}}`) ? 1 : 0)]);
  t.same(added, [`        prod: {image: ${DEV_IMAGE}}`], 'the added line is prod\'s pin, beside dev\'s, in the same style');
  t.same(after.filter((l) => l !== added[0]), before, 'every other line is unchanged, in order (comments and flow style kept)');
  t.equal(promoteSpec(text, 'dev', 'prod').promoted.length, 0, 'promoting again changes nothing');
  // Back: dev has its pin, prod the same; a prod → dev promotion changes nothing either.
  t.equal(promoteSpec(text, 'prod', 'dev').text, text);
  // Without a dev pin, prod's own pin goes: prod runs the shared definition, as dev does.
  const devShared = text.replace(`        dev: {image: ${DEV_IMAGE}}\n`, '');
  const dropped = promoteSpec(devShared, 'dev', 'prod');
  t.notMatch(dropped.text, /pins:/, 'the last pin goes with its pins: key (an empty one would be null)');
  t.match(dropped.promoted[0]?.change ?? '', /drops its pin/);
  t.same(parse(dropped.text).spec.workflows[2].environments, ['dev', 'prod']);
});

t.test('block-style pins are copied as blocks, with comments elsewhere kept', async (t) => {
  const text = [
    'spec:',
    '  workflows:',
    '    - name: w   # the build',
    '      environments: [dev, prod]',
    '      image: r/x:1',
    '      pins:',
    '        dev:    # trying 2',
    '          image: r/x:2',
    '          parameters: {tag: "2"}',
    '',
  ].join('\n');
  const { text: out } = promoteSpec(text, 'dev', 'prod');
  t.equal(out, `${text}        prod:\n          image: r/x:2\n          parameters: {tag: "2"}\n`);
  t.same(parse(out).spec.workflows[0].pins.prod, { image: 'r/x:2', parameters: { tag: '2' } });
});

t.test('promote dev prod: spec diff at prod\'s pin, only prod\'s release rolls, a commit naming it', async (t) => {
  const dir = await committedSite();
  const spec = join(dir, 'site.yaml');
  const planned = await siteforge(['plan', spec, '--json']);
  t.equal(JSON.parse(planned.stdout).upToDate, true, 'generated and committed');
  const res = await siteforge(['promote', 'dev', 'prod', spec]);
  t.equal(res.code, 0, res.stderr);
  t.match(res.stdout, /promote dev → prod: workflow spack-stack pins image as dev does/);
  t.match(res.stdout, /releases that upgrade: workflows-prod \(prod: its environment values changed\)/, 'the plan names prod\'s release');
  t.notMatch(res.stdout, /workflows-dev/, 'dev does not roll');
  const git = simpleGit(dir);
  const log = await git.log();
  t.equal(log.latest?.message, 'siteforge: promote dev → prod in hpc4: workflow spack-stack (0 added, 3 changed, 0 removed)');
  const changed = (await git.diff(['--name-only', 'HEAD~1', 'HEAD'])).trim().split('\n').sort();
  t.same(changed, ['.siteforge/manifest.json', 'clusters/hpc4/apps/workflows-prod.yaml', 'environments/prod/workflows.yaml', 'images.txt', 'site.yaml'], 'the spec and prod\'s files, no chart');
  const specDiff = (await git.diff(['-U0', 'HEAD~1', 'HEAD', '--', 'site.yaml'])).split('\n').filter((l) => /^[+-][^+-]/.test(l));
  t.same(specDiff, [`+        prod: {image: ${DEV_IMAGE}}`], 'the spec diff is prod\'s pin');
  const prod = parse(await readFile(join(dir, 'environments/prod/workflows.yaml'), 'utf8'));
  const stack = prod.workflows.find((w: { name: string }) => w.name === 'spack-stack');
  t.equal(stack.spec.templates.find((x: { name: string }) => x.name === 'step-concretize').container.image, DEV_IMAGE, 'prod\'s WorkflowTemplate runs dev\'s image');
  const again = await siteforge(['promote', 'dev', 'prod', spec]);
  t.equal(again.code, 0);
  t.match(again.stdout, /nothing to promote/);
});

t.test('a dev-only change rolls dev only; no chart version moves', async (t) => {
  const dir = await committedSite();
  const spec = join(dir, 'site.yaml');
  await writeFile(spec, EXAMPLE.replace(`dev: {image: ${DEV_IMAGE}}`, 'dev: {image: harbor.hpc4.example.edu/library/spack:0.23.1}'));
  const res = await siteforge(['plan', spec, '--json']);
  const report = JSON.parse(res.stdout);
  t.same(report.summary.releaseUpgrades, [{ release: 'workflows-dev', environment: 'dev', why: 'values' }]);
  t.same(report.files.changed.map((f: { path: string }) => f.path).sort(), ['clusters/hpc4/apps/workflows-dev.yaml', 'environments/dev/workflows.yaml', 'images.txt']);
});

t.test('a cluster-wide chart bump is shared by every environment, and promote says there is nothing to promote', async (t) => {
  const dir = await committedSite();
  const spec = join(dir, 'site.yaml');
  await writeFile(spec, EXAMPLE.replace('harbor: {enabled: true, auth: {mode: ldap}}', 'harbor: {enabled: true, auth: {mode: ldap}, chartVersion: 1.19.2}'));
  const res = await siteforge(['plan', spec]);
  t.match(res.stdout, /releases that upgrade: harbor \(cluster-wide, shared by dev, prod: new wrapper chart version\)/);
  const md = await siteforge(['plan', spec, '--markdown']);
  t.match(md.stdout, /\| `harbor` \| cluster-wide, shared by dev, prod \| new wrapper chart version \|/);
  const promote = await siteforge(['promote', 'dev', 'prod', spec, '--component', 'harbor']);
  t.equal(promote.code, 1);
  t.match(promote.stderr, /harbor is cluster-wide: harbor serves every environment \(dev, prod\), so there is nothing to promote from dev to prod/);
  const unknown = await siteforge(['promote', 'dev', 'staging', spec]);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /environment staging is not in spec.environments/);
  t.equal(await readFile(spec, 'utf8'), EXAMPLE.replace('harbor: {enabled: true, auth: {mode: ldap}}', 'harbor: {enabled: true, auth: {mode: ldap}, chartVersion: 1.19.2}'), 'refusals leave the spec as it was');
});

t.test('pins are validated like the workflow they change', async (t) => {
  const dir = await tempDir();
  const spec = join(dir, 'site.yaml');
  const bad = EXAMPLE.replace(`dev: {image: ${DEV_IMAGE}}`, 'dev: {image: "docker.io/library/spack:latest"}\n        staging: {image: r/x:1}').replace('      environments: [dev, prod]\n', '      environments: [dev, prod]\n      environment: dev\n');
  await writeFile(spec, bad);
  const res = await siteforge(['validate', spec]);
  t.equal(res.code, 1);
  t.match(res.stderr, /spec\.workflows\[2\]\.environments: workflow "spack-stack" needs exactly one of environment and environments/);
  t.match(res.stderr, /spec\.workflows\[2\]\.pins\.staging: workflow "spack-stack" pins environment "staging", which it does not run in/);
  t.match(res.stderr, /warning: spec\.workflows\[2\]\.pins\.dev\.image: image "docker\.io\/library\/spack:latest" is not pinned/);
});
