// site.schema.json as editors use it: a standard validator (ajv, the draft the file declares, not
// strict about annotation keywords, no defaults filled in — as yaml-language-server runs it) accepts
// every valid site and refuses every spec whose problem is a schema error, exactly as siteforge's
// own validation decides.
import t from 'tap';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import { ROOT } from './helpers/cli.ts';
import { parseSpec } from '../generator/spec/load.ts';
import { validateSpec } from '../generator/spec/validate.ts';

const schema = JSON.parse(await readFile(join(ROOT, 'site.schema.json'), 'utf8'));
const editor = new Ajv({ strict: false, allErrors: true }).compile(schema);

const specsIn = async (dir: string) => (await readdir(join(ROOT, dir))).filter((f) => f.endsWith('.yaml')).map((f) => join(dir, f));

t.test('the schema declares draft-07 and rejects unknown keys', async (t) => {
  t.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
  t.equal(schema.additionalProperties, false);
  t.notOk(schema.properties.spec.required.includes('nodeSetup'), 'fields with defaults are optional');
  t.notOk(editor({ ...parse(await readFile(join(ROOT, 'examples/minimal.yaml'), 'utf8')), extra: 1 }), 'an unknown top-level key is an error');
});

t.test('every example and valid test site is valid in the editor', async (t) => {
  const valid = ['site.yaml', ...(await specsIn('examples'))];
  for (const file of await specsIn('test/fixtures/hostile')) {
    if ((await readFile(join(ROOT, file), 'utf8')).includes('# expect-var:')) valid.push(file);
  }
  for (const file of valid) {
    const ok = editor(parse(await readFile(join(ROOT, file), 'utf8')));
    t.ok(ok, `${file}: ${JSON.stringify(editor.errors?.slice(0, 3))}`);
  }
});

t.test('the README\'s example snippet is a valid site, for the editor and for siteforge', async (t) => {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const snippet = /```yaml\n(# yaml-language-server[^]*?)```/.exec(readme)?.[1];
  t.ok(snippet, 'the README shows a spec with the schema line');
  t.ok(editor(parse(snippet!)), JSON.stringify(editor.errors?.slice(0, 3)));
  const loaded = parseSpec('README-snippet.yaml', snippet!);
  t.ok(loaded.ok && validateSpec(loaded.spec).ok, 'siteforge validates it');
});

t.test('the editor refuses exactly the specs whose problem is a schema error', async (t) => {
  const files = [...(await specsIn('test/fixtures/invalid')), ...(await specsIn('test/fixtures/hostile'))];
  let compared = 0;
  for (const file of files) {
    const text = await readFile(join(ROOT, file), 'utf8');
    const loaded = parseSpec(file.split('/').pop()!, text);
    if (!loaded.ok) continue; // YAML or file-level errors: no document for a schema to judge
    const ours = validateSpec(loaded.spec);
    t.equal(editor(loaded.spec.data), ours.schemaValid, `${file}: editor and siteforge agree on the schema`);
    compared++;
  }
  t.ok(compared >= 50, `compared ${compared} specs`);
});
