// NVIDIA Network Operator: RDMA shared device plugin and Multus secondary networks for the
// InfiniBand / RoCE fabric, optionally SR-IOV.
import { Type } from '@sinclair/typebox';
import { Enabled, ChartVersion } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { helmObject } from './labels.ts';
import { upstreamChart } from './upstream.ts';

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
`;

export const networkOperator = defineComponent({
  name: 'networkOperator',
  title: 'NVIDIA Network Operator (RDMA, Multus, SR-IOV)',
  dependsOn: ['namespaces', 'gpuOperator'],
  settings: Type.Object(
    {
      enabled: Enabled(false),
      chartVersion: ChartVersion(),
      rdmaInterfaces: Type.Array(Type.String({ minLength: 1 }), {
        default: [],
        description: 'Netdevice names shared as RDMA devices (empty: every Mellanox NIC).',
      }),
      rdmaHcaMax: Type.Integer({ default: 63, minimum: 1, description: 'Pods that may share one RDMA device.' }),
      sriov: Type.Boolean({ default: false }),
    },
    { additionalProperties: false },
  ),
  releases(site, settings): ReleaseDef[] {
    const version = upstreamChart('network-operator').version;
    const selectors = settings.rdmaInterfaces.length ? { ifNames: settings.rdmaInterfaces } : { vendors: ['15b3'] };
    return [
      {
        name: 'network-operator',
        layer: 'operators',
        description: 'NVIDIA Network Operator',
        scope: 'cluster',
        namespace: 'nvidia-network-operator',
        upstream: { chart: 'network-operator' },
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
        },
        valuesSchema: {
          type: 'object',
          required: ['imageRepository', 'componentVersion', 'rdmaConfig'],
          additionalProperties: false,
          properties: { imageRepository: { type: 'string' }, componentVersion: { type: 'string' }, rdmaConfig: { type: 'object' } },
        },
        templates: { 'nic-cluster-policy.yaml': POLICY_TEMPLATE },
        images: ['k8s-rdma-shared-dev-plugin', 'plugins', 'multus-cni'].map((image) => `nvcr.io/nvidia/mellanox/${image}:network-operator-v${version}`),
      },
    ];
  },
});
