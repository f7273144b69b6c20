// The Slurm side of an HPK site: how its jobs are named and which sbatch options its pods carry.
// Read by the HPK scripts' renderer and by the workflow templates.
import type { HpkSpec } from '../spec/schema.ts';

/** The one node hpk-kubelet registers (its default --nodename): every pod and local volume is on it. */
export const HPK_NODE_NAME = 'hpk-kubelet';

/** The Slurm job name of the cluster: squeue, scancel and the successor's singleton dependency find it by name. */
export const hpkJobName = (site: { readonly name: string }) => `hpk-${site.name}`;

/** sbatch options of one kind of job, in the order sbatch documents them. */
export function slurmFlags(job: { account?: string; partition?: string; qos?: string; constraint?: string; time?: string }): string[] {
  return [
    ...(job.account ? [`--account=${job.account}`] : []),
    ...(job.partition ? [`--partition=${job.partition}`] : []),
    ...(job.qos ? [`--qos=${job.qos}`] : []),
    ...(job.constraint ? [`--constraint=${job.constraint}`] : []),
    ...(job.time ? [`--time=${job.time}`] : []),
  ];
}

/** The annotation through which hpk-kubelet adds sbatch options to a pod's job. */
export const HPK_SLURM_FLAGS_ANNOTATION = 'slurm.hpk.io/flags';

/** The sbatch options of a pod siteforge renders (a workflow step), GPUs as the site's GRES. */
export function podSlurmFlags(hpk: HpkSpec, gpus: number | undefined): string {
  if (gpus) {
    const gpu = hpk.pods.gpu!;
    return [...slurmFlags({ partition: gpu.partition ?? hpk.pods.partition, qos: gpu.qos ?? hpk.pods.qos, constraint: gpu.constraint ?? hpk.pods.constraint, time: gpu.time ?? hpk.pods.time }), `--gres=${gpu.gres}:${gpus}`].join(' ');
  }
  return slurmFlags(hpk.pods).join(' ');
}

