// Defensive readers for values that may still be malformed (cross-field rules run even when
// the schema already reported errors, so that all problems are reported at once).
export const list = <T>(value: T[] | undefined | unknown): T[] => (Array.isArray(value) ? (value as T[]) : []);
export const isString = (value: unknown): value is string => typeof value === 'string';

/** The environments a (possibly malformed) spec declares: prod, the schema's default, when it names none. */
export const declaredEnvironments = (spec: { readonly spec?: { readonly environments?: unknown } }): string[] =>
  Array.isArray(spec.spec?.environments) ? list<unknown>(spec.spec.environments).filter(isString) : ['prod'];
