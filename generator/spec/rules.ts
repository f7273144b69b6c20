// Cross-field rules: what the schema alone cannot say. Each rule reads the (possibly still
// malformed) spec defensively — schema errors are reported separately — and reports through ctx.
import type { SiteSpec } from './schema.ts';
import { show, type PathSegment, type Severity } from './diagnostics.ts';
import { checkAgeRecipient } from './age-recipient.ts';
import { contains, formatIpv4, overlaps, parseCidr, parseIpv4, poolContaining, type Cidr } from './net.ts';
import { didYouMean } from './suggest.ts';
import { isString, list, siteIngressOf } from './guards.ts';
import { toleratesAll } from '../model/taints.ts';
import { catalog, componentNames } from '../components/catalog.ts';
import { DNS_NAME_PATTERN, imagePin, imageRegistry } from './formats.ts';
import { addressPools } from '../components/metallb.ts';
import { dependencyCycle, stepName } from '../model/workflows.ts';
import { HARBOR_PROXY_PROJECTS } from '../components/harbor.ts';
import { hpkRules } from './hpk-rules.ts';
import { FLUX_DEFAULT_VERSION, FLUX_MINIMUM_VERSION } from '../model/flux.ts';
import { compareVersions, KUBESPRAY_DEFAULT_RELEASE, KUBESPRAY_RELEASES, KUBESPRAY_SNAPSHOT_DIR } from '../model/kubespray.ts';

export interface RuleContext {
  readonly spec: SiteSpec;
  report(
    severity: Severity,
    path: readonly PathSegment[],
    message: string,
    extra?: { expected?: string; hint?: string; at?: 'key' | 'value' },
  ): void;
}

export type Rule = (ctx: RuleContext) => void;

export type ComponentCheck = (ctx: RuleContext, settings: any) => void;


/** Reports the second and later occurrences of each key. */
function reportDuplicates(
  ctx: RuleContext,
  entries: readonly { key: string; path: PathSegment[] }[],
  what: string,
  hint: string,
) {
  const first = new Map<string, PathSegment[]>();
  for (const { key, path } of entries) {
    const earlier = first.get(key);
    if (!earlier) {
      first.set(key, path);
      continue;
    }
    ctx.report('error', path, `duplicate ${what} ${show(key)}`, { hint: `${hint}; first used at ${formatPathShort(earlier)}` });
  }
}

const formatPathShort = (path: readonly PathSegment[]) =>
  path.map((s, i) => (typeof s === 'number' ? `[${s}]` : i ? `.${s}` : s)).join('');

const uniqueNodes: Rule = (ctx) => {
  const nodes = list<any>(ctx.spec.spec?.nodes);
  reportDuplicates(
    ctx,
    nodes.flatMap((n, i) => (isString(n?.name) ? [{ key: n.name, path: ['spec', 'nodes', i, 'name'] }] : [])),
    'node name',
    'every node needs its own host name',
  );
  const addresses = nodes.flatMap((n, i) => [
    ...(isString(n?.address) ? [{ key: n.address, path: ['spec', 'nodes', i, 'address'] as PathSegment[] }] : []),
    ...Object.entries(n?.extraAddresses ?? {})
      .filter(([, a]) => isString(a))
      .map(([net, a]) => ({ key: a as string, path: ['spec', 'nodes', i, 'extraAddresses', net] as PathSegment[] })),
  ]);
  reportDuplicates(ctx, addresses, 'node address', 'each interface address belongs to one node');
};

const servers: Rule = (ctx) => {
  const nodes = list<any>(ctx.spec.spec?.nodes);
  if (!nodes.length) return;
  const count = nodes.filter((n) => n?.role === 'server').length;
  if (count === 0) {
    ctx.report('error', ['spec', 'nodes'], 'no node has role: server', {
      expected: 'at least one control-plane node (role: server)',
      hint: 'set role: server on one node (or three for a highly available control plane)',
    });
  } else if (count % 2 === 0) {
    ctx.report('warning', ['spec', 'nodes'], `${count} server nodes: etcd needs a majority, so an even count adds no fault tolerance`, {
      hint: `use ${count - 1} or ${count + 1} servers`,
    });
  }
};

function cidrAt(ctx: RuleContext, path: PathSegment[], text: unknown): Cidr | null {
  if (!isString(text)) return null;
  const cidr = parseCidr(text);
  if (!cidr) return null; // the schema pattern already reported it
  if (cidr.address !== cidr.first) {
    const fixed = `${formatIpv4(cidr.first)}/${cidr.prefix}`;
    ctx.report('error', path, `${show(text)} has host bits set`, { expected: 'a network address', hint: `did you mean ${fixed}?` });
  }
  return cidr;
}

const networks: Rule = (ctx) => {
  const dist = (ctx.spec.spec?.distribution ?? {}) as any;
  const base: PathSegment[] = ['spec', 'distribution'];
  const cluster = cidrAt(ctx, [...base, 'clusterCIDR'], dist.clusterCIDR);
  const service = cidrAt(ctx, [...base, 'serviceCIDR'], dist.serviceCIDR);
  if (cluster && service && overlaps(cluster, service)) {
    ctx.report('error', [...base, 'serviceCIDR'], `${dist.serviceCIDR} overlaps clusterCIDR ${dist.clusterCIDR}`, {
      hint: 'pods and services need separate ranges, e.g. clusterCIDR 10.42.0.0/16 and serviceCIDR 10.43.0.0/16',
    });
  }
  const podAndService = [
    ['clusterCIDR', cluster],
    ['serviceCIDR', service],
  ] as const;
  list<any>(ctx.spec.spec?.nodes).forEach((node, i) => {
    const addresses: [PathSegment[], unknown][] = [
      [['spec', 'nodes', i, 'address'], node?.address],
      ...Object.entries(node?.extraAddresses ?? {}).map(([k, v]) => [['spec', 'nodes', i, 'extraAddresses', k], v] as [PathSegment[], unknown]),
    ];
    for (const [path, text] of addresses) {
      const ip = isString(text) ? parseIpv4(text) : null;
      if (ip === null) continue;
      for (const [name, range] of podAndService) {
        if (range && contains(range, ip)) {
          ctx.report('error', path, `node address ${text} lies inside ${name} ${dist[name]}`, {
            hint: `choose a ${name} that does not overlap the HPC networks the nodes sit on`,
          });
        }
      }
    }
  });
  apiEndpointRules(ctx, dist, podAndService);
  list<unknown>(dist.tlsSANs).forEach((san, i) => {
    if (isString(san) && parseIpv4(san) === null && !new RegExp(DNS_NAME_PATTERN).test(san)) {
      ctx.report('error', [...base, 'tlsSANs', i], `${show(san)} is neither an IPv4 address nor a DNS name`, {
        expected: 'a host name such as k8s.hpc4.example.edu or an address such as 10.40.0.10',
      });
    }
  });
};

/** The API endpoint is an address of its own: no node's, outside MetalLB's pools and the pod/service ranges; kube-vip on RKE2 only. */
function apiEndpointRules(ctx: RuleContext, dist: any, ranges: readonly (readonly [string, Cidr | null])[]) {
  const endpoint = dist?.apiEndpoint;
  const ip = isString(endpoint?.address) ? parseIpv4(endpoint.address) : null;
  const at: PathSegment[] = ['spec', 'distribution', 'apiEndpoint'];
  if (dist?.profile === 'cis' && (dist?.type === 'k0s' || dist?.type === 'kubespray')) {
    ctx.report('error', ['spec', 'distribution', 'profile'], 'the CIS profile is generated for RKE2 only', { hint: `${dist.type === 'k0s' ? 'k0s has no CIS profile switch' : 'Kubespray hardens through its own variables (docs/operations/hardening.md), which siteforge does not write yet'}; drop profile, or use RKE2` });
  }
  if (dist?.backup?.s3 && (dist?.type === 'k0s' || dist?.type === 'kubespray')) {
    const dir = dist.type === 'k0s' ? '/var/lib/k0s-backups' : KUBESPRAY_SNAPSHOT_DIR;
    ctx.report('error', ['spec', 'distribution', 'backup', 's3'], 'S3 upload of backups is generated for RKE2 only', { hint: `for ${dist.type}, copy ${dir} off the ${dist.type === 'k0s' ? 'controllers' : 'servers'} with the site's own backup tooling, and drop backup.s3` });
  }
  if (dist?.airgap && dist?.type === 'kubespray') {
    ctx.report('error', ['spec', 'distribution', 'airgap'], 'an air-gapped Kubespray install is not generated yet', { hint: 'Kubespray installs offline from its own mirrors (files_repo, registry_host in its offline.yml): set them in an inventory of your own next to ansible/inventory, or drop airgap' });
  }
  if (endpoint?.type === 'kubeVip' && dist?.type === 'k0s') {
    ctx.report('error', [...at, 'type'], 'kubeVip is generated for RKE2 only', { hint: 'for k0s, put a load balancer in front of the controllers and use type: external' });
  }
  if (ip === null) return;
  list<any>(ctx.spec.spec?.nodes).forEach((node) => {
    for (const a of [node?.address, ...Object.values(node?.extraAddresses ?? {})]) {
      if (isString(a) && parseIpv4(a) === ip) ctx.report('error', [...at, 'address'], `${endpoint.address} is the address of node ${show(node?.name)}`, { hint: 'the API endpoint needs an address no node has, so it can move between servers' });
    }
  });
  for (const [name, range] of ranges) {
    if (range && contains(range, ip)) ctx.report('error', [...at, 'address'], `${endpoint.address} lies inside ${name} ${dist[name]}`, { hint: 'use an address on the servers\' network' });
  }
  const metallb = ctx.spec.spec?.components?.metallb as { enabled?: boolean; addresses?: unknown } | undefined;
  if (metallb?.enabled === true) {
    for (const pool of addressPools(String(ctx.spec.metadata?.name ?? 'site'), metallb as never)) {
      const range = poolContaining(ip, pool.addresses);
      if (range) ctx.report('error', [...at, 'address'], `${endpoint.address} lies inside the MetalLB pool ${range} (${pool.name})`, { hint: 'MetalLB would hand the API address to a Service; keep it out of spec.components.metallb' });
    }
  }
}

/** Node setup choices that weaken the nodes say so. */
const nodeSetup: Rule = (ctx) => {
  const setup = ctx.spec.spec?.nodeSetup as { selinux?: unknown } | undefined;
  if (setup?.selinux === 'disabled') {
    ctx.report('warning', ['spec', 'nodeSetup', 'selinux'], 'SELinux disabled: containers lose their confinement on RHEL-family nodes (a container escape reaches the host as root), and re-enabling it later relabels every file system', {
      hint: 'prefer enforcing (RKE2 installs rke2-selinux) or permissive while you find what breaks; disabled takes effect at the next reboot',
    });
  }
};

/** A Kubespray site: a plain Kubernetes version the pinned release builds, and an odd number of servers (its etcd). */
function kubesprayVersion(ctx: RuleContext, dist: any) {
  const releaseName = isString(dist.kubespray?.release) ? dist.kubespray.release : KUBESPRAY_DEFAULT_RELEASE;
  const release = KUBESPRAY_RELEASES[releaseName];
  if (!release) {
    ctx.report('error', ['spec', 'distribution', 'kubespray', 'release'], `siteforge does not know what Kubespray ${releaseName} builds`, {
      expected: `one of ${Object.keys(KUBESPRAY_RELEASES).join(', ')}`,
      hint: 'use a release siteforge knows, or update siteforge',
    });
    return;
  }
  const m = /^v([0-9]+\.[0-9]+\.[0-9]+)$/.exec(dist.version);
  const [oldest, newest] = release.kubernetes;
  if (!m || compareVersions(m[1]!, oldest) < 0 || compareVersions(m[1]!, newest) > 0) {
    ctx.report('error', ['spec', 'distribution', 'version'], m ? `Kubespray ${releaseName} does not build Kubernetes ${dist.version}` : `${show(dist.version)} is not a Kubernetes version`, {
      expected: `a Kubernetes version from v${oldest} to v${newest}`,
      hint: m ? `Kubespray ${releaseName} has checksums for Kubernetes ${oldest} to ${newest}: choose one, or another release` : 'Kubespray takes plain Kubernetes versions, such as v1.34.3 (no +suffix)',
    });
  }
  const servers = list<any>(ctx.spec.spec?.nodes).filter((n) => n?.role === 'server').length;
  if (servers > 0 && servers % 2 === 0) {
    ctx.report('error', ['spec', 'nodes'], `${servers} servers: Kubespray runs etcd on the servers and refuses an even number of etcd members`, { hint: 'give the site 1, 3 or 5 servers (an even count adds no fault tolerance)' });
  }
}

const distributionVersion: Rule = (ctx) => {
  const dist = (ctx.spec.spec?.distribution ?? {}) as any;
  if (!isString(dist.version) || !isString(dist.type)) return;
  if (dist.type === 'hpk') {
    if (dist.version.includes('+')) {
      ctx.report('error', ['spec', 'distribution', 'version'], `${show(dist.version)} is a distribution release, and HPK runs plain Kubernetes`, {
        expected: 'the Kubernetes version of the control-plane image, such as v1.24.8',
        hint: 'drop the +suffix',
      });
    }
    return;
  }
  if (dist.type === 'kubespray') {
    kubesprayVersion(ctx, dist);
    return;
  }
  const suffix = { rke2: /\+rke2r[0-9]+$/, k0s: /\+k0s\.[0-9]+$/ }[dist.type as string];
  if (suffix && !suffix.test(dist.version)) {
    const example = dist.type === 'rke2' ? 'v1.31.4+rke2r1' : 'v1.31.4+k0s.0';
    ctx.report('error', ['spec', 'distribution', 'version'], `${show(dist.version)} is not a ${dist.type} release`, {
      expected: `a ${dist.type} release such as ${example}`,
      hint: `${dist.type} versions end in ${dist.type === 'rke2' ? '+rke2rN' : '+k0s.N'}`,
    });
  }
};

const recipients: Rule = (ctx) => {
  list<unknown>(ctx.spec.spec?.secrets?.ageRecipients).forEach((r, i) => {
    if (!isString(r)) return;
    const check = checkAgeRecipient(r);
    if (!check.ok) ctx.report('error', ['spec', 'secrets', 'ageRecipients', i], check.reason, { expected: 'an age public key (age1...)', hint: check.hint });
  });
  const all = list<unknown>(ctx.spec.spec?.secrets?.ageRecipients);
  reportDuplicates(
    ctx,
    all.flatMap((r, i) => (isString(r) ? [{ key: r, path: ['spec', 'secrets', 'ageRecipients', i] }] : [])),
    'age recipient',
    'list each key once',
  );
};

const environments: Rule = (ctx) => {
  const envs = list<unknown>(ctx.spec.spec?.environments);
  reportDuplicates(
    ctx,
    envs.flatMap((e, i) => (isString(e) ? [{ key: e, path: ['spec', 'environments', i] }] : [])),
    'environment',
    'each environment is listed once',
  );
  const site = ctx.spec.metadata?.name;
  if (!isString(site)) return;
  envs.forEach((e, i) => {
    if (isString(e) && `${e}-${site}`.length > 63) {
      ctx.report('error', ['spec', 'environments', i], `namespace "${e}-${site}" is longer than 63 characters`, {
        hint: 'shorten the environment or site name',
      });
    }
  });
};

const workflows: Rule = (ctx) => {
  const envs = list<unknown>(ctx.spec.spec?.environments).filter(isString);
  const flows = list<any>(ctx.spec.spec?.workflows);
  reportDuplicates(
    ctx,
    flows.flatMap((w, i) => (isString(w?.name) ? [{ key: w.name, path: ['spec', 'workflows', i, 'name'] }] : [])),
    'workflow name',
    'workflow names become WorkflowTemplate names and must be unique',
  );
  flows.forEach((w, i) => {
    const at: PathSegment[] = ['spec', 'workflows', i];
    const named: [PathSegment[], unknown][] = w?.environments !== undefined ? list<unknown>(w.environments).map((e, k) => [[...at, 'environments', k], e]) : [[[...at, 'environment'], w?.environment]];
    if (w && typeof w === 'object' && (w.environment === undefined) === (w.environments === undefined)) {
      ctx.report('error', w.environment === undefined ? at : [...at, 'environments'], `workflow ${show(w.name)} needs exactly one of environment and environments`, {
        expected: 'environment: dev, or environments: [dev, prod]',
        hint: w.environment === undefined ? 'say where it runs: environment: <env>' : 'drop environment (the first of environments is where it is tried first)',
      });
    }
    for (const [path, env] of named) {
      if (isString(env) && envs.length && !envs.includes(env)) {
        ctx.report('error', path, `environment ${show(env)} is not in spec.environments`, {
          expected: `one of ${[...new Set(envs)].join(', ')}`,
          hint: didYouMean(env, envs) ?? 'add it to spec.environments or pick an existing one',
        });
      }
    }
    const runsIn = named.map(([, e]) => e).filter(isString);
    reportDuplicates(ctx, named.flatMap(([path, e]) => (isString(e) ? [{ key: e, path }] : [])), 'workflow environment', 'a workflow runs once per environment');
    workflowStepRules(ctx, w, at, runsIn);
    imageRules(ctx, w, at);
    const pins = w?.pins && typeof w.pins === 'object' ? (w.pins as Record<string, any>) : {};
    for (const [env, pin] of Object.entries(pins)) {
      const pinAt: PathSegment[] = [...at, 'pins', env];
      if (!runsIn.includes(env)) {
        ctx.report('error', pinAt, `workflow ${show(w.name)} pins environment ${show(env)}, which it does not run in`, {
          expected: `one of ${runsIn.join(', ') || 'its environments'}`,
          hint: didYouMean(env, runsIn) ?? 'add it to the workflow\'s environments, or remove the pin',
        });
        continue;
      }
      if (!pin || typeof pin !== 'object') continue;
      // A pin's steps (or the shared ones, with its image) are checked as that environment runs them.
      imageRules(ctx, pin, pinAt);
      if (pin.steps !== undefined) workflowStepRules(ctx, { name: w.name, steps: pin.steps }, pinAt, [env]);
    }
  });
};

/**
 * Build images are pinned (a version tag or a digest, never latest or no tag: a build must be
 * reproducible, and Renovate can only update a pin), and come from Harbor or a registry Harbor
 * mirrors when the site runs Harbor (the nodes pull through it).
 */
function imageRules(ctx: RuleContext, w: any, at: readonly PathSegment[]) {
  const harbor = ctx.spec.spec?.components?.harbor as { enabled?: boolean; hostname?: unknown } | undefined;
  const harborHost = harbor?.enabled === true ? (isString(harbor.hostname) ? harbor.hostname : `harbor.${ctx.spec.spec?.domain}`) : undefined;
  const images: [PathSegment[], unknown][] = [
    [[...at, 'image'], w?.image],
    ...list<any>(w?.steps).flatMap((s, j): [PathSegment[], unknown][] => (s && typeof s === 'object' && s.image !== undefined ? [[[...at, 'steps', j, 'image'], s.image]] : [])),
  ];
  for (const [path, image] of images) {
    if (!isString(image)) continue;
    const { name, tag, digest } = imagePin(image);
    if (!digest && (tag === undefined || tag === 'latest')) {
      ctx.report('warning', path, `image ${show(image)} is not pinned (${tag ? 'latest' : 'no tag'}): each run may build with a different image`, {
        hint: `pin a version tag or a digest, e.g. ${name.replace(/:latest$/, '')}:<version> or @sha256:…; Renovate then proposes updates`,
      });
    }
    const registry = imageRegistry(name);
    if (harborHost && registry !== harborHost && !(registry in HARBOR_PROXY_PROJECTS)) {
      ctx.report('warning', path, `image ${show(image)} comes from ${registry}, which Harbor does not mirror: every node pulls it from there directly`, {
        hint: `push it to ${harborHost}, or pull it through a proxy-cache project (mirrored: ${Object.keys(HARBOR_PROXY_PROJECTS).join(', ')})`,
      });
    }
  }
}

/** A workflow's steps: unique names, dependencies that exist and form no cycle, GPUs the site has, volumes its environment has. */
function workflowStepRules(ctx: RuleContext, w: any, base: readonly PathSegment[], environments: readonly string[]) {
  const steps = list<any>(w?.steps);
  if (!steps.every((s) => isString(s) || (s && typeof s === 'object' && isString(s.name)))) return; // the schema reports malformed steps
  const at = (j: number, ...rest: PathSegment[]): PathSegment[] => [...base, 'steps', j, ...(isString(steps[j]) ? [] : rest)];
  const names = steps.map(stepName);
  reportDuplicates(ctx, names.map((key, j) => ({ key, path: at(j, 'name') })), 'step name', 'step names become Argo task and template names and must be unique within a workflow');
  const hasGpuNodes = list<any>(ctx.spec.spec?.nodes).some((n) => n?.gpus);
  const hpk = ctx.spec.spec?.distribution?.type === 'hpk';
  const allVolumes = list<any>(ctx.spec.spec?.storage?.volumes);
  const volumesOf = (env: string) => allVolumes.filter((v) => !Array.isArray(v?.environments) || v.environments.includes(env));
  steps.forEach((step, j) => {
    if (isString(step)) return;
    list<unknown>(step.dependencies).forEach((d, k) => {
      if (isString(d) && !names.includes(d)) {
        ctx.report('error', at(j, 'dependencies', k), `step ${show(step.name)} depends on ${show(d)}, which is not a step of workflow ${show(w.name)}`, {
          expected: `one of ${names.filter((n) => n !== step.name).join(', ') || 'no other step'}`,
          hint: didYouMean(d, names) ?? 'name a step of this workflow',
        });
      } else if (d === step.name) {
        ctx.report('error', at(j, 'dependencies', k), `step ${show(step.name)} depends on itself`, { hint: 'remove it from its own dependencies' });
      }
    });
    if (step.script !== undefined && (step.command !== undefined || step.args !== undefined)) {
      ctx.report('error', at(j, 'script'), `step ${show(step.name)} has a script and a command or args`, { hint: 'a script step runs its script with bash; use either script, or command/args' });
    }
    if (step.resources?.gpus !== undefined && hpk && !ctx.spec.spec?.distribution?.hpk?.pods?.gpu) {
      ctx.report('error', at(j, 'resources', 'gpus'), `step ${show(step.name)} asks for GPUs, and the HPK site does not say how Slurm hands them out`, {
        hint: 'set spec.distribution.hpk.pods.gpu (gres, and the GPU partition or constraint), or drop resources.gpus',
      });
    } else if (step.resources?.gpus !== undefined && !hpk && !hasGpuNodes) {
      ctx.report('error', at(j, 'resources', 'gpus'), `step ${show(step.name)} asks for GPUs, and no node of the site has any, so it never schedules`, {
        hint: 'declare the GPU nodes (spec.nodes[].gpus), or drop resources.gpus',
      });
    }
    list<any>(step.volumes).forEach((v, k) => {
      if (!isString(v?.name)) return;
      const lacking = environments.find((env) => !volumesOf(env).some((x) => x?.name === v.name));
      const volume = allVolumes.find((x) => x?.name === v.name);
      if (lacking !== undefined) {
        const known = volumesOf(lacking).map((x) => x?.name).filter(isString);
        ctx.report('error', at(j, 'volumes', k, 'name'), `step ${show(step.name)} mounts volume ${show(v.name)}, which is not exposed to environment ${show(lacking)}`, {
          expected: `one of ${known.join(', ') || 'no volume (spec.storage.volumes)'}`,
          hint: didYouMean(v.name, known) ?? 'list it under spec.storage.volumes (with this environment)',
        });
      } else if (volume.readOnly === true && v.readOnly === false) {
        ctx.report('error', at(j, 'volumes', k, 'readOnly'), `volume ${show(v.name)} is read-only (spec.storage.volumes), so a step cannot mount it read-write`, { hint: 'drop readOnly: false, or make the volume writable' });
      }
    });
  });
  const model = steps.map((s, j) => ({ name: stepName(s), dependencies: isString(s) ? (j > 0 ? [stepName(steps[j - 1])] : []) : list<unknown>(s.dependencies).filter(isString) }));
  const cycle = steps.some((s) => !isString(s)) ? dependencyCycle(model) : [];
  if (cycle.length) {
    ctx.report('error', [...base, 'steps'], `the steps of workflow ${show(w.name)} depend on each other in a cycle: ${cycle.join(' → ')}`, {
      hint: 'a step may only depend on steps that can finish without it; remove one dependency of the cycle',
    });
  }
}

/** Storage classes: each type with its own fields; local-path volumes stay on one node's disk. */
const storageClasses: Rule = (ctx) => {
  const classes = list<any>(ctx.spec.spec?.storage?.classes);
  const nodes = list<any>(ctx.spec.spec?.nodes).length;
  classes.forEach((c, i) => {
    const at = ['spec', 'storage', 'classes', i];
    const type = c?.type ?? 'nfs';
    if (type === 'nfs') {
      for (const key of ['server', 'share'] as const) {
        if (c?.[key] === undefined) ctx.report('error', at, `NFS class ${show(c?.name)} has no ${key}`, { expected: key === 'server' ? 'server: the NFS server' : 'share: the exported directory', hint: `add \`${key}:\`, or use type: localPath for a directory on each node` });
      }
      if (c?.path !== undefined) ctx.report('error', [...at, 'path'], 'path belongs to a localPath class', { hint: 'an NFS class names its server and share; drop path' });
    } else {
      for (const key of ['server', 'share', 'subDir'] as const) {
        if (c?.[key] !== undefined) ctx.report('error', [...at, key], `${key} belongs to an NFS class`, { hint: `a localPath class keeps its volumes in path on each node; drop ${key}` });
      }
      if (list<unknown>(c?.mountOptions).length) ctx.report('error', [...at, 'mountOptions'], 'a localPath volume is a directory, with no mount options', { hint: 'drop mountOptions' });
      if (nodes > 1) {
        ctx.report('warning', at, `class ${show(c?.name)} keeps each volume on the disk of one of the ${nodes} nodes: a pod that moves to another node loses its data, and the node's loss loses it`, { hint: 'use localPath on one-node sites; give larger sites an NFS class' });
      }
    }
  });
};

const volumes: Rule = (ctx) => {
  const vols = list<any>(ctx.spec.spec?.storage?.volumes);
  reportDuplicates(
    ctx,
    vols.flatMap((v, i) => (isString(v?.name) ? [{ key: v.name, path: ['spec', 'storage', 'volumes', i, 'name'] }] : [])),
    'volume name',
    'volume names become PV/PVC names and must be unique',
  );
  const envs = list<unknown>(ctx.spec.spec?.environments).filter(isString);
  vols.forEach((v, i) => {
    list<unknown>(v?.environments).forEach((e, j) => {
      if (isString(e) && envs.length && !envs.includes(e)) {
        ctx.report('error', ['spec', 'storage', 'volumes', i, 'environments', j], `environment ${show(e)} is not in spec.environments`, {
          expected: `one of ${[...new Set(envs)].join(', ')}`,
          hint: didYouMean(e, envs) ?? 'add it to spec.environments or remove it here',
        });
      }
    });
    if (v?.type === 'nfs' && v.server === undefined) {
      ctx.report('error', ['spec', 'storage', 'volumes', i], `NFS volume ${show(v.name)} has no server`, {
        expected: 'server: the NFS server address',
        hint: 'add `server: <address>` or use type: hostPath for a filesystem mounted on every node',
      });
    }
    if (v?.type === 'hostPath' && v.server !== undefined) {
      ctx.report('error', ['spec', 'storage', 'volumes', i, 'server'], 'a hostPath volume has no server', {
        hint: 'remove `server`, or use type: nfs',
      });
    }
  });
};

const components: Rule = (ctx) => {
  const settings = (ctx.spec.spec?.components ?? {}) as Record<string, any>;
  const enabled = (name: string) => settings[name]?.enabled === true;
  for (const name of componentNames) {
    if (!enabled(name)) continue;
    for (const required of catalog[name].requires ?? []) {
      if (!enabled(required)) {
        ctx.report('error', ['spec', 'components', name, 'enabled'], `${name} needs ${required}, which is not enabled`, {
          hint: `set spec.components.${required}.enabled: true`,
        });
      }
    }
  }
  for (const name of componentNames) {
    if (enabled(name)) (catalog[name] as { check?: ComponentCheck }).check?.(ctx, settings[name]);
  }
  if (list<unknown>(ctx.spec.spec?.workflows).length && !enabled('argoWorkflows')) {
    ctx.report('warning', ['spec', 'workflows'], 'workflows are defined but argoWorkflows is not enabled, so nothing runs them', {
      hint: 'set spec.components.argoWorkflows.enabled: true',
    });
  }
  const gpuNodes = list<any>(ctx.spec.spec?.nodes).filter((n) => n?.gpus?.vendor === 'nvidia');
  if (gpuNodes.length && !enabled('gpuOperator')) {
    ctx.report('warning', ['spec', 'components'], `${gpuNodes.length} node(s) have NVIDIA GPUs but gpuOperator is not enabled`, {
      hint: 'set spec.components.gpuOperator.enabled: true so pods can request nvidia.com/gpu',
    });
  }
};

const kubelet: Rule = (ctx) => {
  const k = ctx.spec.spec?.kubelet as any;
  if (!k || typeof k !== 'object') return;
  if (k.cpuManagerPolicy === 'static' && !isString(k.reserved?.cpu)) {
    ctx.report('error', ['spec', 'kubelet', 'cpuManagerPolicy'], 'the static CPU manager needs CPU reserved for the system', {
      expected: 'kubelet.reserved.cpu, e.g. 500m',
      hint: 'add `reserved: {cpu: 500m}` under spec.kubelet',
    });
  }
  if (k.memoryManagerPolicy === 'Static' && !isString(k.reserved?.memory)) {
    ctx.report('error', ['spec', 'kubelet', 'memoryManagerPolicy'], 'the Static memory manager needs memory reserved for the system', {
      expected: 'kubelet.reserved.memory, e.g. 1Gi',
      hint: 'add `memory: 1Gi` under spec.kubelet.reserved',
    });
  }
};

/**
 * Label keys the kubelet may set on its own node (NodeRestriction): none in the kubernetes.io and
 * k8s.io namespaces except these; node-role.kubernetes.io/* in particular makes the kubelet refuse to start.
 */
const KUBELET_ALLOWED_LABELS = new Set([
  'kubernetes.io/hostname', 'kubernetes.io/arch', 'kubernetes.io/os',
  'beta.kubernetes.io/instance-type', 'node.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/region', 'failure-domain.beta.kubernetes.io/zone',
  'topology.kubernetes.io/region', 'topology.kubernetes.io/zone',
]);
const KUBELET_ALLOWED_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

/** Length limits of a qualified name (apimachinery): prefix ≤ 253, name ≤ 63. */
function qualifiedNameProblem(key: string): string | null {
  const slash = key.indexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : '';
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix.length > 253) return 'its prefix (before "/") is longer than 253 characters';
  if (name.length > 63) return 'its name (after "/") is longer than 63 characters';
  return null;
}

function reservedLabelProblem(key: string): string | null {
  const slash = key.indexOf('/');
  if (slash < 0 || KUBELET_ALLOWED_LABELS.has(key)) return null;
  const prefix = key.slice(0, slash);
  const reserved = /(^|\.)(kubernetes\.io|k8s\.io)$/.test(prefix);
  if (!reserved || KUBELET_ALLOWED_NAMESPACES.some((ns) => prefix === ns || prefix.endsWith(`.${ns}`))) return null;
  return `the kubelet may not set labels in the ${prefix} namespace on its own node (it would refuse to start)`;
}

const labelsAndTaints: Rule = (ctx) => {
  list<any>(ctx.spec.spec?.nodes).forEach((node, i) => {
    const labels = node?.labels;
    if (labels && typeof labels === 'object' && !Array.isArray(labels)) {
      for (const key of Object.keys(labels)) {
        const path: PathSegment[] = ['spec', 'nodes', i, 'labels', key];
        const problem = qualifiedNameProblem(key) ?? reservedLabelProblem(key);
        if (problem) {
          ctx.report('error', path, `label key ${show(key)}: ${problem}`, {
            at: 'key',
            expected: 'a label key such as hpc/pool or node.kubernetes.io/pool',
            hint: key.includes('node-role.kubernetes.io')
              ? 'roles come from the node\'s role (server or agent); label pools with your own prefix, e.g. hpc/pool: gpu'
              : 'use your own prefix (e.g. hpc/...) or node.kubernetes.io/...',
          });
        }
      }
    }
    list<unknown>(node?.taints).forEach((taint, j) => {
      if (!isString(taint)) return;
      const key = taint.split(/[=:]/)[0] ?? '';
      const problem = qualifiedNameProblem(key);
      if (problem) ctx.report('error', ['spec', 'nodes', i, 'taints', j], `taint key ${show(key)}: ${problem}`, { expected: 'a taint such as hpc/pool=gpu:NoSchedule' });
    });
  });
};

/** git check-ref-format's rules for a branch name (beyond the characters the schema allows). */
export function refNameProblem(name: string): string | null {
  if (name === '@') return 'is "@", which git reserves';
  if (name.startsWith('-')) return 'starts with "-"';
  if (name.startsWith('/') || name.endsWith('/')) return 'starts or ends with "/"';
  if (name.endsWith('.') || name.endsWith('.lock')) return 'ends with "." or ".lock"';
  if (name.includes('..') || name.includes('//')) return 'contains ".." or "//"';
  if (name.split('/').some((c) => c.startsWith('.') || c.endsWith('.lock'))) return 'has a path component starting with "." or ending in ".lock"';
  return null;
}

const gitops: Rule = (ctx) => {
  const g = ctx.spec.spec?.gitops as any;
  if (g?.engine === 'argocd' && (ctx.spec.spec?.components?.argoCd as { enabled?: unknown } | undefined)?.enabled !== true && ctx.spec.spec?.distribution?.type !== 'hpk') {
    ctx.report('warning', ['spec', 'gitops', 'engine'], 'Argo CD itself is not in this repository: it is installed, configured for SOPS and upgraded by hand', {
      hint: 'set spec.components.argoCd: {enabled: true, toolsImage: <the decryption tools image>} and the repository manages it (RUNBOOK: "Stage 4 with Argo CD")',
    });
  }
  const fluxVersion = g?.flux?.version;
  if (g?.engine !== 'argocd' && isString(fluxVersion) && /^v[0-9]+\.[0-9]+\.[0-9]+$/.test(fluxVersion) && compareVersions(fluxVersion.slice(1), FLUX_MINIMUM_VERSION.slice(1)) < 0) {
    ctx.report('error', ['spec', 'gitops', 'flux', 'version'], `Flux ${fluxVersion} does not serve every API version this repository uses (OCIRepository v1 came with Flux 2.6)`, {
      expected: `a Flux release ${FLUX_MINIMUM_VERSION} or newer, such as ${FLUX_DEFAULT_VERSION}`,
      hint: `upgrade Flux: set spec.gitops.flux.version: ${FLUX_DEFAULT_VERSION}; self-managed, merging the regenerated repository upgrades it`,
    });
  }
  if (isString(g?.branch)) {
    const problem = refNameProblem(g.branch);
    if (problem) ctx.report('error', ['spec', 'gitops', 'branch'], `branch ${show(g.branch)} ${problem}`, { expected: 'a git branch name such as main', hint: 'git check-ref-format --branch <name> tells whether git accepts a name' });
  }
  if (isString(g?.repository) && /^[a-z+]+:\/\//.test(g.repository)) {
    let ok = true;
    try {
      const url = new URL(g.repository);
      ok = Boolean(url.hostname) && !url.password && !url.search && !url.hash;
    } catch {
      ok = false;
    }
    if (!ok) {
      ctx.report('error', ['spec', 'gitops', 'repository'], `${show(g.repository)} is not a usable git URL`, {
        expected: 'ssh://git@host/path.git or https://host/path.git, without a password, query or fragment',
        hint: 'credentials never go into the URL: Flux and Argo CD read them from the deploy-key Secret',
      });
    }
  }
};

/** Allowed ranges of the five cron fields; names allowed for month and day of week. */
const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
] as const;

export function cronProblem(schedule: string): string | null {
  const fields = schedule.trim().split(/ +/);
  if (fields.length !== 5) return `has ${fields.length} field${fields.length === 1 ? '' : 's'}, not five`;
  for (const [i, field] of fields.entries()) {
    const spec = CRON_FIELDS[i]!;
    const names: readonly string[] = 'names' in spec ? spec.names : [];
    const value = (v: string) => {
      const n = names.indexOf(v.toLowerCase());
      if (n >= 0) return n + (spec.min === 1 ? 1 : 0);
      return /^[0-9]+$/.test(v) ? Number(v) : NaN;
    };
    for (const part of field.split(',')) {
      const m = /^(\*|([0-9A-Za-z]+)(-([0-9A-Za-z]+))?)(\/([0-9]+))?$/.exec(part);
      const bad = `the ${spec.name} field ${show(field)} is not valid (allowed: *, ${spec.min}-${spec.max}, lists, ranges and /steps${names.length ? ', or names' : ''})`;
      if (!m) return bad;
      if (m[6] !== undefined && Number(m[6]) < 1) return bad;
      for (const v of [m[2], m[4]]) {
        if (v === undefined) continue;
        const n = value(v);
        if (!(n >= spec.min && n <= spec.max)) return bad;
      }
      if (m[4] !== undefined && value(m[4]) < value(m[2]!)) return bad;
    }
  }
  return null;
}

const schedules: Rule = (ctx) => {
  const backup = (ctx.spec.spec?.distribution as any)?.backup?.schedule;
  if (isString(backup)) {
    const problem = cronProblem(backup);
    if (problem) ctx.report('error', ['spec', 'distribution', 'backup', 'schedule'], `schedule ${show(backup)}: ${problem}`, { expected: 'five cron fields, e.g. "0 */6 * * *"' });
  }
  list<any>(ctx.spec.spec?.workflows).forEach((w, i) => {
    if (!isString(w?.schedule)) return;
    const problem = cronProblem(w.schedule);
    if (problem) ctx.report('error', ['spec', 'workflows', i, 'schedule'], `schedule ${show(w.schedule)}: ${problem}`, { expected: 'five cron fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * *"' });
  });
};

const CNI_PLUGINS: Record<string, readonly string[]> = { rke2: ['canal', 'calico', 'cilium', 'flannel', 'none'], k0s: ['kuberouter', 'calico', 'custom'] };

/** Distributions that put Multus in front of the plugin (`multus,<plugin>`). */
const WITH_MULTUS = new Set(['rke2', 'kubespray']);

const cni: Rule = (ctx) => {
  const dist = ctx.spec.spec?.distribution as any;
  if (!isString(dist?.cni) || !isString(dist?.type)) return;
  const release = dist.type === 'kubespray' ? KUBESPRAY_RELEASES[isString(dist.kubespray?.release) ? dist.kubespray.release : KUBESPRAY_DEFAULT_RELEASE] : undefined;
  const allowed = release ? release.networkPlugins : CNI_PLUGINS[dist.type];
  if (!allowed) return;
  const parts: string[] = dist.cni.split(',');
  const plugins = WITH_MULTUS.has(dist.type) && parts[0] === 'multus' && parts.length === 2 ? parts.slice(1) : parts;
  if (plugins.length !== 1 || !allowed.includes(plugins[0]!)) {
    ctx.report('error', ['spec', 'distribution', 'cni'], `${show(dist.cni)} is not a ${dist.type} CNI`, {
      expected: `one of ${allowed.join(', ')}${WITH_MULTUS.has(dist.type) ? ' (or multus,<one of them>)' : ''}`,
      hint: didYouMean(plugins[0] ?? '', [...allowed]),
    });
  }
};

/** Alert receivers: unique, each with somewhere to send, and an Alertmanager to send from. */
const alerting: Rule = (ctx) => {
  const receivers = list<any>(ctx.spec.spec?.alerting?.receivers);
  if (!receivers.length) return;
  reportDuplicates(
    ctx,
    receivers.flatMap((r, i) => (isString(r?.name) ? [{ key: r.name, path: ['spec', 'alerting', 'receivers', i, 'name'] }] : [])),
    'receiver name',
    'receiver names become Alertmanager receivers and secret keys',
  );
  receivers.forEach((r, i) => {
    if (r && typeof r === 'object' && !['email', 'slack', 'mattermost', 'webhook'].some((k) => r[k] !== undefined)) {
      ctx.report('error', ['spec', 'alerting', 'receivers', i], `receiver ${show(r.name)} sends nowhere`, { expected: 'at least one of email, slack, mattermost, webhook', hint: 'add e.g. email: {to: [hpc-admins@example.edu], from: alertmanager@example.edu, smarthost: smtp.example.edu:587}' });
    }
  });
  if ((ctx.spec.spec?.components?.monitoring as { enabled?: unknown } | undefined)?.enabled !== true) {
    ctx.report('error', ['spec', 'alerting', 'receivers'], 'alert receivers are set, but nothing sends them alerts: spec.components.monitoring is not enabled', { hint: 'enable monitoring (kube-prometheus-stack: Prometheus and Alertmanager), or remove the receivers' });
  }
};

/** Top-level directories the generator writes: the site's own manifests cannot live there. */
const GENERATED_DIRS = ['charts', 'releases', 'environments', 'clusters', 'secrets', 'ansible', 'hpk', 'docs', 'node_modules'];

/** The site's own manifests stay out of the generated tree; an extra release's secret values are unique. */
const extras: Rule = (ctx) => {
  const path = ctx.spec.spec?.extraManifests?.path;
  if (isString(path) && GENERATED_DIRS.includes(path.split('/')[0]!)) {
    ctx.report('error', ['spec', 'extraManifests', 'path'], `${show(path)} is inside ${path.split('/')[0]}/, which siteforge writes`, { hint: 'use a directory of its own, such as extra-manifests' });
  }
  list<any>(ctx.spec.spec?.extraReleases).forEach((x, i) => {
    if (x?.name === 'extra-manifests') ctx.report('error', ['spec', 'extraReleases', i, 'name'], 'the name extra-manifests is the site\'s own manifests\' (spec.extraManifests)', { hint: 'choose another name' });
    reportDuplicates(
      ctx,
      list<any>(x?.secretValues).flatMap((v, j) => (isString(v?.path) ? [{ key: v.path, path: ['spec', 'extraReleases', i, 'secretValues', j, 'path'] }] : [])),
      'secret value path',
      'each value is set once',
    );
  });
};

/** RKE2's bundled ingress controller: RKE2 only, and not beside siteforge's ingress-nginx. */
const ingressController: Rule = (ctx) => {
  const dist = ctx.spec.spec?.distribution as { type?: unknown; ingressController?: unknown } | undefined;
  const at = ['spec', 'distribution', 'ingressController'];
  if (siteIngressOf(ctx.spec) === 'rke2Traefik') {
    // Its DaemonSet runs where every repelling taint is one the cluster components tolerate (spec.placement).
    const placement = ctx.spec.spec?.placement as { serverTaints?: unknown; tolerations?: unknown } | undefined;
    const serverTaints = list<unknown>(placement?.serverTaints).filter(isString);
    const tolerated = [...serverTaints, ...list<unknown>(placement?.tolerations).filter(isString)];
    const nodes = list<any>(ctx.spec.spec?.nodes);
    const runsSomewhere = nodes.some((n) => toleratesAll([...list<unknown>(n?.taints).filter(isString), ...(n?.role === 'server' ? serverTaints : [])], tolerated));
    if (nodes.length && !runsSomewhere) {
      ctx.report('warning', dist?.ingressController === undefined ? ['spec', 'distribution'] : at, 'RKE2\'s Traefik serves the web front ends, and every node has a taint it does not tolerate, so it runs on no node', {
        hint: 'add the pool\'s taint to spec.placement.tolerations (every cluster component, Traefik included, then tolerates it), or leave one node untainted',
      });
    }
  }
  if (dist?.ingressController === undefined) return;
  if (dist.type !== 'rke2') {
    ctx.report('error', at, `ingressController chooses the controller RKE2 bundles, and ${isString(dist.type) ? dist.type : 'this distribution'} bundles none`, {
      hint: 'drop ingressController; for an ingress, enable spec.components.ingressNginx',
    });
  } else if (dist.ingressController === 'traefik' && (ctx.spec.spec?.components as { ingressNginx?: { enabled?: unknown } } | undefined)?.ingressNginx?.enabled === true) {
    ctx.report('error', at, 'RKE2\'s Traefik and siteforge\'s ingress-nginx would both serve the web front ends', {
      expected: 'one ingress controller',
      hint: 'drop spec.components.ingressNginx (Traefik is maintained, ingress-nginx retired), or set ingressController: none',
    });
  }
};

export const crossFieldRules: readonly Rule[] = [
  labelsAndTaints,
  ingressController,
  gitops,
  schedules,
  cni,
  kubelet,
  storageClasses,
  uniqueNodes,
  servers,
  networks,
  distributionVersion,
  recipients,
  environments,
  workflows,
  nodeSetup,
  volumes,
  components,
  alerting,
  hpkRules,
  extras,
];
