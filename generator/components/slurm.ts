// The Slurm control plane in pods (Sandia): slurmctld and slurmdbd in one pod (as on a classic
// head node: one host name, one address), with munged beside them, the controller's state on a
// persistent volume, and MariaDB on its own for accounting. slurm.conf, cgroup.conf, gres.conf and
// slurmdbd.conf come from the spec; the compute nodes (outside Kubernetes) run slurmd
// `--conf-server <hostname>` and get the configuration from slurmctld (configless). The munge key
// and the database passwords are generated once and SOPS-encrypted. slurmctld (6817) and slurmdbd
// (6819, for sacct and sacctmgr on the login nodes) are on one MetalLB address with a DNS name.
//
// No chart of a maintained project fits here: the Slinky project's charts run Slurm through its
// operator and CRDs, with slurmd in pods, while these nodes are bare-metal ones outside Kubernetes;
// so this is a wrapper chart of siteforge's own, with the Slurm image the site builds.
import { Type } from '@sinclair/typebox';
import { CronSchedule, DnsLabel, DnsSubdomain, Enabled, ImageReference, imagePin, Ipv4, OneOf, Quantity, SlurmHostlist, SlurmName, SlurmTime, UserName } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { helmLoadBalancerService, helmObject, helmScriptCronJob, helmUnprivilegedStatefulSet, RESTRICTED_CONTAINER_SECURITY, restrictedContainerSecurity } from './labels.ts';
import { PoolChoice, reportAddressOutsidePools, reportUnknownPool } from './metallb.ts';
import { requireStorageClass, storageClassFor } from './storage.ts';
import { random, sopsPlaceholder, type SecretDef } from '../secrets/types.ts';
import { cronProblem } from '../spec/rules.ts';
import { assetTree } from '../render/assets.ts';
import { MUNGE_SECRET_DIR, MUNGE_SOCKET, MUNGE_SOCKET_DIR, mungedScript } from './munge.ts';
import { show } from '../spec/diagnostics.ts';
import { isString, list } from '../spec/guards.ts';
import { tolerationFor } from '../model/taints.ts';
import type { SiteModel } from '../model/site.ts';

/** MariaDB, the LTS series at the pin (official image: runs as mysql, uid 999). */
export const MARIADB_IMAGE = 'docker.io/library/mariadb:11.4.8';
const MARIADB_UID = 999;
export const SLURMCTLD_PORT = 6817;
export const SLURMD_PORT = 6818;
export const SLURMDBD_PORT = 6819;
const MARIADB_PORT = 3306;
/** The pod slurmctld and slurmdbd share: its host name is what SlurmctldHost and DbdHost name. */
export const CONTROLLER = 'slurm-controller';
export const CONTROLLER_HOST = `${CONTROLLER}-0`;
export const DATABASE = 'slurm-db';
export const MUNGE_KEY_SECRET = 'slurm-munge-key';
export const DATABASE_SECRET = 'slurm-database';
export const LDAP_SECRET = 'slurm-ldap';
/** The accounting sync's client configuration (sacctmgr reaches slurmdbd through the Service, inside the cluster). */
export const SYNC_CONF_DIR = '/etc/slurm-sync';
export const SLURM_NAMESPACE = 'slurm';
const ACCOUNTING_DB = 'slurm_acct_db';
/** Where the daemons read their configuration (SLURM_CONF's directory: slurmdbd.conf sits beside slurm.conf). */
export const SLURM_CONF_DIR = '/etc/slurm';
/** Where the ConfigMap is mounted; the config init container copies it to SLURM_CONF_DIR. */
export const SLURM_CONF_SOURCE = '/etc/slurm-siteforge';
export const STATE_DIR = '/var/spool/slurmctld';

const ENFORCE = ['associations', 'limits', 'qos', 'safe', 'wckeys', 'nojobs', 'nosteps'] as const;

const NodeSet = Type.Object(
  {
    name: SlurmName({ description: 'The node set\'s name (slurm.conf NodeSet), which partitions list.' }),
    nodes: SlurmHostlist({ description: 'Its nodes, as a Slurm host list (cn[001-128]); each name must resolve (DNS) to the node\'s address for slurmctld.' }),
    cpus: Type.Integer({ minimum: 1, maximum: 100000, description: 'CPUs per node (slurm.conf CPUs).' }),
    sockets: Type.Optional(Type.Integer({ minimum: 1, maximum: 64, description: 'Sockets per node (Sockets; with coresPerSocket and threadsPerCore).' })),
    coresPerSocket: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024, description: 'Cores per socket (CoresPerSocket).' })),
    threadsPerCore: Type.Optional(Type.Integer({ minimum: 1, maximum: 8, description: 'Hardware threads per core (ThreadsPerCore).' })),
    realMemory: Type.Integer({ minimum: 1, maximum: 1_000_000_000, description: 'Memory per node Slurm may allocate, in MiB (RealMemory): a little below what the node has.' }),
    gpus: Type.Optional(
      Type.Object(
        {
          count: Type.Integer({ minimum: 1, maximum: 64, description: 'GPUs per node (Gres=gpu:<type>:<count>; gres.conf File=/dev/nvidia[0-<count-1>]).' }),
          type: Type.Optional(SlurmName({ description: 'GPU type users ask for (--gres=gpu:<type>:1), e.g. a100.' })),
        },
        { additionalProperties: false, description: 'The GPUs of each node (GRES).' },
      ),
    ),
    features: Type.Array(SlurmName(), { default: [], description: 'Node features users select with --constraint.' }),
  },
  { additionalProperties: false },
);

const Partition = Type.Object(
  {
    name: SlurmName({ description: 'Partition name (sbatch --partition).' }),
    nodeSets: Type.Array(SlurmName(), { minItems: 1, description: 'The node sets (names above) whose nodes are in it.' }),
    default: Type.Boolean({ default: false, description: 'The partition jobs go to without --partition (at most one).' }),
    maxTime: SlurmTime({ unlimited: true, default: 'UNLIMITED', description: 'Longest time limit a job may ask for (MaxTime).' }),
    defaultTime: Type.Optional(SlurmTime({ description: 'Time limit of a job that asks for none (DefaultTime).' })),
  },
  { additionalProperties: false },
);

export type SlurmSettings = {
  clusterName?: string;
  image?: string;
  databaseDaemonImage?: string;
  databaseImage: string;
  slurmUser: { name: string; uid: number };
  hostname?: string;
  loadBalancerIP?: string;
  pool?: string;
  storageClass?: string;
  stateSize: string;
  databaseSize: string;
  cgroups: boolean;
  accountingEnforce: readonly string[];
  purgeAfterMonths?: number;
  accountingSync: { enabled: boolean; schedule: string; groups: readonly string[]; memberAttribute: 'memberUid' | 'member'; prune: boolean };
  nodeSets: readonly { name: string; nodes: string; cpus: number; sockets?: number; coresPerSocket?: number; threadsPerCore?: number; realMemory: number; gpus?: { count: number; type?: string }; features: readonly string[] }[];
  partitions: readonly { name: string; nodeSets: readonly string[]; default: boolean; maxTime: string; defaultTime?: string }[];
};

/**
 * The node names of a Slurm host list (cn[001-003],gn1 → cn001, cn002, cn003, gn1), keeping the
 * ranges' zero padding; at most `limit` names (a larger list is cut there).
 */
export function expandHostlist(hostlist: string, limit = 200_000): string[] {
  const out: string[] = [];
  for (const [, prefix, ranges, suffix] of hostlist.matchAll(/([a-z0-9][a-z0-9-]*)(?:\[([0-9,-]+)\]([a-z0-9-]*))?(?:,|$)/g)) {
    if (ranges === undefined) {
      out.push(prefix!);
      continue;
    }
    for (const range of ranges.split(',')) {
      const [from, to = from] = range.split('-') as [string, string?];
      for (let k = Number(from); k <= Number(to) && out.length < limit; k++) out.push(`${prefix}${String(k).padStart(from.length, '0')}${suffix}`);
    }
    if (out.length >= limit) break;
  }
  return out;
}

/** The Slurm cluster name: the spec's, else the site's. */
export const slurmClusterName = (site: SiteModel, s: { clusterName?: string }) => s.clusterName ?? site.name;

/**
 * slurm.conf: the controller in the pod CONTROLLER_HOST, reached at `hostname` (the MetalLB
 * address's DNS name), serving this file to the nodes (configless); accounting through slurmdbd at
 * the same name; the spec's nodes, node sets and partitions. Every value is a validated name,
 * number or host list, so nothing in it is slurm.conf syntax of its own.
 */
export function slurmConf(clusterName: string, s: SlurmSettings): string {
  const cgroups = s.cgroups;
  const gpus = s.nodeSets.some((n) => n.gpus);
  return [
    `# slurm.conf of ${clusterName} (siteforge). slurmctld serves it to the nodes: slurmd --conf-server ${s.hostname}:${SLURMCTLD_PORT}.`,
    `ClusterName=${clusterName}`,
    `SlurmctldHost=${CONTROLLER_HOST}(${s.hostname})`,
    `SlurmctldPort=${SLURMCTLD_PORT}`,
    `SlurmdPort=${SLURMD_PORT}`,
    'SlurmctldParameters=enable_configless',
    `SlurmUser=${s.slurmUser.name}`,
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `StateSaveLocation=${STATE_DIR}`,
    'SlurmdSpoolDir=/var/spool/slurmd',
    'SlurmctldPidFile=/run/slurmctld/slurmctld.pid',
    'SlurmdPidFile=/run/slurmd.pid',
    'SlurmdLogFile=/var/log/slurm/slurmd.log',
    'MpiDefault=none',
    'ReturnToService=2',
    'SlurmctldTimeout=120',
    'SlurmdTimeout=300',
    'MinJobAge=300',
    'KillWait=30',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core_Memory',
    ...(cgroups
      ? ['ProctrackType=proctrack/cgroup', 'TaskPlugin=task/cgroup,task/affinity', 'JobAcctGatherType=jobacct_gather/cgroup']
      : ['ProctrackType=proctrack/linuxproc', 'TaskPlugin=task/affinity', 'JobAcctGatherType=jobacct_gather/linux']),
    'AccountingStorageType=accounting_storage/slurmdbd',
    `AccountingStorageHost=${s.hostname}`,
    `AccountingStoragePort=${SLURMDBD_PORT}`,
    ...(s.accountingEnforce.length ? [`AccountingStorageEnforce=${s.accountingEnforce.join(',')}`] : []),
    ...(gpus ? ['GresTypes=gpu', 'AccountingStorageTRES=gres/gpu'] : []),
    'JobCompType=jobcomp/none',
    ...s.nodeSets.map((n) =>
      [
        `NodeName=${n.nodes}`,
        `CPUs=${n.cpus}`,
        ...(n.sockets ? [`Sockets=${n.sockets}`] : []),
        ...(n.coresPerSocket ? [`CoresPerSocket=${n.coresPerSocket}`] : []),
        ...(n.threadsPerCore ? [`ThreadsPerCore=${n.threadsPerCore}`] : []),
        `RealMemory=${n.realMemory}`,
        ...(n.gpus ? [`Gres=gpu:${n.gpus.type ? `${n.gpus.type}:` : ''}${n.gpus.count}`] : []),
        ...(n.features.length ? [`Features=${n.features.join(',')}`] : []),
        'State=UNKNOWN',
      ].join(' '),
    ),
    ...s.nodeSets.map((n) => `NodeSet=${n.name} Nodes=${n.nodes}`),
    ...s.partitions.map((p) =>
      [`PartitionName=${p.name}`, `Nodes=${p.nodeSets.join(',')}`, ...(p.default ? ['Default=YES'] : []), `MaxTime=${p.maxTime}`, ...(p.defaultTime ? [`DefaultTime=${p.defaultTime}`] : []), 'State=UP'].join(' '),
    ),
    '',
  ].join('\n');
}

/** cgroup.conf (served with slurm.conf): jobs confined to the cores, memory and devices they were given. */
export function cgroupConf(): string {
  return ['CgroupPlugin=autodetect', 'ConstrainCores=yes', 'ConstrainRAMSpace=yes', 'ConstrainDevices=yes', ''].join('\n');
}

/** gres.conf (served with slurm.conf): each GPU node's NVIDIA device files. */
export function gresConf(s: SlurmSettings): string {
  return [
    'AutoDetect=off',
    ...s.nodeSets.flatMap((n) => (n.gpus ? [`NodeName=${n.nodes} Name=gpu${n.gpus.type ? ` Type=${n.gpus.type}` : ''} File=/dev/nvidia${n.gpus.count === 1 ? '0' : `[0-${n.gpus.count - 1}]`}`] : [])),
    '',
  ].join('\n');
}

/** slurmdbd.conf without the database password (the config init container appends StoragePass from the Secret). */
export function slurmdbdConf(s: SlurmSettings): string {
  const purge = s.purgeAfterMonths ? ['Event', 'Job', 'Resv', 'Step', 'Suspend', 'TXN', 'Usage'].map((what) => `Purge${what}After=${s.purgeAfterMonths}months`) : [];
  return [
    `DbdHost=${CONTROLLER_HOST}`,
    `DbdPort=${SLURMDBD_PORT}`,
    `SlurmUser=${s.slurmUser.name}`,
    'AuthType=auth/munge',
    'PidFile=/run/slurmdbd/slurmdbd.pid',
    'StorageType=accounting_storage/mysql',
    `StorageHost=${DATABASE}`,
    `StoragePort=${MARIADB_PORT}`,
    'StorageUser=slurm',
    `StorageLoc=${ACCOUNTING_DB}`,
    ...purge,
    '',
  ].join('\n');
}

/**
 * The accounting sync's slurm.conf: enough for sacctmgr, which talks to slurmdbd only, through the
 * controller's Service inside the cluster.
 */
export function syncClientConf(clusterName: string): string {
  return [
    `ClusterName=${clusterName}`,
    `SlurmctldHost=${CONTROLLER_HOST}(${CONTROLLER})`,
    'AuthType=auth/munge',
    'AccountingStorageType=accounting_storage/slurmdbd',
    `AccountingStorageHost=${CONTROLLER}`,
    `AccountingStoragePort=${SLURMDBD_PORT}`,
    '',
  ].join('\n');
}

/** The accounting sync script (assets/slurm/accounting-sync.sh). */
export const accountingSyncScript = () => assetTree('slurm').find((f) => f.path === 'accounting-sync.sh')!.content;

/** The files the controller pod gets (ConfigMap keys); slurmdbd.conf.in becomes slurmdbd.conf with the password. */
export function controllerConfigFiles(clusterName: string, s: SlurmSettings): Record<string, string> {
  return {
    'slurm.conf': slurmConf(clusterName, s),
    ...(s.cgroups ? { 'cgroup.conf': cgroupConf() } : {}),
    ...(s.nodeSets.some((n) => n.gpus) ? { 'gres.conf': gresConf(s) } : {}),
    'slurmdbd.conf.in': slurmdbdConf(s),
  };
}

/**
 * The config init container's script: the spec's files into SLURM_CONF_DIR, and slurmdbd.conf
 * with the database password from the Secret, readable by the Slurm user only (slurmdbd refuses
 * anything else).
 */
export const CONFIG_SCRIPT = [
  'set -eu',
  `for f in ${SLURM_CONF_SOURCE}/*.conf; do cp "$f" ${SLURM_CONF_DIR}/; done`,
  'umask 077',
  `{ cat ${SLURM_CONF_SOURCE}/slurmdbd.conf.in; printf 'StoragePass=%s\\n' "$STORAGE_PASS"; } > ${SLURM_CONF_DIR}/slurmdbd.conf`,
].join('\n');

/** munged, unprivileged: its key, pid and seed files in the memory-backed munge-key volume. */
export const MUNGED_SCRIPT = mungedScript('/run/munge-key', true);

const MARIADB_SECURITY = `            allowPrivilegeEscalation: false
            capabilities:
              drop: ["ALL"]`;

const TEMPLATE = `{{- define "slurm.munged" }}
- name: munged
  image: {{ .Values.image | quote }}
  restartPolicy: Always
  command: ["sh", "-c", {{ .Values.mungedScript | quote }}]
  startupProbe:
    exec:
      command: ["test", "-S", "${MUNGE_SOCKET}"]
    periodSeconds: 2
    failureThreshold: 30
  securityContext:
${restrictedContainerSecurity(4)}
  resources:
    requests:
      cpu: 10m
      memory: 16Mi
    limits:
      memory: 64Mi
  volumeMounts:
    - name: munge-secret
      mountPath: ${MUNGE_SECRET_DIR}
      readOnly: true
    - name: munge-key
      mountPath: /run/munge-key
    - name: munge-run
      mountPath: ${MUNGE_SOCKET_DIR}
{{- end }}
{{- define "slurm.mungeVolumes" }}
- name: munge-secret
  secret:
    secretName: ${MUNGE_KEY_SECRET}
    defaultMode: 0400
- name: munge-key
  emptyDir:
    medium: Memory
- name: munge-run
  emptyDir: {}
{{- end }}
${helmObject('v1', 'ConfigMap', { name: 'slurm-config', namespace: '{{ .Release.Namespace | quote }}' })}
data:
  {{- range $file, $text := .Values.config }}
  {{ $file }}: {{ $text | quote }}
  {{- end }}
---
${helmUnprivilegedStatefulSet(CONTROLLER, { state: { size: '.Values.stateSize' } }, { checksum: '.Values.config | toJson' })}
      # The controller's DNS name is this pod inside it: slurmctld reaches slurmdbd (AccountingStorageHost) without leaving the pod.
      hostAliases:
        - ip: 127.0.0.1
          hostnames: [{{ .Values.hostname | quote }}]
      terminationGracePeriodSeconds: 60
      initContainers:
        - name: config
          image: {{ .Values.image | quote }}
          command: ["sh", "-c", {{ .Values.configScript | quote }}]
          env:
            - name: STORAGE_PASS
              valueFrom:
                secretKeyRef:
                  name: ${DATABASE_SECRET}
                  key: password
          securityContext:
${RESTRICTED_CONTAINER_SECURITY}
          volumeMounts:
            - name: config-source
              mountPath: ${SLURM_CONF_SOURCE}
              readOnly: true
            - name: config
              mountPath: ${SLURM_CONF_DIR}
        # munged beside the daemons for as long as the pod runs (a sidecar: started first, stopped last).
        {{- include "slurm.munged" . | nindent 8 }}
      containers:
        - name: slurmctld
          image: {{ .Values.image | quote }}
          command: ["slurmctld", "-D", "-f", "${SLURM_CONF_DIR}/slurm.conf"]
          env:
            - name: SLURM_CONF
              value: ${SLURM_CONF_DIR}/slurm.conf
          ports:
            - name: slurmctld
              containerPort: ${SLURMCTLD_PORT}
          readinessProbe:
            tcpSocket:
              port: slurmctld
          securityContext:
${RESTRICTED_CONTAINER_SECURITY}
          resources:
            requests:
              cpu: 500m
              memory: 1Gi
            limits:
              memory: 8Gi
          volumeMounts:
            - name: config
              mountPath: ${SLURM_CONF_DIR}
              readOnly: true
            - name: munge-run
              mountPath: ${MUNGE_SOCKET_DIR}
            - name: state
              mountPath: ${STATE_DIR}
            - name: run-slurmctld
              mountPath: /run/slurmctld
            - name: tmp
              mountPath: /tmp
        - name: slurmdbd
          image: {{ .Values.databaseDaemonImage | quote }}
          command: ["slurmdbd", "-D"]
          env:
            - name: SLURM_CONF
              value: ${SLURM_CONF_DIR}/slurm.conf
          ports:
            - name: slurmdbd
              containerPort: ${SLURMDBD_PORT}
          readinessProbe:
            tcpSocket:
              port: slurmdbd
          securityContext:
${RESTRICTED_CONTAINER_SECURITY}
          resources:
            requests:
              cpu: 100m
              memory: 256Mi
            limits:
              memory: 2Gi
          volumeMounts:
            - name: config
              mountPath: ${SLURM_CONF_DIR}
              readOnly: true
            - name: munge-run
              mountPath: ${MUNGE_SOCKET_DIR}
            - name: run-slurmdbd
              mountPath: /run/slurmdbd
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: config-source
          configMap:
            name: slurm-config
        - name: config
          emptyDir: {}
        {{- include "slurm.mungeVolumes" . | nindent 8 }}
        - name: run-slurmctld
          emptyDir: {}
        - name: run-slurmdbd
          emptyDir: {}
        - name: tmp
          emptyDir: {}
---
${helmLoadBalancerService(CONTROLLER, 'slurmctld answers srun and salloc at the address they connected from.')}
  ports:
    - name: slurmctld
      port: ${SLURMCTLD_PORT}
      targetPort: slurmctld
      protocol: TCP
    - name: slurmdbd
      port: ${SLURMDBD_PORT}
      targetPort: slurmdbd
      protocol: TCP
---
${helmUnprivilegedStatefulSet(DATABASE, { data: { size: '.Values.databaseSize' } }, { uid: '.Values.databaseUid', checksum: '.Values.databaseArgs | toJson' })}
      containers:
        - name: mariadb
          image: {{ .Values.databaseImage | quote }}
          args:
            {{- toYaml .Values.databaseArgs | nindent 12 }}
          env:
            - name: MARIADB_DATABASE
              value: ${ACCOUNTING_DB}
            - name: MARIADB_USER
              value: slurm
            - name: MARIADB_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: ${DATABASE_SECRET}
                  key: password
            - name: MARIADB_ROOT_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: ${DATABASE_SECRET}
                  key: root-password
            # A newer image upgrades the system tables on its first start.
            - name: MARIADB_AUTO_UPGRADE
              value: "1"
          ports:
            - name: mysql
              containerPort: ${MARIADB_PORT}
          readinessProbe:
            tcpSocket:
              port: mysql
          # The image's entry point initialises and upgrades the database in place: its root file system stays writable.
          securityContext:
${MARIADB_SECURITY}
          resources:
            requests:
              cpu: 250m
              memory: 1536Mi
            limits:
              memory: 4Gi
          volumeMounts:
            - name: data
              mountPath: /var/lib/mysql
            - name: run
              mountPath: /run/mysqld
            - name: tmp
              mountPath: /tmp
      volumes:
        - name: run
          emptyDir: {}
        - name: tmp
          emptyDir: {}
---
${helmObject('v1', 'Service', { name: DATABASE, namespace: '{{ .Release.Namespace | quote }}' })}
spec:
  selector:
    app.kubernetes.io/name: ${DATABASE}
  ports:
    - name: mysql
      port: ${MARIADB_PORT}
      targetPort: mysql
      protocol: TCP
---
# Only slurmdbd talks to the accounting database.
${helmObject('networking.k8s.io/v1', 'NetworkPolicy', { name: DATABASE, namespace: '{{ .Release.Namespace | quote }}' })}
spec:
  podSelector:
    matchLabels:
      app.kubernetes.io/name: ${DATABASE}
  policyTypes: [Ingress]
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app.kubernetes.io/name: ${CONTROLLER}
      ports:
        - port: ${MARIADB_PORT}
          protocol: TCP
{{- with .Values.accountingSync }}
---
${helmScriptCronJob('slurm-accounting-sync', { comment: 'Slurm accounts and users from the LDAP groups, as the Slurm user (slurmdbd\'s administrator).', backoffLimit: 2, deadlineSeconds: 900 })}
          securityContext:
            runAsNonRoot: true
            runAsUser: {{ $.Values.uid }}
            runAsGroup: {{ $.Values.uid }}
            fsGroup: {{ $.Values.uid }}
            seccompProfile:
              type: RuntimeDefault
          {{- with $.Values.tolerations }}
          tolerations:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          initContainers:
            {{- include "slurm.munged" $ | nindent 12 }}
          containers:
            - name: sync
              image: {{ $.Values.image | quote }}
              command: ["sh", "${SYNC_CONF_DIR}/accounting-sync.sh"]
              env:
                - name: SLURM_CONF
                  value: ${SYNC_CONF_DIR}/slurm.conf
                {{- range $name, $value := .env }}
                - name: {{ $name }}
                  value: {{ $value | quote }}
                {{- end }}
              securityContext:
${restrictedContainerSecurity(20)}
              resources:
                requests:
                  cpu: 50m
                  memory: 64Mi
                limits:
                  memory: 256Mi
              volumeMounts:
                - name: sync-config
                  mountPath: ${SYNC_CONF_DIR}
                  readOnly: true
                - name: munge-run
                  mountPath: ${MUNGE_SOCKET_DIR}
                {{- if .ldapSecret }}
                - name: ldap-secret
                  mountPath: /etc/ldap-secret
                  readOnly: true
                {{- end }}
          volumes:
            - name: sync-config
              configMap:
                name: slurm-accounting-sync
            {{- include "slurm.mungeVolumes" $ | nindent 12 }}
            {{- with .ldapSecret }}
            - name: ldap-secret
              secret:
                secretName: {{ . }}
                defaultMode: 0400
            {{- end }}
{{- end }}
`;

/** MariaDB's settings for slurmdbd (Slurm's accounting guide: a large buffer pool, long lock waits). */
export const DATABASE_ARGS = ['--innodb-buffer-pool-size=1G', '--innodb-log-file-size=64M', '--innodb-lock-wait-timeout=900', '--max-allowed-packet=16M'];

export const slurm = defineComponent({
  name: 'slurm',
  title: 'Slurm control plane in pods: slurmctld and slurmdbd with MariaDB, configless for the compute nodes, on a MetalLB address',
  dependsOn: ['namespaces', 'metallb', 'storage', 'externalDns'],
  requires: ['metallb'],
  notUnderHpk: 'HPK runs the cluster inside a Slurm allocation: the Slurm it would control is already there, and slurmctld needs a LoadBalancer address the nodes reach',
  settings: Type.Object(
    {
      enabled: Enabled(false),
      clusterName: Type.Optional(DnsLabel({ description: 'The Slurm cluster name (ClusterName; default: the site name). Fixed once accounting holds jobs.' })),
      image: Type.Optional(
        ImageReference({ description: 'The site\'s Slurm image, pinned: slurmctld, slurmdbd, the Slurm client, munged, sh and base64, with the Slurm user of slurmUser. Required. Run the same Slurm release (or slurmdbd newer) as the nodes.' }),
      ),
      databaseDaemonImage: Type.Optional(ImageReference({ description: 'A separate image for slurmdbd (default: image), e.g. to upgrade slurmdbd first, as Slurm\'s upgrade order asks.' })),
      databaseImage: ImageReference({ default: MARIADB_IMAGE, description: 'The accounting database: MariaDB\'s official image (or one that reads the same MARIADB_* variables).' }),
      slurmUser: Type.Object(
        {
          name: UserName({ default: 'slurm', description: 'SlurmUser: the account slurmctld and slurmdbd run as, as the image names it.' }),
          uid: Type.Integer({ minimum: 1, maximum: 2147483647, default: 401, description: 'Its uid in the image (the pods run as it).' }),
        },
        { additionalProperties: false, default: {}, description: 'The unprivileged user the daemons run as.' },
      ),
      hostname: Type.Optional(DnsSubdomain({ description: 'The controller\'s DNS name (e.g. slurm.hpc4.example.edu), pointing at loadBalancerIP: slurmd on the nodes and the clients reach slurmctld and slurmdbd by it. Required.' })),
      loadBalancerIP: Type.Optional(Ipv4({ description: 'The controller\'s address (inside a MetalLB pool), which hostname names. Required: the nodes\' slurmd must find it after every restart.' })),
      pool: PoolChoice(),
      storageClass: Type.Optional(DnsSubdomain({ description: 'StorageClass of the controller state and database volumes (default: the site\'s default class); block storage suits MariaDB better than NFS.' })),
      stateSize: Quantity({ default: '10Gi', description: 'Size of slurmctld\'s state volume (StateSaveLocation: the queue, job scripts).' }),
      databaseSize: Quantity({ default: '50Gi', description: 'Size of the accounting database volume.' }),
      cgroups: Type.Boolean({ default: true, description: 'Confine jobs with cgroups on the nodes (proctrack/cgroup, task/cgroup, cgroup.conf); false: linuxproc, for nodes without cgroup support.' }),
      accountingEnforce: Type.Array(OneOf(ENFORCE), {
        default: ['associations', 'limits', 'qos', 'safe'],
        description: 'AccountingStorageEnforce: with associations, only users added to an account (sacctmgr) can run jobs.',
      }),
      purgeAfterMonths: Type.Optional(Type.Integer({ minimum: 1, maximum: 1200, description: 'Months of accounting records slurmdbd keeps (all Purge*After; default: kept for ever).' })),
      accountingSync: Type.Object(
        {
          enabled: Type.Boolean({ default: false, description: 'Keep Slurm accounts and users in step with LDAP groups (a CronJob running sacctmgr).' }),
          schedule: CronSchedule({ default: '*/15 * * * *', description: 'When it runs.' }),
          groups: Type.Array(Type.String({ pattern: '^[a-z_][a-z0-9_.-]{0,63}$', expected: 'an LDAP group name (cn) Slurm takes as an account name, such as hpc-users', description: 'An LDAP group.' }), {
            default: [],
            description: 'LDAP groups (cn, under spec.identity.ldap.groupBase) that become Slurm accounts of the same name, their members users of that account.',
          }),
          memberAttribute: OneOf(['memberUid', 'member'], { default: 'memberUid', description: 'How groups list members: memberUid (RFC 2307 posixGroup: login names) or member (DNs, whose userAttribute is the login name).' }),
          prune: Type.Boolean({ default: false, description: 'Remove a user\'s association with an account when they leave its group.' }),
        },
        { additionalProperties: false, default: {}, description: 'Slurm accounting from the site\'s LDAP (spec.identity.ldap).' },
      ),
      nodeSets: Type.Array(NodeSet, { default: [], description: 'The compute nodes, in sets of alike nodes (slurm.conf NodeName and NodeSet).' }),
      partitions: Type.Array(Partition, { default: [], description: 'The partitions (queues), each over node sets.' }),
    },
    { additionalProperties: false },
  ),
  check(ctx, settings) {
    const at = ['spec', 'components', 'slurm'];
    const image = settings?.image;
    if (!isString(image)) {
      ctx.report('error', at, 'the Slurm control plane needs the site\'s Slurm image (slurmctld, slurmdbd and munged at the nodes\' Slurm release)', {
        expected: 'image: registry.example.edu/hpc/slurm:24.11.5',
        hint: 'build an image with the Slurm daemons of your release and munge, and set image',
      });
    }
    for (const key of ['image', 'databaseDaemonImage'] as const) {
      const value = settings?.[key];
      if (isString(value)) {
        const { tag, digest } = imagePin(value);
        if (tag === undefined && digest === undefined) ctx.report('error', [...at, key], `${show(value)} is not pinned: the controller must not change Slurm release on a restart`, { hint: 'pin a version tag or digest' });
      }
    }
    if (!isString(settings?.hostname)) {
      ctx.report('error', at, 'slurmd on the nodes and the clients reach the controller by name, and hostname is not set', { expected: 'hostname: slurm.hpc4.example.edu', hint: 'choose the controller\'s DNS name (point it at loadBalancerIP, or let externalDns publish it)' });
    }
    if (!isString(settings?.loadBalancerIP)) {
      ctx.report('error', at, 'the controller needs a fixed address the nodes reach, and loadBalancerIP is not set', { hint: 'choose an address in a MetalLB pool' });
    } else {
      reportAddressOutsidePools(ctx, [...at, 'loadBalancerIP'], settings.loadBalancerIP, isString(settings?.pool) ? settings.pool : undefined);
    }
    if (isString(settings?.pool)) reportUnknownPool(ctx, [...at, 'pool'], settings.pool);
    requireStorageClass(ctx, 'slurm', settings, 'the controller state and the accounting database');

    const sync = settings?.accountingSync as { enabled?: unknown; schedule?: unknown; groups?: unknown } | undefined;
    if (sync?.enabled === true) {
      const ldap = ctx.spec.spec?.identity?.ldap as { groupBase?: unknown } | undefined;
      if (!ldap) ctx.report('error', [...at, 'accountingSync'], 'the accounting sync reads LDAP groups, and spec.identity.ldap is not set', { hint: 'describe the directory under spec.identity.ldap (with groupBase)' });
      else if (!isString(ldap.groupBase)) ctx.report('error', [...at, 'accountingSync'], 'the accounting sync reads LDAP groups, and spec.identity.ldap.groupBase is not set', { expected: 'groupBase: ou=groups,dc=hpc,dc=example,dc=edu', hint: 'say where the groups are' });
      if (!list(sync.groups).length) ctx.report('error', [...at, 'accountingSync', 'groups'], 'the accounting sync has no LDAP groups to make accounts of', { expected: 'groups: [hpc-users]', hint: 'list the groups whose members may run jobs' });
      if (isString(sync.schedule)) {
        const problem = cronProblem(sync.schedule);
        if (problem) ctx.report('error', [...at, 'accountingSync', 'schedule'], `schedule ${show(sync.schedule)}: ${problem}`, { expected: 'five cron fields, e.g. "*/15 * * * *"' });
      }
    }
    const sets = list<any>(settings?.nodeSets);
    const parts = list<any>(settings?.partitions);
    if (!sets.length) ctx.report('error', [...at, 'nodeSets'], 'the Slurm cluster has no nodes', { expected: 'nodeSets: [{name: cpu, nodes: "cn[001-128]", cpus: 128, realMemory: 500000}]', hint: 'describe the compute nodes in node sets' });
    if (!parts.length) ctx.report('error', [...at, 'partitions'], 'the Slurm cluster has no partitions to submit to', { expected: 'partitions: [{name: batch, nodeSets: [cpu], default: true}]', hint: 'add at least one partition' });
    const setNames = sets.map((n) => n?.name);
    setNames.forEach((n, i) => {
      if (isString(n) && setNames.indexOf(n) !== i) ctx.report('error', [...at, 'nodeSets', i, 'name'], `node set ${show(n)} is listed twice`, { hint: 'each node set needs its own name' });
    });
    sets.forEach((n, i) => {
      const topology = [n?.sockets, n?.coresPerSocket, n?.threadsPerCore];
      if (topology.every((v) => typeof v === 'number') && typeof n?.cpus === 'number' && topology.reduce((a, b) => a * b, 1) !== n.cpus) {
        ctx.report('error', [...at, 'nodeSets', i, 'cpus'], `cpus ${n.cpus} is not sockets × coresPerSocket × threadsPerCore (${topology.join(' × ')})`, { hint: 'slurmd drains a node whose layout disagrees: give the node\'s real numbers' });
      }
    });
    // A node in two sets would be defined twice in slurm.conf (slurmctld refuses to start).
    const owner = new Map<string, number>();
    sets.forEach((n, i) => {
      const names = isString(n?.nodes) ? expandHostlist(n.nodes) : [];
      const clash = names.find((name) => owner.has(name) && owner.get(name) !== i);
      if (clash) ctx.report('error', [...at, 'nodeSets', i, 'nodes'], `node ${clash} is in nodeSets[${owner.get(clash)}] (${show(sets[owner.get(clash)!]?.name)}) already`, { hint: 'each node belongs to one node set; list it in partitions through more than one set instead' });
      for (const name of names) if (!owner.has(name)) owner.set(name, i);
    });
    const partNames = parts.map((p) => p?.name);
    partNames.forEach((n, i) => {
      if (isString(n) && partNames.indexOf(n) !== i) ctx.report('error', [...at, 'partitions', i, 'name'], `partition ${show(n)} is listed twice`, { hint: 'each partition needs its own name' });
    });
    const defaults = parts.flatMap((p, i) => (p?.default === true ? [i] : []));
    for (const i of defaults.slice(1)) ctx.report('error', [...at, 'partitions', i, 'default'], 'a second default partition', { hint: `partition ${show(parts[defaults[0]!]?.name)} is the default already` });
    parts.forEach((p, i) =>
      list<unknown>(p?.nodeSets).forEach((ref, j) => {
        if (isString(ref) && !setNames.includes(ref)) ctx.report('error', [...at, 'partitions', i, 'nodeSets', j], `partition ${show(p?.name)} names node set ${show(ref)}, which nodeSets does not define`, { hint: `node sets: ${[...new Set(setNames.filter(isString))].join(', ') || 'none'}` });
      }),
    );
  },
  secrets(site: SiteModel, settings): SecretDef[] {
    const bindDn = settings.accountingSync.enabled ? site.identity.ldap?.bindDn : undefined;
    return [
      ...(bindDn
        ? [
            {
              name: LDAP_SECRET,
              scope: 'cluster' as const,
              namespace: SLURM_NAMESPACE,
              description: `The password of ${bindDn}, which the accounting sync searches the directory as`,
              data: { password: sopsPlaceholder(SLURM_NAMESPACE, LDAP_SECRET, 'password') },
            },
          ]
        : []),
      {
        name: MUNGE_KEY_SECRET,
        scope: 'cluster',
        namespace: SLURM_NAMESPACE,
        description: 'The cluster\'s munge key (1024 bits, base64): the compute nodes need the same /etc/munge/munge.key',
        data: { 'munge.key.b64': random(128, 'base64') },
      },
      {
        name: DATABASE_SECRET,
        scope: 'cluster',
        namespace: SLURM_NAMESPACE,
        description: 'The accounting database passwords: slurmdbd\'s (user slurm) and MariaDB\'s root',
        data: { password: random(32), 'root-password': random(32) },
      },
    ];
  },
  releases(site: SiteModel, settings): ReleaseDef[] {
    const s = settings as unknown as SlurmSettings;
    const storageClass = storageClassFor(site, s.storageClass);
    const daemonImage = s.databaseDaemonImage ?? s.image!;
    return [
      {
        name: 'slurm',
        layer: 'infrastructure',
        description: `Slurm control plane of ${slurmClusterName(site, s)}: slurmctld and slurmdbd at ${s.hostname}, MariaDB`,
        scope: 'cluster',
        namespace: SLURM_NAMESPACE,
        templates: { 'slurm.yaml': TEMPLATE },
        valuesSchema: {
          type: 'object',
          additionalProperties: false,
          required: ['image', 'databaseDaemonImage', 'databaseImage', 'uid', 'databaseUid', 'hostname', 'config', 'configScript', 'mungedScript', 'databaseArgs', 'stateSize', 'databaseSize'],
          properties: {
            image: { type: 'string' },
            databaseDaemonImage: { type: 'string' },
            databaseImage: { type: 'string' },
            uid: { type: 'integer' },
            databaseUid: { type: 'integer' },
            hostname: { type: 'string' },
            config: { type: 'object', additionalProperties: { type: 'string' } },
            configScript: { type: 'string' },
            mungedScript: { type: 'string' },
            databaseArgs: { type: 'array', items: { type: 'string' } },
            stateSize: { type: 'string' },
            databaseSize: { type: 'string' },
            storageClass: { type: 'string' },
            loadBalancerIP: { type: 'string' },
            pool: { type: 'string' },
            externalDnsHostname: { type: 'string' },
            accountingSync: { type: 'object', required: ['schedule', 'files', 'env'], properties: { schedule: { type: 'string' }, files: { type: 'object', additionalProperties: { type: 'string' } }, ldapSecret: { type: 'string' }, env: { type: 'object', additionalProperties: { type: 'string' } } } },
            tolerations: { type: 'array' },
          },
        },
        images: [...new Set([s.image!, daemonImage, s.databaseImage])],
        values: {
          image: s.image,
          databaseDaemonImage: daemonImage,
          databaseImage: s.databaseImage,
          uid: s.slurmUser.uid,
          databaseUid: MARIADB_UID,
          hostname: s.hostname,
          config: controllerConfigFiles(slurmClusterName(site, s), s),
          configScript: CONFIG_SCRIPT,
          mungedScript: MUNGED_SCRIPT,
          databaseArgs: DATABASE_ARGS,
          stateSize: s.stateSize,
          databaseSize: s.databaseSize,
          ...(storageClass ? { storageClass } : {}),
          ...(s.loadBalancerIP ? { loadBalancerIP: s.loadBalancerIP } : {}),
          ...(s.pool ? { pool: s.pool } : {}),
          ...(site.componentSettings.externalDns.enabled ? { externalDnsHostname: s.hostname } : {}),
          ...(s.accountingSync.enabled ? { accountingSync: accountingSyncValues(site, s) } : {}),
          ...(site.clusterTolerations.length ? { tolerations: site.clusterTolerations.map(tolerationFor) } : {}),
        },
      },
    ];
  },
});

/** The accounting sync CronJob's values: schedule, script and its environment (assets/slurm/accounting-sync.sh names them). */
function accountingSyncValues(site: SiteModel, s: SlurmSettings): Record<string, unknown> {
  const ldap = site.identity.ldap!;
  return {
    schedule: s.accountingSync.schedule,
    files: { 'slurm.conf': syncClientConf(slurmClusterName(site, s)), 'accounting-sync.sh': accountingSyncScript() },
    ...(ldap.bindDn ? { ldapSecret: LDAP_SECRET } : {}),
    env: {
      LDAP_URL: ldap.url,
      LDAP_STARTTLS: String(ldap.startTls),
      LDAP_GROUP_BASE: ldap.groupBase!,
      LDAP_BIND_DN: ldap.bindDn ?? '',
      LDAP_PASSWORD_FILE: '/etc/ldap-secret/password',
      LDAP_USER_ATTRIBUTE: ldap.userAttribute,
      LDAP_MEMBER_ATTRIBUTE: s.accountingSync.memberAttribute,
      SYNC_GROUPS: s.accountingSync.groups.join(' '),
      SYNC_PRUNE: String(s.accountingSync.prune),
      SLURM_CLUSTER: slurmClusterName(site, s),
    },
  };
}
