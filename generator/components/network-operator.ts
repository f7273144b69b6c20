// NVIDIA Network Operator: RDMA shared device plugin, SR-IOV, Multus + Whereabouts.
import { Type } from '@sinclair/typebox';
import { Enabled } from '../spec/formats.ts';
import { defineComponent } from './types.ts';

export const networkOperator = defineComponent({
  name: 'networkOperator',
  title: 'NVIDIA Network Operator (RDMA, SR-IOV, Multus)',
  scope: 'cluster',
  namespace: 'nvidia-network-operator',
  dependsOn: ['namespaces'],
  settings: Type.Object(
    {
      enabled: Enabled(false),
      rdmaSharedDevicePlugin: Type.Boolean({ default: true }),
      sriov: Type.Boolean({ default: false }),
    },
    { additionalProperties: false },
  ),
});
