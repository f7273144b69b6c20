// Snippets shared by the wrapper charts' own templates (Helm syntax, passed through untouched).

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
 * A wrapper chart's Deployment of one unprivileged app, up to its containers: replicas, the
 * app.kubernetes.io/name selector, a restart when the config value changes, the restricted pod
 * security context (uid from .Values.uid) and the site's tolerations (.Values.tolerations).
 */
export function helmUnprivilegedDeployment(app: string): string {
  return `${helmObject('apps/v1', 'Deployment', { name: app, namespace: '{{ .Release.Namespace | quote }}' })}
spec:
  replicas: {{ .Values.replicas }}
  selector:
    matchLabels:
      app.kubernetes.io/name: ${app}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: ${app}
      annotations:
        checksum/config: {{ .Values.config | sha256sum | quote }}
    spec:
      securityContext:
        runAsNonRoot: true
        runAsUser: {{ .Values.uid }}
        runAsGroup: {{ .Values.uid }}
        seccompProfile:
          type: RuntimeDefault
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}`;
}

/** A container's restricted security context (no privilege escalation, read-only root, no capabilities), under `securityContext:` of a container in a Deployment template. */
export const RESTRICTED_CONTAINER_SECURITY = `            allowPrivilegeEscalation: false
            readOnlyRootFilesystem: true
            capabilities:
              drop: ["ALL"]`;
