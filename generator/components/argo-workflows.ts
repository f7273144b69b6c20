// Argo Workflows: the build factory's engine. The controller and server run once for the
// cluster; every environment gets the site WorkflowTemplates (and CronWorkflows for scheduled
// ones) from spec.workflows, mounting the environment's shared volumes.
import { HPK_SLURM_FLAGS_ANNOTATION, podSlurmFlags } from '../model/hpk.ts';
import { Type, type Static } from '@sinclair/typebox';
import type { SiteModel } from '../model/site.ts';
import { ChartVersion, DnsLabel, Enabled, HttpUrl, OidcGroup, OneOf } from '../spec/formats.ts';
import { volumesOf } from './storage.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { helmObject } from './labels.ts';
import { ingressFor } from './web.ts';
import { CLUSTER_ISSUER } from './cert-manager.ts';
import { HARBOR_ROBOT_SECRET, harborHostname } from './harbor.ts';
import { fixed, random, type SecretDef } from '../secrets/types.ts';
import { workflowSteps, workflowVolumeNames, type StepModel, type WorkflowModel } from '../model/workflows.ts';
import { tolerationFor } from '../model/taints.ts';
import { declaredEnvironments, siteIngressOf } from '../spec/guards.ts';

export const ARGO_SSO_SECRET = 'argo-server-sso';
export const ARGO_ARTIFACTS_SECRET = 'argo-artifacts-s3';

export const WORKFLOW_SERVICE_ACCOUNT = 'argo-workflow';

/** The Secret (from a site CA certificate) whose ca.crt build steps trust, and where they find it. */
const TRUST_SECRET = 'site-ca-bundle';
const TRUST_VOLUME = 'site-ca';
const SITE_CA_FILE = '/etc/siteforge/site-ca.crt';

/** The environment's Harbor robot (its pull Secret's auth file) where registry clients look for credentials. */
const REGISTRY_AUTH_VOLUME = 'registry-auth';
const REGISTRY_AUTH_DIR = '/etc/siteforge/registry';

/** The user the argoexec image runs as (Argo's executor containers). */
const ARGOEXEC_USER = 8737;

// The WorkflowTemplate's spec comes whole from the environment values (built from the spec by
// workflowSpec below): Helm prints it, and Argo expressions such as {{inputs.parameters.step}}
// are data to Helm, never templated by it.
const WORKFLOWS_TEMPLATE = `{{- if .Values.trust }}
# The site CA for the build pods: a certificate from the site CA issuer, whose Secret's ca.crt the
# steps mount where container tools look for Harbor's CA.
${helmObject('cert-manager.io/v1', 'Certificate', { name: '{{ .Values.trust.secretName | quote }}', namespace: '{{ .Values.namespace | quote }}' })}
spec:
  secretName: {{ .Values.trust.secretName | quote }}
  commonName: {{ printf "%s site CA bundle" .Values.namespace | quote }}
  dnsNames:
    - {{ printf "ca-bundle.%s.svc" .Values.namespace | quote }}
  duration: 8760h
  issuerRef:
    name: {{ .Values.trust.issuer | quote }}
    kind: ClusterIssuer
    group: cert-manager.io
{{- end }}
{{- range .Values.workflows }}
---
${helmObject('argoproj.io/v1alpha1', 'WorkflowTemplate', { name: '{{ .name | quote }}', namespace: '{{ $.Values.namespace | quote }}', inRange: true })}
spec:
  {{- toYaml .spec | nindent 2 }}
{{- if .schedule }}
---
${helmObject('argoproj.io/v1alpha1', 'CronWorkflow', { name: '{{ .name | quote }}', namespace: '{{ $.Values.namespace | quote }}', inRange: true })}
spec:
  schedules:
    - {{ .schedule | quote }}
  concurrencyPolicy: {{ .concurrencyPolicy | quote }}
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
  required: ['namespace', 'workflows'],
  additionalProperties: false,
  properties: {
    namespace: { type: 'string' },
    trust: {
      type: 'object',
      required: ['secretName', 'issuer'],
      additionalProperties: false,
      properties: { secretName: { type: 'string' }, issuer: { type: 'string' } },
    },
    workflows: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'spec', 'concurrencyPolicy'],
        additionalProperties: false,
        properties: {
          name: { type: 'string' },
          schedule: { type: 'string' },
          concurrencyPolicy: { enum: ['Allow', 'Forbid', 'Replace'] },
          spec: { type: 'object', required: ['entrypoint', 'templates'] },
        },
      },
    },
  },
};

/** Single sign-on settings (spec.components.argoWorkflows.sso). */
const SsoSchema = Type.Object(
  {
    enabled: Type.Boolean({ default: false, description: 'OIDC login for the server (authMode sso, tokens still accepted).' }),
    issuer: Type.Optional(HttpUrl({ description: 'The OIDC provider (issuer URL, e.g. https://login.example.edu/realms/hpc); default: spec.identity.oidc.issuer. One of them is required with enabled.' })),
    clientId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._:@/-]{1,200}$', expected: 'an OIDC client id such as argo-workflows', description: 'OIDC client id registered for the server (default argo-workflows-<site>); its secret is generated (SOPS: argo/argo-server-sso) — register it with the provider.' })),
    redirectUrl: Type.Optional(HttpUrl({ description: 'Callback registered with the provider (default https://argo.<domain>/oauth2/callback).' })),
    scopes: Type.Array(Type.String({ pattern: '^[A-Za-z0-9._:-]{1,100}$', expected: 'an OIDC scope such as groups' }), { default: ['openid', 'profile', 'email', 'groups'], description: 'Scopes requested (groups: group membership for the RBAC below).' }),
    groupsClaim: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._:-]{1,100}$', expected: 'a claim name such as groups', description: 'Claim carrying group membership (default groups).' })),
    sessionExpiry: Type.Optional(Type.String({ pattern: '^[0-9]+h$', expected: 'hours such as 10h', description: 'How long a login lasts (default 10h).' })),
    rbac: Type.Array(
      Type.Object(
        {
          group: OidcGroup({ expected: 'a group name of the provider such as hpc-admins', description: 'Group (in the groups claim) this entry is for.' }),
          role: OneOf(['admin', 'developer', 'viewer'], { description: 'admin: everything on workflows and templates; developer: submit, retry, stop and read; viewer: read only (logs included).' }),
          environments: Type.Optional(Type.Array(DnsLabel(), { minItems: 1, description: 'Environments it applies to (default: every environment).' })),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'Who may do what after an SSO login: a ServiceAccount per entry in the argo namespace with its rbac-rule, bound in the environments\' namespaces. Nobody else gets access.' },
    ),
  },
  { additionalProperties: false, default: {}, description: 'Single sign-on for the Argo Workflows server against the site\'s OIDC provider.' },
);

/** The OIDC client id the server presents (not secret: a plain Secret of the wrapper chart, so a changed id reaches the server). */
const SSO_CLIENT_ID_SECRET = 'argo-server-sso-client-id';

/** What each SSO role may do on Argo's resources in a namespace. */
const SSO_ROLE_RULES: Readonly<Record<'admin' | 'developer' | 'viewer', readonly Record<string, unknown>[]>> = {
  admin: [
    { apiGroups: ['argoproj.io'], resources: ['workflows', 'workflowtemplates', 'cronworkflows', 'workfloweventbindings', 'workflowtaskresults'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
    { apiGroups: [''], resources: ['pods', 'pods/log', 'events'], verbs: ['get', 'list', 'watch'] },
  ],
  developer: [
    { apiGroups: ['argoproj.io'], resources: ['workflows'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'] },
    { apiGroups: ['argoproj.io'], resources: ['workflowtemplates', 'cronworkflows'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['pods', 'pods/log', 'events'], verbs: ['get', 'list', 'watch'] },
  ],
  viewer: [
    { apiGroups: ['argoproj.io'], resources: ['workflows', 'workflowtemplates', 'cronworkflows'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: [''], resources: ['pods', 'pods/log', 'events'], verbs: ['get', 'list', 'watch'] },
  ],
};

/**
 * SSO's RBAC (Argo's "SSO RBAC"): per spec.sso.rbac entry, a ServiceAccount in the server's
 * namespace whose rbac-rule matches the group (the first matching rule by precedence wins), its
 * token Secret (Kubernetes no longer makes one), a RoleBinding in each environment namespace to the
 * role's ClusterRole; and the client id as a plain Secret.
 */
const SSO_TEMPLATE = `{{- with .Values.sso }}
${helmObject('v1', 'Secret', { name: '{{ .clientIdSecret | quote }}', namespace: '{{ $.Release.Namespace | quote }}', inRange: true })}
type: Opaque
stringData:
  client-id: {{ .clientId | quote }}
{{- range $role, $rules := .roles }}
---
${helmObject('rbac.authorization.k8s.io/v1', 'ClusterRole', { name: '{{ printf "argo-sso-%s" $role | quote }}', inRange: true })}
rules:
  {{- toYaml $rules | nindent 2 }}
{{- end }}
{{- range .accounts }}
---
${helmObject('v1', 'ServiceAccount', { name: '{{ .name | quote }}', namespace: '{{ $.Release.Namespace | quote }}', inRange: true })}
  annotations:
    workflows.argoproj.io/rbac-rule: {{ .rule | quote }}
    workflows.argoproj.io/rbac-rule-precedence: {{ .precedence | quote }}
---
${helmObject('v1', 'Secret', { name: '{{ printf "%s.service-account-token" .name | quote }}', namespace: '{{ $.Release.Namespace | quote }}', inRange: true })}
  annotations:
    kubernetes.io/service-account.name: {{ .name | quote }}
type: kubernetes.io/service-account-token
{{- $account := . }}
{{- range .namespaces }}
---
${helmObject('rbac.authorization.k8s.io/v1', 'RoleBinding', { name: '{{ printf "argo-sso-%s" $account.name | quote }}', namespace: '{{ . | quote }}', inRange: true })}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: {{ printf "argo-sso-%s" $account.role | quote }}
subjects:
  - kind: ServiceAccount
    name: {{ $account.name | quote }}
    namespace: {{ $.Release.Namespace | quote }}
{{- end }}
{{- end }}
{{- end }}
`;

type SsoSettings = Static<typeof SsoSchema>;

/** The OIDC client id the server presents: the spec's, or argo-workflows-<site>. */
export const ssoClientId = (site: SiteModel) => site.componentSettings.argoWorkflows.sso.clientId ?? `argo-workflows-${site.name}`;
/** The callback registered with the provider: the spec's, or the server's ingress host. */
export const ssoRedirectUrl = (site: SiteModel) => site.componentSettings.argoWorkflows.sso.redirectUrl ?? `https://argo.${site.domain}/oauth2/callback`;

/** Where the server logs people in: its own issuer, else the site's (spec.identity.oidc); validation requires one. */
export const ssoIssuer = (site: SiteModel, sso: { issuer?: string }): string => sso.issuer ?? site.identity.oidc!.issuer;

/** The upstream chart's server.sso block: issuer, client, callback, scopes, RBAC on. */
function ssoValues(site: SiteModel, sso: SsoSettings): Record<string, unknown> {
  return {
    enabled: true,
    issuer: ssoIssuer(site, sso),
    clientId: { name: SSO_CLIENT_ID_SECRET, key: 'client-id' },
    clientSecret: { name: ARGO_SSO_SECRET, key: 'client-secret' },
    redirectUrl: ssoRedirectUrl(site),
    scopes: [...sso.scopes],
    rbac: { enabled: true },
    ...(sso.sessionExpiry ? { sessionExpiry: sso.sessionExpiry } : {}),
    ...(sso.groupsClaim ? { customGroupClaimName: sso.groupsClaim } : {}),
  };
}

/** The wrapper chart's own sso values: the client id, and one account per RBAC entry (first entry: highest precedence). */
function ssoRbacValues(site: SiteModel, sso: SsoSettings): Record<string, unknown> {
  const roles = [...new Set(sso.rbac.map((e) => e.role))].sort();
  return {
    clientIdSecret: SSO_CLIENT_ID_SECRET,
    clientId: ssoClientId(site),
    roles: Object.fromEntries(roles.map((r) => [r, SSO_ROLE_RULES[r]])),
    accounts: sso.rbac.map((e, i) => ({
      name: `argo-sso-${i + 1}-${e.role}`,
      role: e.role,
      // An expression of Argo's rule language (expr): the group as a quoted string literal.
      rule: `${JSON.stringify(e.group)} in groups`,
      precedence: String(sso.rbac.length - i),
      namespaces: site.environments.filter((env) => !e.environments || e.environments.includes(env.name)).map((env) => env.namespace),
    })),
  };
}

interface WorkflowContext {
  readonly serviceAccount: string;
  /** The environment's volumes (name, readOnly). */
  readonly volumes: readonly { name: string; readOnly: boolean }[];
  /** Pod and container security contexts for restricted namespaces ({} elsewhere). */
  readonly podSecurityContext?: Record<string, unknown>;
  readonly containerSecurityContext?: Record<string, unknown>;
  /** Taints of the site's GPU nodes: a step asking for GPUs tolerates them. */
  readonly gpuTaints: readonly string[];
  /** The site CA for the steps (a Secret with ca.crt in the namespace) and the registry host it is for. */
  readonly trust?: { readonly secretName: string; readonly registry: string };
  /** The Secret (type kubernetes.io/dockerconfigjson) whose auth file the steps push and pull with. */
  readonly registryAuth?: string;
  /** HPK: each step is a Slurm job; its sbatch options (GPUs as GRES) for a step asking for this many GPUs. */
  readonly slurmFlags?: (gpus: number | undefined) => string;
}

/** A step template's pod metadata under HPK: the sbatch options hpk-kubelet adds to its job. */
function slurmMetadata(ctx: WorkflowContext, gpus: number | undefined): Record<string, unknown> {
  const flags = ctx.slurmFlags?.(gpus);
  return flags ? { metadata: { annotations: { [HPK_SLURM_FLAGS_ANNOTATION]: flags } } } : {};
}

/** The Argo container of a step: image, command/args or script, environment, resources, mounts. */
function stepContainer(step: StepModel, ctx: WorkflowContext): Record<string, unknown> {
  const mounts = (step.volumes ?? ctx.volumes.map((v): { name: string; readOnly?: boolean } => ({ name: v.name }))).map((m) => {
    const volume = ctx.volumes.find((v) => v.name === m.name);
    return { name: m.name, mountPath: `/mnt/${m.name}`, readOnly: Boolean(volume?.readOnly || m.readOnly) };
  });
  const r = step.resources;
  const amounts: Record<string, string | number> = {
    ...(r?.cpu !== undefined ? { cpu: r.cpu } : {}),
    ...(r?.memory !== undefined ? { memory: r.memory } : {}),
  };
  // Under HPK, GPUs are Slurm GRES (the step's sbatch options), not a node resource.
  const gpus = r?.gpus && !ctx.slurmFlags ? { 'nvidia.com/gpu': r.gpus } : {};
  const limits = { ...amounts, ...gpus };
  // The site CA where container tools (buildah, podman, skopeo; docker) look for Harbor's CA, and at one plain path.
  const trustMounts = ctx.trust
    ? [`/etc/containers/certs.d/${ctx.trust.registry}/ca.crt`, `/etc/docker/certs.d/${ctx.trust.registry}/ca.crt`, SITE_CA_FILE].map((mountPath) => ({ name: TRUST_VOLUME, mountPath, subPath: 'ca.crt', readOnly: true }))
    : [];
  // The robot's auth file where docker, kaniko and crane (DOCKER_CONFIG) and buildah, podman and skopeo (REGISTRY_AUTH_FILE) read credentials.
  const authMounts = ctx.registryAuth ? [{ name: REGISTRY_AUTH_VOLUME, mountPath: REGISTRY_AUTH_DIR, readOnly: true }] : [];
  const env = [
    ...Object.entries(step.env).map(([name, value]) => ({ name, value })),
    ...(ctx.trust ? [{ name: 'SITEFORGE_CA_FILE', value: SITE_CA_FILE }] : []),
    ...(ctx.registryAuth ? [{ name: 'DOCKER_CONFIG', value: REGISTRY_AUTH_DIR }, { name: 'REGISTRY_AUTH_FILE', value: `${REGISTRY_AUTH_DIR}/config.json` }] : []),
  ];
  return {
    name: 'main',
    image: step.image,
    ...(step.command ? { command: [...step.command] } : step.script !== undefined ? { command: ['bash'] } : {}),
    ...(step.args ? { args: [...step.args] } : {}),
    ...(step.script !== undefined ? { source: step.script } : {}),
    ...(env.length ? { env } : {}),
    // Requests equal to limits: the Guaranteed QoS class, so the static CPU manager pins whole cores.
    ...(Object.keys(limits).length ? { resources: { requests: { ...amounts, ...gpus }, limits } } : {}),
    ...(mounts.length || trustMounts.length || authMounts.length ? { volumeMounts: [...mounts, ...trustMounts, ...authMounts] } : {}),
    ...(ctx.containerSecurityContext ? { securityContext: ctx.containerSecurityContext } : {}),
  };
}

/** The WorkflowTemplate spec of one workflow: steps in order, or a DAG with one template per step. */
export function workflowSpec(w: WorkflowModel, ctx: WorkflowContext): Record<string, unknown> {
  const { dag, steps } = workflowSteps(w);
  const retry = (n: number | undefined) => (n !== undefined && n > 0 ? { retryStrategy: { limit: n } } : {});
  const templates: Record<string, unknown>[] = dag
    ? [
        { name: 'pipeline', dag: { tasks: steps.map((s) => ({ name: s.name, template: `step-${s.name}`, ...(s.dependencies.length ? { dependencies: [...s.dependencies] } : {}) })) } },
        ...steps.map((s) => {
          const gpu = Boolean(s.resources?.gpus) && !ctx.slurmFlags;
          const nodeSelector = { ...s.nodeSelector, ...(gpu ? { 'nvidia.com/gpu.present': 'true' } : {}) };
          const tolerations = [...new Set([...s.tolerations, ...(gpu ? ctx.gpuTaints : [])])].map(tolerationFor);
          return {
            name: `step-${s.name}`,
            ...slurmMetadata(ctx, s.resources?.gpus),
            ...retry(s.retries ?? w.retries),
            ...(Object.keys(nodeSelector).length ? { nodeSelector } : {}),
            ...(tolerations.length ? { tolerations } : {}),
            [s.script !== undefined ? 'script' : 'container']: stepContainer(s, ctx),
          };
        }),
      ]
    : [
        { name: 'pipeline', steps: steps.map((s) => [{ name: s.name, template: 'run-step', arguments: { parameters: [{ name: 'step', value: s.name }] } }]) },
        {
          name: 'run-step',
          ...slurmMetadata(ctx, undefined),
          ...retry(w.retries),
          inputs: { parameters: [{ name: 'step' }] },
          container: stepContainer({ ...steps[0]!, image: w.image, args: ['{{inputs.parameters.step}}'] }, ctx),
        },
      ];
  const used = new Set(workflowVolumeNames(steps, ctx.volumes));
  const volumes = [
    ...ctx.volumes.filter((v) => used.has(v.name)).map((v) => ({ name: v.name, persistentVolumeClaim: { claimName: v.name, readOnly: v.readOnly } })),
    ...(ctx.trust ? [{ name: TRUST_VOLUME, secret: { secretName: ctx.trust.secretName, items: [{ key: 'ca.crt', path: 'ca.crt' }] } }] : []),
    ...(ctx.registryAuth ? [{ name: REGISTRY_AUTH_VOLUME, secret: { secretName: ctx.registryAuth, items: [{ key: '.dockerconfigjson', path: 'config.json' }] } }] : []),
  ];
  const parameters = Object.entries(w.parameters ?? {});
  return {
    serviceAccountName: ctx.serviceAccount,
    entrypoint: 'pipeline',
    ...(ctx.podSecurityContext ? { securityContext: ctx.podSecurityContext } : {}),
    ...(parameters.length ? { arguments: { parameters: parameters.map(([name, value]) => ({ name, value })) } } : {}),
    ...(w.ttlSecondsAfterFinished !== undefined ? { ttlStrategy: { secondsAfterCompletion: w.ttlSecondsAfterFinished } } : {}),
    ...(w.podGC ? { podGC: { strategy: w.podGC } } : {}),
    ...(volumes.length ? { volumes } : {}),
    templates,
  };
}

export const argoWorkflows = defineComponent({
  name: 'argoWorkflows',
  title: 'Argo Workflows: workflow controller, server and the site WorkflowTemplates',
  dependsOn: ['namespaces', 'ingressNginx', 'certManager'],
  settings: Type.Object(
    {
      enabled: Enabled(false),
      chartVersion: ChartVersion(),
      sso: SsoSchema,
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
          bucket: Type.Optional(Type.String({ pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', expected: 'an S3 bucket name: 3-63 lowercase letters, digits, "." and "-"', description: 'Bucket of the artifact repository.' })),
          insecure: Type.Boolean({ default: false, description: 'Plain HTTP to the endpoint (never on a shared network).' }),
        },
        { additionalProperties: false, default: {}, description: 'Where workflows keep artifacts and logs; the S3 key pair is a SOPS secret.' },
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
    const sso = settings?.sso as { enabled?: boolean; issuer?: unknown; redirectUrl?: unknown; rbac?: { environments?: unknown }[] } | undefined;
    if (server?.authMode === 'sso' && sso?.enabled !== true) {
      ctx.report('error', at, 'authMode sso needs the OIDC client (sso.enabled: true)', { hint: 'set spec.components.argoWorkflows.sso.enabled: true' });
    }
    const ssoAt = ['spec', 'components', 'argoWorkflows', 'sso'];
    if (sso?.enabled === true && typeof sso.issuer !== 'string' && typeof ctx.spec.spec?.identity?.oidc?.issuer !== 'string') {
      ctx.report('error', ssoAt, 'SSO needs the site\'s OIDC provider', { expected: 'issuer: https://login.example.edu/realms/hpc (here, or once for the site as spec.identity.oidc.issuer)', hint: 'give the issuer URL of your OIDC provider (Keycloak, Dex, ...)' });
    }
    if (sso?.enabled === true && sso.redirectUrl === undefined && siteIngressOf(ctx.spec) === null) {
      ctx.report('error', ssoAt, 'SSO needs a callback URL the browser reaches, and the Argo server has no ingress', { expected: 'redirectUrl: https://<host the server is reached at>/oauth2/callback', hint: 'set redirectUrl, or give the site an ingress controller (the default is https://argo.<domain>/oauth2/callback)' });
    }
    const envs = declaredEnvironments(ctx.spec);
    (Array.isArray(sso?.rbac) ? sso.rbac : []).forEach((entry, i) => {
      (Array.isArray(entry?.environments) ? (entry.environments as unknown[]) : []).forEach((env, k) => {
        if (typeof env === 'string' && !envs.includes(env)) {
          ctx.report('error', [...ssoAt, 'rbac', i, 'environments', k], `environment "${env}" is not in spec.environments`, { expected: `one of ${envs.join(', ')}` });
        }
      });
    });
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
            data: { 'client-id': fixed(ssoClientId(site)), 'client-secret': random(32) },
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
    const gpuTaints = [...new Set(site.nodes.filter((n) => n.gpus).flatMap((n) => n.taints))].sort();
    const hpk = site.distribution.type === 'hpk' ? site.distribution.hpk : undefined;
    // Builds push to and pull from Harbor: with the site CA (cert-manager), they trust it.
    const trust = site.componentSettings.certManager.enabled && site.componentSettings.harbor.enabled ? { secretName: TRUST_SECRET, registry: harborHostname(site) } : undefined;
    const registryAuth = site.componentSettings.harbor.enabled ? HARBOR_ROBOT_SECRET : undefined;
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
        ...(settings.sso.enabled
          ? {
              templates: { 'sso.yaml': SSO_TEMPLATE },
              valuesSchema: { type: 'object', additionalProperties: false, properties: { sso: { type: 'object', required: ['clientIdSecret', 'clientId', 'roles', 'accounts'] } } },
            }
          : {}),
        // Where the chart takes pod tolerations, with its defaults at the pin (kept beside spec.placement's).
        podTolerations: {
          'controller.tolerations': [],
          'server.tolerations': [],
          'crds.upgradeJob.tolerations': [],
        },
        values: {
          ...(settings.sso.enabled ? { sso: ssoRbacValues(site, settings.sso) } : {}),
          'argo-workflows': {
            singleNamespace: false,
            controller: { workflowNamespaces: namespaces },
            // With Harbor, workflow pods pull with their environment's robot account.
            workflow: { serviceAccount: { create: true, name: WORKFLOW_SERVICE_ACCOUNT, ...(registryAuth ? { pullSecrets: [{ name: registryAuth }] } : {}) }, rbac: { create: true } },
            server: {
              // sso.enabled (the older switch) means SSO; CLI and CI keep token access (client) beside it.
              authModes: settings.sso.enabled || settings.server.authMode === 'sso' ? ['sso', 'client'] : [settings.server.authMode],
              ...(ingress ? { ingress: { enabled: true, ...ingress } } : {}),
              ...(settings.sso.enabled ? { sso: ssoValues(site, settings.sso) } : {}),
            },
            ...artifactRepository,
            ...executor,
          },
        },
      },
      {
        name: 'workflows',
        layer: 'apps',
        afterComponents: ['storage', 'certManager'],
        description: 'WorkflowTemplates and CronWorkflows of one environment',
        scope: 'environment',
        after: ['argo-workflows'],
        values: { namespace: 'default', workflows: [] },
        valuesSchema: WORKFLOWS_SCHEMA,
        templates: { 'workflows.yaml': WORKFLOWS_TEMPLATE },
        environmentValues: (env) => {
          const ctx: WorkflowContext = { serviceAccount: WORKFLOW_SERVICE_ACCOUNT, volumes: volumes(env.name), ...workflowSecurity, gpuTaints, ...(trust ? { trust } : {}), ...(registryAuth ? { registryAuth } : {}), ...(hpk ? { slurmFlags: (gpus: number | undefined) => podSlurmFlags(hpk, gpus) } : {}) };
          return {
            namespace: env.namespace,
            ...(trust ? { trust: { secretName: trust.secretName, issuer: CLUSTER_ISSUER } } : {}),
            workflows: site.workflows
              .filter((w) => w.environment === env.name)
              .map((w) => ({ name: w.name, ...(w.schedule ? { schedule: w.schedule } : {}), concurrencyPolicy: w.concurrencyPolicy ?? 'Forbid', spec: workflowSpec(w, ctx) })),
          };
        },
      },
    ];
  },
});
