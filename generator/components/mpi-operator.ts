// Kubeflow MPI Operator (MPIJob v2beta1) for multi-node MPI tests. Upstream publishes no Helm
// chart: it is deployed from the upstream repository's kustomize directory at a pinned tag.
import { Type } from '@sinclair/typebox';
import { Enabled } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';

export const mpiOperator = defineComponent({
  name: 'mpiOperator',
  title: 'Kubeflow MPI Operator',
  dependsOn: ['namespaces'],
  settings: Type.Object({ enabled: Enabled(false) }, { additionalProperties: false }),
  releases: (): ReleaseDef[] => [
    {
      name: 'mpi-operator',
      layer: 'operators',
      description: 'Kubeflow MPI Operator (upstream kustomize manifests)',
      scope: 'cluster',
      namespace: 'mpi-operator',
      kustomization: 'mpi-operator',
    },
  ],
});
