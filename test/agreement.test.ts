// generate, generate --check and plan share one write plan and one summary: the same refusals,
// the same counts, the same exit codes; the commit message counts what the console counts.
import t from 'tap';
import { copyFile, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { simpleGit } from 'simple-git';
import { ROOT, siteforge, tempDir } from './helpers/cli.ts';

const MINIMAL = join(ROOT, 'examples', 'minimal.yaml');

t.test('a hand-edited generated file: all three refuse, with the same words and exit 1', async (t) => {
  const out = await tempDir();
  t.equal((await siteforge(['generate', MINIMAL, '--out', out])).code, 0);
  await writeFile(join(out, 'helmfile.yaml'), `${await readFile(join(out, 'helmfile.yaml'), 'utf8')}# my edit\n`);
  const refusal = '! helmfile.yaml: edited by hand since siteforge generated it';
  const generate = await siteforge(['generate', MINIMAL, '--out', out]);
  t.equal(generate.code, 1);
  t.match(generate.stderr, refusal);
  const check = await siteforge(['generate', MINIMAL, '--out', out, '--check']);
  t.equal(check.code, 1);
  t.match(check.stdout, /generate would refuse to write .* \(0 added, 0 changed, 0 removed, 1 refused\)/);
  t.match(check.stderr, refusal);
  const plan = await siteforge(['plan', MINIMAL, '--out', out]);
  t.equal(plan.code, 1, 'plan does not say "up to date" when generate would refuse');
  t.match(plan.stdout, /0 added, 0 changed, 0 removed, 1 refused/);
  t.match(plan.stderr, refusal);
  const json = await siteforge(['plan', MINIMAL, '--out', out, '--json']);
  t.equal(json.code, 1);
  const report = JSON.parse(json.stdout);
  t.equal(report.upToDate, false);
  t.same(report.refused.map((r: { path: string }) => r.path), ['helmfile.yaml']);
  await rm(out, { recursive: true, force: true });
});

t.test('the console and the commit message give the same counts; the spec is named, not counted', async (t) => {
  const out = await tempDir();
  await copyFile(MINIMAL, join(out, 'site.yaml'));
  const planned = await siteforge(['plan', join(out, 'site.yaml'), '--json']);
  const report = JSON.parse(planned.stdout);
  const res = await siteforge(['generate', join(out, 'site.yaml')]);
  t.equal(res.code, 0, res.stderr);
  const consoleCounts = /: (\d+ added, \d+ changed, \d+ removed)/.exec(res.stdout)?.[1];
  const message = (await simpleGit(out).log()).latest!;
  const commitCounts = /\((\d+ added, \d+ changed, \d+ removed)\)/.exec(message.message)?.[1];
  t.ok(consoleCounts, res.stdout);
  t.equal(commitCounts, consoleCounts, 'commit subject and console agree');
  t.equal(consoleCounts, `${report.files.added.length} added, 0 changed, 0 removed`, 'plan counted the same files');
  t.match(message.body, /also committed: site\.yaml/, 'the spec is named on its own line');
  await rm(out, { recursive: true, force: true });
});
