// spec.extraReleases: releases of charts siteforge has no component for. Each becomes a release
// definition like a component's (a wrapper chart depending on the named chart, values under the
// chart's key) and, for its secretValues, a SOPS secret whose data become helm values; so
// helmfile, Flux, Argo CD, the release index, images.txt and verify treat it as any other.
import type { ReleaseDef } from '../components/types.ts';
import { didYouMean } from '../spec/suggest.ts';
import { sopsPlaceholder, type SecretDef, type SecretValueSpec } from '../secrets/types.ts';
import type { ExtraReleaseSpec } from '../spec/schema.ts';

/** What extra releases count as in place of a component name (labels, the release index). */
export const EXTRA_RELEASES = 'extraReleases';


/** The SOPS secret holding an extra release's secret values. */
export const extraValuesSecretName = (x: Pick<ExtraReleaseSpec, 'name'>) => `${x.name}-values`;

/** Sets `value` at a dotted path, creating the mappings on the way. */
function setPath(root: Record<string, unknown>, path: string, value: unknown) {
  const parts = path.split('.');
  let node = root;
  for (const p of parts.slice(0, -1)) node = (node[p] ??= {}) as Record<string, unknown>;
  node[parts.at(-1)!] = value;
}

/** A need names a component (all its releases) unless a release has that name: an extra release wins over a component it shares its name with. */
const isComponentNeed = (n: string, componentNames: readonly string[], releaseNames: readonly string[]) => componentNames.includes(n) && !releaseNames.includes(n);

export function extraReleaseDef(x: ExtraReleaseSpec, componentNames: readonly string[], extraNames: readonly string[] = []): ReleaseDef {
  return {
    name: x.name,
    description: x.description ?? `${x.chart.name} ${x.chart.version} from ${x.chart.repository}`,
    scope: 'cluster',
    namespace: x.namespace,
    layer: x.layer,
    upstream: { chart: x.chart.name, version: x.chart.version, repository: x.chart.repository },
    values: { [x.chart.name]: x.values },
    after: x.needs.filter((n) => !isComponentNeed(n, componentNames, extraNames)),
    afterComponents: x.needs.filter((n) => isComponentNeed(n, componentNames, extraNames)),
    images: x.images,
  };
}

export function extraReleaseSecrets(x: ExtraReleaseSpec): SecretDef[] {
  if (!x.secretValues.length) return [];
  return [
    {
      name: extraValuesSecretName(x),
      scope: 'cluster',
      namespace: x.namespace,
      description: `Secret values of the ${x.name} release (${x.secretValues.map((v) => v.path).join(', ')})`,
      data: Object.fromEntries(
        x.secretValues.map((v): [string, SecretValueSpec] => [v.path, v.generate === 'random' ? { kind: 'random', length: v.length, charset: 'alnum' } : sopsPlaceholder(x.namespace, extraValuesSecretName(x), v.path)]),
      ),
      helmValues: {
        release: x.name,
        build: (data) => {
          const values: Record<string, unknown> = {};
          for (const v of x.secretValues) setPath(values, v.path, data[v.path]);
          return { [x.chart.name]: values };
        },
      },
    },
  ];
}

/** A problem of the spec's extra releases that needs the model to see (the releases the components make). */
export interface ExtraReleaseProblem {
  readonly path: readonly (string | number)[];
  readonly message: string;
  readonly hint: string;
}

/**
 * Names that clash with a release of the site, needs that name nothing (or a component that is
 * off), and cycles among the extra releases. `componentReleases` are the releases the enabled
 * components make (definition names).
 */
export function extraReleaseProblems(
  extras: readonly ExtraReleaseSpec[],
  componentReleases: readonly { component: string; name: string }[],
  componentNames: readonly string[],
  enabled: ReadonlySet<string>,
  manifestsNeeds: readonly string[] = [],
): ExtraReleaseProblem[] {
  const problems: ExtraReleaseProblem[] = [];
  const builtIn = new Set(componentReleases.map((r) => r.name));
  const seen = new Set<string>();
  const releaseNames = [...builtIn, ...extras.map((x) => x.name)];
  extras.forEach((x, i) => {
    if (builtIn.has(x.name)) {
      const owner = componentReleases.find((r) => r.name === x.name)!.component;
      problems.push({ path: ['spec', 'extraReleases', i, 'name'], message: `release ${JSON.stringify(x.name)} is already the ${owner} component's`, hint: 'choose another name: it names charts/<name> and the release' });
    } else if (seen.has(x.name)) {
      problems.push({ path: ['spec', 'extraReleases', i, 'name'], message: `duplicate extra release ${JSON.stringify(x.name)}`, hint: 'every release needs its own name' });
    }
    seen.add(x.name);
  });
  const checkNeeds = (needs: readonly string[], at: (j: number) => (string | number)[], self?: string) =>
    needs.forEach((n, j) => {
      if (n === self) problems.push({ path: at(j), message: `${JSON.stringify(n)} needs itself`, hint: 'remove it from its own needs' });
      else if (releaseNames.includes(n)) return;
      else if (componentNames.includes(n) && !enabled.has(n)) problems.push({ path: at(j), message: `needs component ${n}, which is not enabled`, hint: `set spec.components.${n}.enabled: true, or drop it from needs` });
      else if (!componentNames.includes(n) && !releaseNames.includes(n)) {
        const known = [...new Set([...enabled, ...releaseNames])];
        problems.push({ path: at(j), message: `needs ${JSON.stringify(n)}, which is neither a component nor a release of the site`, hint: didYouMean(n, known) ?? `one of: ${known.join(', ')}` });
      }
    });
  extras.forEach((x, i) => checkNeeds(x.needs, (j) => ['spec', 'extraReleases', i, 'needs', j], x.name));
  checkNeeds(manifestsNeeds, (j) => ['spec', 'extraManifests', 'needs', j]);
  // A cycle can only run through extra releases: nothing built in needs one.
  const byName = new Map(extras.map((x, i) => [x.name, i]));
  const state = new Map<string, 'open' | 'done'>();
  const visit = (name: string, trail: string[]): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'open') return [...trail.slice(trail.indexOf(name)), name];
    state.set(name, 'open');
    for (const n of extras[byName.get(name)!]!.needs) {
      if (byName.has(n) && n !== name) {
        const cycle = visit(n, [...trail, name]);
        if (cycle) return cycle;
      }
    }
    state.set(name, 'done');
    return undefined;
  };
  for (const x of extras) {
    const cycle = visit(x.name, []);
    if (cycle) {
      problems.push({ path: ['spec', 'extraReleases', byName.get(cycle[0]!)!, 'needs'], message: `extra releases need each other in a cycle: ${cycle.join(' → ')}`, hint: 'drop one of these needs: something must be deployed first' });
      break;
    }
  }
  return problems;
}

/**
 * The releases the site's own manifests come after: those of the components and releases its
 * needs name, or every release when it names none.
 */
export function extraManifestsAfter<R extends { readonly name: string; readonly component: string; readonly def: { readonly name: string } }>(
  manifests: { readonly needs: readonly string[] },
  releases: readonly R[],
): R[] {
  if (!manifests.needs.length) return [...releases];
  return releases.filter((r) => manifests.needs.includes(r.component) || manifests.needs.includes(r.def.name) || manifests.needs.includes(r.name));
}

/** Name of the extra manifests in helmfile, Flux and Argo CD. */
export const EXTRA_MANIFESTS = 'extra-manifests';
