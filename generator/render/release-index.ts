// docs/releases.md: one entry per release with every file that belongs to it (wrapper chart,
// helmfile release, environment values, Flux/Argo CD object, secrets), its upstream chart and
// images, what it needs and what needs it — the one place a reviewer reads about Harbor, say,
// without the repository's layout changing. Everything else is listed as site-wide.
import type { SiteModel } from '../model/site.ts';
import { siteReleases } from '../model/releases.ts';
import { siteSecrets } from '../secrets/store.ts';
import { chartOf, imagesOf, upstreamImages, upstreamVersion } from '../components/upstream.ts';
import { clusterDir } from './gitops.ts';
import { textFile, type GeneratedFile } from './files.ts';
import { chartInputOf } from './chart-versions.ts';

export const RELEASE_INDEX = 'docs/releases.md';

/**
 * Which release definition (wrapper chart name) a generated file belongs to, or null for the
 * site-wide files: the one mapping the index is built from, its lookups computed once per site.
 */
export function releaseOwners(site: SiteModel): (path: string) => string | null {
  const { releases, definitions } = siteReleases(site);
  const names = new Set(definitions.map((d) => d.def.name));
  const byInstance = new Map(releases.map((r) => [r.name, r.def.name]));
  const gitopsObject = new RegExp(`^${clusterDir(site)}/(?:[a-z]+|argocd/applications)/([^/]+)\\.yaml$`);
  const bySecretFile = new Map<string, string>();
  for (const s of siteSecrets(site)) {
    const owner = s.def.helmValues?.release ?? definitions.find((d) => d.component === s.component)?.def.name;
    if (!owner) continue;
    bySecretFile.set(s.manifestPath, owner);
    if (s.valuesPath) bySecretFile.set(s.valuesPath, owner);
  }
  return (path) => {
    const chart = chartInputOf(path) ?? /^releases\/([^/]+)\.yaml$/.exec(path)?.[1];
    if (chart && names.has(chart)) return chart;
    const instance = gitopsObject.exec(path)?.[1];
    if (instance && byInstance.has(instance)) return byInstance.get(instance)!;
    return bySecretFile.get(path) ?? null;
  };
}

export function renderReleaseIndex(site: SiteModel, files: readonly GeneratedFile[]): GeneratedFile {
  const { releases, definitions } = siteReleases(site);
  const owned = new Map<string, string[]>();
  const siteWide: string[] = [];
  const ownerOf = releaseOwners(site);
  for (const f of [...files.map((f) => f.path), RELEASE_INDEX].sort()) {
    const owner = ownerOf(f);
    if (owner) owned.set(owner, [...(owned.get(owner) ?? []), f]);
    else siteWide.push(f);
  }
  const needers = (name: string) => releases.filter((r) => r.needs.some((n) => releases.find((x) => x.name === n)?.def.name === name)).map((r) => r.name);
  const lines = [
    `# Releases of ${site.name}`,
    '',
    'One entry per release: where it runs, what it is built from, what it needs and every file of',
    'this repository that belongs to it. Generated from the site model; regenerate, do not edit.',
    '',
  ];
  for (const { component, def } of definitions) {
    const instances = releases.filter((r) => r.def.name === def.name);
    const needs = [...new Set(instances.flatMap((r) => r.needs))];
    const upstream = def.upstream ? chartOf(def.upstream) : undefined;
    const images = [...(def.upstream ? imagesOf(def.upstream) : def.kustomization ? upstreamImages(def.kustomization) : []), ...(def.images ?? [])];
    lines.push(
      `## ${def.name}`,
      '',
      `${def.description}.`,
      '',
      `- component: \`${component}\`; layer: ${instances[0]?.layer ?? '-'}`,
      `- runs as: ${instances.map((r) => `\`${r.namespace}/${r.name}\``).join(', ')}`,
      `- upstream: ${upstream ? `\`${upstream.name}\` ${upstreamVersion(def.upstream!)} from ${upstream.repository}` : def.kustomization ? `kustomize \`${def.kustomization}\`` : 'none (site templates only)'}`,
      `- needs: ${needs.length ? needs.map((n) => `\`${n}\``).join(', ') : 'nothing'}`,
      `- needed by: ${needers(def.name).length ? [...new Set(needers(def.name))].map((n) => `\`${n}\``).join(', ') : 'nothing'}`,
      ...(images.length ? [`- images: ${[...new Set(images)].sort().map((i) => `\`${i}\``).join(', ')}`] : []),
      `- files:`,
      ...(owned.get(def.name) ?? []).map((f) => `  - [\`${f}\`](../${f})`),
      '',
    );
  }
  lines.push('## Site-wide files', '', 'Files that belong to the whole site rather than one release.', '', ...siteWide.map((f) => `- [\`${f}\`](../${f})`));
  return textFile(RELEASE_INDEX, lines.join('\n'));
}
