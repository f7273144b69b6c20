// Problems a user can cause, with where they are and what to do about them.

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  readonly file: string;
  readonly line: number;
  readonly col: number;
  /** Field path in the spec, e.g. spec.nodes[1].address ("" for the whole document). */
  readonly path: string;
  readonly message: string;
  readonly expected?: string;
  readonly hint?: string;
}

/** Longest part of a user's value a message quotes. */
export const MAX_QUOTED = 200;

/** Control characters shown as escapes, so a value cannot forge lines in a terminal or CI log. */
export const escapeControls = (text: string) =>
  text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => (c === '\n' ? '\\n' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));

/** A user's value as a message quotes it: in double quotes, escaped, at most MAX_QUOTED characters. */
export function show(value: string): string {
  const cut = value.length > MAX_QUOTED ? `${value.slice(0, MAX_QUOTED)}… (${value.length} characters)` : value;
  return `"${escapeControls(cut)}"`;
}

/** One line of a diagnostic: escaped and bounded whatever a value in it held. */
const line = (text: string) => {
  const safe = escapeControls(text);
  return safe.length > 4 * MAX_QUOTED ? `${safe.slice(0, 4 * MAX_QUOTED)}…` : safe;
};

export function formatDiagnostic(d: Diagnostic): string {
  const where = `${line(d.file)}:${d.line}:${d.col}`;
  const lines = [`${where}: ${d.severity}: ${d.path ? `${line(d.path)}: ` : ''}${line(d.message)}`];
  if (d.expected) lines.push(`  expected: ${line(d.expected)}`);
  if (d.hint) lines.push(`  hint: ${line(d.hint)}`);
  return lines.join('\n');
}

/** Sorted by position, errors and warnings interleaved as they appear in the file. */
export function sortDiagnostics(list: readonly Diagnostic[]): Diagnostic[] {
  return [...list].sort((a, b) => a.line - b.line || a.col - b.col || a.path.localeCompare(b.path) || a.message.localeCompare(b.message));
}

export const hasErrors = (list: readonly Diagnostic[]) => list.some((d) => d.severity === 'error');

/** A user-caused failure outside the spec itself (refused overwrite, missing key, ...). */
export class UserError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'UserError';
  }
}

export type PathSegment = string | number;

/** spec.nodes[1].name */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out;
}
