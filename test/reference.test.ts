// The README's reference tables and every generated docs/reference.md come from the single
// definitions (schema and catalog): the committed README is what `npm run docs` writes, every
// field the schema accepts has its row, every component its row and its settings table.
import t from 'tap';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, generatedSite } from './helpers/cli.ts';
import { editorSchema } from '../generator/spec/schema.ts';
import { catalog, componentNames } from '../generator/components/catalog.ts';
import { README_BEGIN, README_END, spliceReadme } from '../generator/render/reference.ts';

const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
const region = readme.slice(readme.indexOf(README_BEGIN), readme.indexOf(README_END));

/** Every property path the schema accepts (lists as [], the step union's object branch included). */
function schemaPaths(s: any, path: string): string[] {
  const element = s.type === 'array' ? (s.items?.else ?? s.items) : s;
  const base = s.type === 'array' ? `${path}[]` : path;
  return Object.entries((element?.properties ?? {}) as Record<string, any>).flatMap(([name, child]) => {
    const at = base ? `${base}.${name}` : name;
    return [at, ...schemaPaths(child, at)];
  });
}

/** The rows of the tables: field path → the row's cells. */
const rows = new Map([...region.matchAll(/^\| `([^`]+)` \| (.*) \|$/gm)].map((m) => [m[1]!, m[2]!.split(/ (?<!\\)\| /)]));

t.test('the README reference is what `npm run docs` writes from the schema and catalog', async (t) => {
  t.ok(readme.includes(README_BEGIN) && readme.includes(README_END), 'the README has the markers');
  t.equal(spliceReadme(readme), readme, 'README.md is up to date: run `npm run docs` after changing the schema or the catalog');
  const drifted = readme.replace(/(\| `spec\.domain` \|[^\n]*)Base domain/, '$1Base name');
  t.not(drifted, readme, 'a hand edit inside the tables…');
  t.equal(spliceReadme(drifted), readme, '…is exactly what the check sees and the generator restores');
});

t.test('every field the schema accepts has a row, with its description and default', async (t) => {
  const paths = schemaPaths(editorSchema(), '');
  t.ok(paths.length > 150, `${paths.length} fields`);
  // spec.components.<name> itself is the component's row in the component table (next test).
  for (const path of paths.filter((p) => !/^spec\.components\.[A-Za-z]+$/.test(p))) {
    const row = rows.get(path);
    if (!row) {
      t.fail(`${path} has no row`);
      continue;
    }
    t.not(row[2]?.trim(), '', `${path} says what it means`);
  }
  t.equal(rows.get('spec.gitops.branch')?.[1], '`"main"`', 'defaults come from the schema');
  t.equal(rows.get('spec.distribution.version')?.[1], 'required', 'required fields say so');
  t.match(rows.get('spec.components.harbor.expose')?.[0] ?? '', /`auto` \\\| `ingress` \\\| `loadBalancer`/, 'enums list their values');
});

t.test('every catalog component has its row and its settings table', async (t) => {
  for (const name of componentNames) {
    const module = catalog[name];
    const row = region.split('\n').find((l) => l.startsWith(`| \`${name}\` |`));
    t.ok(row, `${name} is in the component table`);
    t.ok(row?.includes(module.title), `${name}'s row carries its title`);
    const byDefault = (module.settings as any).properties.enabled.default === true;
    t.ok(row?.includes(byDefault ? '| yes |' : '| no |'), `${name}: enabled by default ${byDefault}`);
    t.match(region, new RegExp(`^#### ${name}$`, 'm'), `${name} has its settings heading`);
  }
});

t.test('a generated repository carries the reference, with what its site enables', async (t) => {
  const out = await generatedSite('examples/minimal.yaml', { commit: false });
  t.teardown(() => rm(out, { recursive: true, force: true }));
  const reference = await readFile(join(out, 'docs', 'reference.md'), 'utf8');
  const spec = await readFile(join(ROOT, 'examples', 'minimal.yaml'), 'utf8');
  t.match(reference, /\| `namespaces` \|[^\n]*\| enabled \|$/m, 'namespaces (on by default) is enabled there');
  t.match(reference, /\| `harbor` \|[^\n]*\| - \|$/m, 'harbor is not');
  t.notMatch(spec, /harbor:\s*\{?\s*enabled: true/, '(the example leaves Harbor off)');
  // The tables are well-formed Markdown tables: every row has the header's column count.
  for (const table of reference.split('\n\n').filter((b) => b.startsWith('| '))) {
    const lines = table.split('\n').filter((l) => l !== '');
    const columns = (line: string) => line.split(/(?<!\\)\|/).length;
    t.ok(lines.every((l) => columns(l) === columns(lines[0]!)), `table "${lines[0]}" has even rows`);
  }
});
