// siteforge verify against test/fixtures/undeployable/: each site — a valid spec, or a generated
// tree as a careless edit leaves it — is caught with its expected message, by the real upstream
// charts. (The examples that verify clean are in verify.test.ts.)
import t from 'tap';
import { cp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, siteforge, tempDir } from '../helpers/cli.ts';

const CHARTS = join(ROOT, '..', 'shared', 'charts');
/** The upstream kustomize trees (the MPI operator's tag) as source archives. */
const MANIFESTS = join(ROOT, '..', 'shared', 'manifests');
const CORPUS = join(ROOT, 'test', 'fixtures', 'undeployable');

interface Case {
  what: string;
  spec: string;
  specPatch: { find: string; replace: string }[];
  treePatch: ({ file: string; find: string; replace: string } | { file: string; create: string })[];
  expect: string;
}

t.test('every undeployable site is caught with its message', async (t) => {
  const names = (await readdir(CORPUS)).filter((f) => f.endsWith('.yaml')).sort();
  t.ok(names.length >= 15, `at least 15 undeployable sites (${names.length})`);
  const checks = new Set<string>();
  const generatedBySpec = new Map<string, string>();
  for (const name of names) {
    const c = parse(await readFile(join(CORPUS, name), 'utf8')) as Case;
    let text = await readFile(join(ROOT, c.spec), 'utf8');
    for (const p of c.specPatch) {
      t.ok(text.includes(p.find), `${name}: the spec patch applies`);
      text = text.replace(p.find, p.replace);
    }
    // Cases that share a spec share one generated tree, copied before their own edits.
    let base = generatedBySpec.get(text);
    if (!base) {
      base = await tempDir();
      await writeFile(join(base, 'site.yaml'), text);
      const generated = await siteforge(['generate', join(base, 'site.yaml'), '--no-commit']);
      t.equal(generated.code, 0, `${name}: generates\n${generated.stderr}`);
      generatedBySpec.set(text, base);
    }
    const dir = await tempDir();
    await cp(base, dir, { recursive: true });
    for (const p of c.treePatch) {
      const file = join(dir, p.file);
      if ('create' in p) {
        await mkdir(dirname(file), { recursive: true });
        await writeFile(file, p.create);
        continue;
      }
      const before = await readFile(file, 'utf8');
      t.ok(before.includes(p.find), `${name}: the tree patch applies to ${p.file}`);
      await writeFile(file, before.replace(p.find, p.replace));
    }
    const started = Date.now();
    const res = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--manifests', MANIFESTS]);
    t.comment(`${name}: verify ${Date.now() - started} ms`);
    t.equal(res.code, 1, `${name} (${c.what}): verify exits 1`);
    t.ok(res.stdout.includes(c.expect), `${name}: says "${c.expect}"\n${res.stdout.split('\n').filter((l) => /^(error|warning)/.test(l)).join('\n')}`);
    for (const m of res.stdout.matchAll(/^error: \[([a-z]+)\]/gm)) checks.add(m[1]!);
    await rm(dir, { recursive: true, force: true });
  }
  t.ok(checks.size >= 9, `the corpus exercises ${checks.size} checks: ${[...checks].join(', ')}`);
});
