// The one dependency graph between enabled components. It feeds helmfile `needs:`, Flux
// `dependsOn` and Argo CD sync waves, so all three always agree.

export interface GraphNode {
  readonly name: string;
  readonly dependsOn: readonly string[];
}

export interface DependencyGraph {
  /** Every node, dependencies before dependents; ties keep the input order. */
  readonly order: readonly string[];
  /** Direct dependencies of each node that are themselves in the graph. */
  readonly needs: ReadonlyMap<string, readonly string[]>;
  /** 0 for nodes without dependencies, else 1 + the highest level among its dependencies. */
  readonly level: ReadonlyMap<string, number>;
}

export class DependencyCycleError extends Error {
  constructor(readonly cycle: readonly string[]) {
    super(`dependency cycle: ${cycle.join(' → ')}`);
    this.name = 'DependencyCycleError';
  }
}

/**
 * Builds the graph over `nodes`; dependencies on names not in `nodes` (disabled components) are
 * dropped. Throws DependencyCycleError naming the cycle.
 */
export function buildDependencyGraph(nodes: readonly GraphNode[]): DependencyGraph {
  const index = new Map(nodes.map((n, i) => [n.name, i]));
  const needs = new Map(nodes.map((n) => [n.name, [...new Set(n.dependsOn)].filter((d) => index.has(d))]));
  const order: string[] = [];
  const level = new Map<string, number>();
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string) => {
    const s = state.get(name);
    if (s === 'done') return;
    if (s === 'visiting') throw new DependencyCycleError([...stack.slice(stack.indexOf(name)), name]);
    state.set(name, 'visiting');
    stack.push(name);
    const deps = [...(needs.get(name) ?? [])].sort((a, b) => index.get(a)! - index.get(b)!);
    for (const dep of deps) visit(dep);
    stack.pop();
    state.set(name, 'done');
    level.set(name, deps.length ? Math.max(...deps.map((d) => level.get(d)!)) + 1 : 0);
    order.push(name);
  };
  for (const node of nodes) visit(node.name);
  return { order, needs, level };
}
