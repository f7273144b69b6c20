// Every Flux object siteforge writes validates, strictly, against the real Flux CRDs
// (../shared/crds/flux-crds.yaml) — with verify's own CRD check, as the API server would judge
// it: HelmReleases with ChartVersion, drift detection and inline environment values, layered
// Kustomizations, sources (Flux's own signed manifests among them), and the notification Provider
// and Alert.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT, generatedSite, listFiles } from './helpers/cli.ts';
import { CHECKS } from '../generator/verify/checks.ts';
import type { SourcedObject } from '../generator/verify/render.ts';

const crdCheck = CHECKS.find((c) => c.name === 'custom resources match their CRD schemas (strict)')!.check;
const crds: SourcedObject[] = parseAllDocuments(await readFile(join(ROOT, '..', 'shared', 'crds', 'flux-crds.yaml'), 'utf8'))
  .map((d) => d.toJS())
  .filter((o) => o?.kind === 'CustomResourceDefinition')
  .map((object) => ({ object, source: 'flux-crds.yaml' }));

async function fluxObjects(out: string): Promise<SourcedObject[]> {
  const objects: SourcedObject[] = [];
  for (const f of (await listFiles(join(out, 'clusters'))).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(await readFile(join(out, 'clusters', f), 'utf8'))) {
      const object = doc.toJS();
      if (typeof object?.apiVersion === 'string' && object.apiVersion.includes('toolkit.fluxcd.io')) objects.push({ object, source: f, namespace: object.metadata?.namespace });
    }
  }
  return objects;
}

t.test('the example\'s Flux objects match the Flux CRDs, strictly', async (t) => {
  const out = await generatedSite('site.yaml', { commit: false });
  const objects = await fluxObjects(out);
  const kinds = new Set(objects.map((o) => `${o.object.apiVersion}/${o.object.kind}`));
  t.same([...kinds].sort(), [
    'helm.toolkit.fluxcd.io/v2/HelmRelease',
    'kustomize.toolkit.fluxcd.io/v1/Kustomization',
    'notification.toolkit.fluxcd.io/v1beta3/Alert',
    'notification.toolkit.fluxcd.io/v1beta3/Provider',
    'source.toolkit.fluxcd.io/v1/GitRepository',
    'source.toolkit.fluxcd.io/v1/HelmRepository',
    'source.toolkit.fluxcd.io/v1/OCIRepository',
  ]);
  const served = new Set(crds.flatMap((c) => ((c.object.spec as any).versions as { name: string }[]).map((v) => `${(c.object.spec as any).group}/${v.name}/${(c.object.spec as any).names.kind}`)));
  for (const kind of kinds) t.ok(served.has(kind), `${kind} is served by the Flux CRDs`);
  t.same(crdCheck({ objects: [...crds, ...objects] } as never), [], 'no object breaks its CRD schema');
  const release = objects.find((o) => o.object.kind === 'HelmRelease')!;
  t.equal((release.object.spec as any).chart.spec.reconcileStrategy, 'ChartVersion');
  // The check can fail: a field the CRD does not have is refused.
  const broken = { ...release, object: { ...release.object, spec: { ...(release.object.spec as object), driftDetection: { mode: 'enabled', ignoreAll: true } } } };
  t.match(crdCheck({ objects: [...crds, broken] } as never).map((p) => p.message).join('\n'), /does not match its CRD's schema: \/spec\/driftDetection must NOT have additional properties \(ignoreAll\)/);
});
