// Output family: ansible/ — inventory, group_vars, site.yml and the roles that prepare the nodes
// and bootstrap RKE2 or k0s (rebuild stages 2 and 3), plus k0sctl.yaml for k0s sites. Kubespray
// sites get Kubespray's inventory groups and variables, and playbooks that import the pinned
// Kubespray release's own (the kubernetes_sigs.kubespray collection) after siteforge's node preparation.
import { nodeForwardConfig, syslogTarget } from '../components/syslog.ts';
import type { NodeModel, SiteModel } from '../model/site.ts';
import { nodeDistribution } from '../model/distribution.ts';
import { podSecurityExemptions } from '../model/releases.ts';
import { kubeletArgs, kubeletSettings } from '../model/kubelet.ts';
import { tolerationFor } from '../model/taints.ts';
import { HARBOR_PROXY_PROJECTS, harborHostname } from '../components/harbor.ts';
import { siteCaId } from '../components/cert-manager.ts';
import { ETCD_S3_SECRET, type ResolvedSecrets } from '../secrets/store.ts';
import { assetTree, renderDoc } from './assets.ts';
import { KUBESPRAY_DEFAULT_CNI, KUBESPRAY_PATHS, KUBESPRAY_REPOSITORY, KUBESPRAY_SNAPSHOT_DIR, kubesprayKubeVersion } from '../model/kubespray.ts';
import { ansibleVarsFile, commentedYamlFile, textFile, yamlFile, type GeneratedFile } from './files.ts';

const DIR = 'ansible';

/** Where the variables Kubespray reads are written: beside the inventory, so every Kubespray playbook finds them. */
export const KUBESPRAY_GROUP_VARS = `${DIR}/inventory/group_vars`;

/** Ports each node role needs, per distribution (firewalld). */
const FIREWALL_PORTS = {
  rke2: {
    server: ['6443/tcp', '9345/tcp', '10250/tcp', '2379-2381/tcp', '30000-32767/tcp', '8472/udp', '9099/tcp'],
    agent: ['10250/tcp', '30000-32767/tcp', '8472/udp', '9099/tcp'],
  },
  k0s: {
    server: ['2380/tcp', '6443/tcp', '8132/tcp', '9443/tcp', '10250/tcp', '179/tcp', '4789/udp'],
    agent: ['179/tcp', '10250/tcp', '4789/udp', '30000-32767/tcp'],
  },
  // kubeadm's control plane and etcd, the kubelet, NodePorts; Calico (BGP, VXLAN, Typha), Cilium and Flannel (VXLAN, health).
  kubespray: {
    server: ['6443/tcp', '2379-2380/tcp', '10250/tcp', '10257/tcp', '10259/tcp', '30000-32767/tcp', '179/tcp', '4789/udp', '5473/tcp', '8472/udp', '4240/tcp'],
    agent: ['10250/tcp', '30000-32767/tcp', '179/tcp', '4789/udp', '5473/tcp', '8472/udp', '4240/tcp'],
  },
} as const;

export const K0S_WORKER_PROFILE = 'hpc-numa';

/** Where RKE2 servers keep their scheduled etcd snapshots (RKE2's default; restore.yml reads them there). */
const RKE2_SNAPSHOT_DIR = '/var/lib/rancher/rke2/server/db/snapshots';
/** Where k0s controllers keep their scheduled backups (restore.yml reads them there). */
const K0S_BACKUP_DIR = '/var/lib/k0s-backups';

/** kube-vip, pinned: the API endpoint's virtual IP on RKE2 servers (also listed in images.txt). */
export const KUBE_VIP_IMAGE = 'ghcr.io/kube-vip/kube-vip:v1.2.2';

function hostVars(node: NodeModel): Record<string, unknown> {
  const vars: Record<string, unknown> = { ansible_host: node.address, node_ip: node.address, node_role: node.role };
  if (Object.keys(node.labels).length) vars.node_labels = node.labels;
  if (node.taints.length) vars.node_taints = node.taints;
  if (Object.keys(node.extraAddresses).length) vars.extra_addresses = node.extraAddresses;
  if (node.gpus) {
    vars.gpu_vendor = node.gpus.vendor;
    vars.gpu_count = node.gpus.count;
  }
  return vars;
}

function inventory(site: SiteModel): GeneratedFile {
  const kubespray = site.distribution.type === 'kubespray';
  // Kubespray reads a node's address from ip (and access_ip), and names etcd members by etcd_member_name.
  const hosts = (nodes: readonly NodeModel[]) => Object.fromEntries(nodes.map((n) => [n.name, { ...hostVars(n), ...(kubespray ? { ip: n.address, access_ip: n.address, ...(n.role === 'server' ? { etcd_member_name: n.name } : {}) } : {}) }]));
  const names = (nodes: readonly NodeModel[]) => Object.fromEntries(nodes.map((n) => [n.name, null]));
  const gpu = site.nodes.filter((n) => n.gpus);
  const children: Record<string, unknown> = {
    cluster: { children: { servers: { hosts: hosts(site.servers) }, agents: { hosts: site.agents.length ? hosts(site.agents) : {} } } },
  };
  if (gpu.length) children.gpu = { hosts: names(gpu) };
  if (kubespray) {
    // Kubespray's groups over the same hosts: etcd on the servers; without agents, the servers run pods too.
    Object.assign(children, {
      kube_control_plane: { hosts: names(site.servers) },
      etcd: { children: { kube_control_plane: null } },
      kube_node: { hosts: names(site.agents.length ? site.agents : site.servers) },
      k8s_cluster: { children: { kube_control_plane: null, kube_node: null } },
    });
  }
  return ansibleVarsFile(
    `${DIR}/inventory/hosts.yaml`,
    `Nodes of ${site.name}. The first host under servers (${site.bootstrapServer.name}) bootstraps the cluster;\nthe other servers and all agents join it.`,
    { all: { children } },
  );
}

/** Where each public registry is really served (docker.io's API is registry-1.docker.io). */
const REGISTRY_SERVERS: Readonly<Record<string, string>> = { 'docker.io': 'https://registry-1.docker.io' };

/** The node-side pull-through mirrors: each public registry through its Harbor proxy-cache project. */
function harborMirrors(site: SiteModel): { registry: string; server: string; harbor: string; project: string }[] {
  if (!site.componentSettings.harbor.enabled) return [];
  const harbor = `https://${harborHostname(site)}`;
  return Object.entries(HARBOR_PROXY_PROJECTS).map(([registry, project]) => ({ registry, server: REGISTRY_SERVERS[registry] ?? `https://${registry}`, harbor, project }));
}

/** Where the prepare role writes the site CA for containerd (its default, stated once here for the registry configs). */
export const SITE_CA_PATH = '/etc/siteforge/site-ca.crt';

/** The site CA certificate the nodes trust (PEM), when the site has one. */
function siteCa(site: SiteModel, secrets: ResolvedSecrets): string | null {
  const id = siteCaId(site);
  return id ? (secrets.published.get(id) ?? null) : null;
}

/** RKE2 registries.yaml mirrors: the Harbor endpoint with the project prefixed by a rewrite. */
function registryMirrors(site: SiteModel): Record<string, unknown> {
  return Object.fromEntries(harborMirrors(site).map((m) => [m.registry, { endpoint: [m.harbor], rewrite: { '^(.*)$': `${m.project}/$1` } }]));
}

/** RKE2 registries.yaml configs: Harbor's TLS verified against the site CA (mirror pulls and direct pulls alike). */
function registryConfigs(site: SiteModel, ca: string | null): Record<string, unknown> {
  if (!site.componentSettings.harbor.enabled || !ca) return {};
  return { [harborHostname(site)]: { tls: { ca_file: SITE_CA_PATH } } };
}

interface HostsTomlEntry {
  readonly registry: string;
  readonly server: string;
  readonly mirror?: string;
  readonly ca?: string;
}

/**
 * containerd's hosts.toml per registry (certs.d layout, k0s and Kubespray). containerd has no
 * rewrite, so the mirror URL carries the project and override_path makes containerd use it as the
 * API root. Harbor itself gets a hosts.toml too, so direct pulls of its projects verify the site CA.
 */
function hostsTomlMirrors(site: SiteModel, ca: string | null): HostsTomlEntry[] {
  const trust = ca ? { ca: SITE_CA_PATH } : {};
  const mirrors: HostsTomlEntry[] = harborMirrors(site).map((m) => ({ registry: m.registry, server: m.server, mirror: `${m.harbor}/v2/${m.project}`, ...trust }));
  if (mirrors.length && ca) mirrors.push({ registry: harborHostname(site), server: `https://${harborHostname(site)}`, ...trust });
  return mirrors;
}

/**
 * Kubespray: the same hosts.toml entries as containerd_registries_mirrors (its template's shape):
 * a mirror is a host with override_path; Harbor's own entry is the registry itself, pushes too.
 */
function kubesprayRegistryMirrors(site: SiteModel, ca: string | null): Record<string, unknown>[] {
  return hostsTomlMirrors(site, ca).map((e) => ({
    prefix: e.registry,
    server: e.server,
    mirrors: [
      {
        host: e.mirror ?? e.server,
        capabilities: e.mirror ? ['pull', 'resolve'] : ['pull', 'resolve', 'push'],
        skip_verify: false,
        ...(e.mirror ? { override_path: true } : {}),
        ...(e.ca ? { ca: e.ca } : {}),
      },
    ],
  }));
}

/** Kubespray's variables for the cluster (group k8s_cluster), from the spec: version, networks, API endpoint, kubelet, registries. */
function kubesprayVars(site: SiteModel, ca: string | null): Record<string, unknown> {
  const d = site.distribution;
  const kubelet = kubeletSettings(site);
  const [first, second] = (d.cni ?? KUBESPRAY_DEFAULT_CNI).split(',');
  const multus = first === 'multus' && second !== undefined;
  const endpoint = d.apiEndpoint;
  const mirrors = kubesprayRegistryMirrors(site, ca);
  const extra = {
    ...(kubelet.memoryManagerPolicy ? { memoryManagerPolicy: kubelet.memoryManagerPolicy } : {}),
    ...(kubelet.reservedMemory ? { reservedMemory: kubelet.reservedMemory } : {}),
  };
  return {
    // Kubespray's plays run as root (its documentation: --become).
    ansible_become: true,
    kube_version: kubesprayKubeVersion(d.version),
    kube_network_plugin: multus ? second : first,
    kube_network_plugin_multus: multus,
    kube_pods_subnet: d.clusterCIDR,
    kube_service_addresses: d.serviceCIDR,
    // Kubespray takes its DNS domain from cluster_name, which is the site's name here: the usual domain instead.
    dns_domain: 'cluster.local',
    supplementary_addresses_in_ssl_keys: d.allTlsSANs,
    // MetalLB's L2 mode and kube-vip's ARP answer for addresses kube-proxy (IPVS) would otherwise claim.
    kube_proxy_strict_arp: site.componentSettings.metallb.enabled || endpoint?.type === 'kubeVip',
    // kube-vip holds the endpoint's address on the servers; either way the nodes and kubeconfig use it.
    ...(endpoint?.type === 'kubeVip'
      ? { kube_vip_enabled: true, kube_vip_controlplane_enabled: true, kube_vip_arp_enabled: true, kube_vip_address: endpoint.address, kube_vip_interface: endpoint.interface ?? 'eth0' }
      : {}),
    ...(endpoint ? { loadbalancer_apiserver: { address: endpoint.address, port: 6443 }, ...(endpoint.hostname ? { apiserver_loadbalancer_domain_name: endpoint.hostname } : {}) } : {}),
    ...(kubelet.cpuManagerPolicy ? { kubelet_cpu_manager_policy: kubelet.cpuManagerPolicy } : {}),
    ...(kubelet.topologyManagerPolicy ? { kubelet_topology_manager_policy: kubelet.topologyManagerPolicy } : {}),
    ...(kubelet.topologyManagerScope ? { kubelet_topology_manager_scope: kubelet.topologyManagerScope } : {}),
    ...(kubelet.kubeReserved
      ? { kube_reserved: true, ...(kubelet.kubeReserved.cpu ? { kube_cpu_reserved: kubelet.kubeReserved.cpu } : {}), ...(kubelet.kubeReserved.memory ? { kube_memory_reserved: kubelet.kubeReserved.memory } : {}) }
      : {}),
    ...(kubelet.evictionHard ? { eviction_hard: kubelet.evictionHard } : {}),
    ...(Object.keys(extra).length ? { kubelet_config_extra_args: extra } : {}),
    // Without Harbor, Kubespray's own default (docker.io from registry-1.docker.io) stays.
    ...(mirrors.length ? { containerd_registries_mirrors: mirrors } : {}),
  };
}

/** Where the GPU operator's toolkit installs the NVIDIA runtime, and where the package puts it. */
const NVIDIA_RUNTIME = { operator: '/usr/local/nvidia/toolkit/nvidia-container-runtime', package: '/usr/bin/nvidia-container-runtime' } as const;

function k0sClusterConfig(site: SiteModel): Record<string, unknown> {
  const kubelet = kubeletSettings(site);
  const spec: Record<string, unknown> = {
    // Workers join, and join tokens point, at the external load balancer when the site has one.
    api: { ...(site.distribution.apiEndpoint ? { externalAddress: site.distribution.apiEndpoint.address } : {}), sans: site.distribution.allTlsSANs },
    network: {
      provider: site.distribution.cni ?? 'kuberouter',
      podCIDR: site.distribution.clusterCIDR,
      serviceCIDR: site.distribution.serviceCIDR,
    },
  };
  if (Object.keys(kubelet).length) spec.workerProfiles = [{ name: K0S_WORKER_PROFILE, values: kubelet }];
  if (site.distribution.airgap) spec.images = { default_pull_policy: 'Never' };
  return { apiVersion: 'k0s.k0sproject.io/v1beta1', kind: 'ClusterConfig', metadata: { name: site.name }, spec };
}

function airgap(site: SiteModel): Record<string, unknown> {
  const a = site.distribution.airgap;
  if (!a) return { enabled: false };
  return { enabled: true, ...(a.artifactsPath ? { artifacts_path: a.artifactsPath } : {}), ...(a.mirror ? { mirror: a.mirror } : {}) };
}

function firewallMode(site: SiteModel): string {
  const chosen = site.nodeSetup.firewall;
  if (chosen !== 'auto') return chosen;
  return site.distribution.type === 'k0s' ? 'firewalld' : 'disabled';
}

function groupVars(site: SiteModel, secrets: ResolvedSecrets): GeneratedFile[] {
  const d = site.distribution;
  const ca = siteCa(site, secrets);
  const kubelet = kubeletSettings(site);
  const syslogForward = syslogTarget(site);
  const all: Record<string, unknown> = {
    ansible_user: site.nodeSetup.ansibleUser,
    cluster_name: site.name,
    cluster_domain: site.domain,
    k8s_distribution: d.type,
    k8s_version: d.version,
    cluster_cidr: d.clusterCIDR,
    service_cidr: d.serviceCIDR,
    tls_sans: d.allTlsSANs,
    cluster_join_address: d.joinAddress,
    cluster_api_endpoint: d.apiEndpoint ? (d.apiEndpoint.hostname ?? d.apiEndpoint.address) : (d.tlsSANs[0] ?? site.bootstrapServer.address),
    prepare_admin_user: site.nodeSetup.adminUser,
    prepare_admin_ssh_keys: site.nodeSetup.sshAuthorizedKeys,
    prepare_firewall: firewallMode(site),
    prepare_selinux: site.nodeSetup.selinux,
    prepare_time_servers: site.nodeSetup.timeServers,
    prepare_site_ca_certificate: ca ?? '',
    prepare_site_ca_path: SITE_CA_PATH,
    // Every node's rsyslog also sends to the site's receiver (spec.components.syslog), or nothing.
    prepare_syslog_forward_config: syslogForward ? nodeForwardConfig(syslogForward) : '',
    // Rolling changes (upgrade.yml, remove-node.yml): kubectl on the first server drains the others.
    cluster_kubectl: [...CLUSTER_KUBECTL[nodeDistribution(site)]],
    drain_via: site.bootstrapServer.name,
    drain_timeout: '15m',
  };
  if (d.type === 'rke2') {
    Object.assign(all, {
      rke2_cni: d.cni ?? 'canal',
      // The controller RKE2 deploys itself: its Traefik when that is the site's ingress, else none
      // (siteforge's ingress-nginx, or no ingress): never RKE2's retired ingress-nginx beside it.
      rke2_ingress_controller: site.ingress === 'rke2Traefik' ? 'traefik' : 'none',
      // Its DaemonSet tolerates what every cluster component tolerates (spec.placement).
      rke2_traefik_values: site.ingress === 'rke2Traefik' && site.clusterTolerations.length ? { tolerations: site.clusterTolerations.map(tolerationFor) } : {},
      rke2_kubelet_args: kubeletArgs(kubelet),
      rke2_numa_policy: kubelet,
      rke2_registry_mirrors: registryMirrors(site),
      rke2_registry_configs: registryConfigs(site, ca),
      ...(d.profile === 'cis' ? { rke2_profile: 'cis', rke2_pss_exemptions: podSecurityExemptions(site) } : {}),
      ...(d.apiEndpoint?.type === 'kubeVip' ? { rke2_kube_vip: { address: d.apiEndpoint.address, interface: d.apiEndpoint.interface ?? 'eth0', image: KUBE_VIP_IMAGE } } : {}),
      rke2_airgap: airgap(site),
      rke2_etcd_snapshots: {
        'etcd-snapshot-schedule-cron': d.backup.schedule,
        'etcd-snapshot-retention': d.backup.retention,
        // Uploads to S3 with the settings of a Secret in kube-system (applied, decrypted, by the GitOps engine).
        ...(d.backup.s3 ? { 'etcd-s3': true, 'etcd-s3-config-secret': ETCD_S3_SECRET } : {}),
      },
    });
  } else if (d.type === 'kubespray') {
    Object.assign(all, {
      kubespray_release: d.kubespray.release,
      etcd_snapshots: { schedule: d.backup.schedule, retention: d.backup.retention, dir: KUBESPRAY_SNAPSHOT_DIR, etcdctl: KUBESPRAY_PATHS.etcdctl },
    });
  } else {
    Object.assign(all, {
      k0s_cluster_config: k0sClusterConfig(site),
      k0s_worker_profile: Object.keys(kubelet).length ? K0S_WORKER_PROFILE : '',
      k0s_controller_workers: site.agents.length === 0,
      k0s_registry_mirrors: hostsTomlMirrors(site, ca),
      k0s_backup: { schedule: d.backup.schedule, retention: d.backup.retention, dir: K0S_BACKUP_DIR },
      k0s_airgap: airgap(site),
    });
  }
  const files = [
    ansibleVarsFile(`${DIR}/group_vars/all.yml`, `Site facts for every node of ${site.name}, from the site spec.`, all),
    ansibleVarsFile(`${DIR}/group_vars/servers.yml`, null, { prepare_firewall_ports: FIREWALL_PORTS[nodeDistribution(site)].server }),
    ansibleVarsFile(`${DIR}/group_vars/agents.yml`, null, { prepare_firewall_ports: FIREWALL_PORTS[nodeDistribution(site)].agent }),
    // Beside the inventory: Kubespray's playbooks read them however they are started (site.yml, or scale from the command line).
    ...(d.type === 'kubespray'
      ? [ansibleVarsFile(`${KUBESPRAY_GROUP_VARS}/k8s_cluster.yml`, `Kubespray ${d.kubespray.release}'s variables for ${site.name}, from the site spec (its inventory/sample/group_vars names them).`, kubesprayVars(site, ca))]
      : []),
  ];
  if (site.nodes.some((n) => n.gpus)) {
    const toolkit = site.componentSettings.gpuOperator.enabled ? 'operator' : 'package';
    files.push(
      ansibleVarsFile(`${DIR}/group_vars/gpu.yml`, null, {
        gpu_distribution: d.type,
        gpu_container_toolkit: toolkit,
      }),
      // Kubespray writes containerd's config.toml on every run: the nvidia runtime is in it, where the toolkit would put it.
      ...(d.type === 'kubespray'
        ? [ansibleVarsFile(`${KUBESPRAY_GROUP_VARS}/gpu.yml`, `Kubespray's containerd on the GPU nodes of ${site.name}.`, { containerd_additional_runtimes: [{ name: 'nvidia', type: 'io.containerd.runc.v2', options: { Root: '', SystemdCgroup: 'true', BinaryName: NVIDIA_RUNTIME[toolkit] } }] })]
        : []),
    );
  }
  return files;
}

function playbook(site: SiteModel): GeneratedFile {
  const role = site.distribution.type;
  const play = (name: string, hosts: string, tag: string, roles: string[], extra: Record<string, unknown> = {}) => ({
    name,
    hosts,
    ...extra,
    become: true,
    tags: [tag],
    roles: roles.map((r) => ({ role: r })),
  });
  const prepare = [
    play('Stage 2: prepare every node', 'cluster', 'prepare', ['prepare']),
    ...(site.nodes.some((n) => n.gpus) ? [play('Stage 2: prepare the GPU nodes', 'gpu', 'prepare', ['gpu'])] : []),
  ];
  const kubeconfig = play('Fetch the admin kubeconfig to the bastion', 'servers[0]', 'kubeconfig', ['kubeconfig']);
  if (role === 'kubespray') {
    return yamlFile(`${DIR}/site.yml`, [
      ...prepare,
      kubesprayPlaybook('cluster', `Stage 3: Kubespray ${site.distribution.kubespray.release} builds the cluster`, 'cluster'),
      play('Stage 3: scheduled etcd snapshots on the servers', 'servers', 'cluster', ['etcd_snapshots']),
      kubeconfig,
    ]);
  }
  const plays = [
    ...prepare,
    play(`Stage 3: bootstrap ${role} on the first server`, 'servers[0]', 'cluster', [role]),
    play('Stage 3: join the other servers, one at a time', 'servers[1:]', 'cluster', [role], { serial: 1 }),
    play('Stage 3: join the agents', 'agents', 'cluster', [role], { serial: '25%' }),
    kubeconfig,
  ];
  return yamlFile(`${DIR}/site.yml`, plays);
}

/** One of the pinned Kubespray release's playbooks (kubernetes_sigs.kubespray.<name>), with the stage's tag and variables of ours. */
function kubesprayPlaybook(name: string, title: string, tag: string, vars: Record<string, unknown> = {}): Record<string, unknown> {
  return { name: title, 'ansible.builtin.import_playbook': `kubernetes_sigs.kubespray.${name}`, tags: [tag], ...(Object.keys(vars).length ? { vars } : {}) };
}

/** kubectl as the first server runs it (the distribution's own binary and admin kubeconfig). */
const CLUSTER_KUBECTL = {
  rke2: ['/var/lib/rancher/rke2/bin/kubectl', '--kubeconfig', '/etc/rancher/rke2/rke2.yaml'],
  k0s: ['/usr/local/bin/k0s', 'kubectl'],
  kubespray: [KUBESPRAY_PATHS.kubectl, '--kubeconfig', KUBESPRAY_PATHS.adminKubeconfig],
} as const;

/**
 * upgrade.yml: the one play for upgrades and every restart-requiring change (version, kubelet
 * NUMA policies, registry mirrors). It refuses an unhealthy API or a version skew Kubernetes does
 * not support, then takes the servers one at a time and the agents in batches: each node drained,
 * changed (its distribution role, handlers flushed), waited for Ready and uncordoned.
 */
function upgradePlaybook(site: SiteModel): GeneratedFile {
  const role = site.distribution.type;
  const agentBatch = /^[0-9]+$/.test(site.distribution.upgrade.agentBatch) ? Number(site.distribution.upgrade.agentBatch) : site.distribution.upgrade.agentBatch;
  const nodePlay = (name: string, hosts: string, serial: number | string) => ({
    name,
    hosts,
    serial,
    become: true,
    tags: ['upgrade'],
    pre_tasks: [{ name: 'Drain the node', 'ansible.builtin.import_tasks': 'tasks/drain.yml' }],
    roles: [{ role }],
    post_tasks: [{ name: 'Return the node to service', 'ansible.builtin.import_tasks': 'tasks/uncordon.yml' }],
  });
  return yamlFile(`${DIR}/upgrade.yml`, [
    {
      name: 'Check the cluster before a rolling change',
      hosts: 'servers[0]',
      become: true,
      gather_facts: false,
      tags: ['upgrade'],
      tasks: [
        {
          name: 'The API server is healthy',
          'ansible.builtin.command': { argv: `{{ cluster_kubectl + ['get', '--raw', '/readyz'] }}` },
          register: 'readyz',
          changed_when: false,
          check_mode: false,
          failed_when: "readyz.rc != 0 or readyz.stdout != 'ok'",
        },
        {
          name: 'Read the kubelet versions of every node',
          'ansible.builtin.command': { argv: `{{ cluster_kubectl + ['get', 'nodes', '-o', 'jsonpath={.items[*].status.nodeInfo.kubeletVersion}'] }}` },
          register: 'kubelet_versions',
          changed_when: false,
          check_mode: false,
        },
        {
          name: 'Refuse a downgrade or a jump of more than one minor version',
          'ansible.builtin.assert': {
            that: ['(running_minors | max) <= target_minor', '(running_minors | min) >= target_minor - 1'],
            fail_msg: '{{ k8s_version }} is not within one minor version of the nodes ({{ kubelet_versions.stdout }}): one minor at a time',
          },
          vars: {
            target_minor: "{{ k8s_version | regex_replace('^v1\\.([0-9]+)\\..*$', '\\1') | int }}",
            running_minors: "{{ kubelet_versions.stdout.split() | map('regex_replace', '^v1\\.([0-9]+)\\..*$', '\\1') | map('int') | list }}",
          },
        },
      ],
    },
    // serial is read before host variables exist: the spec's batch size is written into the play.
    ...(role === 'kubespray'
      ? [
          // Kubespray drains, upgrades and uncordons the control plane one at a time and the workers in batches of serial.
          kubesprayPlaybook('upgrade_cluster', `Kubespray ${site.distribution.kubespray.release} upgrades the cluster, node by node`, 'upgrade', { serial: agentBatch }),
        ]
      : [nodePlay('Roll the servers, one at a time', 'servers', 1), nodePlay('Roll the agents, in batches', 'agents', agentBatch)]),
  ]);
}

/** Removing the distribution from a node, its data, containers and network state included (reset.yml, remove-node.yml). */
function uninstallTasks(site: SiteModel): Record<string, unknown>[] {
  // Kubespray removes its own (its reset and remove_node playbooks).
  if (site.distribution.type === 'kubespray') return [];
  if (site.distribution.type === 'rke2') {
    return [
      {
        name: 'Uninstall RKE2 (removes its data, containers and network state)',
        // The uninstall script sits where the install put it (tarball, RPM or air-gap install).
        'ansible.builtin.command': { argv: ['/bin/sh', '-c', 'for s in /usr/local/bin/rke2-uninstall.sh /usr/bin/rke2-uninstall.sh /opt/rke2/bin/rke2-uninstall.sh; do [ -x "$s" ] && exec "$s"; done; exit 0'] },
        changed_when: true,
        when: 'not ansible_check_mode',
      },
    ];
  }
  return [
    { name: 'Stop k0s', 'ansible.builtin.command': { argv: ['/usr/local/bin/k0s', 'stop'] }, changed_when: true, failed_when: false, when: 'not ansible_check_mode' },
    { name: 'Reset k0s (removes its data, containers and network state)', 'ansible.builtin.command': { argv: ['/usr/local/bin/k0s', 'reset'] }, changed_when: true, when: 'not ansible_check_mode' },
  ];
}

/** reset.yml: remove the distribution and its data from every node, only with the site's confirmation word. */
function resetPlaybook(site: SiteModel): GeneratedFile {
  const kubespray = site.distribution.type === 'kubespray';
  const confirm = {
    name: 'Refuse without the confirmation',
    'ansible.builtin.assert': {
      that: ["confirm_reset | default('') == 'destroy-' ~ cluster_name"],
      fail_msg: 'reset removes the cluster and all its data from every node; rerun with -e confirm_reset=destroy-{{ cluster_name }}',
    },
    run_once: true,
  };
  return yamlFile(`${DIR}/reset.yml`, [
    {
      name: `Reset: ${kubespray ? 'check the confirmation, then let Kubespray reset' : `uninstall ${site.distribution.type} from`} every node of ${site.name}`,
      hosts: 'cluster',
      become: true,
      gather_facts: false,
      // A refused confirmation stops the whole run.
      ...(kubespray ? { any_errors_fatal: true } : {}),
      tags: ['reset'],
      tasks: [confirm, ...uninstallTasks(site)],
    },
    // Kubespray's own reset, its prompt answered by the confirmation above.
    ...(kubespray ? [kubesprayPlaybook('reset', `Kubespray ${site.distribution.kubespray.release} resets every node`, 'reset', { reset_confirmation: true })] : []),
  ]);
}

/**
 * restore.yml: the cluster back from a backup of the first server (-e snapshot=<file name>, with a
 * confirmation word). RKE2: every server stopped, the first reset to the snapshot
 * (--cluster-reset), started and Ready; the others lose their etcd data and rejoin one at a time;
 * agents restart. k0s: the first controller's data set aside and restored from the archive, then
 * started; the other controllers are reset and rejoin through site.yml.
 */
function restorePlaybook(site: SiteModel): GeneratedFile {
  const confirm = {
    name: 'Refuse without a snapshot and the confirmation',
    'ansible.builtin.assert': {
      that: ["snapshot | default('') | length > 0", "'/' not in snapshot | default('')", "confirm_restore | default('') == 'restore-' ~ cluster_name"],
      fail_msg: 'restore replaces the cluster state with a backup: -e snapshot=<file in the backup dir> -e confirm_restore=restore-{{ cluster_name }}',
    },
    run_once: true,
  };
  if (site.distribution.type === 'kubespray') return kubesprayRestorePlaybook(site, confirm);
  const rke2 = site.distribution.type === 'rke2';
  const service = (state: string, name: string) => ({ name: `${state === 'stopped' ? 'Stop' : 'Start'} ${name}`, 'ansible.builtin.systemd_service': { name, state }, when: 'not ansible_check_mode' });
  const ready = { name: 'Wait for this node to be Ready', 'ansible.builtin.command': { argv: "{{ cluster_kubectl + ['wait', '--for=condition=Ready', 'node/' ~ inventory_hostname, '--timeout=15m'] }}" }, delegate_to: "{{ groups['servers'][0] }}", changed_when: false, when: 'not ansible_check_mode' };
  const plays = rke2
    ? [
        { name: 'Restore: check, then stop every server', hosts: 'servers', become: true, gather_facts: false, tags: ['restore'], tasks: [confirm, { name: 'The snapshot is on the first server', 'ansible.builtin.stat': { path: `${RKE2_SNAPSHOT_DIR}/{{ snapshot }}` }, register: 'restore_snapshot', delegate_to: "{{ groups['servers'][0] }}", run_once: true }, { name: 'Refuse a snapshot that is not there', 'ansible.builtin.assert': { that: ['restore_snapshot.stat.exists'], fail_msg: `no ${RKE2_SNAPSHOT_DIR}/{{ snapshot }} on {{ groups['servers'][0] }}` }, run_once: true }, service('stopped', 'rke2-server')] },
        {
          name: 'Restore: reset the first server to the snapshot',
          hosts: 'servers[0]',
          become: true,
          gather_facts: false,
          tags: ['restore'],
          tasks: [
            { name: 'Reset etcd to the snapshot', 'ansible.builtin.command': { argv: ['rke2', 'server', '--cluster-reset', `--cluster-reset-restore-path=${RKE2_SNAPSHOT_DIR}/{{ snapshot }}`] }, changed_when: true, when: 'not ansible_check_mode' },
            service('started', 'rke2-server'),
            ready,
          ],
        },
        {
          name: 'Restore: the other servers rejoin, one at a time',
          hosts: 'servers[1:]',
          become: true,
          gather_facts: false,
          serial: 1,
          tags: ['restore'],
          tasks: [{ name: 'Remove the etcd data the snapshot replaces', 'ansible.builtin.file': { path: '/var/lib/rancher/rke2/server/db', state: 'absent' } }, service('started', 'rke2-server'), ready],
        },
        { name: 'Restore: agents reconnect', hosts: 'agents', become: true, gather_facts: false, serial: site.distribution.upgrade.agentBatch, tags: ['restore'], tasks: [{ name: 'Restart rke2-agent', 'ansible.builtin.systemd_service': { name: 'rke2-agent', state: 'restarted' }, when: 'not ansible_check_mode' }, ready] },
      ]
    : [
        { name: 'Restore: check, then stop every controller', hosts: 'servers', become: true, gather_facts: false, tags: ['restore'], tasks: [confirm, { name: 'The archive is on the first controller', 'ansible.builtin.stat': { path: `${K0S_BACKUP_DIR}/{{ snapshot }}` }, register: 'restore_archive', delegate_to: "{{ groups['servers'][0] }}", run_once: true }, { name: 'Refuse an archive that is not there', 'ansible.builtin.assert': { that: ['restore_archive.stat.exists'], fail_msg: `no ${K0S_BACKUP_DIR}/{{ snapshot }} on {{ groups['servers'][0] }}` }, run_once: true }, service('stopped', 'k0scontroller')] },
        {
          name: 'Restore: the first controller from the archive',
          hosts: 'servers[0]',
          become: true,
          gather_facts: false,
          tags: ['restore'],
          tasks: [
            { name: 'Set the current data aside', 'ansible.builtin.command': { argv: ['mv', '/var/lib/k0s', "/var/lib/k0s.before-restore-{{ lookup('pipe', 'date +%Y%m%d%H%M%S') }}"], removes: '/var/lib/k0s' }, when: 'not ansible_check_mode' },
            { name: 'Restore the archive', 'ansible.builtin.command': { argv: ['/usr/local/bin/k0s', 'restore', `${K0S_BACKUP_DIR}/{{ snapshot }}`] }, changed_when: true, when: 'not ansible_check_mode' },
            service('started', 'k0scontroller'),
            { name: 'The API server is healthy', 'ansible.builtin.command': { argv: "{{ cluster_kubectl + ['get', '--raw', '/readyz'] }}" }, register: 'restore_readyz', retries: 60, delay: 10, until: "restore_readyz.rc == 0", changed_when: false, when: 'not ansible_check_mode' },
          ],
        },
        {
          name: 'Restore: the other controllers are reset (site.yml then rejoins them)',
          hosts: 'servers[1:]',
          become: true,
          gather_facts: false,
          tags: ['restore'],
          tasks: [{ name: 'Reset this controller', 'ansible.builtin.command': { argv: ['/usr/local/bin/k0s', 'reset'] }, changed_when: true, when: 'not ansible_check_mode' }],
        },
      ];
  return yamlFile(`${DIR}/restore.yml`, plays);
}

/**
 * Kubespray's restore.yml: the snapshot (from the etcd_snapshots role's directory on the first
 * server) fetched to the bastion, then Kubespray's recover_control_plane with it, as its
 * documentation says: on the servers, with generous etcd retries. Kubespray restores the snapshot
 * when etcd has lost its quorum (servers lost or their data gone); with a quorum it rejoins the
 * members and keeps the current data.
 */
function kubesprayRestorePlaybook(site: SiteModel, confirm: Record<string, unknown>): GeneratedFile {
  const local = '{{ playbook_dir }}/.restore/{{ snapshot }}';
  return yamlFile(`${DIR}/restore.yml`, [
    {
      name: 'Restore: check, then fetch the snapshot from the first server',
      hosts: 'servers[0]',
      become: true,
      gather_facts: false,
      any_errors_fatal: true,
      tags: ['restore'],
      tasks: [
        confirm,
        { name: 'The snapshot is on the first server', 'ansible.builtin.stat': { path: `${KUBESPRAY_SNAPSHOT_DIR}/{{ snapshot }}` }, register: 'restore_snapshot' },
        { name: 'Refuse a snapshot that is not there', 'ansible.builtin.assert': { that: ['restore_snapshot.stat.exists'], fail_msg: `no ${KUBESPRAY_SNAPSHOT_DIR}/{{ snapshot }} on {{ inventory_hostname }}` } },
        { name: 'Fetch it to the bastion', 'ansible.builtin.fetch': { src: `${KUBESPRAY_SNAPSHOT_DIR}/{{ snapshot }}`, dest: local, flat: true }, when: 'not ansible_check_mode' },
      ],
    },
    kubesprayPlaybook('recover_control_plane', `Kubespray ${site.distribution.kubespray.release} recovers the control plane from the snapshot`, 'restore', { etcd_snapshot: local, etcd_retries: 10 }),
  ]);
}

/** remove-node.yml: take one node out for good (-e node=<name>): drain, delete, leave etcd, uninstall. */
function removeNodePlaybook(site: SiteModel): GeneratedFile {
  const leave =
    site.distribution.type === 'k0s'
      ? [{ name: 'Leave etcd (controllers)', 'ansible.builtin.command': { argv: ['/usr/local/bin/k0s', 'etcd', 'leave'] }, changed_when: true, when: ["node_role == 'server'", 'not ansible_check_mode'] }]
      : [];
  const refuse = {
    name: 'Refuse to remove the last server or the bootstrap server',
    'ansible.builtin.assert': {
      that: ["node_role != 'server' or (groups['servers'] | length > 1 and inventory_hostname != groups['servers'][0])"],
      fail_msg: '{{ inventory_hostname }} is the bootstrap or last server: make another server first (spec.nodes), then remove it',
    },
  };
  if (site.distribution.type === 'kubespray') {
    return yamlFile(`${DIR}/remove-node.yml`, [
      { name: 'Check the node to remove (-e node=<name>)', hosts: "{{ node | default('no-node-given') }}", gather_facts: false, any_errors_fatal: true, tags: ['remove-node'], tasks: [refuse] },
      // Kubespray drains it, takes it out of etcd, deletes the node object and resets it (its prompt answered by the check above).
      kubesprayPlaybook('remove_node', `Kubespray ${site.distribution.kubespray.release} removes the node`, 'remove-node', { skip_confirmation: true }),
    ]);
  }
  return yamlFile(`${DIR}/remove-node.yml`, [
    {
      name: 'Remove one node from the cluster (-e node=<name>)',
      hosts: "{{ node | default('no-node-given') }}",
      become: true,
      gather_facts: false,
      serial: 1,
      tags: ['remove-node'],
      tasks: [
        refuse,
        { name: 'Drain the node', 'ansible.builtin.import_tasks': 'tasks/drain.yml' },
        ...leave,
        {
          name: 'Delete the node object',
          'ansible.builtin.command': { argv: "{{ cluster_kubectl + ['delete', 'node', inventory_hostname, '--wait=true'] }}" },
          delegate_to: '{{ drain_via }}',
          changed_when: true,
          when: 'not ansible_check_mode',
        },
        ...uninstallTasks(site),
      ],
    },
  ]);
}

function k0sctl(site: SiteModel): GeneratedFile {
  const kubelet = kubeletSettings(site);
  const profile = Object.keys(kubelet).length ? [`--profile=${K0S_WORKER_PROFILE}`] : [];
  const single = site.nodes.length === 1;
  const hosts = site.nodes.map((n) => {
    const flags = [
      ...(Object.keys(n.labels).length ? [`--labels=${Object.entries(n.labels).map(([k, v]) => `${k}=${v}`).join(',')}`] : []),
      ...(n.taints.length ? [`--taints=${n.taints.join(',')}`] : []),
      ...(n.role === 'agent' || !site.agents.length ? profile : []),
    ];
    return {
      role: single ? 'single' : n.role === 'server' ? (site.agents.length ? 'controller' : 'controller+worker') : 'worker',
      ssh: { address: n.address, user: site.nodeSetup.ansibleUser, keyPath: '~/.ssh/id_ed25519' },
      hostname: n.name,
      privateAddress: n.address,
      ...(flags.length ? { installFlags: flags } : {}),
    };
  });
  return commentedYamlFile(
    `${DIR}/k0sctl.yaml`,
    'For sites that prefer k0sctl to the Ansible bootstrap (stage 3). Prepare the nodes first (stage 2):\n  ansible-playbook -i ansible/inventory/hosts.yaml ansible/site.yml --tags prepare\nthen: k0sctl apply --config ansible/k0sctl.yaml',
    {
      apiVersion: 'k0sctl.k0sproject.io/v1beta1',
      kind: 'Cluster',
      metadata: { name: site.name },
      spec: { hosts, k0s: { version: site.distribution.version, config: k0sClusterConfig(site) } },
    },
  );
}

const ANSIBLE_CFG = `[defaults]
inventory = inventory/hosts.yaml
roles_path = roles
interpreter_python = auto_silent
forks = 20
stdout_callback = default
retry_files_enabled = false

[ssh_connection]
pipelining = true
`;

function roles(site: SiteModel): GeneratedFile[] {
  // Kubespray sites get no distribution role of siteforge's: Kubespray builds the cluster, siteforge schedules etcd snapshots.
  const cluster = site.distribution.type === 'kubespray' ? 'etcd_snapshots' : site.distribution.type;
  const wanted = new Set(['prepare', cluster, 'kubeconfig', ...(site.nodes.some((n) => n.gpus) ? ['gpu'] : [])]);
  return assetTree('ansible/roles')
    .filter((f) => wanted.has(f.path.split('/')[0]!))
    .map((f) => textFile(`${DIR}/roles/${f.path}`, f.content));
}

export function renderAnsible(site: SiteModel, secrets: ResolvedSecrets): GeneratedFile[] {
  return [
    inventory(site),
    ...groupVars(site, secrets),
    playbook(site),
    textFile(`${DIR}/ansible.cfg`, ANSIBLE_CFG),
    yamlFile(`${DIR}/requirements.yml`, {
      collections: [
        { name: 'ansible.posix', version: '>=1.5.4' },
        { name: 'community.general', version: '>=6.6.0' },
        // Kubespray as a collection, from its release tag (its documentation: docs/ansible/ansible_collection.md).
        ...(site.distribution.type === 'kubespray' ? [{ name: KUBESPRAY_REPOSITORY, type: 'git', version: site.distribution.kubespray.release }] : []),
      ],
    }),
    ...roles(site),
    upgradePlaybook(site),
    resetPlaybook(site),
    restorePlaybook(site),
    removeNodePlaybook(site),
    ...assetTree('ansible/tasks').map((f) => textFile(`${DIR}/tasks/${f.path}`, f.content)),
    ...(site.distribution.type === 'k0s' ? [k0sctl(site)] : []),
    textFile(
      `${DIR}/README.md`,
      renderDoc('ansible-README.md', {
        site: site.name,
        distribution: site.distribution.type,
        version: site.distribution.version,
        bootstrap: site.bootstrapServer.name,
        servers: site.servers.map((n) => n.name),
        agents: site.agents.map((n) => n.name),
        gpu: site.nodes.some((n) => n.gpus),
        k0s: site.distribution.type === 'k0s',
        rke2: site.distribution.type === 'rke2',
        kubespray: site.distribution.type === 'kubespray' ? { release: site.distribution.kubespray.release, snapshots: KUBESPRAY_SNAPSHOT_DIR } : false,
        firewall: firewallMode(site),
        airgap: Boolean(site.distribution.airgap),
        harbor: site.componentSettings.harbor.enabled ? harborHostname(site) : null,
        endpoint: site.distribution.tlsSANs[0] ?? site.bootstrapServer.address,
      }),
    ),
  ];
}
