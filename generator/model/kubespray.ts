// Kubespray: the releases siteforge writes inventories for, and what each one builds. Kubespray
// itself does the build (ansible/requirements.yml installs the release as the
// kubernetes_sigs.kubespray collection); these facts are read from each release's own files.

export interface KubesprayRelease {
  /** Kubernetes versions the release has checksums for (roles/kubespray_defaults/vars/main/checksums.yml), oldest and newest. */
  readonly kubernetes: readonly [string, string];
  /** kube_network_plugin values it supports (roles/validate_inventory), as siteforge offers them. */
  readonly networkPlugins: readonly string[];
}

export const KUBESPRAY_RELEASES: Readonly<Record<string, KubesprayRelease>> = {
  'v2.31.0': { kubernetes: ['1.33.0', '1.35.4'], networkPlugins: ['calico', 'cilium', 'flannel', 'kube-router'] },
};

/** Kubespray's repository: ansible-galaxy installs the collection from its git tags. */
export const KUBESPRAY_REPOSITORY = 'https://github.com/kubernetes-sigs/kubespray';

/** The release a site that names none is built with. */
export const KUBESPRAY_DEFAULT_RELEASE = 'v2.31.0';

/** Where siteforge's timer keeps the etcd snapshots on each server (restore names one of them). */
export const KUBESPRAY_SNAPSHOT_DIR = '/var/lib/etcd-snapshots';

/** The network plugin of a site that names none. */
export const KUBESPRAY_DEFAULT_CNI = 'calico';

/** Compares two x.y.z versions (without "v"). */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return 0;
}

/** Kubespray's kube_version: the spec's Kubernetes version without the "v". */
export const kubesprayKubeVersion = (version: string) => version.replace(/^v/, '');

/** Where Kubespray keeps what the siteforge roles and playbooks need on the nodes. */
export const KUBESPRAY_PATHS = {
  kubectl: '/usr/local/bin/kubectl',
  adminKubeconfig: '/etc/kubernetes/admin.conf',
  kubeletDir: '/var/lib/kubelet',
  containerdConfig: '/etc/containerd/config.toml',
  containerdSocket: '/run/containerd/containerd.sock',
  /** Kubespray's etcdctl wrapper, with the node's etcd client certificate. */
  etcdctl: '/usr/local/bin/etcdctl.sh',
} as const;
