// End to end: generate site.yaml, the minimal site and HPK into a fresh directory, get a commit;
// generate again and get no commit and no touched file; the committed top-level output is current.
// (The other examples: test/integration/generate-examples.test.ts.)
import t from 'tap';
import { simpleGit } from 'simple-git';
import { siteforge, snapshotTree, tempDir } from './helpers/cli.ts';
import { generateIdempotently } from './helpers/generate.ts';

// One example per distribution path here; the others in test/integration/generate-examples.test.ts.
const EXAMPLES = ['site.yaml', 'examples/minimal.yaml', 'examples/hpk.yaml'];

for (const spec of EXAMPLES) generateIdempotently(spec);

t.test('--no-commit writes but does not commit; the next run commits', async (t) => {
  const out = await tempDir();
  const first = await siteforge(['generate', 'examples/minimal.yaml', '--out', out, '--no-commit']);
  t.equal(first.code, 0, first.stderr);
  t.notMatch(first.stdout, /committed/);
  const git = simpleGit(out);
  t.equal(await git.checkIsRepo(), false, 'no repository created');
  const second = await siteforge(['generate', 'examples/minimal.yaml', '--out', out]);
  t.match(second.stdout, /up to date; committed [0-9a-f]+/);
});

t.test('the committed top-level output for site.yaml is current', async (t) => {
  const check = await siteforge(['generate', 'site.yaml', '--check']);
  t.equal(check.code, 0, `generate --check: ${check.stdout}${check.stderr}`);
  t.match(check.stdout, /^up to date/);
});

t.test('--check lists what would change and exits 1, writing nothing', async (t) => {
  const out = await tempDir();
  const check = await siteforge(['generate', 'examples/minimal.yaml', '--out', out, '--check']);
  t.equal(check.code, 1);
  t.match(check.stdout, /out of date: generate would change .* \(\d+ added, 0 changed, 0 removed\)/);
  t.match(check.stdout, /\n {2}\+ charts\/namespaces\/Chart\.yaml\n/);
  t.same([...(await snapshotTree(out)).keys()], [], 'nothing written');
});
