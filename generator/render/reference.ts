// The site.yaml reference as Markdown tables, produced from the single definitions: every field
// of the schema (generator/spec/schema.ts: its types, enums, defaults, descriptions and expected
// forms) and every catalog component (title, default, what it needs, its settings). This
// repository's README carries it between markers (`npm run docs` rewrites them, a test fails on
// drift); every generated repository carries it as docs/reference.md, marked with what the site
// enables.
import { editorSchema } from '../spec/schema.ts';
import { catalog, componentNames } from '../components/catalog.ts';
import type { SiteModel } from '../model/site.ts';
import { textFile, type GeneratedFile } from './files.ts';

export const REFERENCE_FILE = 'docs/reference.md';
export const README_BEGIN = '<!-- BEGIN siteforge reference: generated from the schema and the catalog by `npm run docs`; do not edit -->';
export const README_END = '<!-- END siteforge reference -->';

type Schema = Record<string, any>;

interface FieldRow {
  readonly path: string;
  readonly type: string;
  readonly default: string;
  readonly meaning: string;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const code = (text: string) => `\`${text.replace(/`/g, "'")}\``;
const shown = (value: unknown) => code(JSON.stringify(value));

/** What a value of this schema is, in words: enum values, a list of…, a map of…, or the expected form. */
function typeOf(s: Schema): string {
  if (s.if && s.else) return `name, or ${typeOf(s.else)}`;
  if (s.const !== undefined) return shown(s.const);
  if (s.enum) return (s.enum as unknown[]).map((v) => code(String(v))).join(' | ');
  if (s.type === 'array') return `list of ${typeOf(s.items ?? {})}`;
  if (s.type === 'object') {
    const values = s.patternProperties ? (Object.values(s.patternProperties)[0] as Schema) : undefined;
    if (values) return `map (${s.expectedKey ?? 'key'} → ${typeOf(values)})`;
    return 'object';
  }
  if (s.expected) return `${s.type}: ${s.expected}`;
  return String(s.type ?? 'any');
}

/** Rows for a schema's properties, depth first; objects and lists of objects contribute their fields too. */
function fieldRows(s: Schema, path: string, skip: (path: string) => boolean = () => false): FieldRow[] {
  const rows: FieldRow[] = [];
  const required = new Set<string>(s.required ?? []);
  for (const [name, child] of Object.entries((s.properties ?? {}) as Record<string, Schema>)) {
    const at = path ? `${path}.${name}` : name;
    const defaulted = child.default !== undefined && !(typeof child.default === 'object' && child.default && !Array.isArray(child.default) && !Object.keys(child.default).length);
    rows.push({
      path: at,
      type: typeOf(child),
      default: defaulted ? shown(child.default) : required.has(name) ? 'required' : '',
      meaning: child.description ?? child.items?.description ?? '',
    });
    if (skip(at)) continue;
    const element = child.type === 'array' ? (child.items?.else ?? child.items) : child;
    if (element?.type === 'object' && element.properties) rows.push(...fieldRows(element, child.type === 'array' ? `${at}[]` : at, skip));
  }
  return rows;
}

const fieldTable = (rows: readonly FieldRow[]) => [
  '| field | type | default | meaning |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${code(r.path)} | ${cell(r.type)} | ${cell(r.default)} | ${cell(r.meaning)} |`),
];

/** The site's fields (component settings in their own tables). */
function specFields(): FieldRow[] {
  return fieldRows(editorSchema() as Schema, '', (path) => path === 'spec.components');
}

/** The reference: the field table, the component table, then each component's settings. */
export function referenceMarkdown(site?: SiteModel, level = '###'): string {
  const enabled = new Set(site?.components.map((c) => c.name as string));
  const schema = editorSchema() as Schema;
  const editorComponents = schema.properties.spec.properties.components.properties as Record<string, Schema>;
  const components = componentNames.map((name) => {
    const module = catalog[name];
    const settings = module.settings as unknown as Schema;
    return { name, module, settings, byDefault: settings.properties?.enabled?.default === true };
  });
  const lines = [
    `${level} Fields`,
    '',
    'Every field of `site.yaml` but the component settings (below). A field with a default may be left out.',
    '',
    ...fieldTable(specFields()),
    '',
    `${level} Components`,
    '',
    'Each is `spec.components.<name>`, with `enabled` and the settings listed after this table; one catalog module each under `generator/components/`.',
    '',
    `| component | what it deploys | enabled by default | deployed after | under HPK |${site ? ' in this site |' : ''}`,
    `| --- | --- | --- | --- | --- |${site ? ' --- |' : ''}`,
    ...components.map(
      (c) =>
        `| ${code(c.name)} | ${cell(c.module.title)} | ${c.byDefault ? 'yes' : 'no'} | ${c.module.dependsOn.map(code).join(', ') || '-'} | ${c.module.notUnderHpk ? 'no' : 'yes'} |${site ? ` ${enabled.has(c.name) ? 'enabled' : '-'} |` : ''}`,
    ),
  ];
  for (const c of components) {
    const rows = fieldRows(editorComponents[c.name]!, `spec.components.${c.name}`);
    lines.push('', `${level}# ${c.name}`, '', `${c.module.title}.`, ...(c.module.notUnderHpk ? ['', `Not under HPK (distribution.type hpk): ${cell(c.module.notUnderHpk)}.`] : []), '', ...fieldTable(rows));
  }
  return lines.join('\n');
}

/** docs/reference.md of a generated repository: the reference of the generator that wrote it. */
export function renderReference(site: SiteModel): GeneratedFile {
  return textFile(
    REFERENCE_FILE,
    [`# site.yaml reference`, '', `Fields and components of \`${site.specFile}\` as the pinned siteforge reads them; generated, do not edit.`, '', referenceMarkdown(site, '##')].join('\n'),
  );
}

/** A README with the reference between its markers replaced (the text elsewhere kept); throws when the markers are missing. */
export function spliceReadme(readme: string): string {
  const begin = readme.indexOf(README_BEGIN);
  const end = readme.indexOf(README_END);
  if (begin < 0 || end < begin) throw new Error(`README has no reference markers (${README_BEGIN} … ${README_END})`);
  return `${readme.slice(0, begin + README_BEGIN.length)}\n\n${referenceMarkdown()}\n\n${readme.slice(end)}`;
}
