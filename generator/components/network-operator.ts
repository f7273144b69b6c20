// NVIDIA Network Operator: RDMA shared device plugin and Multus secondary networks for the
// InfiniBand / RoCE fabric, optionally SR-IOV.
import { Type } from '@sinclair/typebox';
import { ChartVersion, Cidr, DnsLabel, Enabled, InterfaceName, IPV4_PATTERN, Ipv4, LabelKey, LabelValue, OneOf } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { helmObject } from './labels.ts';
import { upstreamChart } from './upstream.ts';
import { isString, list } from '../spec/guards.ts';
import { contains, formatIpv4, overlaps, parseCidr, parseIpv4, parseRange, type Ipv4Range } from '../spec/net.ts';
import { show } from '../spec/diagnostics.ts';

const POLICY_TEMPLATE = `${helmObject('mellanox.com/v1alpha1', 'NicClusterPolicy', { name: 'nic-cluster-policy' })}
spec:
  rdmaSharedDevicePlugin:
    image: k8s-rdma-shared-dev-plugin
    repository: {{ .Values.imageRepository | quote }}
    version: {{ .Values.componentVersion | quote }}
    config: {{ .Values.rdmaConfig | toJson | quote }}
  secondaryNetwork:
    cniPlugins:
      image: plugins
      repository: {{ .Values.imageRepository | quote }}
      version: {{ .Values.componentVersion | quote }}
    multus:
      image: multus-cni
      repository: {{ .Values.imageRepository | quote }}
      version: {{ .Values.componentVersion | quote }}
    {{- if .Values.ipoib }}
    ipoib:
      image: ipoib-cni
      repository: {{ .Values.imageRepository | quote }}
      version: {{ .Values.componentVersion | quote }}
    {{- end }}
  {{- if .Values.networks }}
  nvIpam:
    image: nvidia-k8s-ipam
    repository: {{ .Values.imageRepository | quote }}
    version: {{ .Values.componentVersion | quote }}
    enableWebhook: false
  {{- end }}
`;

/**
 * IPPools and secondary networks: a release of their own after the policy, because the IPPool CRD
 * is installed by the operator when it reconciles the policy's nvIpam, not by the chart.
 */
const NETWORKS_TEMPLATE = `{{- range .Values.networks }}
---
${helmObject('nv-ipam.nvidia.com/v1alpha1', 'IPPool', { name: '{{ .name | quote }}', namespace: '{{ $.Release.Namespace | quote }}', inRange: true })}
spec:
  subnet: {{ .subnet | quote }}
  perNodeBlockSize: {{ .perNodeBlockSize }}
  {{- with .gateway }}
  gateway: {{ . | quote }}
  {{- end }}
  {{- with .exclusions }}
  exclusions:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- $network := . }}
{{- range $.Values.environments }}
---
{{- if eq $network.type "ipvlan" }}
${helmObject('k8s.cni.cncf.io/v1', 'NetworkAttachmentDefinition', { name: '{{ $network.attachmentName | quote }}', namespace: '{{ .namespace | quote }}', inRange: true })}
spec:
  config: {{ dict "cniVersion" "0.3.1" "name" $network.attachmentName "type" "ipvlan" "master" $network.master "mode" "l2" "mtu" $network.mtu "ipam" (dict "type" "nv-ipam" "poolName" $network.name) | toJson | quote }}
{{- else }}
${helmObject('mellanox.com/v1alpha1', '{{ ternary "IPoIBNetwork" "MacvlanNetwork" (eq $network.type "ipoib") }}', { name: '{{ printf "%s-%s" .name $network.name | quote }}', inRange: true })}
spec:
  networkNamespace: {{ .namespace | quote }}
  master: {{ $network.master | quote }}
  {{- if ne $network.type "ipoib" }}
  mode: bridge
  mtu: {{ $network.mtu }}
  {{- end }}
  ipam: {{ dict "type" "nv-ipam" "poolName" $network.name | toJson | quote }}
{{- end }}
{{- end }}
{{- end }}
`;

/** Per policy: the VFs (SriovNetworkNodePolicy in the operator's namespace); with a subnet, its IP pool and a SriovNetwork per environment. */
const SRIOV_TEMPLATE = `{{- range .Values.policies }}
---
${helmObject('sriovnetwork.openshift.io/v1', 'SriovNetworkNodePolicy', { name: '{{ .name | quote }}', namespace: '{{ $.Release.Namespace | quote }}', inRange: true })}
spec:
  resourceName: {{ .resourceName | quote }}
  numVfs: {{ .numVfs }}
  deviceType: {{ .deviceType | quote }}
  isRdma: {{ .isRdma }}
  linkType: {{ .linkType | quote }}
  {{- with .mtu }}
  mtu: {{ . }}
  {{- end }}
  nicSelector:
    pfNames: {{ toJson .pfNames }}
    {{- with .vendor }}
    vendor: {{ . | quote }}
    {{- end }}
    {{- with .deviceId }}
    deviceID: {{ . | quote }}
    {{- end }}
  nodeSelector:
    {{- toYaml .nodeSelector | nindent 4 }}
{{- if .subnet }}
---
${helmObject('nv-ipam.nvidia.com/v1alpha1', 'IPPool', { name: '{{ .name | quote }}', namespace: '{{ $.Release.Namespace | quote }}', inRange: true })}
spec:
  subnet: {{ .subnet | quote }}
  perNodeBlockSize: {{ .perNodeBlockSize }}
{{- $policy := . }}
{{- range $.Values.environments }}
---
${helmObject('sriovnetwork.openshift.io/v1', 'SriovNetwork', { name: '{{ printf "%s-%s" .name $policy.name | quote }}', namespace: '{{ $.Release.Namespace | quote }}', inRange: true })}
spec:
  resourceName: {{ $policy.resourceName | quote }}
  networkNamespace: {{ .namespace | quote }}
  ipam: {{ dict "type" "nv-ipam" "poolName" $policy.name | toJson | quote }}
{{- end }}
{{- end }}
{{- end }}
`;

export const networkOperator = defineComponent({
  name: 'networkOperator',
  title: 'NVIDIA Network Operator (RDMA, Multus, SR-IOV)',
  dependsOn: ['namespaces', 'gpuOperator'],
  notUnderHpk: 'its DaemonSets configure RDMA and SR-IOV on every Kubernetes node, and HPK has no nodes of its own: pods reach the fabric through the container runtime on the Slurm nodes',
  settings: Type.Object(
    {
      enabled: Enabled(false),
      chartVersion: ChartVersion(),
      rdmaInterfaces: Type.Array(InterfaceName(), {
        default: [],
        description: 'Netdevice names shared as RDMA devices (empty: every Mellanox NIC).',
      }),
      rdmaHcaMax: Type.Integer({ default: 63, minimum: 1, description: 'Pods that may share one RDMA device.' }),
      networks: Type.Array(
        Type.Object(
          {
            name: DnsLabel({ description: 'Network and IPPool name; macvlan and IPoIB networks are attached as <env>-<name> (k8s.v1.cni.cncf.io/networks), ipvlan ones as attachmentName.' }),
            type: OneOf(['macvlan', 'ipvlan', 'ipoib'], {
              default: 'macvlan',
              description: 'macvlan over an Ethernet/RoCE port, ipvlan (L2: pods share the port\'s MAC address, as RoCE needs where the switch limits MACs) or IPoIB over an InfiniBand port.',
            }),
            attachmentName: Type.Optional(DnsLabel({ description: 'ipvlan: the NetworkAttachmentDefinition name pods ask for in every environment namespace (default: name), e.g. rdma-ipvlan-conf.' })),
            master: InterfaceName({ description: 'Host interface, e.g. ens1f0 or ib0.' }),
            subnet: Cidr({ description: 'The network\'s subnet: pods get their addresses from it (and its mask).' }),
            rangeStart: Type.Optional(Ipv4({ description: 'The first address pods get (default: the subnet\'s first), as Whereabouts\' range_start: the subnet may hold the hosts\' own addresses outside rangeStart..rangeEnd.' })),
            rangeEnd: Type.Optional(Ipv4({ description: 'The last address pods get (default: the subnet\'s last), as Whereabouts\' range_end.' })),
            exclude: Type.Array(
              Type.String({ pattern: `${IPV4_PATTERN.slice(0, -1)}(-${IPV4_PATTERN.slice(1)}|$)`, expected: 'an address such as 10.146.18.110, or a range such as 10.146.18.110-10.146.18.115' }),
              { default: [], description: 'Addresses of the range pods never get (storage servers, routers, ...): one address, or first-last.' },
            ),
            gateway: Type.Optional(Ipv4({ description: 'Gateway of the subnet, if pods route through one.' })),
            perNodeBlockSize: Type.Integer({ default: 64, minimum: 2, description: 'Addresses nv-ipam hands each node.' }),
            mtu: Type.Integer({ default: 1500, minimum: 576, maximum: 9216, description: 'MTU of the pod interface (9000 for jumbo frames, as the port allows).' }),
          },
          { additionalProperties: false },
        ),
        { default: [], description: 'Secondary networks attached to pods of every environment (Multus + NVIDIA IPAM).' },
      ),
      sriov: Type.Boolean({ default: false, description: 'Deploy the SR-IOV network operator as well.' }),
      sriovPolicies: Type.Array(
        Type.Object(
          {
            name: DnsLabel({ description: 'Policy name (SriovNetworkNodePolicy), and the SR-IOV network and IP pool of its subnet.' }),
            pfNames: Type.Array(InterfaceName(), { minItems: 1, description: 'The physical functions (NIC ports) whose virtual functions it configures, e.g. [ens1f0].' }),
            vendor: Type.Optional(Type.String({ pattern: '^[0-9a-f]{4}$', expected: 'a PCI vendor id such as 15b3', description: 'PCI vendor id of the NIC (15b3: NVIDIA/Mellanox).' })),
            deviceId: Type.Optional(Type.String({ pattern: '^[0-9a-f]{4}$', expected: 'a PCI device id such as 101b', description: 'PCI device id of the NIC.' })),
            numVfs: Type.Integer({ minimum: 1, maximum: 128, description: 'Virtual functions per port.' }),
            resourceName: Type.String({ pattern: '^[A-Za-z0-9_]{1,63}$', expected: 'a resource name such as sriov_rdma', description: 'Pods ask for nvidia.com/<resourceName>.' }),
            deviceType: OneOf(['netdevice', 'vfio-pci'], { default: 'netdevice', description: 'netdevice (kernel driver; RDMA with isRdma) or vfio-pci (DPDK).' }),
            isRdma: Type.Boolean({ default: true, description: 'RDMA on the virtual functions (RoCE, GPUDirect).' }),
            linkType: OneOf(['eth', 'ib'], { default: 'eth', description: 'Ethernet/RoCE or InfiniBand ports.' }),
            mtu: Type.Optional(Type.Integer({ minimum: 576, maximum: 9216, description: 'MTU of the ports.' })),
            nodeSelector: Type.Record(LabelKey(), LabelValue(), { additionalProperties: false, default: {}, expectedKey: LabelKey().expected, description: 'Nodes it applies to (default: those feature discovery marks SR-IOV capable).' }),
            subnet: Type.Optional(Cidr({ description: 'With a subnet, pods attach to the VFs as <env>-<name> in every environment, addresses from nv-ipam.' })),
            perNodeBlockSize: Type.Integer({ default: 64, minimum: 2, description: 'Addresses nv-ipam hands each node.' }),
          },
          { additionalProperties: false },
        ),
        { default: [], description: 'SR-IOV virtual functions per NIC (needs sriov: true): a SriovNetworkNodePolicy each, and with a subnet a SriovNetwork per environment.' },
      ),
    },
    { additionalProperties: false },
  ),
  check(ctx, settings) {
    // Every range nv-ipam hands out: the secondary networks' and the SR-IOV policies' subnets.
    const ranges = [
      ...list<any>(settings?.networks).map((n, i) => ({ n, path: ['spec', 'components', 'networkOperator', 'networks', i] as (string | number)[] })),
      ...list<any>(settings?.sriovPolicies).map((n, i) => ({ n, path: ['spec', 'components', 'networkOperator', 'sriovPolicies', i] as (string | number)[] })),
    ];
    ranges.forEach(({ n, path }, i) => {
      const subnet = isString(n?.subnet) ? parseCidr(n.subnet) : null;
      if (!subnet) return;
      if (subnet.address !== subnet.first) {
        ctx.report('error', [...path, 'subnet'], `"${n.subnet}" has host bits set`, { hint: `did you mean ${formatIpv4(subnet.first)}/${subnet.prefix}?` });
      }
      const gw = isString(n?.gateway) ? parseIpv4(n.gateway) : null;
      if (gw !== null && !contains(subnet, gw)) {
        ctx.report('error', [...path, 'gateway'], `gateway ${n.gateway} is outside ${n.subnet}`, { hint: 'the gateway must be an address of the subnet' });
      }
      if (n?.attachmentName !== undefined && n?.type !== 'ipvlan') {
        ctx.report('error', [...path, 'attachmentName'], 'attachmentName names an ipvlan network\'s attachment; macvlan and IPoIB networks are attached as <env>-<name>', { hint: 'drop attachmentName, or use type: ipvlan' });
      }
      const pool = poolRanges(n, subnet);
      for (const [key, value] of [['rangeStart', n?.rangeStart], ['rangeEnd', n?.rangeEnd]] as const) {
        const ip = isString(value) ? parseIpv4(value) : null;
        if (ip !== null && !contains(subnet, ip)) ctx.report('error', [...path, key], `${key} ${value} is outside ${n.subnet}`, { hint: 'pods get addresses of the subnet only' });
      }
      if (pool.range.first > pool.range.last && contains(subnet, pool.range.first) && contains(subnet, pool.range.last)) {
        ctx.report('error', [...path, 'rangeEnd'], `rangeEnd ${formatIpv4(pool.range.last)} comes before rangeStart ${formatIpv4(pool.range.first)}`, { hint: 'give the range first address first' });
      }
      list<any>(n?.exclude).forEach((x, k) => {
        const r = isString(x) ? addressRange(x) : null;
        if (r && (r.first > r.last || !contains(subnet, r.first) || !contains(subnet, r.last))) {
          ctx.report('error', [...path, 'exclude', k], r.first > r.last ? `${x}: the last address comes before the first` : `${x} is outside ${n.subnet}`, { hint: 'exclude addresses of the subnet, first-last' });
        }
      });
      // nv-ipam hands out every address of its range but the gateway and the exclusions: a node's own would be given to a pod.
      list<any>(ctx.spec.spec?.nodes).forEach((node) => {
        for (const [what, a] of [['address', node?.address], ...Object.entries(node?.extraAddresses ?? {})] as [string, unknown][]) {
          const ip = isString(a) ? parseIpv4(a) : null;
          if (ip !== null && contains(pool.range, ip) && !pool.excluded.some((r) => contains(r, ip))) {
            const where = n?.rangeStart !== undefined || n?.rangeEnd !== undefined ? `${formatIpv4(pool.range.first)}-${formatIpv4(pool.range.last)}` : n.subnet;
            ctx.report('error', [...path, 'subnet'], `${where} includes ${a}, node ${show(node?.name)}'s ${what === 'address' ? 'address' : `${what} address`}: nv-ipam would give it to a pod`, { hint: 'narrow the pods\' range (rangeStart, rangeEnd) or exclude the address, or use a range of the fabric no host interface has' });
          }
        }
      });
      ranges.slice(0, i).forEach(({ n: m }) => {
        const other = isString(m?.subnet) ? parseCidr(m.subnet) : null;
        if (other && overlaps(subnet, other)) ctx.report('error', [...path, 'subnet'], `${n.subnet} overlaps network ${show(m?.name)}'s ${m.subnet}`, { hint: 'each secondary network needs its own range' });
      });
    });
    const policies = list<any>(settings?.sriovPolicies);
    if (policies.length && settings?.sriov !== true) {
      ctx.report('error', ['spec', 'components', 'networkOperator', 'sriovPolicies'], 'SR-IOV policies need the SR-IOV network operator, and sriov is not true', { hint: 'set spec.components.networkOperator.sriov: true' });
    }
    const resources = policies.map((p) => p?.resourceName);
    resources.forEach((r, i) => {
      if (isString(r) && resources.indexOf(r) !== i) ctx.report('error', ['spec', 'components', 'networkOperator', 'sriovPolicies', i, 'resourceName'], `resource ${show(r)} is given by two policies`, { hint: 'each policy needs its own resourceName' });
    });
    const names = [...list<any>(settings?.networks).map((n) => n?.name), ...policies.map((p) => p?.name)];
    policies.forEach((p, i) => {
      if (isString(p?.name) && names.indexOf(p.name) !== list<any>(settings?.networks).length + i) ctx.report('error', ['spec', 'components', 'networkOperator', 'sriovPolicies', i, 'name'], `${show(p.name)} is already the name of a network or policy (they share the IP pool names)`, { hint: 'choose another name' });
    });
    const attachments = list<any>(settings?.networks).filter((n) => n?.type === 'ipvlan').map((n) => n?.attachmentName ?? n?.name);
    attachments.forEach((a, i) => {
      if (isString(a) && attachments.indexOf(a) !== i) ctx.report('error', ['spec', 'components', 'networkOperator', 'networks'], `two ipvlan networks are attached as ${show(a)}`, { hint: 'give each its own attachmentName' });
    });
  },
  releases(site, settings): ReleaseDef[] {
    const version = upstreamChart('network-operator').version;
    const selectors = settings.rdmaInterfaces.length ? { ifNames: settings.rdmaInterfaces } : { vendors: ['15b3'] };
    // nv-ipam runs when any network or SR-IOV policy draws addresses from it.
    const ipam = settings.networks.length > 0 || settings.sriovPolicies.some((p) => p.subnet);
    return [
      {
        name: 'network-operator',
        layer: 'operators',
        description: 'NVIDIA Network Operator',
        scope: 'cluster',
        namespace: 'nvidia-network-operator',
        upstream: { chart: 'network-operator' },
        // With sriov, the chart also runs the SR-IOV network operator (at the operator's own version).
        ...(settings.sriov ? { images: [`nvcr.io/nvidia/mellanox/sriov-network-operator:network-operator-v${version}`] } : {}),
        // Where the chart takes pod tolerations, with its defaults at the pin (kept beside spec.placement's).
        podTolerations: {
          'operator.tolerations': [{ key: 'node-role.kubernetes.io/master', operator: 'Equal', value: '', effect: 'NoSchedule' }, { key: 'node-role.kubernetes.io/control-plane', operator: 'Equal', value: '', effect: 'NoSchedule' }],
          'node-feature-discovery.master.tolerations': [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Equal', value: '', effect: 'NoSchedule' }],
          'node-feature-discovery.worker.tolerations': [{ key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' }, { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }, { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          'node-feature-discovery.gc.tolerations': [],
          'sriov-network-operator.operator.tolerations': [{ key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' }, { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
          'maintenance-operator-chart.operator.tolerations': [{ key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' }, { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }],
        },
        values: {
          'network-operator': {
            // With the GPU Operator enabled its node-feature-discovery serves both operators.
            nfd: { enabled: !site.componentSettings.gpuOperator.enabled, deployNodeFeatureRules: true },
            sriovNetworkOperator: { enabled: settings.sriov },
          },
        },
      },
      {
        name: 'network-operator-policy',
        description: 'NicClusterPolicy: RDMA shared device plugin and Multus',
        scope: 'cluster',
        namespace: 'nvidia-network-operator',
        after: ['network-operator'],
        values: {
          imageRepository: 'nvcr.io/nvidia/mellanox',
          componentVersion: `network-operator-v${version}`,
          rdmaConfig: { configList: [{ resourceName: 'rdma_shared_device_a', rdmaHcaMax: settings.rdmaHcaMax, selectors }] },
          ipoib: settings.networks.some((n) => n.type === 'ipoib'),
          networks: ipam,
        },
        valuesSchema: {
          type: 'object',
          required: ['imageRepository', 'componentVersion', 'rdmaConfig', 'ipoib', 'networks'],
          additionalProperties: false,
          properties: {
            imageRepository: { type: 'string' },
            componentVersion: { type: 'string' },
            rdmaConfig: { type: 'object' },
            ipoib: { type: 'boolean' },
            networks: { type: 'boolean', description: 'Deploy nv-ipam for the secondary networks.' },
          },
        },
        templates: { 'nic-cluster-policy.yaml': POLICY_TEMPLATE },
        providesCrds: ipam ? ['nv-ipam.nvidia.com/IPPool', 'nv-ipam.nvidia.com/CIDRPool'] : [],
        images: [
          'k8s-rdma-shared-dev-plugin',
          'plugins',
          'multus-cni',
          ...(ipam ? ['nvidia-k8s-ipam'] : []),
          ...(settings.networks.some((n) => n.type === 'ipoib') ? ['ipoib-cni'] : []),
        ].map((image) => `nvcr.io/nvidia/mellanox/${image}:network-operator-v${version}`),
      },
      ...(settings.sriovPolicies.length
        ? [
            {
              name: 'network-operator-sriov',
              description: 'SR-IOV virtual functions per NIC, and their networks per environment',
              scope: 'cluster' as const,
              namespace: 'nvidia-network-operator',
              // The SR-IOV CRDs come with the operator's chart; the IP pools' CRD with the policy's nv-ipam.
              after: ['network-operator', 'network-operator-policy'],
              values: {
                policies: settings.sriovPolicies.map((p) => ({
                  ...p,
                  nodeSelector: Object.keys(p.nodeSelector).length ? p.nodeSelector : { 'feature.node.kubernetes.io/network-sriov.capable': 'true' },
                })),
                environments: site.environments.map((e) => ({ name: e.name, namespace: e.namespace })),
              },
              valuesSchema: {
                type: 'object',
                required: ['policies', 'environments'],
                additionalProperties: false,
                properties: {
                  policies: { type: 'array', items: { type: 'object', required: ['name', 'pfNames', 'numVfs', 'resourceName', 'deviceType', 'isRdma', 'linkType', 'nodeSelector', 'perNodeBlockSize'] } },
                  environments: { type: 'array', items: { type: 'object', required: ['name', 'namespace'] } },
                },
              },
              templates: { 'sriov.yaml': SRIOV_TEMPLATE },
            },
          ]
        : []),
      ...(settings.networks.length
        ? [
            {
              name: 'network-operator-networks',
              description: 'IPPools (nv-ipam) and secondary networks per environment',
              scope: 'cluster' as const,
              namespace: 'nvidia-network-operator',
              after: ['network-operator-policy'],
              values: {
                // The pods' range becomes the IPPool's exclusions.
                networks: settings.networks.map((network) => {
                  const { rangeStart: _start, rangeEnd: _end, exclude: _exclude, ...n } = network;
                  const exclusions = ipamExclusions(network);
                  return { ...n, ...(n.type === 'ipvlan' ? { attachmentName: n.attachmentName ?? n.name } : {}), ...(exclusions.length ? { exclusions } : {}) };
                }),
                environments: site.environments.map((e) => ({ name: e.name, namespace: e.namespace })),
              },
              valuesSchema: {
                type: 'object',
                required: ['networks', 'environments'],
                additionalProperties: false,
                properties: {
                  networks: { type: 'array', items: { type: 'object', required: ['name', 'type', 'master', 'subnet', 'perNodeBlockSize', 'mtu'] } },
                  environments: { type: 'array', items: { type: 'object', required: ['name', 'namespace'] } },
                },
              },
              templates: { 'networks.yaml': NETWORKS_TEMPLATE },
            },
          ]
        : []),
    ];
  },
});

/** A network's pods' range (rangeStart..rangeEnd, default the whole subnet) and the ranges excluded from it. */
function poolRanges(n: { rangeStart?: unknown; rangeEnd?: unknown; exclude?: unknown }, subnet: Ipv4Range): { range: Ipv4Range; excluded: Ipv4Range[] } {
  const at = (v: unknown, fallback: number) => (isString(v) ? (parseIpv4(v) ?? fallback) : fallback);
  return {
    range: { first: at(n.rangeStart, subnet.first), last: at(n.rangeEnd, subnet.last) },
    excluded: list<unknown>(n.exclude).flatMap((x) => (isString(x) ? [addressRange(x)].filter((r): r is Ipv4Range => r !== null) : [])),
  };
}

/** One address, or first-last. */
function addressRange(text: string): Ipv4Range | null {
  const ip = parseIpv4(text);
  return ip !== null ? { first: ip, last: ip } : parseRange(text);
}

/**
 * nv-ipam's IPPool exclusions for a network: the subnet outside rangeStart..rangeEnd and the
 * spec's excluded addresses (nv-ipam allocates every other address of the subnet but the gateway).
 */
export function ipamExclusions(n: { subnet: string; rangeStart?: string; rangeEnd?: string; exclude: readonly string[] }): { startIP: string; endIP: string }[] {
  const subnet = parseCidr(n.subnet)!;
  const { range, excluded } = poolRanges(n, subnet);
  const outside: Ipv4Range[] = [
    ...(range.first > subnet.first ? [{ first: subnet.first, last: range.first - 1 }] : []),
    ...(range.last < subnet.last ? [{ first: range.last + 1, last: subnet.last }] : []),
  ];
  return [...outside, ...excluded].map((r) => ({ startIP: formatIpv4(r.first), endIP: formatIpv4(r.last) }));
}
