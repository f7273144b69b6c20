// Snippets shared by the wrapper charts' own templates (Helm syntax, passed through untouched).

/** busybox, pinned: Grafana's volume chown and the local-path helper pods. */
export const BUSYBOX_IMAGE = 'docker.io/library/busybox:1.38.0';

/** Standard labels for resources of a wrapper chart's templates, at the given indent. */
export function helmLabels(indent: number): string {
  const pad = ' '.repeat(indent);
  return [
    'app.kubernetes.io/managed-by: {{ .Release.Service | quote }}',
    'app.kubernetes.io/part-of: siteforge',
    'helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | quote }}',
  ]
    .map((l) => `${pad}${l}`)
    .join('\n');
}

/** The same labels inside a `range` (where `.` is the item): through the root context `$`. */
export function helmLabelsInRange(indent: number): string {
  return helmLabels(indent).replace(/\.Release/g, '$.Release').replace(/\.Chart/g, '$.Chart');
}

/**
 * The head of a manifest in a wrapper chart's template: apiVersion, kind and metadata with the
 * standard labels. Name and namespace are Helm expressions; `inRange` for use inside `range`.
 */
export function helmObject(
  apiVersion: string,
  kind: string,
  meta: { name: string; namespace?: string; inRange?: boolean; labels?: Readonly<Record<string, string>> },
): string {
  const extra = Object.entries(meta.labels ?? {}).map(([k, v]) => `    ${k}: ${v}`);
  return [
    `apiVersion: ${apiVersion}`,
    `kind: ${kind}`,
    'metadata:',
    `  name: ${meta.name}`,
    ...(meta.namespace ? [`  namespace: ${meta.namespace}`] : []),
    '  labels:',
    meta.inRange ? helmLabelsInRange(4) : helmLabels(4),
    ...extra,
  ].join('\n');
}

/**
 * The pod template of one unprivileged app, up to its containers: the app.kubernetes.io/name label,
 * a restart when the config value changes, the restricted pod security context (uid from
 * .Values.uid; with `fsGroup`, the volumes it writes belong to that group) and the site's
 * tolerations (.Values.tolerations). `checksum`: what the restart follows, when not the string .Values.config.
 */
function helmUnprivilegedPodTemplate(app: string, opts: { fsGroup: boolean; uid?: string; checksum?: string }): string {
  const uid = opts.uid ?? '.Values.uid';
  return `  selector:
    matchLabels:
      app.kubernetes.io/name: ${app}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${app}
      annotations:
        checksum/config: {{ ${opts.checksum ?? '.Values.config'} | sha256sum | quote }}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: {{ ${uid} }}
        runAsGroup: {{ ${uid} }}
${opts.fsGroup ? `        fsGroup: {{ ${uid} }}\n` : ''}        seccompProfile:
          type: RuntimeDefault
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}`;
}

/**
 * A wrapper chart's Deployment of one unprivileged app, up to its containers: replicas and the pod
 * template above. `singleWriter`: one pod, replaced by stopping the old one first (it writes a
 * ReadWriteOnce volume, owned by its group through fsGroup).
 */
export function helmUnprivilegedDeployment(app: string, opts: { singleWriter?: boolean } = {}): string {
  return `${helmObject('apps/v1', 'Deployment', { name: app, namespace: '{{ .Release.Namespace | quote }}' })}
spec:
${opts.singleWriter ? `  replicas: 1
  # One writer of the volume: the old pod stops before the new one starts.
  strategy:
    type: Recreate` : '  replicas: {{ .Values.replicas }}'}
${helmUnprivilegedPodTemplate(app, { fsGroup: opts.singleWriter === true })}`;
}

/**
 * A wrapper chart's StatefulSet of one unprivileged app (one pod, `<app>-0`, a stable host name),
 * up to its containers; its volumes come from `claims` (name → size and class values), owned by
 * its group. `uid`: the values expression of its user, when not .Values.uid.
 */
export function helmUnprivilegedStatefulSet(app: string, claims: Readonly<Record<string, { size: string }>>, opts: { uid?: string; serviceName?: string; checksum?: string } = {}): string {
  const templates = Object.entries(claims).map(
    ([name, c]) => `    - metadata:
        name: ${name}
      spec:
${helmClaimSpec(c.size, 8)}`,
  );
  return `${helmObject('apps/v1', 'StatefulSet', { name: app, namespace: '{{ .Release.Namespace | quote }}' })}
spec:
  replicas: 1
  serviceName: ${opts.serviceName ?? app}
  volumeClaimTemplates:
${templates.join('\n')}
${helmUnprivilegedPodTemplate(app, { fsGroup: true, ...(opts.uid ? { uid: opts.uid } : {}), ...(opts.checksum ? { checksum: opts.checksum } : {}) })}`;
}

/**
 * A wrapper chart's LoadBalancer Service of one app, up to its ports: MetalLB's pool
 * (.Values.pool) and address (.Values.loadBalancerIP), the DNS name ExternalDNS publishes for it
 * (.Values.externalDnsHostname), and the senders' own addresses kept
 * (externalTrafficPolicy Local: `why` says who needs them).
 */
export function helmLoadBalancerService(app: string, why: string): string {
  return `${helmObject('v1', 'Service', { name: app, namespace: '{{ .Release.Namespace | quote }}' })}
  {{- if or .Values.pool .Values.externalDnsHostname }}
  annotations:
    {{- with .Values.pool }}
    metallb.io/address-pool: {{ . | quote }}
    {{- end }}
    {{- with .Values.externalDnsHostname }}
    external-dns.alpha.kubernetes.io/hostname: {{ . | quote }}
    {{- end }}
  {{- end }}
spec:
  type: LoadBalancer
  {{- with .Values.loadBalancerIP }}
  loadBalancerIP: {{ . | quote }}
  {{- end }}
  # Local: ${why}
  externalTrafficPolicy: Local
  selector:
    app.kubernetes.io/name: ${app}`;
}

/**
 * A container's restricted security context (no privilege escalation, read-only root, no
 * capabilities): the lines under `securityContext:`, `indent` spaces in.
 */
export function restrictedContainerSecurity(indent: number): string {
  const pad = ' '.repeat(indent);
  return [`${pad}allowPrivilegeEscalation: false`, `${pad}readOnlyRootFilesystem: true`, `${pad}capabilities:`, `${pad}  drop: ["ALL"]`].join('\n');
}

/** The same under `securityContext:` of a container in a Deployment's pod template. */
export const RESTRICTED_CONTAINER_SECURITY = restrictedContainerSecurity(12);

/**
 * A ReadWriteOnce claim's spec from the site's class (.Values.storageClass, or the default class)
 * of `size` (a values expression), `indent` spaces in.
 */
export function helmClaimSpec(size: string, indent: number): string {
  const pad = ' '.repeat(indent);
  return [
    `${pad}accessModes: [ReadWriteOnce]`,
    `${pad}{{- with .Values.storageClass }}`,
    `${pad}storageClassName: {{ . | quote }}`,
    `${pad}{{- end }}`,
    `${pad}resources:`,
    `${pad}  requests:`,
    `${pad}    storage: {{ ${size} | quote }}`,
  ].join('\n');
}

/**
 * A script run on a schedule, inside `{{- with <values> }}` (where `.` holds `files` and
 * `schedule`): the ConfigMap of `.files`, then the head of the CronJob up to the pod spec's
 * `restartPolicy: Never` (one run at a time, a few runs kept, `backoffLimit` retries within
 * `deadlineSeconds`). `comment`: a line saying what the job does.
 */
export function helmScriptCronJob(name: string, opts: { comment: string; backoffLimit: number; deadlineSeconds: number }): string {
  const meta = { name, namespace: '{{ $.Release.Namespace | quote }}', inRange: true };
  return `${helmObject('v1', 'ConfigMap', meta)}
data:
  {{- range $file, $text := .files }}
  {{ $file }}: {{ $text | quote }}
  {{- end }}
---
# ${opts.comment}
${helmObject('batch/v1', 'CronJob', meta)}
spec:
  schedule: {{ .schedule | quote }}
  concurrencyPolicy: Forbid
  successfulJobsHistoryLimit: 3
  failedJobsHistoryLimit: 3
  jobTemplate:
    spec:
      backoffLimit: ${opts.backoffLimit}
      activeDeadlineSeconds: ${opts.deadlineSeconds}
      template:
        metadata:
          labels:
            app.kubernetes.io/name: ${name}
        spec:
          restartPolicy: Never`;
}
