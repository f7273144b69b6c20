// The Kubernetes API's own object schemas, for strict validation of built-in kinds (what
// kubeconform -strict does with the OpenAPI documents). Taken from two well-kept packages, both
// generated from the Kubernetes OpenAPI: @kubernetes/client-node (the official JavaScript client;
// its models carry every field with its type at run time, and their declarations mark the
// required ones) and kubernetes-models (its layout lists which group/version serves each kind).
// The build extracts them once into dist/kubernetes-schema.json; from source they are read from
// node_modules on first use.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { PACKAGE_ROOT } from '../home.ts';

export interface KubernetesSchema {
  /** The Kubernetes version of the OpenAPI document the models were generated from. */
  readonly kubernetes: string;
  /** "group/version/Kind" (core: "v1/Kind") → model type. */
  readonly kinds: Readonly<Record<string, string>>;
  /** Model type → its fields (name → type expression) and required fields. */
  readonly types: Readonly<Record<string, { readonly fields: Readonly<Record<string, string>>; readonly required: readonly string[] }>>;
}

export const SCHEMA_FILE = join(PACKAGE_ROOT, 'dist', 'kubernetes-schema.json');

/** Reads the two packages (build time, or from source). */
export async function extractKubernetesSchema(nodeModules = join(PACKAGE_ROOT, 'node_modules')): Promise<KubernetesSchema> {
  const modelsDir = join(nodeModules, '@kubernetes', 'client-node', 'dist', 'gen', 'models');
  const types: Record<string, { fields: Record<string, string>; required: string[] }> = {};
  let kubernetes = '';
  for (const file of readdirSync(modelsDir).filter((f) => f.endsWith('.js')).sort()) {
    const source = readFileSync(join(modelsDir, file), 'utf8');
    if (!source.includes('attributeTypeMap')) continue;
    kubernetes ||= /OpenAPI spec version: v?([0-9.]+)/.exec(source)?.[1] ?? '';
    const module = (await import(pathToFileURL(join(modelsDir, file)).href)) as Record<string, { attributeTypeMap?: { baseName: string; type: string }[] }>;
    const declarations = existsSync(join(modelsDir, file.replace(/\.js$/, '.d.ts'))) ? readFileSync(join(modelsDir, file.replace(/\.js$/, '.d.ts')), 'utf8') : '';
    for (const [name, model] of Object.entries(module)) {
      if (!Array.isArray(model?.attributeTypeMap)) continue;
      // Required fields are declared without `?` in the generated class.
      const required = [...declarations.matchAll(/^ {4}'([^']+)': /gm)].map((m) => m[1]!);
      types[name] = { fields: Object.fromEntries(model.attributeTypeMap.map((a) => [a.baseName, a.type])), required: required.sort() };
    }
  }
  const kinds: Record<string, string> = {};
  const servedDir = join(nodeModules, 'kubernetes-models');
  const versionDirs = (dir: string) => readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory() && /^v\d+((alpha|beta)\d+)?$/.test(e.name)).map((e) => e.name);
  const groups = ['', ...readdirSync(servedDir, { withFileTypes: true }).filter((e) => e.isDirectory() && !e.name.startsWith('_') && !/^v\d/.test(e.name)).map((e) => e.name)];
  for (const group of groups.sort()) {
    const groupDir = join(servedDir, group);
    for (const version of group ? versionDirs(groupDir) : ['v1']) {
      for (const file of readdirSync(join(groupDir, version)).filter((f) => f.endsWith('.js')).sort()) {
        const kind = file.slice(0, -3);
        if (kind.endsWith('List') || !/^[A-Z]/.test(kind)) continue;
        const ver = version[0]!.toUpperCase() + version.slice(1);
        const prefix = group ? group.split('.')[0]!.replace(/^./, (c) => c.toUpperCase()) : 'Core';
        const type = [`${prefix}${ver}${kind}`, `${ver}${kind}`].find((t) => types[t]?.fields.kind !== undefined && types[t]?.fields.metadata !== undefined);
        if (type) kinds[`${group ? `${group}/` : ''}${version}/${kind}`] = type;
      }
    }
  }
  return { kubernetes, kinds, types };
}

let loaded: Promise<KubernetesSchema> | undefined;

/** The schema: the build's extract when there is one, else read from node_modules. */
export function kubernetesSchema(): Promise<KubernetesSchema> {
  return (loaded ??= existsSync(SCHEMA_FILE) ? Promise.resolve(JSON.parse(readFileSync(SCHEMA_FILE, 'utf8')) as KubernetesSchema) : extractKubernetesSchema());
}

/** Fields whose string values are Kubernetes quantities, which the API server also takes as numbers. */
const QUANTITY_MAPS = new Set(['V1ResourceRequirements', 'V1VolumeResourceRequirements', 'V1ResourceQuotaSpec', 'V1LimitRangeItem', 'V1NodeStatus', 'V1PersistentVolumeSpec', 'V1Overhead']);
const QUANTITY_FIELDS = new Set(['sizeLimit', 'storage', 'capacity']);

/** Type names the models use for strings (timestamps) and for free-form JSON. */
export const STRING_TYPES = new Set(['string', 'Date', 'V1MicroTime']);
export const FREE_FORM_TYPES = new Set(['any', 'object']);
export const SCALAR_TYPES = new Set([...STRING_TYPES, ...FREE_FORM_TYPES, 'number', 'boolean', 'IntOrString']);

export interface SchemaError {
  readonly path: string;
  readonly message: string;
}

/**
 * Errors of one object against its built-in kind, strictly: unknown fields, wrong types and
 * missing required fields (null stands for absent, as the API server reads it). Returns null
 * when the apiVersion/kind is not a built-in kind the schema knows.
 */
export function validateBuiltIn(schema: KubernetesSchema, object: Record<string, unknown>, limit = 5): SchemaError[] | null {
  const type = schema.kinds[`${object.apiVersion}/${object.kind}`];
  if (!type) return null;
  const errors: SchemaError[] = [];
  const check = (value: unknown, expr: string, path: string, parent: string, field: string): void => {
    if (errors.length >= limit || value === null || value === undefined) return;
    const fail = (message: string): void => {
      errors.push({ path: path || '/', message });
    };
    const array = /^Array<(.+)>$/.exec(expr);
    const map = /^\{ \[key: string\]: (.+); \}$/.exec(expr);
    if (array) {
      if (!Array.isArray(value)) return fail(`must be an array`);
      value.forEach((v, i) => check(v, array[1]!, `${path}/${i}`, parent, field));
    } else if (map) {
      if (typeof value !== 'object' || Array.isArray(value)) return fail('must be an object (a map)');
      for (const [k, v] of Object.entries(value)) check(v, map[1]!, `${path}/${k}`, parent, field);
    } else if (STRING_TYPES.has(expr)) {
      const quantity = typeof value === 'number' && (QUANTITY_MAPS.has(parent) || QUANTITY_FIELDS.has(field));
      if (typeof value !== 'string' && !quantity) fail(`must be a string, not ${JSON.stringify(value).slice(0, 40)}`);
    } else if (expr === 'number') {
      if (typeof value !== 'number') fail(`must be a number, not ${JSON.stringify(value).slice(0, 40)}`);
    } else if (expr === 'boolean') {
      if (typeof value !== 'boolean') fail(`must be a boolean, not ${JSON.stringify(value).slice(0, 40)}`);
    } else if (expr === 'IntOrString') {
      if (typeof value !== 'number' && typeof value !== 'string') fail('must be an integer or a string');
    } else if (FREE_FORM_TYPES.has(expr)) {
      // free-form (RawExtension, JSON): anything goes
    } else if (!schema.types[expr]) {
      fail(`has type ${expr}, which the schema does not define`); // never silently accepted (a test keeps the extract whole)
    } else {
      if (typeof value !== 'object' || Array.isArray(value)) return fail(`must be an object (${expr.replace(/^V\d\w*?(?=[A-Z])/, '')})`);
      const def = schema.types[expr]!;
      const record = value as Record<string, unknown>;
      for (const k of def.required) if (record[k] === undefined || record[k] === null) errors.push({ path: `${path}/${k}`, message: 'is required' });
      for (const [k, v] of Object.entries(record)) {
        const fieldType = def.fields[k];
        if (fieldType === undefined) errors.push({ path: `${path}/${k}`, message: 'is not a field of this kind (unknown field)' });
        else check(v, fieldType, `${path}/${k}`, expr, k);
      }
    }
  };
  check(object, type, '', type, '');
  return errors;
}
