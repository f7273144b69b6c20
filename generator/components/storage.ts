// Shared HPC storage exposed to each environment: a PersistentVolume + PersistentVolumeClaim per
// spec.storage.volumes entry, pre-bound to each other. NFS through csi-driver-nfs (or the in-tree
// plugin); hostPath for parallel filesystems (Lustre, GPFS, ...) mounted on every node.
import { Type } from '@sinclair/typebox';
import { Enabled, OneOf, ChartVersion } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { helmObject } from './labels.ts';
import type { SiteModel } from '../model/site.ts';
import { nodeDistribution } from '../model/distribution.ts';
import { KUBESPRAY_PATHS } from '../model/kubespray.ts';
import { HPK_NODE_NAME } from '../model/hpk.ts';
import type { RuleContext } from '../spec/rules.ts';
import { isString, list } from '../spec/guards.ts';
import { show } from '../spec/diagnostics.ts';

export const NFS_CSI_DRIVER = 'nfs.csi.k8s.io';

/** Where the kubelet keeps its state, per distribution (the CSI node plugin mounts it). */
export const KUBELET_DIR = { rke2: '/var/lib/kubelet', k0s: '/var/lib/k0s/kubelet', kubespray: KUBESPRAY_PATHS.kubeletDir } as const;

const VOLUMES_TEMPLATE = `{{- range .Values.volumes }}
---
${helmObject('v1', 'PersistentVolume', { name: '{{ printf "%s-%s" $.Values.namespace .name | quote }}', inRange: true, labels: { 'siteforge.io/volume': '{{ .name | quote }}' } })}
spec:
  capacity:
    storage: {{ .size | quote }}
  accessModes:
    - {{ ternary "ReadOnlyMany" "ReadWriteMany" .readOnly }}
  persistentVolumeReclaimPolicy: Retain
  storageClassName: ""
  volumeMode: Filesystem
  {{- with .mountOptions }}
  mountOptions:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  claimRef:
    namespace: {{ $.Values.namespace | quote }}
    name: {{ .name | quote }}
  {{- if eq .type "local" }}
  local:
    path: {{ .path | quote }}
  nodeAffinity:
    required:
      nodeSelectorTerms:
        - matchExpressions:
            - key: kubernetes.io/hostname
              operator: In
              values: [{{ .node | quote }}]
  {{- else if eq .type "hostPath" }}
  hostPath:
    path: {{ .path | quote }}
    type: Directory
  {{- else if eq $.Values.nfsDriver "csi" }}
  csi:
    driver: ${NFS_CSI_DRIVER}
    volumeHandle: {{ printf "%s#%s#%s" .server .path $.Values.namespace | quote }}
    readOnly: {{ .readOnly }}
    volumeAttributes:
      server: {{ .server | quote }}
      share: {{ .path | quote }}
  {{- else }}
  nfs:
    server: {{ .server | quote }}
    path: {{ .path | quote }}
    readOnly: {{ .readOnly }}
  {{- end }}
---
${helmObject('v1', 'PersistentVolumeClaim', { name: '{{ .name | quote }}', namespace: '{{ $.Values.namespace | quote }}', inRange: true, labels: { 'siteforge.io/volume': '{{ .name | quote }}' } })}
spec:
  accessModes:
    - {{ ternary "ReadOnlyMany" "ReadWriteMany" .readOnly }}
  storageClassName: ""
  volumeMode: Filesystem
  volumeName: {{ printf "%s-%s" $.Values.namespace .name | quote }}
  resources:
    requests:
      storage: {{ .size | quote }}
{{- end }}
`;

const VALUES_SCHEMA = {
  type: 'object',
  required: ['namespace', 'nfsDriver', 'volumes'],
  additionalProperties: false,
  properties: {
    namespace: { type: 'string' },
    nfsDriver: { enum: ['csi', 'in-tree'] },
    volumes: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'type', 'path', 'readOnly', 'size'],
        additionalProperties: false,
        properties: {
          name: { type: 'string' },
          type: { enum: ['nfs', 'hostPath', 'local'] },
          server: { type: 'string' },
          node: { type: 'string' },
          path: { type: 'string' },
          readOnly: { type: 'boolean' },
          size: { type: 'string' },
          mountOptions: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

/** The volumes exposed to one environment (a volume without `environments` goes everywhere). */
export const volumesOf = (site: Pick<SiteModel, 'volumes'>, env: string) => site.volumes.filter((v) => !v.environments || v.environments.includes(env));

/** csi-driver-nfs runs when NFS volumes use it, and always for NFS storage classes (it provisions them). */
export const usesNfsCsi = (site: SiteModel) =>
  (site.componentSettings.storage.nfsDriver === 'csi' && site.volumes.some((v) => v.type === 'nfs')) || site.storageClasses.some((c) => c.type === 'nfs');

/** The StorageClass a component's claims use: its own setting, else the site's default class. */
export const storageClassFor = (site: SiteModel, own: string | undefined): string | undefined => own ?? site.defaultStorageClass?.name;

/**
 * A component that claims storage needs a class to claim it from: its own, or the site's default.
 * (A claim without either never binds: no StorageClass exists in a fresh RKE2 or k0s cluster.)
 */
export function requireStorageClass(ctx: RuleContext, component: string, settings: { storageClass?: unknown } | undefined, what: string) {
  const classes = list<any>(ctx.spec.spec?.storage?.classes);
  const own = settings?.storageClass;
  if (isString(own)) {
    if (!classes.some((c) => c?.name === own)) {
      ctx.report('warning', ['spec', 'components', component, 'storageClass'], `StorageClass ${show(own)} is not one of spec.storage.classes`, {
        hint: 'siteforge cannot check a class it does not create; make sure the cluster has it, or define it under spec.storage.classes',
      });
    }
    return;
  }
  if (!classes.some((c) => c?.default === true)) {
    ctx.report('error', ['spec', 'components', component], `${component} stores ${what} on persistent volumes, and the site has no StorageClass to provision them`, {
      expected: 'spec.storage.classes with one class marked default: true, or spec.components.' + component + '.storageClass',
      hint: 'add e.g. `classes: [{name: nfs, server: 10.40.0.5, share: /export/k8s, default: true}]` under spec.storage',
    });
  }
}

const STORAGE_CLASSES_TEMPLATE = `{{- range .Values.storageClasses }}
---
${helmObject('storage.k8s.io/v1', 'StorageClass', { name: '{{ .name | quote }}', inRange: true })}
  {{- if .default }}
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
  {{- end }}
provisioner: ${NFS_CSI_DRIVER}
parameters:
  server: {{ .server | quote }}
  share: {{ .share | quote }}
  {{- with .subDir }}
  subDir: {{ . | quote }}
  {{- end }}
reclaimPolicy: {{ .reclaimPolicy }}
volumeBindingMode: Immediate
allowVolumeExpansion: true
{{- with .mountOptions }}
mountOptions:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}
`;

const STORAGE_CLASSES_SCHEMA = {
  type: 'object',
  properties: {
    storageClasses: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'server', 'share', 'reclaimPolicy', 'default'],
        additionalProperties: false,
        properties: {
          name: { type: 'string' },
          server: { type: 'string' },
          share: { type: 'string' },
          subDir: { type: 'string' },
          reclaimPolicy: { enum: ['Retain', 'Delete'] },
          mountOptions: { type: 'array', items: { type: 'string' } },
          default: { type: 'boolean' },
        },
      },
    },
  },
};

export const storage = defineComponent({
  name: 'storage',
  title: 'Shared storage: PV/PVC per spec.storage.volumes entry and environment',
  dependsOn: ['namespaces'],
  settings: Type.Object(
    {
      enabled: Enabled(true),
      chartVersion: ChartVersion(),
      nfsDriver: OneOf(['csi', 'in-tree'], {
        default: 'csi',
        description: 'csi: csi-driver-nfs; in-tree: the kubelet NFS volume plugin.',
      }),
    },
    { additionalProperties: false },
  ),
  releases(site, settings): ReleaseDef[] {
    const releases: ReleaseDef[] = [];
    if (usesNfsCsi(site)) {
      const classes = site.storageClasses.filter((c) => c.type === 'nfs');
      releases.push({
        name: 'csi-driver-nfs',
        layer: 'operators',
        description: `NFS CSI driver for the shared HPC filesystems${classes.length ? `, and the StorageClasses ${classes.map((c) => c.name).join(', ')}` : ''}`,
        scope: 'cluster',
        namespace: 'kube-system',
        upstream: { chart: 'csi-driver-nfs' },
        // Where the chart takes pod tolerations, with its defaults at the pin (kept beside spec.placement's).
        podTolerations: {
          'controller.tolerations': [{ key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' }, { key: 'node-role.kubernetes.io/controlplane', operator: 'Exists', effect: 'NoSchedule' }, { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' }, { key: 'CriticalAddonsOnly', operator: 'Exists', effect: 'NoSchedule' }],
        },
        values: {
          'csi-driver-nfs': {
            kubeletDir: KUBELET_DIR[nodeDistribution(site)],
            driver: { name: NFS_CSI_DRIVER },
            controller: { replicas: Math.min(2, site.servers.length) },
          },
          storageClasses: classes.map((c) => ({
            name: c.name,
            server: c.server,
            share: c.share,
            ...(c.subDir ? { subDir: c.subDir } : {}),
            reclaimPolicy: c.reclaimPolicy,
            ...(c.mountOptions.length ? { mountOptions: c.mountOptions } : {}),
            default: c.default,
          })),
        },
        valuesSchema: STORAGE_CLASSES_SCHEMA,
        templates: { 'storageclasses.yaml': STORAGE_CLASSES_TEMPLATE },
      });
    }
    if (!site.volumes.length) return releases;
    releases.push({
      name: 'storage',
      description: 'PersistentVolumes and claims for the shared HPC storage, per environment',
      scope: 'environment',
      after: releases.map((r) => r.name),
      values: { namespace: 'default', nfsDriver: settings.nfsDriver, volumes: [] },
      valuesSchema: VALUES_SCHEMA,
      templates: { 'volumes.yaml': VOLUMES_TEMPLATE },
      environmentValues: (env) => ({
        namespace: env.namespace,
        nfsDriver: settings.nfsDriver,
        volumes: volumesOf(site, env.name).map((v) => ({
          name: v.name,
          // HPK mounts a claim's volume only when its PersistentVolume is local (on its one virtual node): the same directory, seen by every Slurm node.
          ...(site.distribution.type === 'hpk' ? { type: 'local', node: HPK_NODE_NAME } : { type: v.type }),
          ...(v.server ? { server: v.server } : {}),
          path: v.path,
          readOnly: v.readOnly,
          size: v.size,
          ...(v.mountOptions.length ? { mountOptions: v.mountOptions } : {}),
        })),
      }),
    });
    return releases;
  },
});
