// The one dependency graph: order, dropped disabled dependencies, levels, cycles.
import t from 'tap';
import { buildDependencyGraph, DependencyCycleError } from '../generator/model/graph.ts';
import { catalog, componentNames } from '../generator/components/catalog.ts';

t.test('dependencies come first; ties keep input order; levels count the longest chain', async (t) => {
  const g = buildDependencyGraph([
    { name: 'app', dependsOn: ['db', 'crds'] },
    { name: 'crds', dependsOn: [] },
    { name: 'db', dependsOn: ['crds', 'disabled'] },
  ]);
  t.same(g.order, ['crds', 'db', 'app']);
  t.same(g.needs.get('db'), ['crds'], 'dependency on a component not in the graph is dropped');
  t.same([...g.level.entries()].sort(), [['app', 2], ['crds', 0], ['db', 1]]);
});

t.test('a cycle is an error that names it', async (t) => {
  t.throws(
    () => buildDependencyGraph([
      { name: 'a', dependsOn: ['b'] },
      { name: 'b', dependsOn: ['c'] },
      { name: 'c', dependsOn: ['a'] },
    ]),
    new DependencyCycleError(['a', 'b', 'c', 'a']),
  );
});

t.test('the real catalog, all components enabled, has no cycle and only known dependencies', async (t) => {
  for (const name of componentNames) {
    for (const dep of catalog[name].dependsOn) t.ok(componentNames.includes(dep as never), `${name} → ${dep} is a catalog component`);
  }
  const g = buildDependencyGraph(componentNames.map((n) => ({ name: n, dependsOn: catalog[n].dependsOn })));
  t.equal(g.order.length, componentNames.length);
  t.ok(g.order.indexOf('namespaces') < g.order.indexOf('harbor'));
});
