// verify, step 2: does the site bind together? Each check reads every rendered object and names
// both ends of a broken reference (the object and what it points at), and the spec field to
// change — in the shape of kube-linter's "dangling" checks.
import { EXTRA_RELEASES } from '../model/extra-releases.ts';
import { createHash } from 'node:crypto';
import { Ajv } from 'ajv';
import type { SiteModel } from '../model/site.ts';
import { podSecurityExemptions, siteReleases } from '../model/releases.ts';
import { harborHostname } from '../components/harbor.ts';
import { RKE2_TRAEFIK_CLASS } from '../components/web.ts';
import { bootstrapSecrets } from '../render/gitops.ts';
import { publishedAnnotation } from '../secrets/types.ts';
import { validateBuiltIn, type KubernetesSchema } from './kubernetes-schema.ts';
import { parseTaint, repels, tolerates } from '../model/taints.ts';
import { podSecurityViolations, type PodSecurityLevel } from './pod-security.ts';
import { parse as parseYaml } from 'yaml';
import { parseIpv4, poolContaining } from '../spec/net.ts';
import { DNS_LABEL_PATTERN, DNS_NAME_PATTERN, LABEL_VALUE, QUALIFIED_NAME } from '../spec/formats.ts';
import { CLUSTER_SCOPED_KINDS as CLUSTER_SCOPED, type K8sObject, type SourcedObject } from './render.ts';

export interface Problem {
  readonly check: string;
  readonly severity: 'error' | 'warning';
  /** "Kind namespace/name (from source)". */
  readonly object: string;
  readonly message: string;
  /** What to change, in the spec where possible. */
  readonly hint: string;
}

export interface CheckContext {
  readonly site: SiteModel;
  readonly objects: readonly SourcedObject[];
  /** Images listed in images.txt (normalised). */
  readonly imageList: ReadonlySet<string>;
  /** Kustomization directories that list SOPS-encrypted files as plain resources. */
  readonly encryptedResourceDirs: readonly string[];
  /** What the Ansible output makes the nodes trust. */
  readonly nodeTrust: NodeTrust;
  /** The Kubernetes API's object schemas (built-in kinds). */
  readonly kubernetes: KubernetesSchema;
}

/** Read from the generated ansible/group_vars: the CA the nodes trust, and the registries containerd verifies against it. */
export interface NodeTrust {
  /** PEM certificates installed on every node (OS trust store and containerd). */
  readonly certificates: readonly string[];
  /** Registry hosts whose TLS containerd verifies against that CA (RKE2 registries.yaml configs, k0s hosts.toml, Kubespray's containerd_registries_mirrors). */
  readonly registries: ReadonlySet<string>;
}

type Check = (ctx: CheckContext) => Problem[];

export const describe = (o: SourcedObject) =>
  `${o.object.kind} ${o.namespace ? `${o.namespace}/` : ''}${o.object.metadata?.name ?? '?'} (from ${o.source})`;

/** API groups every Kubernetes cluster serves (no CRD needed). */
const BUILT_IN_GROUPS = new Set([
  '', 'apps', 'batch', 'autoscaling', 'policy', 'rbac.authorization.k8s.io', 'networking.k8s.io', 'storage.k8s.io',
  'apiextensions.k8s.io', 'admissionregistration.k8s.io', 'scheduling.k8s.io', 'coordination.k8s.io', 'node.k8s.io',
  'discovery.k8s.io', 'certificates.k8s.io', 'apiregistration.k8s.io', 'flowcontrol.apiserver.k8s.io', 'events.k8s.io', 'resource.k8s.io',
]);

/** Namespaces that exist in every cluster. */
const SYSTEM_NAMESPACES = new Set(['default', 'kube-system', 'kube-public', 'kube-node-lease']);

const groupOf = (apiVersion = '') => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');
const of = (objects: readonly SourcedObject[], kind: string) => objects.filter((o) => o.object.kind === kind);
const key = (ns: string | undefined, name: string | undefined) => `${ns ?? ''}/${name ?? ''}`;

/** Pod specs inside workload objects (Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob). */
function podSpecs(o: K8sObject): Record<string, any>[] {
  const spec = o.spec as Record<string, any> | undefined;
  if (!spec) return [];
  switch (o.kind) {
    case 'Pod':
      return [spec];
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'ReplicaSet':
    case 'Job':
      return spec.template?.spec ? [spec.template.spec] : [];
    case 'CronJob':
      return spec.jobTemplate?.spec?.template?.spec ? [spec.jobTemplate.spec.template.spec] : [];
    default:
      return [];
  }
}

const containersOf = (pod: Record<string, any>): Record<string, any>[] => [...(pod.initContainers ?? []), ...(pod.containers ?? []), ...(pod.ephemeralContainers ?? [])];

/** Every namespaced object's namespace is created by the site (a Namespace object or a release namespace). */
const namespaces: Check = ({ objects, site }) => {
  const known = new Set([...SYSTEM_NAMESPACES, ...of(objects, 'Namespace').map((o) => o.object.metadata?.name ?? '')]);
  // The GitOps engine's own namespace comes with its bootstrap.
  known.add(site.gitops.engine === 'flux' ? 'flux-system' : 'argocd');
  // helmfile (createNamespace) and Flux/Argo CD (install/sync options) create each release's namespace.
  for (const o of objects) if (o.release) known.add(o.release.namespace);
  for (const env of site.environments) known.add(env.namespace);
  const problems: Problem[] = objects
    .filter((o) => o.object.kind && !CLUSTER_SCOPED.has(o.object.kind) && o.namespace && !known.has(o.namespace))
    .map((o) => ({
      check: 'namespace',
      severity: 'error' as const,
      object: describe(o),
      message: `its namespace ${o.namespace} is created by nothing in the site`,
      hint: 'the release that owns this object must create its namespace, or the namespaces component must list it',
    }));
  // Ordering: a release putting objects into a namespace that only another release's Namespace object
  // creates (not its own release namespace) must come after that release.
  const { graph } = siteReleases(site);
  const createdBy = new Map<string, SourcedObject>();
  for (const n of of(objects, 'Namespace')) if (n.release) createdBy.set(n.object.metadata?.name ?? '', n);
  const reported = new Set<string>();
  for (const o of objects) {
    const creator = o.namespace ? createdBy.get(o.namespace) : undefined;
    if (!o.release || !creator?.release || o.release === creator.release || o.release.namespace === o.namespace) continue;
    if (needsTransitively(graph.needs, o.release.name, creator.release.name) || reported.has(`${o.release.name}/${o.namespace}`)) continue;
    reported.add(`${o.release.name}/${o.namespace}`);
    problems.push({
      check: 'ordering',
      severity: 'error',
      object: describe(o),
      message: `its namespace ${o.namespace} comes from release ${creator.release.name}, which is not deployed before release ${o.release.name}`,
      hint: `the component of ${o.release.name} must depend on the one of ${creator.release.name} (catalog dependsOn)`,
    });
  }
  return problems;
};

/** Every custom resource has its CRD in the site (or from the GitOps engine's own install). */
const crds: Check = ({ objects, site }) => {
  const servedBy = new Map<string, SourcedObject>();
  for (const o of of(objects, 'CustomResourceDefinition')) {
    const spec = o.object.spec as { group?: string; names?: { kind?: string } };
    servedBy.set(`${spec.group}/${spec.names?.kind}`, o);
  }
  // CRDs an operator installs when it reconciles a release's objects (the catalog declares them).
  for (const o of objects) {
    for (const crd of o.release?.def.providesCrds ?? []) if (!servedBy.has(crd)) servedBy.set(crd, o);
  }
  const engineGroups = site.gitops.engine === 'flux' ? /\.toolkit\.fluxcd\.io$/ : /^argoproj\.io$/;
  const { graph } = siteReleases(site);
  const problems: Problem[] = [];
  for (const o of objects) {
    const group = groupOf(o.object.apiVersion);
    if (BUILT_IN_GROUPS.has(group) || engineGroups.test(group)) continue;
    const crd = servedBy.get(`${group}/${o.object.kind}`);
    if (!crd) {
      problems.push({
        check: 'crd',
        severity: 'error',
        object: describe(o),
        message: `no CustomResourceDefinition for ${o.object.kind}.${group} is installed by the site`,
        hint: 'enable the component that installs it (spec.components) or remove what creates this object',
      });
      continue;
    }
    // Ordering: the release with the CRD comes first (needs:, dependsOn, sync waves).
    if (o.release && crd.release && o.release !== crd.release && !needsTransitively(graph.needs, o.release.name, crd.release.name)) {
      problems.push({
        check: 'ordering',
        severity: 'error',
        object: describe(o),
        message: `its CRD comes from release ${crd.release.name}, which is not deployed before release ${o.release.name}`,
        hint: `the component of ${o.release.name} must depend on the one of ${crd.release.name} (catalog dependsOn)`,
      });
    }
  }
  return problems;
};

function needsTransitively(needs: ReadonlyMap<string, readonly string[]>, from: string, target: string): boolean {
  const seen = new Set<string>();
  const stack = [...(needs.get(from) ?? [])];
  while (stack.length) {
    const n = stack.pop()!;
    if (n === target) return true;
    if (seen.has(n)) continue;
    seen.add(n);
    stack.push(...(needs.get(n) ?? []));
  }
  return false;
}

/** Every PersistentVolumeClaim binds: a static PV, a StorageClass the site creates, or a default class. */
/**
 * Provisioners the site runs: CSI drivers (a CSIDriver object of that name) and the controllers
 * that are not CSI drivers, known by the container that serves them.
 */
const PROVISIONER_CONTROLLERS: Readonly<Record<string, string>> = { 'rancher.io/local-path': 'local-path-provisioner' };

function provisionerRuns(objects: readonly SourcedObject[], provisioner: string): boolean {
  if (of(objects, 'CSIDriver').some((d) => d.object.metadata?.name === provisioner)) return true;
  const command = PROVISIONER_CONTROLLERS[provisioner];
  return Boolean(command) && of(objects, 'Deployment').some((d) => ((d.object as any).spec?.template?.spec?.containers ?? []).some((c: any) => (c.command ?? [])[0] === command));
}

const claims: Check = ({ objects }) => {
  const classes = of(objects, 'StorageClass');
  const classNames = new Set(classes.map((c) => c.object.metadata?.name));
  const defaultClass = classes.find((c) => c.object.metadata?.annotations?.['storageclass.kubernetes.io/is-default-class'] === 'true');
  const volumes = of(objects, 'PersistentVolume');
  const problems: Problem[] = [];
  // A class whose provisioner runs nowhere in the site leaves its claims Pending.
  for (const c of classes) {
    const provisioner = (c.object as any).provisioner as string | undefined;
    if (provisioner && provisioner !== 'kubernetes.io/no-provisioner' && !provisionerRuns(objects, provisioner)) {
      problems.push({ check: 'storage', severity: 'warning', object: describe(c), message: `StorageClass ${c.object.metadata?.name}'s provisioner ${provisioner} runs nowhere in this site: its claims stay Pending unless the cluster has it already`, hint: 'deploy its driver from this repository (spec.extraReleases), or use a class of spec.storage.classes' });
    }
  }
  const check = (o: SourcedObject, claimName: string, spec: Record<string, any>) => {
    const cls: string | undefined = spec.storageClassName;
    const where = `PersistentVolumeClaim ${o.namespace}/${claimName}`;
    if (spec.volumeName) {
      if (!volumes.some((v) => v.object.metadata?.name === spec.volumeName)) {
        problems.push({ check: 'storage', severity: 'error', object: describe(o), message: `${where} names PersistentVolume ${spec.volumeName}, which the site does not create`, hint: 'list the volume under spec.storage.volumes' });
      }
      return;
    }
    if (cls === undefined || cls === null) {
      if (!defaultClass) {
        problems.push({
          check: 'storage',
          severity: 'error',
          object: describe(o),
          message: `${where} asks for the default StorageClass, and the site has none, so it never binds`,
          hint: 'mark one storage class as default (spec.storage.classes[].default: true), or give the component its own storageClass',
        });
      }
      return;
    }
    if (cls === '') {
      const pv = volumes.find((v) => ((v.object.spec as any)?.storageClassName ?? '') === '' && (v.object.spec as any)?.claimRef?.name === claimName);
      if (!pv) problems.push({ check: 'storage', severity: 'error', object: describe(o), message: `${where} asks for a static volume and none is bound to it`, hint: 'add the volume to spec.storage.volumes' });
      return;
    }
    if (!classNames.has(cls) && !volumes.some((v) => (v.object.spec as any)?.storageClassName === cls)) {
      problems.push({
        check: 'storage',
        severity: 'error',
        object: describe(o),
        message: `${where} asks for StorageClass ${cls}, which the site does not create, so it never binds`,
        hint: `define the class in spec.storage.classes (or correct the component's storageClass to one of: ${[...classNames].join(', ') || 'none defined'})`,
      });
    }
  };
  for (const o of of(objects, 'PersistentVolumeClaim')) check(o, o.object.metadata?.name ?? '?', (o.object.spec ?? {}) as Record<string, any>);
  // The Prometheus operator's claims: Prometheus and Alertmanager storage templates.
  for (const o of [...of(objects, 'Prometheus'), ...of(objects, 'Alertmanager')]) {
    const template = (o.object.spec as any)?.storage?.volumeClaimTemplate;
    if (template) check(o, `${o.object.kind!.toLowerCase()}-${o.object.metadata?.name}-db`, (template.spec ?? {}) as Record<string, any>);
  }
  for (const o of of(objects, 'StatefulSet')) {
    for (const t of ((o.object.spec as any)?.volumeClaimTemplates ?? []) as K8sObject[]) check(o, `${t.metadata?.name}-${o.object.metadata?.name}-0`, (t.spec ?? {}) as Record<string, any>);
  }
  return problems;
};

/** Secrets, ConfigMaps and ServiceAccounts that workloads and GitOps objects reference exist. */
const references: Check = ({ objects, site }) => {
  const have = (kind: string) => new Set(of(objects, kind).map((o) => key(o.namespace, o.object.metadata?.name)));
  const secrets = have('Secret');
  // Secrets the bootstrap makes (the engine's age key).
  for (const s of bootstrapSecrets(site)) secrets.add(key(s.namespace, s.name));
  // Secrets that controllers create from objects in the site.
  for (const c of of(objects, 'Certificate')) secrets.add(key(c.namespace, (c.object.spec as any)?.secretName));
  // Secrets a workload of the site creates at run time (webhook certificate generators, memberlist keys).
  for (const o of objects) {
    for (const pod of podSpecs(o.object)) {
      for (const c of containersOf(pod)) {
        const args: string[] = [...(c.command ?? []), ...(c.args ?? [])].map(String);
        args.forEach((a, i) => {
          const m = /^--[a-z-]*secret(-name)?=(.+)$/.exec(a) ?? (/^--[a-z-]*secret(-name)?$/.test(a) ? [a, '', args[i + 1] ?? ''] : null);
          if (m?.[2]) secrets.add(key(o.namespace, m[2]));
        });
        for (const e of c.env ?? []) if (/SECRET_NAME$/.test(String(e.name)) && typeof e.value === 'string') secrets.add(key(o.namespace, e.value));
      }
    }
  }
  const configMaps = have('ConfigMap');
  for (const ns of new Set(objects.map((o) => o.namespace))) configMaps.add(key(ns, 'kube-root-ca.crt'));
  const accounts = have('ServiceAccount');
  const problems: Problem[] = [];
  const missing = (o: SourcedObject, kind: string, name: string, hint: string) =>
    problems.push({ check: 'reference', severity: 'error', object: describe(o), message: `references ${kind} ${o.namespace}/${name}, which nothing in the site creates`, hint });
  for (const o of objects) {
    for (const pod of podsOf(o)) {
      const sa = pod.serviceAccountName ?? pod.serviceAccount;
      if (sa && sa !== 'default' && !accounts.has(key(o.namespace, sa))) missing(o, 'ServiceAccount', sa, 'the chart must create it (serviceAccount.create) or the site must');
      for (const s of pod.imagePullSecrets ?? []) if (s?.name && !secrets.has(key(o.namespace, s.name))) missing(o, 'Secret', s.name, 'create the pull secret in this namespace (spec.components.harbor pull secrets)');
      for (const v of pod.volumes ?? []) {
        if (v.secret?.secretName && !v.secret.optional && !secrets.has(key(o.namespace, v.secret.secretName))) missing(o, 'Secret', v.secret.secretName, 'the secret must be generated (secrets/) or created by a chart value');
        if (v.configMap?.name && !v.configMap.optional && !configMaps.has(key(o.namespace, v.configMap.name))) missing(o, 'ConfigMap', v.configMap.name, 'the ConfigMap must be created by the chart or the site');
      }
      for (const c of containersOf(pod)) {
        for (const e of c.env ?? []) {
          const sk = e.valueFrom?.secretKeyRef;
          if (sk?.name && !sk.optional && !secrets.has(key(o.namespace, sk.name))) missing(o, 'Secret', sk.name, 'the secret must be generated (secrets/) or created by a chart value');
          const ck = e.valueFrom?.configMapKeyRef;
          if (ck?.name && !ck.optional && !configMaps.has(key(o.namespace, ck.name))) missing(o, 'ConfigMap', ck.name, 'the ConfigMap must be created by the chart or the site');
        }
        for (const e of c.envFrom ?? []) {
          if (e.secretRef?.name && !e.secretRef.optional && !secrets.has(key(o.namespace, e.secretRef.name))) missing(o, 'Secret', e.secretRef.name, 'the secret must be generated (secrets/) or created by a chart value');
          if (e.configMapRef?.name && !e.configMapRef.optional && !configMaps.has(key(o.namespace, e.configMapRef.name))) missing(o, 'ConfigMap', e.configMapRef.name, 'the ConfigMap must be created by the chart or the site');
        }
      }
    }
    if (o.object.kind === 'HelmRelease') {
      for (const v of ((o.object.spec as any)?.valuesFrom ?? []) as { kind: string; name: string; optional?: boolean }[]) {
        const set = v.kind === 'Secret' ? secrets : configMaps;
        if (!v.optional && !set.has(key(o.namespace, v.name))) missing(o, v.kind, v.name, 'the values secret is generated under secrets/ and must be applied before this HelmRelease');
      }
    }
  }
  return problems;
};

/** LoadBalancer addresses come from a MetalLB pool the site defines, and no two Services share one. */
const addresses: Check = ({ objects }) => {
  const byPool = new Map(of(objects, 'IPAddressPool').map((p) => [p.object.metadata?.name ?? '', ((p.object.spec as any)?.addresses ?? []) as string[]]));
  const pools = [...byPool.values()].flat();
  const inPool = (ip: string, ranges: readonly string[] = pools) => {
    const n = parseIpv4(ip);
    return n !== null && poolContaining(n, ranges) !== undefined;
  };
  const problems: Problem[] = [];
  const taken = new Map<string, string>();
  for (const o of of(objects, 'Service')) {
    const spec = (o.object.spec ?? {}) as Record<string, any>;
    if (spec.type !== 'LoadBalancer') continue;
    const annotations = o.object.metadata?.annotations ?? {};
    const ips = [spec.loadBalancerIP, ...(annotations['metallb.io/loadBalancerIPs'] ?? annotations['metallb.universe.tf/loadBalancerIPs'] ?? '').split(',')].filter(Boolean).map((s: string) => s.trim());
    if (!pools.length) {
      problems.push({ check: 'network', severity: 'error', object: describe(o), message: 'a LoadBalancer Service, and the site defines no MetalLB address pool, so it never gets an address', hint: 'enable spec.components.metallb with addresses, or expose the service another way' });
      continue;
    }
    // A Service may choose its pool (metallb.io/address-pool): it must exist, and its address lie in it.
    const chosen = annotations['metallb.io/address-pool'] ?? annotations['metallb.universe.tf/address-pool'];
    if (chosen !== undefined && !byPool.has(chosen)) {
      problems.push({ check: 'network', severity: 'error', object: describe(o), message: `asks for MetalLB pool ${chosen}, which the site does not define (pools: ${[...byPool.keys()].join(', ')})`, hint: 'name a pool of spec.components.metallb.pools in the component\'s pool setting' });
      continue;
    }
    for (const ip of ips) {
      if (chosen !== undefined && !inPool(ip, byPool.get(chosen)!)) {
        problems.push({ check: 'network', severity: 'error', object: describe(o), message: `asks for ${ip} from pool ${chosen} (${byPool.get(chosen)!.join(', ')}), which does not hold it`, hint: 'choose an address of that pool, or another pool' });
      }
      if (!inPool(ip)) problems.push({ check: 'network', severity: 'error', object: describe(o), message: `asks for ${ip}, outside every MetalLB pool (${pools.join(', ')})`, hint: 'choose an address inside spec.components.metallb.addresses' });
      const earlier = taken.get(ip);
      if (earlier) problems.push({ check: 'network', severity: 'error', object: describe(o), message: `asks for ${ip}, which ${earlier} already claims`, hint: 'give each LoadBalancer Service its own address' });
      taken.set(ip, describe(o));
    }
  }
  return problems;
};

/** Ingress hosts lie under the site domain and name an issuer the site creates. */
const ingresses: Check = ({ objects, site }) => {
  const issuers = new Set(of(objects, 'ClusterIssuer').map((o) => o.object.metadata?.name));
  // The classes some controller serves: the IngressClasses the site's releases create, and the one
  // RKE2 deploys itself (its Traefik: not a release of the repository).
  const classes = of(objects, 'IngressClass');
  const served = new Set([...classes.map((o) => o.object.metadata?.name), ...(site.ingress === 'rke2Traefik' ? [RKE2_TRAEFIK_CLASS] : [])]);
  const defaultClass = site.ingress === 'rke2Traefik' ? RKE2_TRAEFIK_CLASS : classes.find((o) => o.object.metadata?.annotations?.['ingressclass.kubernetes.io/is-default-class'] === 'true')?.object.metadata?.name;
  const problems: Problem[] = [];
  for (const o of of(objects, 'Ingress')) {
    const named = (o.object.spec as { ingressClassName?: string } | undefined)?.ingressClassName ?? o.object.metadata?.annotations?.['kubernetes.io/ingress.class'];
    const className = named ?? defaultClass;
    if (!className || !served.has(className)) {
      problems.push({
        check: 'network',
        severity: 'error',
        object: describe(o),
        message: className ? `names IngressClass ${className}, which no controller of the site serves, so its hosts are never routed` : 'names no IngressClass and the site has no default one, so no controller routes it',
        hint: site.ingress ? `use the site's class (${[...served].join(', ')})` : 'give the site an ingress controller (on RKE2 its Traefik, spec.distribution.ingressController; else spec.components.ingressNginx)',
      });
    }
    for (const rule of ((o.object.spec as any)?.rules ?? []) as { host?: string }[]) {
      if (rule.host && rule.host !== site.domain && !rule.host.endsWith(`.${site.domain}`)) {
        problems.push({ check: 'network', severity: 'error', object: describe(o), message: `serves host ${rule.host}, outside the site domain ${site.domain}`, hint: 'host names derive from spec.domain; correct the component\'s hostname' });
      }
    }
    const issuer = o.object.metadata?.annotations?.['cert-manager.io/cluster-issuer'];
    if (issuer && !issuers.has(issuer)) {
      problems.push({ check: 'network', severity: 'error', object: describe(o), message: `asks cert-manager for ClusterIssuer ${issuer}, which the site does not create`, hint: 'enable spec.components.certManager (it creates the site issuer)' });
    }
  }
  return problems;
};

/** Every container image is in images.txt (what an air-gapped site mirrors). */
const images: Check = ({ objects, imageList, site }) => {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  for (const o of objects) {
    for (const pod of podsOf(o)) {
      for (const c of containersOf(pod)) {
        if (!c.image) continue; // Argo's executor containers: the controller's image, listed with its chart
        const image = normaliseImage(String(c.image));
        if (!image || seen.has(image) || imageList.has(image) || imageList.has(image.replace(/@sha256:[0-9a-f]+$/, ''))) continue;
        seen.add(image);
        const extra = o.release?.component === EXTRA_RELEASES ? site.extraReleases.findIndex((x) => x.name === o.release!.def.name) : -1;
        const hint = extra >= 0 ? `list it under spec.extraReleases[${extra}].images` : 'record the image in the component catalog (generator/components/upstream-charts.yaml)';
        problems.push({ check: 'images', severity: 'error', object: describe(o), message: `runs ${image}, which images.txt does not list (an air-gapped site would not have it)`, hint });
      }
    }
  }
  return problems;
};

/** The labels a node carries: its own, the ones the kubelet and the distribution set, and the GPU operator's feature discovery's. */
function labelsOf(n: SiteModel['nodes'][number]): Record<string, string> {
  const controlPlane: Record<string, string> = n.role === 'server' ? { 'node-role.kubernetes.io/control-plane': 'true', 'node-role.kubernetes.io/master': 'true', 'node-role.kubernetes.io/etcd': 'true' } : {};
  return {
    ...controlPlane,
    ...n.labels,
    'kubernetes.io/hostname': n.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    ...(n.gpus?.vendor === 'nvidia' ? { 'nvidia.com/gpu.present': 'true' } : {}),
  };
}

/** Labels the nodes of the site carry, with every value each key takes. */
function nodeLabels(site: SiteModel): Map<string, Set<string>> {
  const labels = new Map<string, Set<string>>();
  for (const n of site.nodes) for (const [k, v] of Object.entries(labelsOf(n))) labels.set(k, (labels.get(k) ?? new Set()).add(v));
  return labels;
}

/** Whether the rules of a Role/ClusterRole let a subject do a verb on a resource of a group. */
function grants(rules: readonly Record<string, any>[], group: string, resource: string, verb: string): boolean {
  const has = (list: unknown, want: string) => Array.isArray(list) && (list.includes(want) || list.includes('*'));
  return rules.some((r) => has(r.apiGroups, group) && has(r.resources, resource) && has(r.verbs, verb));
}

/** The RBAC rules bound to a ServiceAccount: RoleBindings in its namespace and ClusterRoleBindings. */
function rulesOf(objects: readonly SourcedObject[], namespace: string, account: string): Record<string, any>[] {
  const bound = (b: SourcedObject) => ((b.object as any).subjects ?? []).some((x: any) => x.kind === 'ServiceAccount' && x.name === account && (x.namespace ?? b.namespace) === namespace);
  const roleRules = (kind: string, name: string, ns?: string) =>
    objects.filter((r) => r.object.kind === kind && r.object.metadata?.name === name && (kind === 'ClusterRole' || r.namespace === ns)).flatMap((r) => ((r.object as any).rules ?? []) as Record<string, any>[]);
  return [
    ...of(objects, 'RoleBinding').filter((b) => b.namespace === namespace && bound(b)).flatMap((b) => roleRules((b.object as any).roleRef?.kind, (b.object as any).roleRef?.name, namespace)),
    ...of(objects, 'ClusterRoleBinding').filter(bound).flatMap((b) => roleRules('ClusterRole', (b.object as any).roleRef?.name)),
  ];
}

/**
 * Nodes that run pods: every RKE2 node; k0s controllers, and Kubespray's control plane (kubeadm's
 * control-plane taint, kept off nodes outside kube_node), only when there are no agents.
 */
function podNodes(site: SiteModel): SiteModel['nodes'] {
  return (site.distribution.type === 'k0s' || site.distribution.type === 'kubespray') && site.agents.length ? site.agents : site.nodes;
}

/** Whether a node satisfies one required node-affinity term (every expression). */
function matchesTerm(labels: Record<string, string>, term: { matchExpressions?: { key: string; operator: string; values?: string[] }[] }): boolean {
  return (term.matchExpressions ?? []).every((e) => {
    const v = labels[e.key];
    switch (e.operator) {
      case 'In': return v !== undefined && (e.values ?? []).includes(v);
      case 'NotIn': return v === undefined || !(e.values ?? []).includes(v);
      case 'Exists': return v !== undefined;
      case 'DoesNotExist': return v === undefined;
      case 'Gt': return v !== undefined && Number(v) > Number(e.values?.[0]);
      case 'Lt': return v !== undefined && Number(v) < Number(e.values?.[0]);
      default: return true;
    }
  });
}

/** Why a pod spec cannot run on a node (null: it can). */
function unfitReason(pod: Record<string, any>, node: SiteModel['nodes'][number]): string | null {
  const placement = placementMismatch(pod, node);
  if (placement) return placement;
  const taint = untoleratedTaint(pod, node);
  return taint ? `taint ${taint}` : null;
}

/** Why a node is not one a pod spec selects (node selector, required node affinity); null when it is. */
function placementMismatch(pod: Record<string, any>, node: SiteModel['nodes'][number]): string | null {
  const labels = labelsOf(node);
  for (const [k, v] of Object.entries((pod.nodeSelector ?? {}) as Record<string, string>)) if (labels[k] !== String(v)) return `no label ${k}=${v}`;
  const terms = pod.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms as Record<string, any>[] | undefined;
  return terms?.length && !terms.some((t) => matchesTerm(labels, t)) ? 'outside its required node affinity' : null;
}

/** A NoSchedule/NoExecute taint of the node that the pod spec does not tolerate, if any. */
const untoleratedTaint = (pod: Record<string, any>, node: SiteModel['nodes'][number]) =>
  node.taints.find((t) => repels(parseTaint(t)) && !tolerates(pod.tolerations ?? [], parseTaint(t)));

/**
 * Every workload has a node to run on: its node selector, required node affinity and
 * tolerations against the nodes, labels and taints of the spec. A DaemonSet that fits no node
 * runs nowhere; anything else stays Pending.
 */
const scheduling: Check = ({ objects, site }) => {
  const nodes = podNodes(site);
  const problems: Problem[] = [];
  for (const o of objects) {
    for (const pod of podSpecs(o.object)) {
      const reasons = nodes.map((n) => ({ n, why: unfitReason(pod, n) }));
      if (!nodes.length || reasons.some((r) => r.why === null)) continue;
      problems.push({
        check: 'scheduling',
        severity: 'error',
        object: describe(o),
        message: `its pods fit no node of the site, so they ${o.object.kind === 'DaemonSet' ? 'run nowhere' : 'stay Pending'}: ${reasons.slice(0, 4).map((r) => `${r.n.name} (${r.why})`).join(', ')}${reasons.length > 4 ? `, and ${reasons.length - 4} more` : ''}`,
        hint: 'give the component tolerations for the nodes\' taints (spec.placement.tolerations), or relax spec.nodes[].taints and labels',
      });
    }
  }
  return problems;
};

/** WorkflowTemplates and CronWorkflows: their service account (with the executor's RBAC), claims, node selectors and tolerations fit the site. */
const workflows: Check = ({ objects, site }) => {
  const accounts = new Set(of(objects, 'ServiceAccount').map((o) => key(o.namespace, o.object.metadata?.name)));
  const claimNames = new Set(of(objects, 'PersistentVolumeClaim').map((o) => key(o.namespace, o.object.metadata?.name)));
  const labels = nodeLabels(site);
  const problems: Problem[] = [];
  for (const o of [...of(objects, 'WorkflowTemplate'), ...of(objects, 'CronWorkflow'), ...of(objects, 'Workflow')]) {
    const spec = ((o.object.kind === 'CronWorkflow' ? (o.object.spec as any)?.workflowSpec : o.object.spec) ?? {}) as Record<string, any>;
    const sa = spec.serviceAccountName;
    if (sa && !accounts.has(key(o.namespace, sa))) {
      problems.push({ check: 'workflows', severity: 'error', object: describe(o), message: `runs as ServiceAccount ${o.namespace}/${sa}, which nothing in the site creates`, hint: 'argoWorkflows creates the workflow ServiceAccount (with its RBAC) in every environment namespace' });
    } else if (sa && o.object.kind !== 'CronWorkflow' && !['create', 'patch'].every((verb) => grants(rulesOf(objects, o.namespace ?? '', sa), 'argoproj.io', 'workflowtaskresults', verb))) {
      // Argo's executor (the wait container) reports each step's outputs as a WorkflowTaskResult with the pod's own account.
      problems.push({
        check: 'workflows',
        severity: 'error',
        object: describe(o),
        message: `runs as ServiceAccount ${o.namespace}/${sa}, which no Role or ClusterRole binding lets create and patch workflowtaskresults, so every step fails when the executor reports its result`,
        hint: 'argoWorkflows binds the executor\'s Role to the workflow ServiceAccount (workflow.rbac.create) in every namespace of controller.workflowNamespaces',
      });
    }
    for (const v of (spec.volumes ?? []) as { persistentVolumeClaim?: { claimName?: string } }[]) {
      const claim = v.persistentVolumeClaim?.claimName;
      if (claim && !claimNames.has(key(o.namespace, claim))) {
        problems.push({ check: 'workflows', severity: 'error', object: describe(o), message: `mounts PersistentVolumeClaim ${o.namespace}/${claim}, which the site does not create in that namespace`, hint: 'list the volume under spec.storage.volumes (exposed to this environment)' });
      }
    }
    // Where each step's pod can run: the nodes it selects, less those with a taint it does not tolerate.
    for (const t of ((spec.templates ?? []) as Record<string, any>[]).filter((t) => t.container || t.script)) {
      const pod = workflowStepPod(spec, t, {});
      const candidates = podNodes(site).filter((n) => placementMismatch(pod, n) === null);
      const blocked = candidates.map((n) => ({ n, taint: untoleratedTaint(pod, n) }));
      if (candidates.length && blocked.every((b) => b.taint)) {
        const taints = [...new Set(blocked.map((b) => b.taint!))];
        problems.push({
          check: 'workflows',
          severity: 'error',
          object: describe(o),
          message: `step template ${t.name} can only land on ${candidates.map((c) => c.name).join(', ')}, tainted ${taints.join(', ')}, which it does not tolerate, so its pods never schedule`,
          hint: 'give the workflow a toleration for the pool\'s taint, or select untainted nodes (spec.nodes[].taints)',
        });
      }
    }
    const selectors = [spec.nodeSelector, ...((spec.templates ?? []) as { nodeSelector?: Record<string, string> }[]).map((t) => t.nodeSelector)].filter(Boolean) as Record<string, string>[];
    for (const selector of selectors) {
      for (const [k, v] of Object.entries(selector)) {
        if (!labels.get(k)?.has(String(v))) {
          problems.push({ check: 'workflows', severity: 'error', object: describe(o), message: `selects nodes with ${k}=${v}, and no node of the site has that label, so its pods never schedule`, hint: 'label the nodes in spec.nodes[].labels, or correct the selector' });
        }
      }
    }
  }
  return problems;
};

/**
 * Node mirrors (the Ansible output points containerd at Harbor) need Harbor reachable from the
 * nodes: an Ingress for its host or a LoadBalancer/NodePort Service, not a ClusterIP alone.
 */
const mirrors: Check = ({ objects, site, nodeTrust }) => {
  if (!site.componentSettings.harbor.enabled) return [];
  const host = harborHostname(site);
  const ingress = of(objects, 'Ingress').find((o) => ((o.object.spec as any)?.rules ?? []).some((r: { host?: string }) => r.host === host));
  const viaService = of(objects, 'Service').some((o) => o.namespace === 'harbor' && ['LoadBalancer', 'NodePort'].includes((o.object.spec as any)?.type));
  if (!ingress && !viaService) {
    return [{
      check: 'mirrors',
      severity: 'error',
      object: `Harbor ${host}`,
      message: 'the nodes pull through Harbor mirrors (ansible group_vars registry mirrors), but Harbor is exposed only inside the cluster (ClusterIP), so no node can reach it',
      hint: 'expose Harbor through the ingress (RKE2\'s Traefik or spec.components.ingressNginx) or a MetalLB LoadBalancer address',
    }];
  }
  return harborTrust(objects, host, ingress, nodeTrust);
};

/**
 * Nodes trust Harbor's certificate: it is issued by cert-manager from a ClusterIssuer whose CA
 * the Ansible output installs on every node (and containerd verifies Harbor against), or by an
 * ACME issuer (publicly trusted). The chain is followed object by object: Harbor's Ingress TLS
 * Secret → its Certificate → the ClusterIssuer → the issuer's CA Secret → the nodes' trust.
 */
function harborTrust(objects: readonly SourcedObject[], host: string, ingress: SourcedObject | undefined, trust: NodeTrust): Problem[] {
  const harborObject = ingress ? describe(ingress) : `Harbor ${host}`;
  const problem = (message: string, hint: string): Problem[] => [{ check: 'mirrors', severity: 'error', object: harborObject, message, hint }];
  const tlsSecret = ingress ? (((ingress.object.spec as any)?.tls ?? []) as { hosts?: string[]; secretName?: string }[]).find((t) => !t.hosts || t.hosts.includes(host))?.secretName : undefined;
  const certificate = of(objects, 'Certificate').find((c) => {
    const spec = (c.object.spec ?? {}) as { secretName?: string; dnsNames?: string[] };
    return tlsSecret ? spec.secretName === tlsSecret && c.namespace === ingress!.namespace : (spec.dnsNames ?? []).includes(host);
  });
  if (!certificate) {
    return problem(
      `Harbor's TLS certificate${tlsSecret ? ` (Secret ${ingress!.namespace}/${tlsSecret})` : ''} is not issued by cert-manager, so it is self-signed by the chart and no node trusts it: containerd refuses the mirror`,
      'enable spec.components.certManager: Harbor then gets its certificate from the site CA that the Ansible output installs on every node',
    );
  }
  const ref = ((certificate.object.spec as any)?.issuerRef ?? {}) as { name?: string; kind?: string };
  const issuer = of(objects, ref.kind === 'Issuer' ? 'Issuer' : 'ClusterIssuer').find((i) => i.object.metadata?.name === ref.name && (ref.kind !== 'Issuer' || i.namespace === certificate.namespace));
  if (!issuer) return problem(`its ${describe(certificate)} names ${ref.kind ?? 'Issuer'} ${ref.name}, which the site does not create`, 'enable spec.components.certManager (it creates the site issuer)');
  const issuerSpec = (issuer.object.spec ?? {}) as { acme?: unknown; ca?: { secretName?: string } };
  if (issuerSpec.acme) return []; // publicly trusted: the nodes' own trust store has its root
  if (!issuerSpec.ca?.secretName) {
    return problem(`its certificate comes from ${describe(issuer)}, which is neither a CA nor an ACME issuer, so no node trusts it`, 'issue Harbor\'s certificate from the site CA (spec.components.certManager)');
  }
  // A ClusterIssuer's CA Secret lives in cert-manager's cluster resource namespace.
  const caNamespace = ref.kind === 'Issuer' ? issuer.namespace : 'cert-manager';
  const caSecret = of(objects, 'Secret').find((s) => s.object.metadata?.name === issuerSpec.ca!.secretName && s.namespace === caNamespace);
  if (!caSecret) return problem(`${describe(issuer)} signs with Secret ${caNamespace}/${issuerSpec.ca.secretName}, which nothing in the site creates`, 'the site CA Secret is generated under secrets/cluster/cert-manager/');
  const caCertificate = caSecret.object.metadata?.annotations?.[publishedAnnotation('tls.crt')];
  if (!caCertificate) {
    return problem(`${describe(issuer)} signs with ${describe(caSecret)}, whose certificate the nodes cannot have been given (it is made inside the cluster)`, 'let siteforge make the site CA (spec.components.certManager.caSecret names the Secret it generates)');
  }
  const samePem = (a: string) => a.replace(/\s+/g, '') === caCertificate.replace(/\s+/g, '');
  if (!trust.certificates.some(samePem)) {
    return problem(`Harbor's certificate is signed by the CA in ${describe(caSecret)}, and the Ansible output does not install that CA on the nodes (group_vars prepare_site_ca_certificate)`, 'regenerate: the nodes\' trust follows the site CA Secret');
  }
  if (!trust.registries.has(host)) {
    return problem(`containerd on the nodes does not verify ${host} against the site CA (no registries.yaml configs / hosts.toml ca for it)`, 'regenerate: the registry configuration follows the site CA');
  }
  return [];
}

/**
 * Encrypted Secrets reach the cluster decrypted: a Flux Kustomization applying SOPS files decrypts
 * them (decryption.provider: sops); Argo CD applies what kustomize prints, so its Applications may
 * not point at directories that list SOPS files as plain resources (KSOPS generators do it).
 */
const decryption: Check = ({ objects, encryptedResourceDirs }) => {
  const encrypted = new Set(encryptedResourceDirs.map((d) => d.replace(/\/+$/, '')));
  const clean = (p: unknown) => String(p ?? '').replace(/^\.\//, '').replace(/\/+$/, '');
  const problems: Problem[] = [];
  for (const o of objects) {
    const spec = (o.object.spec ?? {}) as Record<string, any>;
    if (o.object.kind === 'Kustomization' && groupOf(o.object.apiVersion) === 'kustomize.toolkit.fluxcd.io' && encrypted.has(clean(spec.path)) && spec.decryption?.provider !== 'sops') {
      problems.push({ check: 'secrets', severity: 'error', object: describe(o), message: `applies SOPS-encrypted files from ${clean(spec.path)} without decryption, so the Secrets would hold ciphertext`, hint: 'Flux Kustomizations of secrets/ need decryption: {provider: sops, secretRef: {name: sops-age}}' });
    }
    if (o.object.kind === 'Application' && groupOf(o.object.apiVersion) === 'argoproj.io') {
      const paths = [spec.source?.path, ...((spec.sources ?? []) as { path?: string }[]).map((x) => x.path)].filter(Boolean).map(clean);
      for (const path of paths.filter((p) => encrypted.has(p))) {
        problems.push({ check: 'secrets', severity: 'error', object: describe(o), message: `Argo CD would apply the SOPS-encrypted files of ${path} as they are (ciphertext in every Secret)`, hint: 'decrypt with a KSOPS generator in that kustomization (siteforge writes one for engine argocd)' });
      }
    }
  }
  return problems;
};

/**
 * A CRD version's openAPIV3Schema as a strict JSON Schema, the way kubeconform -strict reads it:
 * every object schema closed (no fields beyond those declared) unless the CRD preserves unknown
 * fields; metadata left to the API server's own rules.
 */
function strictSchema(node: unknown, path: string[] = []): unknown {
  if (Array.isArray(node)) return node.map((n) => strictSchema(n, path));
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith('x-kubernetes-')) continue;
    // Go (RE2) patterns JavaScript cannot compile, such as (?i)...: left to the API server.
    if (k === 'pattern' && typeof v === 'string' && !compiles(v)) continue;
    out[k] = k === 'properties' ? Object.fromEntries(Object.entries(v as object).map(([name, sub]) => [name, strictSchema(sub, [...path, name])])) : strictSchema(v, path);
  }
  const n = node as Record<string, unknown>;
  if (n['x-kubernetes-int-or-string']) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  const isMetadata = path.length === 1 && path[0] === 'metadata';
  if (out.properties && out.additionalProperties === undefined && !n['x-kubernetes-preserve-unknown-fields'] && !isMetadata) out.additionalProperties = false;
  if (isMetadata) return { type: 'object' };
  return out;
}

const compiles = (pattern: string) => {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
};

type Validate = ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string; params?: Record<string, unknown> }[] | null };

/** Every custom resource is valid against its CRD's schema, strictly (unknown fields are errors). */
const schemas: Check = ({ objects }) => {
  const versions = new Map<string, Record<string, unknown>>();
  for (const o of of(objects, 'CustomResourceDefinition')) {
    const spec = o.object.spec as { group?: string; names?: { kind?: string }; versions?: { name: string; schema?: { openAPIV3Schema?: Record<string, unknown> } }[] };
    for (const v of spec.versions ?? []) if (v.schema?.openAPIV3Schema) versions.set(`${spec.group}/${v.name}/${spec.names?.kind}`, v.schema.openAPIV3Schema);
  }
  const problems: Problem[] = [];
  for (const o of objects) {
    const schema = versions.get(`${o.object.apiVersion}/${o.object.kind}`);
    if (!schema) continue;
    const id = `${o.object.apiVersion}/${o.object.kind}/${schemaId(schema)}`;
    let validate = compiledSchemas.get(id);
    if (!validate) {
      try {
        validate = strictAjv().compile(strictSchema(schema) as object) as Validate;
      } catch {
        validate = Object.assign(() => true, { errors: null }); // a schema JSON Schema cannot express: the API server's to judge
      }
      compiledSchemas.set(id, validate);
    }
    if (validate(o.object)) continue;
    const details = (validate.errors ?? []).slice(0, 3).map((e) => `${e.instancePath || '/'} ${e.message}${e.params?.additionalProperty ? ` (${String(e.params.additionalProperty)})` : ''}`);
    problems.push({ check: 'schema', severity: 'error', object: describe(o), message: `does not match its CRD's schema: ${details.join('; ')}`, hint: 'the API server would reject it; correct the value that renders this field (spec or wrapper chart values)' });
  }
  return problems;
};

/**
 * Every object of a built-in kind is valid against the Kubernetes API's schema, strictly (unknown
 * fields, wrong types, missing required fields), and its apiVersion is served at all.
 */
const builtInSchemas: Check = ({ objects, kubernetes }) => {
  const problems: Problem[] = [];
  for (const o of objects) {
    if (!BUILT_IN_GROUPS.has(groupOf(o.object.apiVersion)) || !o.object.kind) continue;
    const errors = validateBuiltIn(kubernetes, o.object);
    if (errors === null) {
      const served = Object.keys(kubernetes.kinds).filter((k) => k.endsWith(`/${o.object.kind}`)).map((k) => k.slice(0, -o.object.kind!.length - 1));
      problems.push({
        check: 'schema',
        severity: 'error',
        object: describe(o),
        message: `${o.object.apiVersion} ${o.object.kind} is not served by the Kubernetes API (${served.length ? `${o.object.kind} is served as ${served.join(', ')}` : 'no such built-in kind'})`,
        hint: 'the API server would reject it; the chart or template renders a removed or misspelled apiVersion',
      });
      continue;
    }
    if (!errors.length) continue;
    problems.push({
      check: 'schema',
      severity: 'error',
      object: describe(o),
      message: `does not match the Kubernetes ${kubernetes.kubernetes} schema of ${o.object.kind}: ${errors.slice(0, 3).map((e) => `${e.path} ${e.message}`).join('; ')}`,
      hint: 'the API server would reject it; correct the value that renders this field (spec or wrapper chart values)',
    });
  }
  return problems;
};

// The same name grammars the spec is validated with (spec/formats.ts).
const DNS_LABEL = new RegExp(DNS_LABEL_PATTERN);
const DNS_SUBDOMAIN = new RegExp(DNS_NAME_PATTERN);
const LABEL_KEY = new RegExp(`^${QUALIFIED_NAME}$`);
const LABEL_VALUE_TEXT = new RegExp(`^${LABEL_VALUE}$`);
/** Kinds whose names are path segments (RBAC), and kinds whose names are DNS labels. */
const PATH_SEGMENT_NAMED = new Set(['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding']);
const DNS_LABEL_NAMED = new Set(['Namespace', 'Service']);

/** Why the API server would refuse an object's name or labels (null: it takes them). */
function metadataProblem(o: K8sObject): string | null {
  const name = o.metadata?.name;
  const kind = o.kind ?? '';
  if (typeof name !== 'string' || !name) return 'metadata.name is missing';
  if (PATH_SEGMENT_NAMED.has(kind)) {
    if (name === '.' || name === '..' || /[/%]/.test(name)) return `name ${JSON.stringify(name)} is not a valid path segment`;
  } else if (DNS_LABEL_NAMED.has(kind)) {
    if (name.length > 63 || !DNS_LABEL.test(name)) return `name ${JSON.stringify(name)} is not a DNS-1123 label (lowercase letters, digits, "-", at most 63)`;
  } else if (!DNS_SUBDOMAIN.test(name)) {
    return `name ${JSON.stringify(name)} is not a DNS-1123 subdomain (lowercase letters, digits, "-", ".", at most 253)`;
  }
  for (const [k, v] of Object.entries(o.metadata?.labels ?? {})) {
    const slash = k.lastIndexOf('/');
    if (!LABEL_KEY.test(k) || k.length - slash - 1 > 63 || slash > 253) return `label key ${JSON.stringify(k)} is not a qualified name`;
    if (typeof v !== 'string' || v.length > 63 || !LABEL_VALUE_TEXT.test(v)) return `label ${k} has the invalid value ${JSON.stringify(v)} (at most 63 letters, digits, "-", "_", ".")`;
  }
  return null;
}

/** Every object's name and labels are ones the API server accepts. */
const names: Check = ({ objects }) =>
  objects.flatMap((o) => {
    const problem = metadataProblem(o.object);
    return problem ? [{ check: 'schema', severity: 'error' as const, object: describe(o), message: `the API server would refuse it: ${problem}`, hint: 'the name or label comes from the spec or a wrapper chart value; correct it there' }] : [];
  });

/** Compiled CRD schemas by content: compiled once per process however many trees it verifies. */
const compiledSchemas = new Map<string, Validate>();
const schemaIds = new WeakMap<object, string>();
const schemaId = (schema: object) => {
  let id = schemaIds.get(schema);
  if (!id) schemaIds.set(schema, (id = createHash('sha256').update(JSON.stringify(schema)).digest('hex')));
  return id;
};

let ajv: Ajv | undefined;
/** One validator engine for CRD schemas: OpenAPI's nullable understood, formats not enforced (the API server's are its own). */
const strictAjv = () => (ajv ??= new Ajv({ strict: false, allErrors: true, validateFormats: false }));

/** The pods Argo Workflows creates from a workflow object: each container/script template's main container, plus its executor's init and wait containers. */
function workflowPods(o: K8sObject, executor: Record<string, any>): Record<string, any>[] {
  const spec = ((o.kind === 'CronWorkflow' ? (o.spec as any)?.workflowSpec : o.spec) ?? {}) as Record<string, any>;
  return ((spec.templates ?? []) as Record<string, any>[]).filter((t) => t.container || t.script).map((t) => workflowStepPod(spec, t, executor));
}

/** The pod Argo creates for one container/script template: the workflow's settings with the template's own on top. */
function workflowStepPod(spec: Record<string, any>, t: Record<string, any>, executor: Record<string, any>): Record<string, any> {
  const main = t.container ?? t.script;
  return {
    hostNetwork: spec.hostNetwork,
    securityContext: t.securityContext ?? spec.securityContext,
    nodeSelector: { ...(spec.nodeSelector ?? {}), ...(t.nodeSelector ?? {}) },
    tolerations: [...(spec.tolerations ?? []), ...(t.tolerations ?? [])],
    affinity: t.affinity ?? spec.affinity,
    volumes: [...(spec.volumes ?? []), ...(t.volumes ?? [])],
    initContainers: [{ name: 'init', securityContext: executor.securityContext }],
    containers: [{ ...main, name: main.name ?? 'main' }, { name: 'wait', securityContext: executor.securityContext }],
  };
}

const isWorkflow = (o: K8sObject) => ['WorkflowTemplate', 'CronWorkflow', 'Workflow'].includes(o.kind ?? '') && groupOf(o.apiVersion) === 'argoproj.io';

/** The pod specs an object makes: a workload's template, or the pods Argo creates for a workflow's steps. */
const podsOf = (o: SourcedObject, executor: Record<string, any> = {}) => (isWorkflow(o.object) ? workflowPods(o.object, executor) : podSpecs(o.object));

/** The executor settings of the Argo Workflows controller (its ConfigMap's config), as the controller reads them. */
function argoExecutor(objects: readonly SourcedObject[]): Record<string, any> {
  for (const o of of(objects, 'ConfigMap')) {
    const config = (o.object as any).data?.config;
    if (!/workflow-controller-configmap$/.test(o.object.metadata?.name ?? '') || typeof config !== 'string') continue;
    try {
      return ((parseYaml(config) ?? {}) as Record<string, any>).executor ?? {};
    } catch {
      return {};
    }
  }
  return {};
}

/**
 * Pods meet their namespace's Pod Security level (the PodSecurity admission controller refuses
 * them otherwise): workloads of every kind, and the pods Argo creates for workflows.
 */
const podSecurity: Check = ({ objects, site }) => {
  const levels = new Map<string, PodSecurityLevel>();
  for (const n of of(objects, 'Namespace')) {
    const level = n.object.metadata?.labels?.['pod-security.kubernetes.io/enforce'];
    if (level === 'baseline' || level === 'restricted' || level === 'privileged') levels.set(n.object.metadata!.name!, level);
  }
  const executor = argoExecutor(objects);
  // Unlabelled namespaces take the cluster default: privileged, or under RKE2's CIS profile restricted unless exempt.
  const exempt = new Set(podSecurityExemptions(site));
  const clusterDefault = (ns: string): PodSecurityLevel => (site.distribution.profile === 'cis' && !exempt.has(ns) ? 'restricted' : 'privileged');
  const problems: Problem[] = [];
  for (const o of objects) {
    const level = o.namespace ? (levels.get(o.namespace) ?? clusterDefault(o.namespace)) : undefined;
    if (!level || level === 'privileged') continue;
    const workflow = isWorkflow(o.object);
    const violations = [...new Set(podsOf(o, executor).flatMap((pod) => podSecurityViolations(pod, level)))];
    if (!violations.length) continue;
    problems.push({
      check: 'security',
      severity: 'error',
      object: describe(o),
      message: `its pods break the ${level} Pod Security level of namespace ${o.namespace}${levels.has(o.namespace!) ? '' : ' (the CIS profile\'s cluster default)'}, so admission refuses them: ${violations.slice(0, 4).join('; ')}${violations.length > 4 ? `; and ${violations.length - 4} more` : ''}`,
      hint: workflow
        ? 'restricted environments need workflow pods that run as non-root without privilege escalation (siteforge sets this for spec.components.namespaces.podSecurity: restricted); or lower the level'
        : `lower spec.components.namespaces.podSecurity, or change the workload's securityContext`,
    });
  }
  return problems;
};

/** No admin UI open without authentication. */
const security: Check = ({ objects }) => {
  const problems: Problem[] = [];
  for (const o of objects) {
    for (const pod of podSpecs(o.object)) {
      for (const c of containersOf(pod)) {
        const args: string[] = [...(c.command ?? []), ...(c.args ?? [])].map(String);
        const modes = args.flatMap((a, i) => (a.startsWith('--auth-mode=') ? [a.slice(12)] : a === '--auth-mode' ? [args[i + 1] ?? ''] : []));
        if (/argocli|argo-server|argoexec/.test(String(c.image)) && args.includes('server') && modes.includes('server')) {
          problems.push({
            check: 'security',
            severity: 'error',
            object: describe(o),
            message: 'the Argo Workflows server runs with --auth-mode=server: anyone who reaches it acts with the server\'s own rights',
            hint: 'use client (token) or sso mode: spec.components.argoWorkflows.server.authMode (server mode only with insecureNoAuth: true)',
          });
        }
      }
    }
  }
  return problems;
};

export function normaliseImage(image: string): string {
  if (!image) return image;
  const [name, ...rest] = image.split('@');
  let ref = name!;
  const first = ref.split('/')[0]!;
  if (!ref.includes('/')) ref = `docker.io/library/${ref}`;
  else if (!/[.:]/.test(first) && first !== 'localhost') ref = `docker.io/${ref}`;
  if (!/:[^/]+$/.test(ref) && !rest.length) ref = `${ref}:latest`;
  return rest.length ? `${ref}@${rest.join('@')}` : ref;
}

/**
 * JSON pointers of the fields a chart's own controllers or jobs fill in after install — webhook and
 * conversion CA bundles left empty in the chart, or injected by cert-manager's cainjector. Flux
 * drift detection and Argo CD self-heal would revert them on every reconciliation.
 */
export function selfMutatedPaths(o: K8sObject): string[] {
  const injected = Object.keys(o.metadata?.annotations ?? {}).some((k) => k.startsWith('cert-manager.io/inject-ca-from') || k === 'cert-manager.io/inject-apiserver-ca');
  const spec = (o.spec ?? {}) as Record<string, any>;
  switch (o.kind) {
    case 'ValidatingWebhookConfiguration':
    case 'MutatingWebhookConfiguration':
      return ((o.webhooks as Record<string, any>[] | undefined) ?? []).flatMap((w, i) => (injected || !w?.clientConfig?.caBundle ? [`/webhooks/${i}/clientConfig/caBundle`] : []));
    case 'CustomResourceDefinition':
      return spec.conversion?.strategy === 'Webhook' && (injected || !spec.conversion.webhook?.clientConfig?.caBundle) ? ['/spec/conversion/webhook/clientConfig/caBundle'] : [];
    case 'APIService':
      return injected || (!spec.caBundle && !spec.insecureSkipTLSVerify && spec.service) ? ['/spec/caBundle'] : [];
    default:
      return [];
  }
}

interface IgnoreRule {
  readonly group?: string;
  readonly kind?: string;
  readonly name?: string;
  readonly paths: readonly string[];
}

/**
 * What the site's GitOps objects tell the engine to leave alone, per release: Flux HelmReleases'
 * driftDetection.ignore (and whether drift detection is on at all), Argo CD Applications'
 * ignoreDifferences (with RespectIgnoreDifferences, else a sync still overwrites them).
 */
function engineIgnores(objects: readonly SourcedObject[], site: SiteModel): Map<string, { correcting: boolean; rules: IgnoreRule[] }> {
  const byRelease = new Map<string, { correcting: boolean; rules: IgnoreRule[] }>();
  for (const { name: release, namespace } of siteReleases(site).releases) {
    const flux = objects.find((o) => o.object.kind === 'HelmRelease' && groupOf(o.object.apiVersion) === 'helm.toolkit.fluxcd.io' && o.object.metadata?.name === release && o.namespace === namespace);
    const argo = objects.find((o) => o.object.kind === 'Application' && groupOf(o.object.apiVersion) === 'argoproj.io' && o.object.metadata?.name === `${site.name}-${release}`);
    const spec = ((flux ?? argo)?.object.spec ?? {}) as Record<string, any>;
    if (flux) {
      const mode = spec.driftDetection?.mode;
      const rules = ((spec.driftDetection?.ignore ?? []) as Record<string, any>[]).map((i) => ({ group: i.target?.group, kind: i.target?.kind, name: i.target?.name, paths: (i.paths ?? []) as string[] }));
      byRelease.set(release, { correcting: mode === 'enabled', rules });
    } else if (argo) {
      const respect = ((spec.syncPolicy?.syncOptions ?? []) as string[]).includes('RespectIgnoreDifferences=true');
      const rules = respect ? ((spec.ignoreDifferences ?? []) as Record<string, any>[]).map((i) => ({ group: i.group, kind: i.kind, name: i.name, paths: (i.jsonPointers ?? []) as string[] })) : [];
      // Every sync applies the chart again (self-heal makes it continuous): unignored fields are overwritten.
      byRelease.set(release, { correcting: true, rules });
    }
  }
  return byRelease;
}

/** Every field a chart fills in itself is one the GitOps engine is told to leave alone. */
const selfMutated: Check = ({ objects, site }) => {
  const ignores = engineIgnores(objects, site);
  return objects.flatMap((o) => {
    const r = o.release;
    const engine = r ? ignores.get(r.name) : undefined;
    if (!r || !engine?.correcting) return [];
    const missing = selfMutatedPaths(o.object).filter(
      (path) =>
        !engine.rules.some(
          (m) => (m.kind === undefined || m.kind === o.object.kind) && (m.group === undefined || m.group === groupOf(o.object.apiVersion)) && (m.name === undefined || m.name === o.object.metadata?.name) && m.paths.includes(path),
        ),
    );
    const one = missing.length === 1;
    const engineName = site.gitops.engine === 'flux' ? `Flux HelmRelease ${r.namespace}/${r.name} (driftDetection.ignore)` : `Argo CD Application ${site.name}-${r.name} (ignoreDifferences with RespectIgnoreDifferences=true)`;
    return missing.length
      ? [
          {
            check: 'self-mutated fields',
            severity: 'error' as const,
            object: describe(o),
            message: `${missing.join(', ')} ${one ? 'is' : 'are'} filled in after install (a CA bundle), and ${engineName} does not leave ${one ? 'it' : 'them'} alone: the engine would revert ${one ? 'it' : 'them'} on every reconciliation and break the webhook`,
            hint: `list ${o.object.kind} with ${one ? 'this path' : 'these paths'} under selfMutated in the ${r.component} catalog entry (generator/components/), then regenerate`,
          },
        ]
      : [];
  });
};

/**
 * HPK runs every pod as a Slurm job on whatever node Slurm picks, with no nodes of its own and
 * every Service headless: a rendered object that needs a node (DaemonSet, host network, host PID,
 * host ports), a Service address (LoadBalancer, NodePort) or a GPU as a node resource cannot work.
 */
const hpkFit: Check = ({ objects, site }) => {
  if (site.distribution.type !== 'hpk') return [];
  const problems: Problem[] = [];
  const report = (o: SourcedObject, message: string, hint: string) => problems.push({ check: 'hpk', severity: 'error', object: describe(o), message, hint });
  for (const o of objects) {
    const { kind } = o.object;
    const spec = o.object.spec as Record<string, any> | undefined;
    if (kind === 'DaemonSet') report(o, 'a DaemonSet runs one pod per node, and HPK has no nodes of its own (its one virtual node is every Slurm node)', 'disable the component that brings it under HPK');
    if (kind === 'PersistentVolume' && spec && !spec.local) {
      report(o, 'hpk-kubelet mounts a claim only when its PersistentVolume is local (a hostPath, NFS or CSI volume fails the pod)', 'use spec.storage.volumes of type hostPath: siteforge renders them as local volumes on the hpk-kubelet node');
    }
    if (kind === 'Service' && (spec?.type === 'LoadBalancer' || spec?.type === 'NodePort')) {
      report(o, `a ${spec.type} Service: under HPK every Service is headless, so no address or node port is ever handed out`, 'reach it through its headless Service name from inside the cluster');
    }
    for (const pod of podSpecs(o.object)) {
      for (const key of ['hostNetwork', 'hostPID', 'hostIPC'] as const) {
        if (pod[key] === true) report(o, `the pod asks for ${key}: its Slurm job shares a compute node with other users' jobs`, 'disable the component that brings it under HPK');
      }
      for (const c of containersOf(pod)) {
        if ((c.ports ?? []).some((p: { hostPort?: number }) => p.hostPort)) report(o, `container ${c.name} binds a host port, which another job on the same Slurm node may hold`, 'use a container port behind its headless Service');
        const gpu = c.resources?.limits?.['nvidia.com/gpu'] ?? c.resources?.requests?.['nvidia.com/gpu'];
        if (gpu !== undefined) report(o, `container ${c.name} asks for nvidia.com/gpu as a node resource, which hpk-kubelet does not offer`, 'ask for GPUs with the step\'s resources.gpus: siteforge passes them to Slurm as GRES (spec.distribution.hpk.pods.gpu)');
      }
    }
  }
  // Workflow steps are pods too: the same limits apply to their templates.
  for (const o of objects.filter((x) => x.object.kind === 'WorkflowTemplate' || x.object.kind === 'CronWorkflow')) {
    const spec = (o.object.kind === 'CronWorkflow' ? (o.object.spec as any)?.workflowSpec : o.object.spec) as Record<string, any> | undefined;
    for (const t of spec?.templates ?? []) {
      const c = t.container ?? t.script;
      if (c?.resources?.limits?.['nvidia.com/gpu'] !== undefined) report(o, `template ${t.name} asks for nvidia.com/gpu as a node resource, which hpk-kubelet does not offer`, 'ask for GPUs with resources.gpus (Slurm GRES)');
    }
  }
  return problems;
};

export const CHECKS: readonly { name: string; check: Check }[] = [
  { name: 'namespaces exist', check: namespaces },
  { name: 'custom resources have their CRDs', check: crds },
  { name: 'names and labels are valid', check: names },
  { name: 'built-in objects match the Kubernetes API schemas (strict)', check: builtInSchemas },
  { name: 'custom resources match their CRD schemas (strict)', check: schemas },
  { name: 'claims bind', check: claims },
  { name: 'references resolve', check: references },
  { name: 'LoadBalancer addresses', check: addresses },
  { name: 'ingress hosts and issuers', check: ingresses },
  { name: 'images listed', check: images },
  { name: 'workloads schedule', check: scheduling },
  { name: 'workflows resolve', check: workflows },
  { name: 'Harbor reachable and trusted by the node mirrors', check: mirrors },
  { name: 'secrets decrypted before they are applied', check: decryption },
  { name: 'no unauthenticated admin UI', check: security },
  { name: 'pods meet their namespace\'s Pod Security level', check: podSecurity },
  { name: 'fields the charts fill in are left alone by the GitOps engine', check: selfMutated },
  { name: 'HPK: nothing needs a node, a Service address or a GPU resource', check: hpkFit },
];

export const runChecks = (ctx: CheckContext): Problem[] => CHECKS.flatMap((c) => c.check(ctx));
