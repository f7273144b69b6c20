// Shared HPC storage as PersistentVolumes + PersistentVolumeClaims per environment.
import { Type } from '@sinclair/typebox';
import { Enabled, OneOf } from '../spec/formats.ts';
import { defineComponent } from './types.ts';

export const storage = defineComponent({
  name: 'storage',
  title: 'Shared storage: PV/PVC per spec.storage.volumes entry and environment',
  scope: 'environment',
  namespace: 'kube-system',
  dependsOn: ['namespaces'],
  settings: Type.Object(
    {
      enabled: Enabled(true),
      nfsDriver: OneOf(['csi', 'in-tree'], {
        default: 'csi',
        description: 'csi: csi-driver-nfs; in-tree: the kubelet NFS volume plugin.',
      }),
    },
    { additionalProperties: false },
  ),
});
