// verify, step 1: the objects the cluster would receive. Every helm release rendered as helmfile,
// Flux or Argo CD would install it (its wrapper chart with the real upstream chart, the values
// files in order, helm-secrets values decrypted or stood in for, the release namespace), plus
// every kustomization of the GitOps tree and every SOPS Secret's metadata.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments, parse } from 'yaml';
import type { SiteModel } from '../model/site.ts';
import { siteReleases, type Release } from '../model/releases.ts';
import { helmValuesSecrets, siteSecrets } from '../secrets/store.ts';
import { upstreamKustomization, upstreamVersion } from '../components/upstream.ts';
import { decryptYaml } from '../sops/document.ts';
import { UserError } from '../spec/diagnostics.ts';
import { mapLimited } from '../tools/concurrency.ts';

export interface K8sObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}

/** An object with where it comes from: a release, or a file of the GitOps tree. */
export interface SourcedObject {
  readonly object: K8sObject;
  /** Release name (helm) or repository path (kustomize, SOPS). */
  readonly source: string;
  /** The namespace the object lands in (its own, else the release's). */
  readonly namespace?: string;
  readonly release?: Release;
}

/** Kinds that live outside namespaces (the rest land in their own or the release's namespace). */
export const CLUSTER_SCOPED_KINDS = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'PriorityClass',
  'ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration', 'APIService', 'IngressClass', 'RuntimeClass', 'CSIDriver', 'VolumeSnapshotClass',
  'ClusterIssuer', 'ClusterPolicy', 'NodeFeatureRule', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding', 'ClusterWorkflowTemplate',
  'NicClusterPolicy', 'IPPool', 'CIDRPool', 'FlowSchema', 'PriorityLevelConfiguration',
]);

export interface RenderedRelease {
  readonly release: Release;
  readonly upstream?: string;
  readonly objects: number;
  /** helm-secrets values stood in for by placeholders (no age key to decrypt them). */
  readonly placeholders: boolean;
}

export interface RenderOptions {
  readonly outDir: string;
  /** helm binary. */
  readonly helm: string;
  readonly kubectl?: string;
  /** Directory of upstream chart archives (<name>-<version>.tgz); else each wrapper's charts/. */
  readonly chartCache?: string;
  /** Directory of upstream kustomize trees as release archives (<name>-<version>.tar.gz, e.g. a tag's source archive). */
  readonly manifestCache?: string;
  readonly identities: readonly string[];
  /** Called as each release is rendered (a progress line on a terminal). */
  readonly progress?: (done: number, total: number, release: string) => void;
}

const run = (cmd: string, args: readonly string[], cwd?: string) =>
  new Promise<string>((done, fail) =>
    execFile(cmd, [...args], { cwd, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => (err ? fail(new Error(`${String(stderr || err.message).trim().split('\n').slice(0, 6).join(' | ')}`)) : done(stdout))),
  );

const objectsOf = (text: string): K8sObject[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((o): o is K8sObject => Boolean(o && typeof o === 'object' && o.kind));

/** The chart archive for an upstream dependency: from the cache directory, or what `helm dependency build` left. */
async function upstreamArchive(opts: RenderOptions, chartDir: string, name: string, version: string): Promise<string> {
  const candidates = [
    ...(opts.chartCache ? [join(opts.chartCache, `${name}-${version}.tgz`), join(opts.chartCache, `${name}-${version.replace(/^v/, '')}.tgz`), join(opts.chartCache, `${name}-v${version.replace(/^v/, '')}.tgz`)] : []),
    join(opts.outDir, chartDir, 'charts', `${name}-${version}.tgz`),
  ];
  const found = candidates.find((c) => existsSync(c));
  if (!found) {
    throw new UserError(
      `the upstream chart ${name} ${version} (for ${chartDir}) is not available`,
      `run \`helm dependency build ${chartDir}\` (it downloads the pinned chart), or pass --charts DIR holding ${name}-${version}.tgz`,
    );
  }
  return found;
}

/**
 * helm template output by the exact inputs that produced it (chart files, values, namespace,
 * Kubernetes version): a process that verifies several trees (tests, a bench) renders each chart once.
 */
const renderCache = new Map<string, string>();

const kustomizeCache = new Map<string, string>();

/** Every file below dir, names and contents, into the hash. */
async function hashTree(hash: ReturnType<typeof createHash>, dir: string, path = dir): Promise<void> {
  for (const e of (await readdir(path, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const full = join(path, e.name);
    if (e.isDirectory()) await hashTree(hash, dir, full);
    else hash.update(`${full.slice(dir.length)}\0`).update(await readFile(full)).update('\0');
  }
}

async function dirKey(dir: string): Promise<string> {
  const hash = createHash('sha256');
  await hashTree(hash, dir);
  return hash.digest('hex');
}

async function renderKey(dir: string, valueFiles: readonly string[], r: Release, kube: string): Promise<string> {
  const hash = createHash('sha256').update(`${r.def.name}\0${r.namespace}\0${kube}\0`);
  await hashTree(hash, dir);
  for (const f of valueFiles) hash.update(await readFile(f)).update('\0');
  return hash.digest('hex');
}

/** A helm-secrets values file as helm would read it: decrypted, or its keys with placeholder values. */
async function secretValues(text: string, identities: readonly string[]): Promise<{ values: unknown; placeholder: boolean }> {
  if (identities.length) {
    try {
      return { values: (await decryptYaml(text, identities)).plain, placeholder: false };
    } catch {
      // not for these keys: stand in below
    }
  }
  const stand = (v: unknown): unknown =>
    typeof v === 'string' && v.startsWith('ENC[') ? 'siteforge-verify-placeholder'
    : Array.isArray(v) ? v.map(stand)
    : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, stand(x)]))
    : v;
  const { sops: _metadata, ...rest } = (parse(text) ?? {}) as Record<string, unknown>;
  return { values: stand(rest), placeholder: true };
}

async function renderRelease(site: SiteModel, r: Release, opts: RenderOptions, work: string): Promise<{ rendered: RenderedRelease; objects: SourcedObject[] }> {
  const chartDir = r.chartPath!;
  const dir = join(work, r.name);
  await cp(join(opts.outDir, chartDir), dir, { recursive: true });
  let upstream: string | undefined;
  if (r.def.upstream) {
    const version = upstreamVersion(r.def.upstream);
    const archive = await upstreamArchive(opts, chartDir, r.def.upstream.chart, version);
    await mkdir(join(dir, 'charts'), { recursive: true });
    await cp(archive, join(dir, 'charts', archive.split('/').pop()!));
    upstream = `${r.def.upstream.chart} ${version}`;
  }
  const files = [join(dir, 'values.yaml')];
  if (r.environmentValuesPath && existsSync(join(opts.outDir, r.environmentValuesPath))) files.push(join(opts.outDir, r.environmentValuesPath));
  let placeholders = false;
  for (const [i, s] of helmValuesSecrets(site, r).entries()) {
    const { values, placeholder } = await secretValues(await readFile(join(opts.outDir, s.valuesPath!), 'utf8'), opts.identities);
    placeholders ||= placeholder;
    const path = join(work, `${r.name}-secret-${i}.json`);
    await writeFile(path, JSON.stringify(values));
    files.push(path);
  }
  const kube = site.distribution.version.replace(/\+.*$/, '');
  const cacheKey = await renderKey(dir, files, r, kube);
  const text = renderCache.get(cacheKey) ?? await run(opts.helm, ['template', r.def.name, dir, '--namespace', r.namespace, '--kube-version', kube, '--include-crds', ...files.flatMap((f) => ['-f', f])]).catch((e: Error) => {
    throw new UserError(`helm template ${r.name} failed: ${e.message}`, 'the wrapper chart or its values do not render with the upstream chart; fix the spec setting named in the message');
  });
  renderCache.set(cacheKey, text);
  // `helm test` pods are not part of an install.
  const installed = objectsOf(text).filter((o) => !/\btest\b/.test(o.metadata?.annotations?.['helm.sh/hook'] ?? ''));
  const objects: SourcedObject[] = installed.map((object) => ({ object, source: r.name, release: r, namespace: CLUSTER_SCOPED_KINDS.has(object.kind!) ? undefined : (object.metadata?.namespace ?? r.namespace) }));
  // CRDs a chart applies from its files (e.g. by a hook Job) rather than from crds/.
  if (upstream) objects.push(...(await chartFileCrds(join(dir, 'charts'), work, r)).filter((c) => !installed.some((o) => o.kind === 'CustomResourceDefinition' && o.metadata?.name === c.object.metadata?.name)));
  return { rendered: { release: r, upstream, objects: objects.length, placeholders }, objects };
}

/**
 * A release deployed from an upstream kustomize directory (no chart upstream): the tree at the
 * pinned tag from an archive in the manifest cache, built with kubectl kustomize, every
 * namespaced object in the release namespace (Flux's targetNamespace, Argo CD's destination).
 * Null when no manifest cache was given.
 */
async function renderKustomizeRelease(r: Release, opts: RenderOptions, work: string): Promise<{ rendered: RenderedRelease; objects: SourcedObject[] } | null> {
  if (!opts.manifestCache) return null;
  const k = upstreamKustomization(r.def.kustomization!);
  const bare = k.version.replace(/^v/, '');
  const names = [...new Set([`${k.name}-${k.version}`, `${k.name}-${bare}`, `${k.name}-v${bare}`])].flatMap((n) => [`${n}.tar.gz`, `${n}.tgz`]);
  const archive = names.map((n) => join(opts.manifestCache!, n)).find((p) => existsSync(p));
  if (!archive) {
    throw new UserError(
      `the upstream manifests of ${r.name} (${k.git} at ${k.version}) are not in ${opts.manifestCache}`,
      `put the tag's source archive there as ${names[0]} (for example \`git archive --prefix=${k.name}-${k.version}/ -o ${names[0]} ${k.version}\` in a clone)`,
    );
  }
  const into = join(work, `${r.name}-manifests`);
  await mkdir(into, { recursive: true });
  await run('tar', ['-xzf', archive, '-C', into, '--no-same-owner', '--no-same-permissions']);
  const [top] = (await readdir(into, { withFileTypes: true })).filter((e) => e.isDirectory());
  const dir = join(into, top?.name ?? '', k.path);
  if (!top || !existsSync(join(dir, 'kustomization.yaml'))) throw new UserError(`${archive} has no ${k.path}/kustomization.yaml under one top directory`, `use the source archive of ${k.git} at ${k.version}`);
  const key = await dirKey(dir);
  const text = kustomizeCache.get(key) ?? await run(opts.kubectl ?? 'kubectl', ['kustomize', dir]).catch((e: Error) => {
    throw new UserError(`kubectl kustomize ${k.path} of ${r.name} failed: ${e.message}`, `the archive must hold ${k.git} at ${k.version}`);
  });
  kustomizeCache.set(key, text);
  const objects: SourcedObject[] = objectsOf(text).map((object) => ({ object, source: r.name, release: r, namespace: CLUSTER_SCOPED_KINDS.has(object.kind!) ? undefined : r.namespace }));
  return { rendered: { release: r, upstream: `${k.name} ${k.version} (kustomize ${k.path})`, objects: objects.length, placeholders: false }, objects };
}

/** CustomResourceDefinitions in the YAML files of a chart archive (outside templates/). */
const chartCrdCache = new Map<string, K8sObject[]>();

async function chartFileCrds(chartsDir: string, work: string, r: Release): Promise<SourcedObject[]> {
  const [archive] = (await readdir(chartsDir)).filter((f) => f.endsWith('.tgz'));
  if (!archive) return [];
  const id = createHash('sha256').update(await readFile(join(chartsDir, archive))).digest('hex');
  const cached = chartCrdCache.get(id);
  if (cached) return cached.map((object) => ({ object, source: `${r.name} (chart files)`, release: r }));
  const list = (await run('tar', ['-tzf', join(chartsDir, archive)])).split('\n').filter((f) => /crd/i.test(f) && /\.ya?ml$/.test(f) && !f.includes('/templates/'));
  if (!list.length) return [];
  const into = join(work, `${r.name}-crds`);
  await mkdir(into, { recursive: true });
  await run('tar', ['-xzf', join(chartsDir, archive), '-C', into, ...list]);
  const out: SourcedObject[] = [];
  for (const file of list) {
    const text = await readFile(join(into, file), 'utf8');
    if (!text.includes('CustomResourceDefinition')) continue;
    for (const object of objectsOf(text)) if (object.kind === 'CustomResourceDefinition') out.push({ object, source: `${r.name} (chart file ${file.split('/').slice(1).join('/')})`, release: r });
  }
  chartCrdCache.set(id, out.map((o) => o.object));
  return out;
}

/** A SOPS file as its decryptor applies it: without the sops metadata block (its values stay placeholders here). */
function asDecrypted(object: K8sObject): K8sObject {
  if (!('sops' in object)) return object;
  const { sops: _metadata, ...applied } = object;
  return applied;
}

/** Directories with a kustomization.yaml under the GitOps tree and secrets/. */
async function kustomizations(outDir: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (rel: string) => {
    const entries = await readdir(join(outDir, rel), { withFileTypes: true }).catch(() => []);
    if (entries.some((e) => e.name === 'kustomization.yaml')) found.push(rel);
    for (const e of entries) if (e.isDirectory()) await walk(join(rel, e.name));
  };
  await walk('clusters');
  await walk('secrets');
  return found.sort();
}

/** The site's own manifests directory (spec.extraManifests), built as the engine builds it. */
const extraManifestsDir = (site: SiteModel) => (site.extraManifests ? [site.extraManifests.path] : []);

export interface RenderedSite {
  readonly releases: readonly RenderedRelease[];
  readonly objects: readonly SourcedObject[];
  /** Releases not rendered, with why (e.g. kustomize releases from a remote base). */
  readonly skipped: readonly { name: string; reason: string }[];
  /** Kustomization directories that list SOPS-encrypted files as plain resources. */
  readonly encryptedResourceDirs: readonly string[];
}

export async function renderDeployedSite(site: SiteModel, opts: RenderOptions): Promise<RenderedSite> {
  const work = await mkdtemp(join(tmpdir(), 'siteforge-verify-'));
  try {
    const { releases } = siteReleases(site);
    let done = 0;
    const rendered = (await mapLimited(releases, 2, async (r) => {
      const result = r.chartPath ? await renderRelease(site, r, opts, work) : await renderKustomizeRelease(r, opts, work);
      opts.progress?.(++done, releases.length, r.name);
      return result;
    })).filter((x) => x !== null);
    const objects: SourcedObject[] = rendered.flatMap((x) => x.objects);
    // The GitOps tree as Flux/Argo CD reads it (kustomize), SOPS Secrets included (their metadata is plain).
    const encryptedResourceDirs: string[] = [];
    for (const dir of [...(await kustomizations(opts.outDir)), ...extraManifestsDir(site)]) {
      const k = (parse(await readFile(join(opts.outDir, dir, 'kustomization.yaml'), 'utf8')) ?? {}) as { resources?: string[]; generators?: string[] };
      if ((k.resources ?? []).some((r) => r.endsWith('.sops.yaml'))) encryptedResourceDirs.push(dir);
      if (k.generators?.length) {
        // KSOPS generators (Argo CD) need the plugin and the key: the Secrets' metadata is read from the files they list.
        for (const generator of k.generators) {
          const g = (parse(await readFile(join(opts.outDir, dir, generator), 'utf8')) ?? {}) as { kind?: string; files?: string[] };
          for (const file of g.kind === 'ksops' ? (g.files ?? []) : []) {
            for (const object of objectsOf(await readFile(join(opts.outDir, dir, file), 'utf8'))) objects.push({ object: asDecrypted(object), source: `${dir}/${file}`, namespace: object.metadata?.namespace ?? 'default' });
          }
        }
        continue;
      }
      const key = await dirKey(join(opts.outDir, dir));
      const text = kustomizeCache.get(key) ?? await run(opts.kubectl ?? 'kubectl', ['kustomize', join(opts.outDir, dir)]).catch((e: Error) => {
        const own = site.extraManifests?.path === dir;
        throw new UserError(`kubectl kustomize ${dir} failed: ${e.message}`, own ? `${dir} is the site's own (spec.extraManifests): fix its kustomization.yaml or the manifests it lists` : 'a generated kustomization does not build; regenerate, and report it if it persists');
      });
      kustomizeCache.set(key, text);
      const defaultNamespace = site.extraManifests && dir === site.extraManifests.path ? site.extraManifests.namespace : 'default';
      for (const object of objectsOf(text)) objects.push({ object: asDecrypted(object), source: dir, namespace: CLUSTER_SCOPED_KINDS.has(object.kind!) ? undefined : (object.metadata?.namespace ?? defaultNamespace) });
    }
    // Secrets siteforge generates are applied by the GitOps engine (or helmfile's hooks) even where no kustomization lists them.
    for (const s of siteSecrets(site)) {
      if (!objects.some((o) => o.object.kind === 'Secret' && o.object.metadata?.name === s.def.name && o.namespace === s.namespace)) {
        objects.push({ object: { apiVersion: 'v1', kind: 'Secret', metadata: { name: s.def.name, namespace: s.namespace } }, source: s.manifestPath, namespace: s.namespace });
      }
    }
    const skipped = releases.filter((r) => !r.chartPath && !rendered.some((x) => x.rendered.release === r)).map((r) => ({ name: r.name, reason: `kustomize release (${r.def.kustomization}) from the upstream tag: pass --manifests DIR holding its source archive to render it` }));
    return { releases: rendered.map((x) => x.rendered), objects, skipped, encryptedResourceDirs };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

