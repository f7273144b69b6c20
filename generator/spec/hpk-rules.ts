// What an HPK site (distribution.type: hpk) cannot have, each with the reason: no nodes of its
// own (the one spec.nodes entry is the control-plane host), every pod a Slurm job, every Service
// headless. Components say for themselves why they cannot run there (notUnderHpk).
import type { Rule, RuleContext } from './rules.ts';
import { show, type PathSegment } from './diagnostics.ts';
import { isString, list } from './guards.ts';
import { imagePin } from './formats.ts';
import { catalog, componentNames } from '../components/catalog.ts';

const HPK_NODES = 'HPK has no nodes of its own: spec.nodes holds one entry, the host that runs the control plane, and the compute nodes are Slurm\'s';

function unsupported(ctx: RuleContext, path: PathSegment[], what: string, why: string, hint: string) {
  ctx.report('error', path, `${what} cannot be used with distribution.type hpk: ${why}`, { hint });
}

export const hpkRules: Rule = (ctx) => {
  const dist = ctx.spec.spec?.distribution as Record<string, any> | undefined;
  if (!dist || !isString(dist.type)) return;
  const at: PathSegment[] = ['spec', 'distribution'];
  if (dist.type !== 'hpk') {
    if (dist.hpk !== undefined) ctx.report('error', [...at, 'hpk'], `distribution.hpk is read only with type: hpk, and this site is ${dist.type}`, { hint: 'drop distribution.hpk, or set type: hpk' });
    return;
  }
  if (dist.hpk === undefined) {
    ctx.report('error', [...at, 'type'], 'type hpk needs distribution.hpk: the runtime, the control-plane image, the hpk-kubelet binary and the site\'s DNS server', {
      expected: 'distribution.hpk: {runtime: podman-hpc, controlPlaneImage: <image:tag>, kubelet: ~/hpk/bin/hpk-kubelet, dns: <address>}',
      hint: 'add a distribution.hpk block (see the reference: spec.distribution.hpk)',
    });
  }
  const image = dist.hpk?.controlPlaneImage;
  if (isString(image)) {
    const { tag, digest } = imagePin(image);
    if (!digest && (tag === undefined || tag === 'latest' || tag === 'master' || tag === 'main')) {
      ctx.report('error', [...at, 'hpk', 'controlPlaneImage'], `the control-plane image ${show(image)} is not pinned (${tag ?? 'no tag'}): each restart could run another Kubernetes`, {
        hint: 'pin a version tag or a digest (@sha256:...)',
      });
    }
  }
  for (const [key, why] of [
    ['apiEndpoint', 'the API server is the control-plane container on its one host, at the host\'s address'],
    ['profile', 'the CIS profile hardens nodes, and HPK has none of its own'],
    ['airgap', 'HPK installs nothing on nodes: the control-plane image and hpk-kubelet are what it needs'],
    ['cni', 'pod networking is the container runtime\'s on the Slurm nodes (e.g. Apptainer\'s CNI configuration)'],
  ] as const) {
    if (dist[key] !== undefined) unsupported(ctx, [...at, key], `distribution.${key}`, why, `drop distribution.${key}`);
  }
  if (dist.backup?.s3 !== undefined) unsupported(ctx, [...at, 'backup', 's3'], 'etcd snapshots to S3', 'the control plane\'s etcd lives in its container and starts empty at each start; the repository is the backup (GitOps applies it again)', 'drop distribution.backup.s3');

  const nodes = list<any>(ctx.spec.spec?.nodes);
  nodes.forEach((node, i) => {
    if (i > 0) ctx.report('error', ['spec', 'nodes', i], `node ${show(node?.name)}: ${HPK_NODES}`, { hint: 'keep only the control-plane host in spec.nodes; Slurm partitions go under spec.distribution.hpk' });
    if (i === 0 && node?.role !== undefined && node.role !== 'server') ctx.report('error', ['spec', 'nodes', i, 'role'], `the control-plane host is role server under HPK`, { hint: 'set role: server' });
    if (node?.gpus !== undefined) unsupported(ctx, ['spec', 'nodes', i, 'gpus'], 'node GPUs', 'GPUs are Slurm\'s, requested per job', 'drop gpus; steps ask for GPUs with resources.gpus and get them as GRES (distribution.hpk.pods.gpu)');
    if (list(node?.taints).length) unsupported(ctx, ['spec', 'nodes', i, 'taints'], 'node taints', HPK_NODES, 'drop the taints');
  });
  if (ctx.spec.spec?.kubelet !== undefined) unsupported(ctx, ['spec', 'kubelet'], 'kubelet settings', 'hpk-kubelet is not a node kubelet: Slurm places and confines every pod\'s job', 'drop spec.kubelet; ask Slurm for cores and memory through the steps\' resources');
  const placement = ctx.spec.spec?.placement as Record<string, unknown> | undefined;
  for (const key of ['serverTaints', 'tolerations'] as const) {
    if (list(placement?.[key]).length) unsupported(ctx, ['spec', 'placement', key], `placement.${key}`, HPK_NODES, `drop placement.${key}`);
  }

  const storage = ctx.spec.spec?.storage as Record<string, any> | undefined;
  if (list(storage?.classes).length) {
    unsupported(ctx, ['spec', 'storage', 'classes'], 'StorageClasses', 'dynamic provisioning needs a node-level CSI driver (csi-driver-nfs runs a DaemonSet on every node), and HPK has no nodes of its own', 'drop spec.storage.classes; use volumes of type hostPath on the shared file systems');
  }
  list<any>(storage?.volumes).forEach((v, i) => {
    if (v?.type === 'nfs') {
      unsupported(ctx, ['spec', 'storage', 'volumes', i, 'type'], `NFS volume ${show(v?.name)}`, 'a pod is a Slurm job, and it sees what its compute node has mounted', `mount the share on the compute nodes and use type: hostPath with that directory (path: ${isString(v?.path) ? v.path : '/global/...'})`);
    }
  });

  const settings = (ctx.spec.spec?.components ?? {}) as Record<string, any>;
  for (const name of componentNames) {
    const why = (catalog[name] as { notUnderHpk?: string }).notUnderHpk;
    if (why && settings[name]?.enabled === true) unsupported(ctx, ['spec', 'components', name, 'enabled'], name, why, `set spec.components.${name}.enabled: false`);
  }
  // Steps placed by node labels or tolerations: Slurm places HPK pods, by partition and constraint.
  list<any>(ctx.spec.spec?.workflows).forEach((w, i) => {
    list<any>(w?.steps).forEach((s, j) => {
      if (!s || typeof s !== 'object') return;
      for (const key of ['nodeSelector', 'tolerations'] as const) {
        const value = s[key];
        if (value && Object.keys(value).length) {
          unsupported(ctx, ['spec', 'workflows', i, 'steps', j, key], `step ${key}`, 'Slurm places every pod\'s job, not Kubernetes', 'drop it; choose the partition or constraint under spec.distribution.hpk.pods (GPU steps: pods.gpu)');
        }
      }
    });
  });
};
