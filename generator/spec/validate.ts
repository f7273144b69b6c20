// Stage 2: schema validation (ajv, all errors at once) and the cross-field rules a schema
// cannot express. Produces diagnostics with positions, and the spec with defaults filled in.
import type { ErrorObject } from 'ajv';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../home.ts';
import { AJV_OPTIONS, SCHEMA_ANNOTATIONS, SiteSchema, type SiteSpec } from './schema.ts';
import { formatPath, hasErrors, show, sortDiagnostics, type Diagnostic, type PathSegment } from './diagnostics.ts';
import type { LoadedSpec } from './load.ts';
import { didYouMean } from './suggest.ts';
import { crossFieldRules, type RuleContext } from './rules.ts';
import { componentNames } from '../components/catalog.ts';

type SchemaValidator = ((data: unknown) => boolean) & { errors?: ErrorObject[] | null };

/** Set (by scripts/build.mjs) only in the bundled command, where the precompiled validator sits beside it. */
declare const SITEFORGE_BUNDLED: boolean | undefined;

/**
 * The built command ships the validator compiled ahead of time (scripts/build.mjs writes
 * dist/site-validator.js with ajv's standalone code); from source it is compiled here.
 */
async function loadValidator(): Promise<SchemaValidator> {
  if (typeof SITEFORGE_BUNDLED !== 'undefined') {
    const precompiled = (await import(pathToFileURL(join(PACKAGE_ROOT, 'dist', 'site-validator.js')).href)) as { default: SchemaValidator };
    return precompiled.default;
  }
  const { Ajv } = await import('ajv');
  const ajv = new Ajv(AJV_OPTIONS);
  ajv.addVocabulary([...SCHEMA_ANNOTATIONS]);
  return ajv.compile(SiteSchema) as SchemaValidator;
}
const compiled = await loadValidator();
const schemaValidator = () => compiled;

export type ValidationResult =
  | { ok: true; spec: SiteSpec; diagnostics: Diagnostic[]; schemaValid: true }
  | { ok: false; diagnostics: Diagnostic[]; /** Whether the JSON Schema alone accepted the spec (rules may still refuse it). */ schemaValid: boolean };

export function validateSpec(loaded: LoadedSpec): ValidationResult {
  const data = structuredClone(loaded.data);
  addMissingComponentBlocks(data);
  const validate = schemaValidator();
  validate(data);
  const schemaErrors: { keyword: string; diagnostic: Diagnostic }[] = [];
  const seen = new Set<string>();
  for (const err of validate.errors ?? []) {
    // "must match the then/else schema" only restates the branch's own errors, reported beside it.
    if (err.keyword === 'if') continue;
    const d = schemaDiagnostic(loaded, err);
    const key = `${d.line}:${d.col}:${d.path}:${d.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      schemaErrors.push({ keyword: err.keyword, diagnostic: d });
    }
  }
  const ruleDiagnostics: Diagnostic[] = [];
  const ctx: RuleContext = {
    spec: data as SiteSpec,
    report(severity, path, message, extra = {}) {
      const pos = loaded.position(path, extra.at ?? 'value');
      ruleDiagnostics.push({ severity, file: loaded.file, ...pos, path: formatPath(path), message, expected: extra.expected, hint: extra.hint });
    },
  };
  if (data && typeof data === 'object') for (const rule of crossFieldRules) rule(ctx);
  // A rule that explains a malformed value (e.g. "this is a private key") says more than the
  // schema's pattern mismatch at the same field, so it replaces it.
  const explained = new Set(ruleDiagnostics.filter((d) => d.severity === 'error').map((d) => d.path));
  const diagnostics = [
    ...schemaErrors.filter((e) => !(e.keyword === 'pattern' && explained.has(e.diagnostic.path))).map((e) => e.diagnostic),
    ...ruleDiagnostics,
  ];
  const sorted = sortDiagnostics(diagnostics);
  const schemaValid = !validate.errors?.length;
  return hasErrors(sorted) || !schemaValid ? { ok: false, diagnostics: sorted, schemaValid } : { ok: true, spec: data as SiteSpec, diagnostics: sorted, schemaValid };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An absent component block becomes `{}` so the schema fills in all of its defaults. */
function addMissingComponentBlocks(data: unknown) {
  if (!isRecord(data) || !isRecord(data.spec)) return;
  if (data.spec.components === undefined) data.spec.components = {};
  const components = data.spec.components;
  if (!isRecord(components)) return;
  for (const name of componentNames) if (components[name] === undefined) components[name] = {};
}

function pointerToPath(pointer: string): PathSegment[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

function describe(value: unknown): string {
  if (value === null) return 'null (an empty value)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the string ${show(value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

const TYPE_WORDS: Record<string, string> = {
  object: 'a mapping (key: value pairs)',
  array: 'a list',
  string: 'a string',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
};

function schemaDiagnostic(loaded: LoadedSpec, err: ErrorObject): Diagnostic {
  const path = pointerToPath(err.instancePath);
  const schema = (err.parentSchema ?? {}) as Record<string, any>;
  const base = { severity: 'error' as const, file: loaded.file };
  switch (err.keyword) {
    case 'additionalProperties': {
      const key = String(err.params.additionalProperty);
      const full = [...path, key];
      if (schema.expectedKey) {
        return { ...base, ...loaded.position(full, 'key'), path: formatPath(path), message: `key ${show(key)} is not valid here`, expected: schema.expectedKey };
      }
      const allowed = Object.keys(schema.properties ?? {});
      const hint = allowed.length
        ? (didYouMean(key, allowed) ?? `known fields here: ${allowed.join(', ')}`)
        : schema.patternProperties
          ? `keys here must match ${Object.keys(schema.patternProperties).join(' or ')}`
          : 'remove it';
      return { ...base, ...loaded.position(full, 'key'), path: formatPath(full), message: `unknown field \`${show(key).slice(1, -1)}\``, hint };
    }
    case 'required': {
      const key = String(err.params.missingProperty);
      const full = [...path, key];
      const prop = (schema.properties ?? {})[key] ?? {};
      return {
        ...base, ...loaded.position(path), path: formatPath(full),
        message: `missing required field \`${key}\``,
        expected: prop.expected ?? prop.description ?? TYPE_WORDS[prop.type],
        hint: `add \`${key}:\` under ${path.length ? `\`${formatPath(path)}\`` : 'the top level'}`,
      };
    }
    case 'type': {
      const expectedType = String(err.params.type);
      return {
        ...base, ...loaded.position(path), path: formatPath(path),
        message: `expected ${TYPE_WORDS[expectedType] ?? expectedType}, got ${describe(err.data)}`,
        expected: schema.expected,
        hint: expectedType === 'string' ? 'quote the value if YAML reads it as another type' : undefined,
      };
    }
    case 'enum': {
      const allowed = (err.params.allowedValues as unknown[]).map(String);
      return {
        ...base, ...loaded.position(path), path: formatPath(path),
        message: `${describe(err.data)} is not allowed`,
        expected: `one of ${allowed.join(', ')}`,
        hint: typeof err.data === 'string' ? didYouMean(err.data, allowed) : undefined,
      };
    }
    case 'const':
      return {
        ...base, ...loaded.position(path), path: formatPath(path),
        message: `${describe(err.data)} is not allowed`,
        expected: `exactly ${String(err.params.allowedValue)}`,
        hint: `this version of siteforge reads ${formatPath(path)}: ${String(err.params.allowedValue)}`,
      };
    case 'pattern':
      return {
        ...base, ...loaded.position(path), path: formatPath(path),
        message: `${describe(err.data)} is not valid`,
        expected: schema.expected ?? `a string matching ${String(err.params.pattern)}`,
      };
    case 'minItems':
      return {
        ...base, ...loaded.position(path), path: formatPath(path),
        message: `needs at least ${String(err.params.limit)} ${Number(err.params.limit) === 1 ? 'entry' : 'entries'}`,
        expected: schema.description,
      };
    default:
      return { ...base, ...loaded.position(path), path: formatPath(path), message: err.message ?? err.keyword, expected: schema.expected };
  }
}
