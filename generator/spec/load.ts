// Stage 1: read site.yaml into plain data while keeping every node's source position, so
// later stages can point at file:line:column.
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node as YamlNode } from 'yaml';
import { show, type Diagnostic, type PathSegment } from './diagnostics.ts';
import { AGE_IDENTITY_PREFIX } from '../sops/age.ts';

/** Largest spec siteforge reads (a 5,000-node site is well under 1 MiB). */
export const MAX_SPEC_BYTES = 8 * 1024 * 1024;
/** Most alias expansions a spec may use (a "billion laughs" document needs millions). */
const MAX_ALIAS_COUNT = 100;
/**
 * The spec's file name is written into generated files (headers, CI commands, Renovate rules):
 * it must be a plain file name in every language those files speak.
 */
const SPEC_FILE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*\.ya?ml$/;

export interface LoadedSpec {
  /** The file name as the user gave it (used in messages). */
  readonly file: string;
  readonly text: string;
  readonly data: unknown;
  /** Position of a field: its key when `at` is 'key', else its value. Falls back to the closest parent. */
  position(path: readonly PathSegment[], at?: 'key' | 'value'): { line: number; col: number };
}

export type LoadResult = { ok: true; spec: LoadedSpec } | { ok: false; diagnostics: Diagnostic[] };

const fileError = (file: string, message: string, hint: string, line = 1, col = 1): LoadResult => ({
  ok: false,
  diagnostics: [{ severity: 'error', file, line, col, path: '', message, hint }],
});

export async function loadSpecFile(file: string): Promise<LoadResult> {
  let text: string;
  try {
    const info = await stat(file);
    if (!info.isFile()) return fileError(file, 'not a regular file', 'pass the path of a site spec file, e.g. `siteforge generate site.yaml`');
    if (info.size > MAX_SPEC_BYTES) {
      return fileError(file, `the file is ${info.size} bytes; a site spec may have at most ${MAX_SPEC_BYTES} bytes`, 'a spec describes nodes and settings; generated or data files do not belong in it');
    }
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fileError(file, code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? 'unknown error'})`, 'pass the path of a site spec, e.g. `siteforge generate site.yaml`');
  }
  return parseSpec(file, text);
}

/** The first age private key in the text, if any (any case: a key is a key however it is typed). */
function privateKeyOffset(text: string): number {
  return text.toUpperCase().indexOf(AGE_IDENTITY_PREFIX.slice(0, -1));
}

export function parseSpec(file: string, text: string): LoadResult {
  if (!SPEC_FILE_NAME.test(basename(file))) {
    return fileError(
      file,
      `the spec file name ${show(basename(file))} is not a plain file name`,
      'generated files and CI commands name the spec: rename it to letters, digits, ".", "_", "+" or "-", ending in .yaml (e.g. site.yaml)',
    );
  }
  if (text.length > MAX_SPEC_BYTES) return fileError(file, `the spec is larger than ${MAX_SPEC_BYTES} bytes`, 'a spec describes nodes and settings; generated or data files do not belong in it');
  const keyAt = privateKeyOffset(text);
  if (keyAt >= 0) {
    const before = text.slice(0, keyAt);
    const line = before.split('\n').length;
    const col = keyAt - before.lastIndexOf('\n');
    return fileError(
      file,
      'the spec contains an age PRIVATE key (AGE-SECRET-KEY-…); siteforge reads nothing further and writes nothing',
      'remove it now, and treat the key as leaked if the file was shared or committed: create a new one (`siteforge init`) and list only its public key (age1…) in spec.secrets.ageRecipients',
      line,
      col,
    );
  }
  const lineCounter = new LineCounter();
  // Duplicate keys are found below in one pass; the parser's own check is quadratic in a map's size.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, strict: true });
  // Only the first syntax error: the parser's later ones are nearly always its consequences.
  const syntax = doc.errors.slice(0, 1);
  if (syntax.length) {
    return {
      ok: false,
      diagnostics: syntax.map((err) => {
        const pos = lineCounter.linePos(err.pos[0]);
        return {
          severity: 'error' as const, file, line: pos.line, col: pos.col, path: '',
          message: `YAML syntax error: ${err.message.split('\n')[0]}`,
          hint: syntaxHint(err.code),
        };
      }),
    };
  }
  if (doc.contents === null || (isScalar(doc.contents) && doc.contents.value === null)) {
    return {
      ok: false,
      diagnostics: [{ severity: 'error', file, line: 1, col: 1, path: '', message: 'the file is empty', expected: 'a Site document (apiVersion: siteforge/v1alpha1, kind: Site)', hint: 'start from the example site.yaml in the siteforge repository' }],
    };
  }
  const badKey = firstBadKey(doc);
  if (badKey) {
    const pos = lineCounter.linePos(badKey.offset);
    return fileError(file, `YAML syntax error: ${badKey.message}`, syntaxHint('DUPLICATE_KEY'), pos.line, pos.col);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    let offset = 0;
    visit(doc, { Alias: (_k, node) => ((offset = node.range?.[0] ?? 0), visit.BREAK) });
    const pos = lineCounter.linePos(offset);
    return fileError(file, `YAML aliases expand too far (more than ${MAX_ALIAS_COUNT} expansions)`, 'write the values out, or use fewer nested anchors (*alias); a spec needs few if any', pos.line, pos.col);
  }
  return { ok: true, spec: { file, text, data, position: (path, at = 'value') => locate(doc, lineCounter, path, at) } };
}

/**
 * The first key that is not a plain scalar (`? [a, b]: c`) or that appears twice in one mapping,
 * found in one pass over the document.
 */
function firstBadKey(doc: Document): { message: string; offset: number } | null {
  let found: { message: string; offset: number } | null = null;
  visit(doc, {
    Map(_k, map) {
      const seen = new Set<unknown>();
      for (const pair of map.items) {
        const offset = (pair.key as YamlNode | null)?.range?.[0] ?? map.range?.[0] ?? 0;
        if (!isScalar(pair.key)) {
          found = { message: 'a mapping key must be a plain string, not a list, mapping or alias', offset };
          return visit.BREAK;
        }
        if (seen.has(pair.key.value)) {
          found = { message: `map keys must be unique; ${show(String(pair.key.value))} appears twice`, offset };
          return visit.BREAK;
        }
        seen.add(pair.key.value);
      }
      return undefined;
    },
  });
  return found;
}

function syntaxHint(code: string): string {
  switch (code) {
    case 'DUPLICATE_KEY': return 'each key is a plain string and appears once per mapping; remove or merge the duplicate';
    case 'BAD_INDENT':
    case 'MISSING_CHAR': return 'check the indentation: nested fields use spaces, consistently, under their parent';
    case 'TAB_AS_INDENT': return 'YAML indentation must use spaces, not tabs';
    case 'MULTIPLE_DOCS': return 'a site file holds exactly one document; remove the extra `---`';
    default: return 'fix the YAML syntax at this position (quote values that contain ": " or start with special characters)';
  }
}

function locate(doc: Document, lc: LineCounter, path: readonly PathSegment[], at: 'key' | 'value') {
  let node: YamlNode | null = doc.contents as YamlNode | null;
  let offset = node?.range?.[0] ?? 0;
  for (let i = 0; i < path.length && node; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) break;
      const key = pair.key as YamlNode;
      const value = pair.value as YamlNode | null;
      if (last && (at === 'key' || !value?.range)) {
        offset = key.range?.[0] ?? offset;
        node = null;
        break;
      }
      node = value;
      offset = value?.range?.[0] ?? key.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as YamlNode | undefined;
      if (!item) break;
      node = item;
      offset = item.range?.[0] ?? offset;
    } else {
      break;
    }
  }
  const { line, col } = lc.linePos(offset);
  return { line, col };
}
