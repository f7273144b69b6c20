// Argo Workflows: the build factory's engine. The controller and server run once for the
// cluster; every environment gets the site WorkflowTemplates (and CronWorkflows for scheduled
// ones) from spec.workflows, mounting the environment's shared volumes.
import { Type } from '@sinclair/typebox';
import { ChartVersion, Enabled, OneOf } from '../spec/formats.ts';
import { volumesOf } from './storage.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { helmObject } from './labels.ts';
import { ingressFor } from './web.ts';
import { fixed, random, type SecretDef } from '../secrets/types.ts';

export const ARGO_SSO_SECRET = 'argo-server-sso';
export const ARGO_ARTIFACTS_SECRET = 'argo-artifacts-s3';

export const WORKFLOW_SERVICE_ACCOUNT = 'argo-workflow';

/** The user the argoexec image runs as (Argo's executor containers). */
const ARGOEXEC_USER = 8737;

const WORKFLOWS_TEMPLATE = `{{- range .Values.workflows }}
---
${helmObject('argoproj.io/v1alpha1', 'WorkflowTemplate', { name: '{{ .name | quote }}', namespace: '{{ $.Values.namespace | quote }}', inRange: true })}
spec:
  serviceAccountName: {{ $.Values.serviceAccount | quote }}
  entrypoint: pipeline
  {{- with $.Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with $.Values.volumes }}
  volumes:
    {{- range . }}
    - name: {{ .name | quote }}
      persistentVolumeClaim:
        claimName: {{ .name | quote }}
        readOnly: {{ .readOnly }}
    {{- end }}
  {{- end }}
  templates:
    - name: pipeline
      steps:
        {{- range .steps }}
        - - name: {{ . | quote }}
            template: run-step
            arguments:
              parameters:
                - name: step
                  value: {{ . | quote }}
        {{- end }}
    - name: run-step
      inputs:
        parameters:
          - name: step
      container:
        name: main
        image: {{ .image | quote }}
        args:
          - {{ "{{inputs.parameters.step}}" | quote }}
        {{- with $.Values.containerSecurityContext }}
        securityContext:
          {{- toYaml . | nindent 10 }}
        {{- end }}
        {{- with $.Values.volumes }}
        volumeMounts:
          {{- range . }}
          - name: {{ .name | quote }}
            mountPath: {{ printf "/mnt/%s" .name | quote }}
            readOnly: {{ .readOnly }}
          {{- end }}
        {{- end }}
{{- if .schedule }}
---
${helmObject('argoproj.io/v1alpha1', 'CronWorkflow', { name: '{{ .name | quote }}', namespace: '{{ $.Values.namespace | quote }}', inRange: true })}
spec:
  schedules:
    - {{ .schedule | quote }}
  concurrencyPolicy: Forbid
  startingDeadlineSeconds: 600
  successfulJobsHistoryLimit: 5
  failedJobsHistoryLimit: 5
  workflowSpec:
    workflowTemplateRef:
      name: {{ .name | quote }}
{{- end }}
{{- end }}
`;

const WORKFLOWS_SCHEMA = {
  type: 'object',
  required: ['namespace', 'serviceAccount', 'volumes', 'workflows'],
  additionalProperties: false,
  properties: {
    namespace: { type: 'string' },
    serviceAccount: { type: 'string' },
    podSecurityContext: { type: 'object' },
    containerSecurityContext: { type: 'object' },
    volumes: {
      type: 'array',
      items: { type: 'object', required: ['name', 'readOnly'], additionalProperties: false, properties: { name: { type: 'string' }, readOnly: { type: 'boolean' } } },
    },
    workflows: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'image', 'steps'],
        additionalProperties: false,
        properties: {
          name: { type: 'string' },
          image: { type: 'string' },
          schedule: { type: 'string' },
          steps: { type: 'array', minItems: 1, items: { type: 'string' } },
        },
      },
    },
  },
};

export const argoWorkflows = defineComponent({
  name: 'argoWorkflows',
  title: 'Argo Workflows: workflow controller, server and the site WorkflowTemplates',
  dependsOn: ['namespaces', 'ingressNginx', 'certManager'],
  settings: Type.Object(
    {
      enabled: Enabled(false),
      chartVersion: ChartVersion(),
      sso: Type.Object({ enabled: Type.Boolean({ default: false }) }, { additionalProperties: false, default: {} }),
      server: Type.Object(
        {
          authMode: OneOf(['client', 'sso', 'server'], {
            default: 'client',
            description: 'client: each request carries a Kubernetes token (kubectl create token); sso: OIDC login (sso.enabled); server: no authentication — only with insecureNoAuth.',
          }),
          insecureNoAuth: Type.Boolean({ default: false, description: 'Allow authMode server: anyone who reaches the UI acts with the server\'s rights.' }),
        },
        { additionalProperties: false, default: {}, description: 'The Argo Workflows server (UI and API).' },
      ),
      artifacts: Type.Object(
        {
          type: OneOf(['none', 's3'], {
            default: 'none',
            description: 'none: steps share data through the mounted volumes; s3: an S3 artifact repository.',
          }),
          endpoint: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9.-]+(:[0-9]{1,5})?$', expected: 'an S3 endpoint host[:port] such as s3.example.edu:9000', description: 'S3 endpoint host:port.' })),
          bucket: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', expected: 'an S3 bucket name: 3-63 lowercase letters, digits, "." and "-"' })),
          insecure: Type.Boolean({ default: false }),
        },
        { additionalProperties: false, default: {} },
      ),
      runAsUser: Type.Integer({ minimum: 1, maximum: 2147483647, default: 1000, description: 'UID (and GID) workflow pods run as where the environment namespaces enforce the restricted Pod Security level (spec.components.namespaces.podSecurity); elsewhere the image\'s own user.' }),
    },
    { additionalProperties: false },
  ),
  check(ctx, settings) {
    const server = settings?.server as { authMode?: string; insecureNoAuth?: boolean } | undefined;
    const at = ['spec', 'components', 'argoWorkflows', 'server', 'authMode'];
    if (server?.authMode === 'server' && server.insecureNoAuth !== true) {
      ctx.report('error', at, 'authMode server lets anyone who reaches the Argo server run and delete workflows with its own rights', {
        expected: 'client (Kubernetes tokens) or sso',
        hint: 'use client or sso; if this really is a closed test system, also set insecureNoAuth: true',
      });
    } else if (server?.authMode === 'server') {
      ctx.report('warning', at, 'the Argo server runs WITHOUT authentication (insecureNoAuth: true): anyone who reaches it acts with its rights', {
        hint: 'use client or sso on any system people share',
      });
    }
    if (server?.authMode === 'sso' && (settings?.sso as { enabled?: boolean } | undefined)?.enabled !== true) {
      ctx.report('error', at, 'authMode sso needs the OIDC client (sso.enabled: true)', { hint: 'set spec.components.argoWorkflows.sso.enabled: true' });
    }
    const artifacts = settings?.artifacts as { type?: string; endpoint?: unknown; bucket?: unknown } | undefined;
    if (artifacts?.type === 's3' && (typeof artifacts.endpoint !== 'string' || typeof artifacts.bucket !== 'string')) {
      ctx.report('error', ['spec', 'components', 'argoWorkflows', 'artifacts'], 'an S3 artifact repository needs endpoint and bucket', {
        hint: 'add `endpoint: s3.example.edu:9000` and `bucket: argo-artifacts`, or use type: none',
      });
    }
  },
  secrets: (site, settings): SecretDef[] => [
    ...(settings.sso.enabled
      ? [
          {
            name: ARGO_SSO_SECRET,
            scope: 'cluster' as const,
            namespace: 'argo',
            description: 'OIDC client of the Argo server; register the same id and secret with the identity provider',
            data: { 'client-id': fixed(`argo-workflows-${site.name}`), 'client-secret': random(32) },
          },
        ]
      : []),
    ...(settings.artifacts.type === 's3'
      ? [
          {
            name: ARGO_ARTIFACTS_SECRET,
            scope: 'environment' as const,
            description: 'S3 credentials of the artifact repository; create the same key pair on the S3 service',
            data: { accesskey: random(20), secretkey: random(40) },
          },
        ]
      : []),
  ],
  releases(site, settings): ReleaseDef[] {
    const namespaces = site.environments.map((e) => e.namespace);
    // Restricted environments admit only non-root pods without privilege escalation: the workflow
    // pods and the executor's init and wait containers Argo adds to each of them.
    const restricted = site.componentSettings.namespaces.enabled && site.componentSettings.namespaces.podSecurity === 'restricted';
    const noEscalation = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
    const runtimeDefault = { seccompProfile: { type: 'RuntimeDefault' } };
    const workflowSecurity = restricted
      ? { podSecurityContext: { runAsNonRoot: true, runAsUser: settings.runAsUser, runAsGroup: settings.runAsUser, ...runtimeDefault }, containerSecurityContext: noEscalation }
      : {};
    const executor = restricted ? { executor: { securityContext: { runAsNonRoot: true, runAsUser: ARGOEXEC_USER, ...runtimeDefault, ...noEscalation } } } : {};
    const ingress = ingressFor(site, `argo.${site.domain}`, 'argo-server-tls');
    // Each environment's workflows mount the volumes exposed to that environment.
    const volumes = (env: string) => (site.componentSettings.storage.enabled ? volumesOf(site, env).map((v) => ({ name: v.name, readOnly: v.readOnly })) : []);
    const artifactRepository =
      settings.artifacts.type === 's3'
        ? {
            artifactRepository: {
              s3: {
                endpoint: settings.artifacts.endpoint,
                bucket: settings.artifacts.bucket,
                insecure: settings.artifacts.insecure,
                accessKeySecret: { name: ARGO_ARTIFACTS_SECRET, key: 'accesskey' },
                secretKeySecret: { name: ARGO_ARTIFACTS_SECRET, key: 'secretkey' },
              },
            },
          }
        : {};
    return [
      {
        name: 'argo-workflows',
        layer: 'operators',
        description: 'Argo Workflows controller and server',
        scope: 'cluster',
        namespace: 'argo',
        upstream: { chart: 'argo-workflows' },
        values: {
          'argo-workflows': {
            singleNamespace: false,
            controller: { workflowNamespaces: namespaces },
            workflow: { serviceAccount: { create: true, name: WORKFLOW_SERVICE_ACCOUNT }, rbac: { create: true } },
            server: {
              // sso.enabled (the older switch) means SSO; CLI and CI keep token access (client) beside it.
              authModes: settings.sso.enabled || settings.server.authMode === 'sso' ? ['sso', 'client'] : [settings.server.authMode],
              ...(ingress ? { ingress: { enabled: true, ...ingress } } : {}),
            },
            ...artifactRepository,
            ...executor,
          },
        },
      },
      {
        name: 'workflows',
        layer: 'apps',
        afterComponents: ['storage'],
        description: 'WorkflowTemplates and CronWorkflows of one environment',
        scope: 'environment',
        after: ['argo-workflows'],
        values: { namespace: 'default', serviceAccount: WORKFLOW_SERVICE_ACCOUNT, volumes: [], workflows: [] },
        valuesSchema: WORKFLOWS_SCHEMA,
        templates: { 'workflows.yaml': WORKFLOWS_TEMPLATE },
        environmentValues: (env) => ({
          namespace: env.namespace,
          serviceAccount: WORKFLOW_SERVICE_ACCOUNT,
          ...workflowSecurity,
          volumes: volumes(env.name),
          workflows: site.workflows
            .filter((w) => w.environment === env.name)
            .map((w) => ({ name: w.name, image: w.image, ...(w.schedule ? { schedule: w.schedule } : {}), steps: w.steps })),
        }),
      },
    ];
  },
});
