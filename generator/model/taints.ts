// Node taints as the spec writes them (`key[=value]:Effect`), and the tolerations that match them.

export interface Taint {
  readonly key: string;
  /** Absent for a taint (or toleration) without a value. */
  readonly value?: string;
  readonly effect: string;
}

export function parseTaint(text: string): Taint {
  const [kv = '', effect = ''] = text.split(':');
  const [key = '', value] = kv.split('=');
  return value === undefined ? { key, effect } : { key, value, effect };
}

/** The toleration of a spec taint: Equal with its value, or Exists for a taint without one. */
export function tolerationFor(text: string): Record<string, string> {
  const t = parseTaint(text);
  return t.value === undefined ? { key: t.key, operator: 'Exists', effect: t.effect } : { key: t.key, operator: 'Equal', value: t.value, effect: t.effect };
}

/** Whether Kubernetes tolerations tolerate a taint (the scheduler's rule). */
export function tolerates(tolerations: readonly Record<string, any>[], taint: Taint): boolean {
  return tolerations.some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (t.operator === 'Exists') return !t.key || t.key === taint.key;
    return t.key === taint.key && String(t.value ?? '') === (taint.value ?? '');
  });
}

/** Taints that keep pods off a node (PreferNoSchedule only discourages). */
export const repels = (t: Taint) => t.effect === 'NoSchedule' || t.effect === 'NoExecute';

/** Whether pods with the given tolerations (spec taint texts) may run on a node with the given taints: every repelling one tolerated. */
export const toleratesAll = (nodeTaints: readonly string[], tolerated: readonly string[]): boolean => {
  const tolerations = tolerated.map(tolerationFor);
  return nodeTaints.map(parseTaint).filter(repels).every((taint) => tolerates(tolerations, taint));
};
