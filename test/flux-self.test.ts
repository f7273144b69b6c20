// Flux managing itself (spec.gitops.flux): the Kustomization that applies the pinned release's
// manifests, as kustomize-controller builds them, and the OCIRepository's signature identity, as
// source-controller matches it. The artifact itself cannot be pulled here (no registry access), so
// kustomize runs over a stand-in with the shape `flux install --export` writes — each component's
// objects carrying app.kubernetes.io/component, everything app.kubernetes.io/part-of: flux, as
// flux2's manifests/ label them — and the Kustomization's own patches, with the real kubectl
// kustomize. The bootstrap command is checked by shellcheck and bash; the Flux objects against the
// Flux CRDs in flux-crds.test.ts.
import t from 'tap';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { ROOT, siteforge, tempDir } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';
import { parseManifests } from './helpers/k8s.ts';
import { FLUX_COMPONENTS, FLUX_DEFAULT_VERSION, FLUX_EXTRA_COMPONENTS } from '../generator/model/flux.ts';

/** The minimal example, its servers tainted, with the given gitops.flux settings. */
async function site(flux: string): Promise<string> {
  const dir = await tempDir();
  const text = (await readFile(join(ROOT, 'examples/minimal.yaml'), 'utf8'))
    .replace('  environments: [prod]\n', '  placement:\n    serverTaints: ["CriticalAddonsOnly=true:NoExecute"]\n  environments: [prod]\n')
    .concat(flux);
  await writeFile(join(dir, 'site.yaml'), text);
  const res = await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit']);
  if (res.code !== 0) throw new Error(res.stderr);
  return dir;
}

const out = await site('');
const fluxFile = join(out, 'clusters/mini/flux-system/flux.yaml');
const [source, self] = parseAllDocuments(await readFile(fluxFile, 'utf8')).map((d) => d.toJS()) as any[];

/** What `flux install --export` writes for every component the published artifact carries, in its shape. */
function standInArtifact(): string {
  const part = { 'app.kubernetes.io/part-of': 'flux', 'app.kubernetes.io/instance': 'flux-system' };
  const docs: unknown[] = [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'flux-system', labels: part } }];
  for (const c of [...FLUX_COMPONENTS, ...FLUX_EXTRA_COMPONENTS]) {
    const labels = { ...part, 'app.kubernetes.io/component': c };
    docs.push(
      { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: `things.${c}.toolkit.fluxcd.io`, labels }, spec: {} },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: c, namespace: 'flux-system', labels } },
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: c, namespace: 'flux-system', labels },
        spec: {
          selector: { matchLabels: { app: c } },
          template: { metadata: { labels: { ...labels, app: c } }, spec: { serviceAccountName: c, nodeSelector: { 'kubernetes.io/os': 'linux' }, containers: [{ name: 'manager', image: `ghcr.io/fluxcd/${c}:v1.0.0` }] } },
        },
      },
    );
  }
  docs.push(
    { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: 'crd-controller-flux-system', labels: part }, rules: [] },
    { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'allow-egress', namespace: 'flux-system', labels: part }, spec: { podSelector: {} } },
  );
  return docs.map((d) => stringify(d)).join('---\n');
}

/** kustomize-controller's build of the artifact: a kustomization.yaml over its files, with the Kustomization's patches. */
async function build(kustomization: any): Promise<any[]> {
  const dir = await tempDir();
  await mkdir(join(dir, 'artifact'));
  await writeFile(join(dir, 'artifact', 'gotk-components.yaml'), standInArtifact());
  await writeFile(join(dir, 'artifact', 'kustomization.yaml'), stringify({ apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources: ['gotk-components.yaml'], patches: kustomization.spec.patches ?? [] }));
  const res = await runTool('kubectl', ['kustomize', join(dir, 'artifact')]);
  if (res.code !== 0) throw new Error(res.stderr);
  return parseManifests(res.stdout) as any[];
}

t.test('the repository applies the pinned release, never pruning, from the signed artifact', async (t) => {
  t.same([source.kind, source.spec.url, source.spec.ref], ['OCIRepository', 'oci://ghcr.io/fluxcd/flux-manifests', { tag: FLUX_DEFAULT_VERSION }]);
  t.same([self.kind, self.spec.sourceRef, self.spec.path, self.spec.prune, self.spec.wait], ['Kustomization', { kind: 'OCIRepository', name: 'flux-manifests' }, './', false, true]);
  // The root Kustomization applies flux-system/ itself, so the new objects are applied with it.
  const built = await runTool('kubectl', ['kustomize', join(out, 'clusters/mini/flux-system')]);
  t.equal(built.code, 0, built.stderr);
  const names = parseManifests(built.stdout).map((o: any) => `${o.kind}/${o.metadata.name}`);
  t.ok(names.includes('OCIRepository/flux-manifests') && names.includes('Kustomization/mini-flux') && names.includes('Kustomization/mini-flux-system'), names.join(' '));
});

t.test('kustomize builds the default controllers, the extras and their CRDs left out, tolerating the server taints', async (t) => {
  const objects = await build(self);
  const deployments = objects.filter((o) => o.kind === 'Deployment');
  t.same(deployments.map((d) => d.metadata.name).sort(), [...FLUX_COMPONENTS].sort(), 'what `flux install` installs by default');
  t.same(objects.filter((o) => o.kind === 'CustomResourceDefinition').map((o) => o.metadata.labels['app.kubernetes.io/component']).sort(), [...FLUX_COMPONENTS].sort(), 'only the CRDs of the controllers that run');
  t.notOk(objects.some((o) => (FLUX_EXTRA_COMPONENTS as readonly string[]).includes(o.metadata.name)), 'no ServiceAccount or Deployment of an extra component');
  t.ok(objects.some((o) => o.kind === 'ClusterRole') && objects.some((o) => o.kind === 'NetworkPolicy') && objects.some((o) => o.kind === 'Namespace'), 'what all components share stays');
  for (const d of deployments) {
    t.same(d.spec.template.spec.tolerations, [{ key: 'CriticalAddonsOnly', operator: 'Equal', value: 'true', effect: 'NoExecute' }], `${d.metadata.name} tolerates the server taint`);
    t.same(d.spec.template.spec.containers.map((c: any) => c.name), ['manager'], 'the rest of the Deployment as published');
  }
});

t.test('the signature identity is the flux2 release workflow of that tag, and nothing else', async (t) => {
  const [identity] = source.spec.verify.matchOIDCIdentity;
  t.equal(source.spec.verify.provider, 'cosign');
  t.ok(new RegExp(identity.issuer).test('https://token.actions.githubusercontent.com'));
  const subject = new RegExp(identity.subject);
  t.ok(subject.test(`https://github.com/fluxcd/flux2/.github/workflows/release.yaml@refs/tags/${FLUX_DEFAULT_VERSION}`), 'the release workflow at the pinned tag');
  for (const other of [
    'https://github.com/fluxcd/flux2/.github/workflows/release.yaml@refs/tags/v2.9.3',
    `https://github.com/fluxcd/flux2/.github/workflows/release.yaml@refs/heads/main`,
    `https://github.com/attacker/flux2/.github/workflows/release.yaml@refs/tags/${FLUX_DEFAULT_VERSION}`,
    `https://github.com/fluxcd/flux2/.github/workflows/releaseXyaml@refs/tags/${FLUX_DEFAULT_VERSION}`,
    `https://github.com/fluxcd/flux2/.github/workflows/release.yaml@refs/tags/${FLUX_DEFAULT_VERSION}0`,
  ]) {
    t.notOk(subject.test(other), `refuses ${other}`);
  }
});

t.test('the bootstrap command: one shellcheck-clean chain, the release the repository pins', async (t) => {
  const runbook = await readFile(join(out, 'RUNBOOK.md'), 'utf8');
  const command = /## Stage 4 with Flux[\s\S]*?```sh\n([\s\S]*?)```/.exec(runbook)?.[1];
  t.ok(command, 'the RUNBOOK has it');
  t.match(command, new RegExp(`^flux install --version=${FLUX_DEFAULT_VERSION} --toleration-keys=CriticalAddonsOnly \\\\\n`), 'installs the release the OCIRepository pins, tolerating the server taints');
  t.match(command, /&& kubectl apply -k clusters\/mini\/flux-system\n$/);
  const dir = await tempDir();
  await writeFile(join(dir, 'bootstrap.sh'), `#!/bin/bash\n${command}`);
  const lint = await runTool('shellcheck', [join(dir, 'bootstrap.sh')]);
  t.equal(lint.code, 0, lint.stdout);
});

t.test('Renovate finds the release where the spec names it, in block and flow style', async (t) => {
  const manager = JSON.parse(await readFile(join(out, 'renovate.json'), 'utf8')).customManagers.find((m: { depNameTemplate?: string }) => m.depNameTemplate === 'fluxcd/flux2');
  t.equal(manager.datasourceTemplate, 'github-releases');
  const found = (text: string) => manager.matchStrings.flatMap((m: string) => [...text.matchAll(new RegExp(m, 'g'))].map((x) => x.groups!.currentValue));
  t.same(found('  gitops:\n    repository: x\n    flux:\n      selfManaged: true\n      version: v2.9.4\n'), ['v2.9.4']);
  t.same(found('  gitops:\n    flux: {selfManaged: true, version: "v2.8.1"}\n'), ['v2.8.1']);
  t.same(found((await readFile(join(out, 'site.yaml'), 'utf8')).replace('    repository:', '    flux:\n      version: v2.9.4\n    repository:')), ['v2.9.4'], 'in a whole spec');
  t.same(found('  gitops:\n    flux:\n      selfManaged: true\n  distribution:\n    version: v1.31.4+rke2r1\n'), [], 'not another block\'s version');
});

t.test('selfManaged: false leaves Flux to the operator', async (t) => {
  const dir = await site('    flux: {selfManaged: false, version: v2.8.1}\n');
  const k = parse(await readFile(join(dir, 'clusters/mini/flux-system/kustomization.yaml'), 'utf8'));
  t.same(k.resources, ['repository.yaml', 'layers.yaml']);
  const runbook = await readFile(join(dir, 'RUNBOOK.md'), 'utf8');
  t.match(runbook, /flux install --version=v2\.8\.1 --toleration-keys=CriticalAddonsOnly/);
  t.match(runbook, /Flux is installed and upgraded by hand/);
});
