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

export function formatDiagnostic(d: Diagnostic): string {
  const where = `${d.file}:${d.line}:${d.col}`;
  const lines = [`${where}: ${d.severity}: ${d.path ? `${d.path}: ` : ''}${d.message}`];
  if (d.expected) lines.push(`  expected: ${d.expected}`);
  if (d.hint) lines.push(`  hint: ${d.hint}`);
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
