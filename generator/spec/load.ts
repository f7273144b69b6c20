// Stage 1: read site.yaml into plain data while keeping every node's source position, so
// later stages can point at file:line:column.
import { readFile } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node as YamlNode } from 'yaml';
import type { Diagnostic, PathSegment } from './diagnostics.ts';

export interface LoadedSpec {
  /** The file name as the user gave it (used in messages). */
  readonly file: string;
  readonly text: string;
  readonly data: unknown;
  /** Position of a field: its key when `at` is 'key', else its value. Falls back to the closest parent. */
  position(path: readonly PathSegment[], at?: 'key' | 'value'): { line: number; col: number };
}

export type LoadResult = { ok: true; spec: LoadedSpec } | { ok: false; diagnostics: Diagnostic[] };

export async function loadSpecFile(file: string): Promise<LoadResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      ok: false,
      diagnostics: [
        {
          severity: 'error', file, line: 1, col: 1, path: '',
          message: code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(e)})`,
          hint: 'pass the path of a site spec, e.g. `npm run generate -- site.yaml`',
        },
      ],
    };
  }
  return parseSpec(file, text);
}

export function parseSpec(file: string, text: string): LoadResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
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
  const data = doc.toJS({ maxAliasCount: 100 });
  return { ok: true, spec: { file, text, data, position: (path, at = 'value') => locate(doc, lineCounter, path, at) } };
}

function syntaxHint(code: string): string {
  switch (code) {
    case 'DUPLICATE_KEY': return 'each key may appear once per mapping; remove or merge the duplicate';
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
