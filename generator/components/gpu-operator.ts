// NVIDIA GPU Operator: device plugin, container toolkit, DCGM exporter, MIG manager.
import { Type } from '@sinclair/typebox';
import { Enabled, OneOf } from '../spec/formats.ts';
import { defineComponent } from './types.ts';

export const gpuOperator = defineComponent({
  name: 'gpuOperator',
  title: 'NVIDIA GPU Operator',
  scope: 'cluster',
  namespace: 'gpu-operator',
  dependsOn: ['namespaces'],
  settings: Type.Object(
    {
      enabled: Enabled(false),
      driverPreinstalled: Type.Boolean({ default: true, description: 'HPC nodes usually carry the NVIDIA driver already; true skips the operator-managed driver.' }),
      migStrategy: OneOf(['none', 'single', 'mixed'], { default: 'none' }),
    },
    { additionalProperties: false },
  ),
});
