// Output family: clusters/<site>/ — what Flux (default) or Argo CD reconciles. Both deploy the
// same wrapper charts with the same values files as helmfile, in the order of the one release
// graph: Flux HelmRelease dependsOn and layered Kustomizations, Argo CD sync waves.
import { EXTRA_MANIFESTS, extraManifestsAfter } from '../model/extra-releases.ts';
import type { ExtraManifestsSpec } from '../spec/schema.ts';
import type { SiteModel } from '../model/site.ts';
import { siteReleases, upstreamRepositories, type Release } from '../model/releases.ts';
import { RELEASE_LAYERS, type ReleaseLayer } from '../components/types.ts';
import { upstreamKustomization } from '../components/upstream.ts';
import { helmValuesSecrets, siteSecrets } from '../secrets/store.ts';
import { ALERTMANAGER_URL } from '../components/alerting.ts';
import { shellWord, toYaml, yamlFile, type GeneratedFile } from './files.ts';
import { SOPS_AGE_KEY, SOPS_AGE_SECRET } from '../secrets/types.ts';
import { ARGOCD_NAMESPACE } from '../components/argo-cd.ts';
import { FLUX_COMPONENT_LABEL, FLUX_EXTRA_COMPONENTS, FLUX_PART_OF, fluxSignature } from '../model/flux.ts';
import { parseTaint, tolerationFor } from '../model/taints.ts';

export const FLUX_NAMESPACE = 'flux-system';
/** The OCIRepository of Flux's own manifests. */
export const FLUX_MANIFESTS_SOURCE = 'flux-manifests';
export { SOPS_AGE_SECRET, ARGOCD_NAMESPACE };

/** Secrets the bootstrap makes by hand (RUNBOOK), never in the repository: the age key the engine decrypts with. */
export function bootstrapSecrets(site: SiteModel): { namespace: string; name: string }[] {
  return [{ namespace: site.gitops.engine === 'flux' ? FLUX_NAMESPACE : ARGOCD_NAMESPACE, name: SOPS_AGE_SECRET }];
}
/** Argo CD's name for the cluster it runs in. */
const IN_CLUSTER = 'https://kubernetes.default.svc';

export const clusterDir = (site: SiteModel) => `clusters/${site.name}`;
export const deployKeySecret = (site: SiteModel) => `${site.name}-deploy-key`;
/** Whether the engine reads the repository over SSH, with the deploy key Secret (https and git URLs are read anonymously). */
export const readsWithDeployKey = (site: SiteModel) => /^(ssh:\/\/|[^/]+@)/.test(site.gitops.repository);

/** The shell variables the bootstrap command reads the operator's two private key files from. */
export const FLUX_BOOTSTRAP_FILES = { ageKey: 'CLUSTER_AGE_KEY', deployKey: 'DEPLOY_KEY' } as const;

/**
 * Stage 4 with Flux as one command: the pinned Flux release (its default components, tolerating
 * the site's cluster taints), the age key Secret, the deploy key Secret, then this repository's
 * flux-system directory, after which Flux reconciles everything else (itself included when
 * self-managed), each step only after the one before it succeeded.
 */
export function fluxBootstrapCommand(site: SiteModel): string[] {
  const taintKeys = [...new Set(site.clusterTolerations.map((t) => parseTaint(t).key))];
  return [
    `flux install --version=${site.gitops.flux.version}${taintKeys.length ? ` --toleration-keys=${shellWord(taintKeys.join(','))}` : ''}`,
    `kubectl -n ${FLUX_NAMESPACE} create secret generic ${SOPS_AGE_SECRET} --from-file=${SOPS_AGE_KEY}="$${FLUX_BOOTSTRAP_FILES.ageKey}"`,
    ...(readsWithDeployKey(site)
      ? [`flux create secret git ${deployKeySecret(site)} --namespace ${FLUX_NAMESPACE} --url=${shellWord(site.gitops.repository)} --private-key-file="$${FLUX_BOOTSTRAP_FILES.deployKey}"`]
      : []),
    `kubectl apply -k ${clusterDir(site)}/flux-system`,
  ];
}

/** kustomization.yaml listing the given files of a directory. */
const kustomization = (dir: string, resources: string[]) =>
  yamlFile(`${dir}/kustomization.yaml`, { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', resources });

/** Namespaces the releases and secrets live in that no release creates itself. */
export function componentNamespaces(site: SiteModel): string[] {
  const env = new Set(site.environments.map((e) => e.namespace));
  const { releases } = siteReleases(site);
  const names = [...releases.map((r) => r.namespace), ...siteSecrets(site).map((s) => s.namespace)];
  return [...new Set(names)].filter((n) => !env.has(n) && n !== 'kube-system' && n !== 'default').sort();
}

/** Values files a release is deployed with, in helmfile's order: chart defaults, then environment. */
export function valuesFiles(r: Release): string[] {
  return [`./${r.chartPath}/values.yaml`, ...(r.environmentValuesPath ? [`./${r.environmentValuesPath}`] : [])];
}

// ---------------------------------------------------------------- Flux

/** One install or upgrade of a release may take this long: the catalog's, else 5 minutes for a chart, 10 for an upstream kustomize tree. */
export const releaseTimeout = (r: Release) => r.def.timeout ?? (r.def.kustomization ? '10m' : '5m');
const minutes = (duration: string) => Number(/^([0-9]+)m$/.exec(duration)?.[1] ?? 5);

/**
 * A layer's Kustomization waits for every release in it; releases that need one another in the
 * layer install one after the other. Its timeout is the longest such chain of Helm timeouts, plus
 * five minutes for applying and health checks — derived from the graph, never shorter than a
 * release it waits for.
 */
export function layerTimeout(releases: readonly Release[]): string {
  const byName = new Map(releases.map((r) => [r.name, r]));
  const finish = new Map<string, number>();
  const at = (r: Release): number => {
    if (!finish.has(r.name)) finish.set(r.name, minutes(releaseTimeout(r)) + Math.max(0, ...r.needs.filter((n) => byName.has(n)).map((n) => at(byName.get(n)!))));
    return finish.get(r.name)!;
  };
  return `${Math.max(0, ...releases.map(at)) + 5}m`;
}

function fluxHelmRelease(site: SiteModel, r: Release, byName: ReadonlyMap<string, Release>): Record<string, unknown> {
  const fromSecrets = helmValuesSecrets(site, r);
  return {
    apiVersion: 'helm.toolkit.fluxcd.io/v2',
    kind: 'HelmRelease',
    metadata: { name: r.name, namespace: r.namespace, labels: { 'siteforge.io/component': r.component } },
    spec: {
      interval: '30m',
      releaseName: r.name,
      chart: {
        spec: {
          chart: `./${r.chartPath}`,
          // A new chart artifact (and a Helm upgrade) only when the chart's version changes: it changes
          // exactly when what the chart renders can change (render/chart-versions.ts).
          reconcileStrategy: 'ChartVersion',
          sourceRef: { kind: 'GitRepository', name: site.name, namespace: FLUX_NAMESPACE },
          valuesFiles: [`./${r.chartPath}/values.yaml`],
        },
      },
      // An environment's values (environments/<env>/<chart>.yaml, as helmfile and Argo CD read them) are
      // given here, not in the shared chart: a change to one environment upgrades that release only.
      ...(r.environment && r.def.environmentValues ? { values: r.def.environmentValues(r.environment) } : {}),
      ...(fromSecrets.length ? { valuesFrom: fromSecrets.map((s) => ({ kind: 'Secret', name: s.def.name, valuesKey: 'values.yaml' })) } : {}),
      // How long one install or upgrade may take (the release's own, for slow first installs); the layer's timeout follows.
      timeout: releaseTimeout(r),
      // Changes made behind Flux's back (kubectl edit) are reverted; fields the chart fills in itself are left alone.
      driftDetection: {
        mode: 'enabled',
        ...(r.def.selfMutated?.length
          ? { ignore: r.def.selfMutated.map((m) => ({ paths: [...m.paths], target: { group: m.group, kind: m.kind, ...(m.name ? { name: m.name } : {}) } })) }
          : {}),
      },
      install: { crds: 'CreateReplace', remediation: { retries: 3 } },
      upgrade: { crds: 'CreateReplace', cleanupOnFail: true, remediation: { retries: 3, remediateLastFailure: true } },
      ...(r.needs.length ? { dependsOn: r.needs.map((n) => ({ name: n, namespace: byName.get(n)!.namespace })) } : {}),
    },
  };
}

function fluxUpstreamKustomization(r: Release): Record<string, unknown>[] {
  const k = upstreamKustomization(r.def.kustomization!);
  return [
    {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'GitRepository',
      metadata: { name: r.name, namespace: FLUX_NAMESPACE },
      spec: { interval: '12h', url: `${k.git}.git`, ref: { tag: k.version } },
    },
    {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: r.name, namespace: FLUX_NAMESPACE },
      spec: {
        interval: '1h',
        path: `./${k.path}`,
        prune: true,
        wait: true,
        timeout: releaseTimeout(r),
        sourceRef: { kind: 'GitRepository', name: r.name },
        targetNamespace: r.namespace,
      },
    },
  ];
}

function fluxKustomization(site: SiteModel, name: string, path: string, opts: { dependsOn?: string[]; decryption?: boolean; wait?: boolean; timeout?: string }) {
  return {
    apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
    kind: 'Kustomization',
    metadata: { name: `${site.name}-${name}`, namespace: FLUX_NAMESPACE },
    spec: {
      interval: '10m',
      retryInterval: '1m',
      timeout: opts.timeout ?? '5m',
      path,
      prune: true,
      wait: opts.wait ?? true,
      sourceRef: { kind: 'GitRepository', name: site.name },
      ...(opts.decryption ? { decryption: { provider: 'sops', secretRef: { name: SOPS_AGE_SECRET } } } : {}),
      ...(opts.dependsOn?.length ? { dependsOn: opts.dependsOn.map((d) => ({ name: `${site.name}-${d}` })) } : {}),
    },
  };
}

function renderFlux(site: SiteModel): GeneratedFile[] {
  const dir = clusterDir(site);
  const { releases } = siteReleases(site);
  const byName = new Map(releases.map((r) => [r.name, r]));
  const secrets = siteSecrets(site);
  const clusterSecrets = secrets.filter((s) => !s.environment);
  const envsWithSecrets = [...new Set(secrets.filter((s) => s.environment).map((s) => s.environment!))].sort();
  const files: GeneratedFile[] = [];

  const repository = {
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'GitRepository',
    metadata: { name: site.name, namespace: FLUX_NAMESPACE },
    spec: {
      interval: '5m',
      url: site.gitops.repository,
      ref: { branch: site.gitops.branch },
      ...(readsWithDeployKey(site) ? { secretRef: { name: deployKeySecret(site) } } : {}),
      // Only what the cluster needs from this repository.
      ignore: ['/*', '!/charts/', '!/environments/', '!/clusters/', '!/secrets/', ...(site.extraManifests ? [`!/${site.extraManifests.path}/`] : [])].join('\n'),
    },
  };
  const layersUsed = RELEASE_LAYERS.filter((l) => releases.some((r) => r.layer === l));
  const kustomizations: Record<string, unknown>[] = [
    fluxKustomization(site, 'flux-system', `./${dir}/flux-system`, { wait: false }),
    fluxKustomization(site, 'sources', `./${dir}/sources`, {}),
    fluxKustomization(site, 'namespaces', `./${dir}/namespaces`, {}),
    ...(clusterSecrets.length ? [fluxKustomization(site, 'secrets', './secrets/cluster', { dependsOn: ['namespaces'], decryption: true })] : []),
  ];
  let previous: string[] = ['sources', 'namespaces', ...(clusterSecrets.length ? ['secrets'] : [])];
  for (const layer of layersUsed) {
    kustomizations.push(fluxKustomization(site, layer, `./${dir}/${layer}`, { dependsOn: previous, timeout: layerTimeout(releases.filter((r) => r.layer === layer)) }));
    previous = [layer];
    if (layer === 'operators') {
      // Environment namespaces come from the namespaces release (operators layer).
      for (const env of envsWithSecrets) {
        kustomizations.push(fluxKustomization(site, `${env}-secrets`, `./secrets/${env}`, { dependsOn: ['operators'], decryption: true }));
      }
      previous = ['operators', ...envsWithSecrets.map((e) => `${e}-secrets`)];
    }
  }
  if (site.extraManifests) {
    // After the layers that hold what it needs (a layer is ready when every release in it is).
    const after = extraManifestsAfter(site.extraManifests, releases);
    const layers = [...new Set(after.map((r) => r.layer))];
    kustomizations.push(fluxKustomization(site, EXTRA_MANIFESTS, `./${site.extraManifests.path}`, { dependsOn: layers.length ? layers : previous }));
  }
  const selfManaged = site.gitops.flux.selfManaged;
  files.push(
    yamlFile(`${dir}/flux-system/repository.yaml`, repository),
    yamlFile(`${dir}/flux-system/layers.yaml`, ...kustomizations),
    ...(selfManaged ? [yamlFile(`${dir}/flux-system/${FLUX_SELF_FILE}`, ...fluxItself(site))] : []),
    kustomization(`${dir}/flux-system`, ['repository.yaml', 'layers.yaml', ...(selfManaged ? [FLUX_SELF_FILE] : [])]),
  );

  const repos = upstreamRepositories(site).map(({ name, url }) => ({
    apiVersion: 'source.toolkit.fluxcd.io/v1',
    kind: 'HelmRepository',
    metadata: { name, namespace: FLUX_NAMESPACE },
    spec: { interval: '12h', url },
  }));
  files.push(...(repos.length ? [yamlFile(`${dir}/sources/helm-repositories.yaml`, ...repos)] : []), kustomization(`${dir}/sources`, repos.length ? ['helm-repositories.yaml'] : []));

  const namespaces = componentNamespaces(site).map((name) => ({
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'siteforge', 'siteforge.io/site': site.name } },
  }));
  files.push(...(namespaces.length ? [yamlFile(`${dir}/namespaces/namespaces.yaml`, ...namespaces)] : []), kustomization(`${dir}/namespaces`, namespaces.length ? ['namespaces.yaml'] : []));

  const alerts = fluxAlerts(site);
  for (const layer of layersUsed) {
    const inLayer = releases.filter((r) => r.layer === layer);
    for (const r of inLayer) {
      const docs = r.def.kustomization ? fluxUpstreamKustomization(r) : [fluxHelmRelease(site, r, byName)];
      files.push(yamlFile(`${dir}/${layer}/${r.name}.yaml`, ...docs));
    }
    // Failed reconciliations go to Alertmanager, beside the monitoring release.
    const withAlerts = alerts && inLayer.some((r) => r.component === 'monitoring');
    if (withAlerts) files.push(yamlFile(`${dir}/${layer}/${FLUX_ALERTS_FILE}`, ...alerts));
    files.push(kustomization(`${dir}/${layer}`, [...inLayer.map((r) => `${r.name}.yaml`), ...(withAlerts ? [FLUX_ALERTS_FILE] : [])]));
  }
  files.push(...secretKustomizations(site));
  return files;
}

const FLUX_ALERTS_FILE = 'flux-alerts.yaml';
export const FLUX_SELF_FILE = 'flux.yaml';
/** The Kustomization that applies Flux's own controllers (`flux get kustomizations` shows it). */
export const fluxSelfKustomization = (site: SiteModel) => `${site.name}-flux`;

/**
 * Flux managing itself: the pinned release's install manifests, pulled as the OCI artifact Flux
 * publishes for it and accepted only with the release workflow's keyless cosign signature, applied
 * by a Kustomization of their own. The extra components the artifact carries are left out (with
 * their CRDs, by their component label), so the cluster runs what the bootstrap's `flux install`
 * put there; the controllers tolerate the site's cluster taints (spec.placement). Never pruned:
 * removing this file (selfManaged: false) leaves Flux running instead of uninstalling it.
 */
function fluxItself(site: SiteModel): Record<string, unknown>[] {
  const { version, manifests } = site.gitops.flux;
  const tolerations = site.clusterTolerations.map(tolerationFor);
  return [
    {
      apiVersion: 'source.toolkit.fluxcd.io/v1',
      kind: 'OCIRepository',
      metadata: { name: FLUX_MANIFESTS_SOURCE, namespace: FLUX_NAMESPACE },
      spec: {
        interval: '1h',
        url: manifests,
        ref: { tag: version },
        verify: { provider: 'cosign', matchOIDCIdentity: [fluxSignature(version)] },
      },
    },
    {
      apiVersion: 'kustomize.toolkit.fluxcd.io/v1',
      kind: 'Kustomization',
      metadata: { name: fluxSelfKustomization(site), namespace: FLUX_NAMESPACE },
      spec: {
        interval: '1h',
        retryInterval: '5m',
        timeout: '10m',
        path: './',
        prune: false,
        wait: true,
        sourceRef: { kind: 'OCIRepository', name: FLUX_MANIFESTS_SOURCE },
        patches: [
          {
            target: { labelSelector: `${FLUX_COMPONENT_LABEL} in (${FLUX_EXTRA_COMPONENTS.join(',')})` },
            patch: ['$patch: delete', 'apiVersion: v1', 'kind: Extra', 'metadata:', '  name: extra', ''].join('\n'),
          },
          ...(tolerations.length
            ? [
                {
                  target: { kind: 'Deployment', labelSelector: FLUX_PART_OF },
                  patch: toYaml({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'flux' }, spec: { template: { spec: { tolerations } } } }),
                },
              ]
            : []),
        ],
      },
    },
  ];
}

/**
 * Flux's failed reconciliations as alerts (notification-controller): a Provider posting to the
 * site's Alertmanager, so they reach the same receivers and routes as every other alert, and an
 * Alert on error events of the site's sources, Kustomizations and HelmReleases. Only with
 * monitoring and alert receivers.
 */
function fluxAlerts(site: SiteModel): Record<string, unknown>[] | undefined {
  if (!site.componentSettings.monitoring.enabled || !site.alerting.receivers.length) return undefined;
  const namespaces = [...new Set(siteReleases(site).releases.map((r) => r.namespace))].sort();
  return [
    {
      apiVersion: 'notification.toolkit.fluxcd.io/v1beta3',
      kind: 'Provider',
      metadata: { name: 'alertmanager', namespace: FLUX_NAMESPACE },
      spec: { type: 'alertmanager', address: `${ALERTMANAGER_URL}/api/v2/alerts/` },
    },
    {
      apiVersion: 'notification.toolkit.fluxcd.io/v1beta3',
      kind: 'Alert',
      metadata: { name: `${site.name}-reconciliation`, namespace: FLUX_NAMESPACE },
      spec: {
        providerRef: { name: 'alertmanager' },
        eventSeverity: 'error',
        eventMetadata: { site: site.name, severity: 'warning' },
        eventSources: [
          { kind: 'GitRepository', name: '*' },
          { kind: 'HelmRepository', name: '*' },
          { kind: 'Kustomization', name: '*' },
          ...namespaces.map((namespace) => ({ kind: 'HelmRelease', name: '*', namespace })),
        ],
      },
    },
  ];
}

/** The KSOPS generator (viaduct.ai/v1 ksops) Argo CD's repo server runs to decrypt a secrets directory. */
export const KSOPS_FILE = 'ksops.yaml';

/**
 * kustomization.yaml in each secrets directory. Flux lists the SOPS files as resources and decrypts
 * them itself (Kustomization decryption); Argo CD applies whatever kustomize prints, so there the
 * files are decrypted by a KSOPS generator — never listed as resources, which would apply
 * still-encrypted Secrets.
 */
function secretKustomizations(site: SiteModel): GeneratedFile[] {
  const dirs = new Map<string, string[]>();
  for (const s of siteSecrets(site)) dirs.set(s.dir, [...(dirs.get(s.dir) ?? []), s.manifestPath.slice(s.dir.length + 1)]);
  return [...dirs.entries()].flatMap(([dir, files]) => {
    if (site.gitops.engine === 'flux') return [kustomization(dir, files.sort())];
    return [
      yamlFile(`${dir}/kustomization.yaml`, { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', generators: [KSOPS_FILE] }),
      yamlFile(`${dir}/${KSOPS_FILE}`, {
        apiVersion: 'viaduct.ai/v1',
        kind: 'ksops',
        metadata: { name: `${site.name}-${dir.replace(/\//g, '-')}`, annotations: { 'config.kubernetes.io/function': 'exec:\n  path: ksops\n' } },
        files: files.sort(),
      }),
    ];
  });
}

// ---------------------------------------------------------------- Argo CD

function argoApplication(site: SiteModel, r: Release): Record<string, unknown> {
  // helm-secrets in the repo server decrypts these (RUNBOOK.md, "Stage 4 with Argo CD").
  const secretValues = helmValuesSecrets(site, r).map((s) => `secrets://${r.chartPath!.split('/').map(() => '..').join('/')}/${s.valuesPath}`);
  const source = r.def.kustomization
    ? (() => {
        const k = upstreamKustomization(r.def.kustomization!);
        return { sources: [{ repoURL: `${k.git}.git`, targetRevision: k.version, path: k.path }] };
      })()
    : {
        sources: [
          {
            repoURL: site.gitops.repository,
            targetRevision: site.gitops.branch,
            path: r.chartPath,
            helm: {
              releaseName: r.name,
              valueFiles: [...valuesFiles(r).map((f) => `$values/${f.slice(2)}`), ...secretValues],
            },
          },
          { repoURL: site.gitops.repository, targetRevision: site.gitops.branch, ref: 'values' },
        ],
      };
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: `${site.name}-${r.name}`,
      namespace: ARGOCD_NAMESPACE,
      annotations: { 'argocd.argoproj.io/sync-wave': String(r.level + 1) },
      labels: { 'siteforge.io/site': site.name, 'siteforge.io/component': r.component },
      finalizers: ['resources-finalizer.argocd.argoproj.io'],
    },
    spec: {
      project: site.name,
      destination: { server: IN_CLUSTER, namespace: r.namespace },
      ...source,
      syncPolicy: {
        automated: { prune: true, selfHeal: true },
        // RespectIgnoreDifferences: fields the chart fills in itself are not overwritten on sync either.
        syncOptions: ['CreateNamespace=true', 'ServerSideApply=true', ...(r.def.selfMutated?.length ? ['RespectIgnoreDifferences=true'] : [])],
        retry: { limit: 5, backoff: { duration: '30s', factor: 2, maxDuration: '10m' } },
      },
      ...(r.def.selfMutated?.length
        ? { ignoreDifferences: r.def.selfMutated.map((m) => ({ group: m.group, kind: m.kind, ...(m.name ? { name: m.name } : {}), jsonPointers: [...m.paths] })) }
        : {}),
    },
  };
}

/** The site's own manifests as an Argo CD Application, one sync wave after the last release it needs. */
function argoExtraManifests(site: SiteModel, manifests: ExtraManifestsSpec): Record<string, unknown> {
  const after = extraManifestsAfter(manifests, siteReleases(site).releases);
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: `${site.name}-${EXTRA_MANIFESTS}`,
      namespace: ARGOCD_NAMESPACE,
      annotations: { 'argocd.argoproj.io/sync-wave': String(Math.max(0, ...after.map((r) => r.level + 1)) + 1) },
      labels: { 'siteforge.io/site': site.name },
      finalizers: ['resources-finalizer.argocd.argoproj.io'],
    },
    spec: {
      project: site.name,
      destination: { server: IN_CLUSTER, namespace: manifests.namespace },
      source: { repoURL: site.gitops.repository, targetRevision: site.gitops.branch, path: manifests.path },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true', 'ServerSideApply=true'], retry: { limit: 5, backoff: { duration: '30s', factor: 2, maxDuration: '10m' } } },
    },
  };
}

function renderArgo(site: SiteModel): GeneratedFile[] {
  const dir = `${clusterDir(site)}/argocd`;
  const { releases } = siteReleases(site);
  const secrets = siteSecrets(site);
  const project = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AppProject',
    metadata: { name: site.name, namespace: ARGOCD_NAMESPACE },
    spec: {
      description: `siteforge site ${site.name}`,
      sourceRepos: [site.gitops.repository, ...upstreamRepositories(site).map((r) => r.url), ...releases.filter((r) => r.def.kustomization).map((r) => `${upstreamKustomization(r.def.kustomization!).git}.git`)],
      // Only the namespaces this site deploys into.
      destinations: [...new Set([...releases.map((r) => r.namespace), ...secrets.map((s) => s.namespace), ...(site.extraManifests ? [site.extraManifests.namespace] : [])])]
        .sort()
        .map((namespace) => ({ server: IN_CLUSTER, namespace })),
      clusterResourceWhitelist: [{ group: '*', kind: '*' }],
    },
  };
  const secretApps = [...new Set(secrets.map((s) => s.dir))].sort().map((path) => ({
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: {
      name: `${site.name}-${path.replace('/', '-')}`,
      namespace: ARGOCD_NAMESPACE,
      // Cluster secrets before every release (wave 0), environment ones after the namespaces (wave 1).
      annotations: { 'argocd.argoproj.io/sync-wave': path === 'secrets/cluster' ? '0' : '1' },
      labels: { 'siteforge.io/site': site.name },
    },
    spec: {
      project: site.name,
      destination: { server: IN_CLUSTER },
      // SOPS files: the repo server decrypts them with KSOPS (see RUNBOOK.md, "Stage 4 with Argo CD").
      source: { repoURL: site.gitops.repository, targetRevision: site.gitops.branch, path },
      syncPolicy: { automated: { prune: true, selfHeal: true }, syncOptions: ['CreateNamespace=true'] },
    },
  }));
  const apps = [
    ...releases.map((r) => ({ file: `applications/${r.name}.yaml`, doc: argoApplication(site, r) })),
    ...(site.extraManifests ? [{ file: `applications/${EXTRA_MANIFESTS}.yaml`, doc: argoExtraManifests(site, site.extraManifests) }] : []),
  ];
  const root = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Application',
    metadata: { name: site.name, namespace: ARGOCD_NAMESPACE },
    spec: {
      project: 'default',
      destination: { server: IN_CLUSTER, namespace: ARGOCD_NAMESPACE },
      source: { repoURL: site.gitops.repository, targetRevision: site.gitops.branch, path: dir },
      syncPolicy: { automated: { prune: true, selfHeal: true } },
    },
  };
  return [
    yamlFile(`${dir}/project.yaml`, project),
    ...(secretApps.length ? [yamlFile(`${dir}/secrets.yaml`, ...secretApps)] : []),
    ...apps.map((a) => yamlFile(`${dir}/${a.file}`, a.doc)),
    kustomization(dir, ['project.yaml', ...(secretApps.length ? ['secrets.yaml'] : []), ...apps.map((a) => a.file)]),
    yamlFile(`${clusterDir(site)}/argocd-root.yaml`, root),
    ...secretKustomizations(site),
  ];
}

/** The site's own manifests directory: its kustomization.yaml, created once and then the site's (a seed). */
function extraManifestsSeed(site: SiteModel): GeneratedFile[] {
  const m = site.extraManifests;
  if (!m) return [];
  const after = m.needs.length ? m.needs.join(', ') : 'every release';
  return [
    {
      path: `${m.path}/kustomization.yaml`,
      seed: true,
      content: [
        `# The site's own manifests (spec.extraManifests). siteforge created this file once and never writes`,
        `# this directory again: list your manifests under resources. helmfile, Flux and Argo CD apply them`,
        `# after ${after}; siteforge verify checks them. \`namespace:\` puts every namespaced object in`,
        `# ${m.namespace}: remove it to give each manifest its own.`,
        'apiVersion: kustomize.config.k8s.io/v1beta1',
        'kind: Kustomization',
        `namespace: ${m.namespace}`,
        'resources: []',
        '',
      ].join('\n'),
    },
  ];
}

export function renderGitops(site: SiteModel): GeneratedFile[] {
  return [...(site.gitops.engine === 'flux' ? renderFlux(site) : renderArgo(site)), ...extraManifestsSeed(site)];
}

export type { ReleaseLayer };
