// Kubeflow MPI Operator.
import { Type } from '@sinclair/typebox';
import { Enabled } from '../spec/formats.ts';
import { defineComponent } from './types.ts';

export const mpiOperator = defineComponent({
  name: 'mpiOperator',
  title: 'Kubeflow MPI Operator',
  scope: 'cluster',
  namespace: 'mpi-operator',
  dependsOn: ['namespaces'],
  settings: Type.Object({ enabled: Enabled(false) }, { additionalProperties: false }),
});
