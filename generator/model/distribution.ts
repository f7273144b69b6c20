// Which kind of cluster the site is: dedicated nodes built by Ansible (rke2, k0s, or Kubespray) or HPK, where
// the control plane is one user container and every pod a Slurm job.
import type { SiteSpec } from '../spec/schema.ts';

type DistributionType = SiteSpec['spec']['distribution']['type'];

/**
 * The distribution that builds dedicated nodes: what node-level output (Ansible, the node paths of
 * the GPU operator and the NFS CSI driver) is written for. Validation keeps node-level components
 * off HPK sites, so asking on one is a bug.
 */
export function nodeDistribution(site: { readonly distribution: { readonly type: DistributionType } }): 'rke2' | 'k0s' | 'kubespray' {
  const { type } = site.distribution;
  if (type === 'hpk') throw new Error('internal error: node-level output asked for on an HPK site');
  return type;
}

/** HPK: no nodes of its own, every pod a Slurm job. */
export const isHpk = (site: { readonly distribution: { readonly type: DistributionType } }): boolean => site.distribution.type === 'hpk';
