// Shared HPC storage exposed to each environment: a PersistentVolume + PersistentVolumeClaim per
// spec.storage.volumes entry, pre-bound to each other. NFS through csi-driver-nfs (or the in-tree
// plugin); hostPath for parallel filesystems (Lustre, GPFS, ...) mounted on every node.
import { Type } from '@sinclair/typebox';
import { Enabled, OneOf, ChartVersion } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { BUSYBOX_IMAGE, helmObject } from './labels.ts';
import { assetTree } from '../render/assets.ts';
import type { SiteModel } from '../model/site.ts';
import { nodeDistribution } from '../model/distribution.ts';
import { KUBESPRAY_PATHS } from '../model/kubespray.ts';
import { HPK_NODE_NAME } from '../model/hpk.ts';
import type { RuleContext } from '../spec/rules.ts';
import { isString, list } from '../spec/guards.ts';
import { show } from '../spec/diagnostics.ts';
import { tolerationFor } from '../model/taints.ts';
import { toYaml } from '../render/files.ts';

export const NFS_CSI_DRIVER = 'nfs.csi.k8s.io';

/** A StorageClass of the site inside a range over classes (name, default), up to its provisioner. */
function storageClassHead(provisioner: string): string {
  return `${helmObject('storage.k8s.io/v1', 'StorageClass', { name: '{{ .name | quote }}', inRange: true })}
  {{- if .default }}
  annotations:
    storageclass.kubernetes.io/is-default-class: "true"
  {{- end }}
provisioner: ${provisioner}`;
}

/** Rancher's local-path-provisioner: its provisioner name, image (pinned) and the directory of a class without a path. */
export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
const LOCAL_PATH_IMAGE = 'docker.io/rancher/local-path-provisioner:v0.0.37';
const LOCAL_PATH_DEFAULT_DIR = '/var/lib/siteforge/local-path';
const LOCAL_PATH_NAMESPACE = 'local-path-storage';

/** The provisioner and its RBAC (what it reads and the helper pods it starts), its configuration and the localPath classes. */
const LOCAL_PATH_TEMPLATE = `${helmObject('v1', 'ServiceAccount', { name: 'local-path-provisioner', namespace: '{{ .Release.Namespace | quote }}' })}
---
# The helper pods that make and remove each volume's directory run in this namespace.
${helmObject('rbac.authorization.k8s.io/v1', 'Role', { name: 'local-path-provisioner', namespace: '{{ .Release.Namespace | quote }}' })}
rules:
  - apiGroups: [""]
    resources: [pods]
    verbs: [get, list, watch, create, patch, update, delete]
---
${helmObject('rbac.authorization.k8s.io/v1', 'RoleBinding', { name: 'local-path-provisioner', namespace: '{{ .Release.Namespace | quote }}' })}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: local-path-provisioner
subjects:
  - kind: ServiceAccount
    name: local-path-provisioner
    namespace: {{ .Release.Namespace | quote }}
---
${helmObject('rbac.authorization.k8s.io/v1', 'ClusterRole', { name: 'siteforge-local-path-provisioner' })}
rules:
  - apiGroups: [""]
    resources: [nodes, persistentvolumeclaims, configmaps, pods, pods/log]
    verbs: [get, list, watch]
  - apiGroups: [""]
    resources: [persistentvolumes]
    verbs: [get, list, watch, create, patch, update, delete]
  - apiGroups: [""]
    resources: [events]
    verbs: [create, patch]
  - apiGroups: [storage.k8s.io]
    resources: [storageclasses]
    verbs: [get, list, watch]
---
${helmObject('rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', { name: 'siteforge-local-path-provisioner' })}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: siteforge-local-path-provisioner
subjects:
  - kind: ServiceAccount
    name: local-path-provisioner
    namespace: {{ .Release.Namespace | quote }}
---
${helmObject('v1', 'ConfigMap', { name: 'local-path-config', namespace: '{{ .Release.Namespace | quote }}' })}
data:
  {{- range $file, $text := .Values.localPath.files }}
  {{ $file }}: {{ $text | quote }}
  {{- end }}
---
${helmObject('apps/v1', 'Deployment', { name: 'local-path-provisioner', namespace: '{{ .Release.Namespace | quote }}' })}
spec:
  replicas: 1
  selector:
    matchLabels:
      app.kubernetes.io/name: local-path-provisioner
  template:
    metadata:
      labels:
        app.kubernetes.io/name: local-path-provisioner
      annotations:
        checksum/config: {{ toJson .Values.localPath.files | sha256sum | quote }}
    spec:
      serviceAccountName: local-path-provisioner
      {{- with .Values.localPath.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: local-path-provisioner
          image: {{ .Values.localPath.image | quote }}
          command: [local-path-provisioner, start, --config, /etc/config/config.json]
          env:
            - name: POD_NAMESPACE
              valueFrom:
                fieldRef:
                  fieldPath: metadata.namespace
            - name: CONFIG_MOUNT_PATH
              value: /etc/config/
          resources:
            requests:
              cpu: 10m
              memory: 32Mi
            limits:
              memory: 128Mi
          volumeMounts:
            - name: config
              mountPath: /etc/config/
              readOnly: true
      volumes:
        - name: config
          configMap:
            name: local-path-config
{{- range .Values.localPath.classes }}
---
${storageClassHead(LOCAL_PATH_PROVISIONER)}
# The volume's node is the pod's: the claim binds when its first pod is scheduled.
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: {{ .reclaimPolicy }}
{{- end }}
`;

const LOCAL_PATH_SCHEMA = {
  type: 'object',
  required: ['localPath'],
  additionalProperties: false,
  properties: {
    localPath: {
      type: 'object',
      required: ['image', 'files', 'classes'],
      additionalProperties: false,
      properties: {
        image: { type: 'string' },
        tolerations: { type: 'array' },
        files: { type: 'object', additionalProperties: { type: 'string' } },
        classes: { type: 'array', items: { type: 'object', required: ['name', 'reclaimPolicy', 'default'], additionalProperties: false, properties: { name: { type: 'string' }, reclaimPolicy: { enum: ['Retain', 'Delete'] }, default: { type: 'boolean' } } } },
      },
    },
  },
};

/**
 * local-path-provisioner's configuration (its config.json, the helper pod's setup and teardown
 * scripts, the helper pod): each localPath class keeps its volumes under its own path
 * (storageClassConfigs, with nodePathMap left empty as the provisioner requires then).
 */
export function localPathFiles(site: SiteModel): Record<string, string> {
  const classes = site.storageClasses.filter((c) => c.type === 'localPath');
  const config = {
    nodePathMap: [],
    storageClassConfigs: Object.fromEntries(classes.map((c) => [c.name, { nodePathMap: [{ node: 'DEFAULT_PATH_FOR_NON_LISTED_NODES', paths: [c.path ?? LOCAL_PATH_DEFAULT_DIR] }] }])),
  };
  const script = (name: string) => assetTree('storage').find((f) => f.path === name)!.content;
  const helperPod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'helper-pod' },
    spec: {
      priorityClassName: 'system-node-critical',
      tolerations: [{ key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' }, ...site.clusterTolerations.map(tolerationFor)],
      containers: [{ name: 'helper-pod', image: BUSYBOX_IMAGE, imagePullPolicy: 'IfNotPresent' }],
    },
  };
  return { 'config.json': `${JSON.stringify(config, null, 2)}\n`, setup: script('local-path-setup.sh'), teardown: script('local-path-teardown.sh'), 'helperPod.yaml': toYaml(helperPod) };
}

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
${storageClassHead(NFS_CSI_DRIVER)}
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
    const localClasses = site.storageClasses.filter((c) => c.type === 'localPath');
    if (localClasses.length) {
      releases.push({
        name: 'local-path-provisioner',
        layer: 'operators',
        description: `Rancher's local-path-provisioner and the StorageClasses ${localClasses.map((c) => c.name).join(', ')}: a directory per volume on the pod's node`,
        scope: 'cluster',
        namespace: LOCAL_PATH_NAMESPACE,
        values: {
          localPath: {
            image: LOCAL_PATH_IMAGE,
            ...(site.clusterTolerations.length ? { tolerations: site.clusterTolerations.map(tolerationFor) } : {}),
            files: localPathFiles(site),
            classes: localClasses.map((c) => ({ name: c.name, reclaimPolicy: c.reclaimPolicy, default: c.default })),
          },
        },
        valuesSchema: LOCAL_PATH_SCHEMA,
        templates: { 'local-path.yaml': LOCAL_PATH_TEMPLATE },
        images: [LOCAL_PATH_IMAGE, BUSYBOX_IMAGE],
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
