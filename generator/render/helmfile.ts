// Output family: helmfile.yaml, releases/<release>.yaml (one helmfile state per release, merged
// in as bases) and environments/<env>/helmfile.yaml (which environment `-e` selects).
import { EXTRA_MANIFESTS, extraManifestsAfter } from '../model/extra-releases.ts';
import type { SiteModel } from '../model/site.ts';
import { siteReleases, upstreamRepositories, type Release } from '../model/releases.ts';
import { upstreamKustomization } from '../components/upstream.ts';
import { commentedYamlFile, yamlFile, type GeneratedFile } from './files.ts';
import { helmValuesSecrets, siteSecrets } from '../secrets/store.ts';
import { chartVersion } from './charts.ts';

export const releaseFile = (defName: string) => `releases/${defName}.yaml`;

/** `<namespace>/<name>`, as helmfile's `needs:` names a release. */
const qualified = (r: Release) => `${r.namespace}/${r.name}`;

/** Release paths are relative to the root helmfile.yaml: helmfile resolves bases from there. */
function helmfileRelease(
  r: Release,
  byName: ReadonlyMap<string, Release>,
  secretValuesOf: (r: Release) => string[],
  hasSecrets: boolean,
): Record<string, unknown> {
  const chart = r.def.kustomization
    ? (() => {
        const k = upstreamKustomization(r.def.kustomization);
        return `git::${k.git}.git@${k.path}?ref=${k.version}`;
      })()
    : `./${r.chartPath}`;
  const secretValues = secretValuesOf(r);
  return {
    name: r.name,
    namespace: r.namespace,
    chart,
    version: r.def.kustomization ? upstreamKustomization(r.def.kustomization).version : chartVersion(r.def),
    ...(r.environment ? { condition: `${r.environment.name}.enabled` } : {}),
    labels: { component: r.component, ...(r.environment ? { environment: r.environment.name } : {}) },
    ...(r.environmentValuesPath ? { values: [`./${r.environmentValuesPath}`] } : {}),
    ...(secretValues.length ? { secrets: secretValues.map((p) => `./${p}`) } : {}),
    ...(r.needs.length ? { needs: r.needs.map((n) => qualified(byName.get(n)!)) } : {}),
    ...(r.def.name === 'namespaces' && hasSecrets
      ? { hooks: [{ events: ['postsync'], showlogs: true, command: './secrets/apply.sh', args: [] }] }
      : {}),
  };
}

export function renderHelmfile(site: SiteModel): GeneratedFile[] {
  const { releases, definitions } = siteReleases(site);
  const secrets = siteSecrets(site);
  const secretValuesOf = (r: Release) => helmValuesSecrets(site, r).map((s) => s.valuesPath!);
  const byName = new Map(releases.map((r) => [r.name, r]));
  const repositories = upstreamRepositories(site);
  const root = {
    environments: Object.fromEntries(site.environments.map((e) => [e.name, { values: [`./environments/${e.name}/helmfile.yaml`] }])),
    repositories,
    helmDefaults: { wait: true, waitForJobs: true, atomic: true, timeout: 900, createNamespace: true, historyMax: 10 },
    bases: [...definitions.map(({ def }) => releaseFile(def.name)), ...(site.extraManifests ? [releaseFile(EXTRA_MANIFESTS)] : [])],
  };
  const files: GeneratedFile[] = [
    commentedYamlFile(
      'helmfile.yaml',
      `Every release of site ${site.name}, in dependency order (needs:). From a bastion with the cluster's kubeconfig:\n  helmfile -e <environment> apply     (environments: ${site.environments.map((e) => e.name).join(', ')})\nCluster-wide releases are the same in every environment; releases/<name>.yaml holds each one.`,
      root,
    ),
  ];
  for (const { def } of definitions) {
    const instances = releases.filter((r) => r.def === def);
    files.push(yamlFile(releaseFile(def.name), { releases: instances.map((r) => helmfileRelease(r, byName, secretValuesOf, secrets.length > 0)) }));
  }
  if (site.extraManifests) {
    // The site's own manifests: helmfile makes a chart of the kustomize directory (it runs kustomize).
    const after = extraManifestsAfter(site.extraManifests, releases);
    files.push(
      yamlFile(releaseFile(EXTRA_MANIFESTS), {
        releases: [{ name: EXTRA_MANIFESTS, namespace: site.extraManifests.namespace, chart: `./${site.extraManifests.path}`, labels: { component: EXTRA_MANIFESTS }, ...(after.length ? { needs: after.map(qualified) } : {}) }],
      }),
    );
  }
  for (const env of site.environments) {
    files.push(
      commentedYamlFile(
        `environments/${env.name}/helmfile.yaml`,
        `helmfile environment ${env.name}: turns on this environment's releases (condition: <env>.enabled).`,
        Object.fromEntries(site.environments.map((e) => [e.name, { enabled: e === env }])),
      ),
    );
  }
  return files;
}
