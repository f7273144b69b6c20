// Output family: images.txt — every container image the site runs, for mirroring into Harbor on
// air-gapped sites (e.g. with `crane copy` or Harbor replication rules).
import type { SiteModel } from '../model/site.ts';
import { siteReleases } from '../model/releases.ts';
import { imagesOf, upstreamImages } from '../components/upstream.ts';
import { textFile, type GeneratedFile } from './files.ts';
import { workflowSteps } from '../model/workflows.ts';
import { KUBE_VIP_IMAGE } from './ansible.ts';

export function renderImageList(site: SiteModel): GeneratedFile[] {
  const { definitions } = siteReleases(site);
  const lines = new Map<string, Set<string>>();
  const add = (image: string, by: string) => lines.set(image, (lines.get(image) ?? new Set()).add(by));
  for (const { def } of definitions) {
    for (const image of def.upstream ? imagesOf(def.upstream) : def.kustomization ? upstreamImages(def.kustomization) : []) add(image, def.name);
    for (const image of def.images ?? []) add(image, def.name);
  }
  if (site.distribution.apiEndpoint?.type === 'kubeVip') add(KUBE_VIP_IMAGE, 'the API endpoint (kube-vip)');
  if (site.componentSettings.argoWorkflows.enabled) {
    for (const w of site.workflows) for (const step of workflowSteps(w).steps) add(step.image, `workflow ${w.name}`);
  }
  const body = [...lines.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([image, by]) => `${image}  # ${[...by].sort().join(', ')}`);
  return [
    textFile(
      'images.txt',
      [
        '# Container images of this site (the images of the pinned charts with the values siteforge gives them,',
        '# plus the site workflow images). Mirror them into Harbor before an air-gapped install.',
        ...body,
      ].join('\n'),
    ),
  ];
}
