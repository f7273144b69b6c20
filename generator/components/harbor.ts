// Harbor: the site's container registry and the pull-through cache for the nodes (proxy-cache
// projects dockerhub, ghcr, quay, k8s, nvcr). Every credential comes from an existing Secret.
// A CronJob (harbor-setup) keeps Harbor's projects, proxy caches and the environments' robot
// accounts as the spec says, through Harbor's API; each environment's pull Secret holds its robot.
import { Type } from '@sinclair/typebox';
import { ChartVersion, CronSchedule, DistinguishedName, DnsLabel, DnsName, DnsSubdomain, Enabled, HttpUrl, ImageReference, imagePin, Ipv4, OidcGroup, OneOf, Quantity } from '../spec/formats.ts';
import { POOL_ANNOTATION, PoolChoice, reportAddressOutsidePools, reportUnknownPool } from './metallb.ts';
import { requireStorageClass, storageClassFor } from './storage.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import type { SiteModel } from '../model/site.ts';
import { helmObject, helmScriptCronJob, restrictedContainerSecurity } from './labels.ts';
import { CLUSTER_ISSUER, } from './cert-manager.ts';
import { ingressClassOf } from './web.ts';
import { dockerConfig, random, sopsPlaceholder, type SecretDef } from '../secrets/types.ts';
import { declaredEnvironments, isString, loadBalancerBeforeIngress, siteIngressOf, type SiteIngress } from '../spec/guards.ts';
import { assetTree } from '../render/assets.ts';
import { tolerationFor } from '../model/taints.ts';
import { show } from '../spec/diagnostics.ts';
import type { RuleContext } from '../spec/rules.ts';

/** Secrets Harbor reads (created by the secrets stage, never written as values). */
export const HARBOR_SECRETS = {
  admin: 'harbor-admin',
  secretKey: 'harbor-secret-key',
  core: 'harbor-core',
  jobservice: 'harbor-jobservice',
  registry: 'harbor-registry',
  registryCredentials: 'harbor-registry-credentials',
  databaseValues: 'harbor-database-values',
  auth: 'harbor-auth',
} as const;

/** The environment variable of harbor-core holding the LDAP bind password or the OIDC client secret (from HARBOR_SECRETS.auth). */
export const HARBOR_AUTH_SECRET_ENV = 'SITEFORGE_AUTH_SECRET';
/** harbor-core reads its user settings (auth mode, LDAP, OIDC) from this variable at every start: the repository wins over the UI. */
export const HARBOR_CONFIG_ENV = 'CONFIG_OVERWRITE_JSON';

const TLS_SECRET = 'harbor-tls';

/** Public registries the nodes pull through Harbor proxy-cache projects of these names. */
export const HARBOR_PROXY_PROJECTS: Readonly<Record<string, string>> = {
  'docker.io': 'dockerhub',
  'ghcr.io': 'ghcr',
  'quay.io': 'quay',
  'registry.k8s.io': 'k8s',
  'nvcr.io': 'nvcr',
};

/** Harbor's registry types of the proxy-cache endpoints (src/pkg/reg/model/registry.go) and the URL Harbor is given for each. */
const PROXY_REGISTRIES: Readonly<Record<string, { type: string; url: string }>> = {
  'docker.io': { type: 'docker-hub', url: 'https://hub.docker.com' },
  'ghcr.io': { type: 'github-ghcr', url: 'https://ghcr.io' },
  'quay.io': { type: 'quay', url: 'https://quay.io' },
  'registry.k8s.io': { type: 'docker-registry', url: 'https://registry.k8s.io' },
  'nvcr.io': { type: 'docker-registry', url: 'https://nvcr.io' },
};

/** Each environment's pull Secret (type kubernetes.io/dockerconfigjson): its robot account's name and password. */
export const HARBOR_ROBOT_SECRET = 'harbor-robot';

/** Harbor's rule for project and robot names (src/pkg/project/manager.go, the robot handler's validateName). */
const HARBOR_NAME_PATTERN = '^[a-z0-9]+(?:[._-][a-z0-9]+)*$';

/** Harbor's prefix of robot account user names (robot_name_prefix, its default). */
export const HARBOR_ROBOT_PREFIX = 'robot$';

/** The robot account of an environment (Harbor's name, without the prefix). */
export const harborRobotName = (env: string) => `siteforge-${env}`;

/** curl with sh, sed, grep and base64 (busybox): what the setup script needs. */
const HARBOR_SETUP_IMAGE = 'docker.io/curlimages/curl:8.17.0';

/** What a robot may do in a project it pushes to, and in one it only pulls from (Harbor's project-scope permissions, src/common/rbac/const.go). */
const PUSH_ACCESS = [
  { resource: 'repository', action: 'pull' },
  { resource: 'repository', action: 'push' },
  { resource: 'artifact', action: 'read' },
  { resource: 'artifact', action: 'list' },
  { resource: 'tag', action: 'create' },
  { resource: 'tag', action: 'list' },
];
const PULL_ACCESS = [
  { resource: 'repository', action: 'pull' },
  { resource: 'artifact', action: 'read' },
];

/** Where the setup CronJob mounts its ConfigMap. */
const SETUP_DIR = '/etc/harbor-setup';

/** Harbor's nginx image at the pinned chart's appVersion (used when Harbor is exposed as a LoadBalancer). */
const HARBOR_NGINX_IMAGE = 'docker.io/goharbor/nginx-photon:v2.15.1';

const CERTIFICATE_TEMPLATE = `{{- if .Values.certificate.enabled }}
${helmObject('cert-manager.io/v1', 'Certificate', { name: 'harbor', namespace: '{{ .Release.Namespace | quote }}' })}
spec:
  secretName: {{ .Values.certificate.secretName | quote }}
  dnsNames:
    - {{ .Values.certificate.host | quote }}
  issuerRef:
    name: {{ .Values.certificate.issuer | quote }}
    kind: ClusterIssuer
    group: cert-manager.io
{{- end }}
`;

export const harbor = defineComponent({
  name: 'harbor',
  title: 'Harbor container registry',
  dependsOn: ['namespaces', 'metallb', 'ingressNginx', 'certManager', 'storage'],
  notUnderHpk: 'it needs claims from a dynamic StorageClass (no node-level CSI driver runs under HPK) and a stable address nodes pull from, while its pods are Slurm jobs: use the site\'s registry',
  settings: Type.Object(
    {
      enabled: Enabled(false),
      chartVersion: ChartVersion(),
      hostname: Type.Optional(DnsName({ description: 'Registry host name (default harbor.<domain>).' })),
      storageClass: Type.Optional(DnsSubdomain({ description: 'StorageClass for registry and database volumes.' })),
      registrySize: Quantity({ default: '500Gi', description: 'Size of the image store claim.' }),
      expose: OneOf(['auto', 'ingress', 'loadBalancer'], {
        default: 'auto',
        description: 'How nodes and builds reach Harbor: through the ingress (ingressNginx, or RKE2\'s bundled Traefik), or a MetalLB LoadBalancer address of its own; auto: ingress-nginx when it runs, else a MetalLB address when there are any, else RKE2\'s Traefik.',
      }),
      pool: PoolChoice(),
      loadBalancerIP: Type.Optional(Ipv4({ description: 'With expose loadBalancer: the address from a MetalLB pool (default: one MetalLB picks); point the DNS name at it, or let externalDns do it.' })),
      auth: Type.Object(
        {
          mode: OneOf(['database', 'ldap', 'oidc'], {
            default: 'database',
            description: 'Who signs in to Harbor: its own user database, the site\'s LDAP (spec.identity.ldap) or its OIDC provider (spec.identity.oidc). Choose before people sign in: Harbor changes mode only while it has no users but admin.',
          }),
          ldap: Type.Object(
            {
              filter: Type.Optional(Type.String({ pattern: '^\\([A-Za-z0-9=()&|!*._ -]{1,200}\\)$', expected: 'an LDAP filter such as (objectClass=posixAccount)', description: 'Which entries under userBase may sign in (default: all).' })),
              groupFilter: Type.String({ default: '(objectClass=groupOfNames)', pattern: '^\\([A-Za-z0-9=()&|!*._ -]{1,200}\\)$', expected: 'an LDAP filter such as (objectClass=groupOfNames)', description: 'Which entries under groupBase are groups Harbor projects can be shared with.' }),
              membershipAttribute: Type.String({ default: 'memberof', pattern: '^[A-Za-z][A-Za-z0-9-]{0,63}$', expected: 'an attribute name such as memberof', description: 'The user attribute naming their groups (memberOf overlay).' }),
              adminGroupDn: Type.Optional(DistinguishedName({ description: 'Members of this LDAP group are Harbor administrators.' })),
            },
            { additionalProperties: false, default: {}, description: 'With mode ldap.' },
          ),
          oidc: Type.Object(
            {
              issuer: Type.Optional(HttpUrl({ description: 'The OIDC provider (default: spec.identity.oidc.issuer).' })),
              clientId: Type.String({ default: 'harbor', pattern: '^[A-Za-z0-9._-]{1,100}$', expected: 'a client id such as harbor', description: 'Harbor\'s client at the provider; its secret is generated (SOPS).' }),
              groupsClaim: Type.String({ default: 'groups', pattern: '^[A-Za-z0-9._:-]{1,100}$', expected: 'a claim name such as groups', description: 'The ID token claim with the user\'s groups.' }),
              adminGroup: Type.Optional(OidcGroup({ expected: 'a group name as the provider puts it in the groups claim', description: 'Members of this group are Harbor administrators.' })),
              userClaim: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9._:-]{1,100}$', expected: 'a claim name such as preferred_username', description: 'The claim Harbor takes as the user name (default: the provider\'s name claim).' })),
              scopes: Type.Array(Type.String({ pattern: '^[A-Za-z0-9._:-]{1,100}$', expected: 'an OIDC scope such as openid' }), { default: ['openid', 'profile', 'email', 'groups', 'offline_access'], description: 'Scopes Harbor asks for (offline_access: the CLI secret keeps working).' }),
            },
            { additionalProperties: false, default: {}, description: 'With mode oidc.' },
          ),
        },
        { additionalProperties: false, default: {}, description: 'How people sign in to Harbor (robot accounts and the admin are Harbor\'s own either way).' },
      ),
      projects: Type.Array(
        Type.Object(
          {
            name: Type.String({ pattern: HARBOR_NAME_PATTERN, maxLength: 255, expected: 'a Harbor project name: lower-case letters and digits, one of . _ - between them', description: 'The project (images are <hostname>/<name>/<repository>:<tag>).' }),
            public: Type.Boolean({ default: false, description: 'Anyone may pull without signing in (the nodes pull anonymously).' }),
            environments: Type.Optional(Type.Array(DnsLabel(), { minItems: 1, description: 'Environments whose robot account may push to it (default: every environment); the others may pull.' })),
          },
          { additionalProperties: false },
        ),
        {
          default: [{ name: 'library', public: true }],
          description: 'Projects harbor-setup keeps in Harbor, beside the proxy caches. Each environment\'s robot account (pull Secret harbor-robot in its namespace) may push to the projects of its environment and pull from every project.',
        },
      ),
      setup: Type.Object(
        {
          image: ImageReference({ default: HARBOR_SETUP_IMAGE, description: 'The image of harbor-setup, pinned: sh, curl, sed, grep and base64.' }),
          schedule: CronSchedule({ default: '*/15 * * * *', description: 'When harbor-setup runs (it changes only what differs from the spec).' }),
        },
        { additionalProperties: false, default: {}, description: 'harbor-setup, the CronJob that creates the projects, the proxy caches and the environments\' robot accounts through Harbor\'s API.' },
      ),
    },
    { additionalProperties: false },
  ),
  secrets: (site, settings): SecretDef[] => {
    const secret = (name: string, description: string, data: SecretDef['data']): SecretDef => ({ name, scope: 'cluster', namespace: 'harbor', description, data });
    const { mode } = settings.auth;
    const bindDn = site.identity.ldap?.bindDn;
    return [
      ...(mode === 'ldap' && bindDn ? [secret(HARBOR_SECRETS.auth, `The password of ${bindDn}, which Harbor searches the directory as`, { secret: sopsPlaceholder('harbor', HARBOR_SECRETS.auth, 'secret', ' (no " or \\ in it: Harbor reads it inside JSON)') })] : []),
      ...(mode === 'oidc' ? [secret(HARBOR_SECRETS.auth, `Harbor's OIDC client secret (client ${settings.auth.oidc.clientId}): register it at the provider`, { secret: random(40) })] : []),
      {
        name: HARBOR_ROBOT_SECRET,
        scope: 'environment',
        type: 'kubernetes.io/dockerconfigjson',
        description: `The environment's Harbor robot account (push to its projects, pull from all): pull Secret of its pods and workflows; harbor-setup gives Harbor the password`,
        data: {},
        environmentData: (env) => ({
          // Harbor's rule for robot secrets: 8-128 characters with an upper-case letter, a lower-case letter and a digit.
          password: random(40, 'mixed'),
          '.dockerconfigjson': dockerConfig(harborHostname(site), `${HARBOR_ROBOT_PREFIX}${harborRobotName(env.name)}`, 'password'),
        }),
      },
      secret(HARBOR_SECRETS.admin, 'Harbor admin password', { HARBOR_ADMIN_PASSWORD: random(24) }),
      secret(HARBOR_SECRETS.secretKey, 'Harbor encryption key (exactly 16 characters)', { secretKey: random(16) }),
      secret(HARBOR_SECRETS.core, 'Harbor core secret and CSRF key', { secret: random(16), CSRF_KEY: random(32) }),
      secret(HARBOR_SECRETS.jobservice, 'Harbor jobservice secret', { JOBSERVICE_SECRET: random(16) }),
      secret(HARBOR_SECRETS.registry, 'Harbor registry HTTP secret', { REGISTRY_HTTP_SECRET: random(16) }),
      secret(HARBOR_SECRETS.registryCredentials, 'Credentials between Harbor core and its registry', {
        REGISTRY_PASSWD: random(24),
        REGISTRY_HTPASSWD: { kind: 'htpasswd', user: 'harbor_registry_user', passwordKey: 'REGISTRY_PASSWD' },
      }),
      {
        ...secret(HARBOR_SECRETS.databaseValues, 'Password of Harbor\'s internal PostgreSQL (the chart takes it only as a value)', { password: random(24) }),
        helmValues: { release: 'harbor', build: (d) => ({ harbor: { database: { internal: { password: d.password } } } }) },
      },
    ];
  },
  check: (ctx, settings) => {
    requireStorageClass(ctx, 'harbor', settings, 'images, its database, redis, job logs and scan data');
    const components = ctx.spec.spec?.components ?? {};
    const ingress = siteIngressOf(ctx.spec);
    const metallb = components.metallb?.enabled === true;
    const expose = (settings as { expose?: unknown } | undefined)?.expose ?? 'auto';
    const at = ['spec', 'components', 'harbor', 'expose'];
    if (expose === 'auto' && autoExposure(ingress, metallb) === 'clusterIP') {
      ctx.report('error', ['spec', 'components', 'harbor'], 'Harbor would be reachable only inside the cluster (ClusterIP), while the nodes pull through its mirrors and builds push to it', {
        expected: 'an ingress controller (spec.components.ingressNginx, or on RKE2 its bundled Traefik) or spec.components.metallb enabled',
        hint: 'enable the ingress or give the site MetalLB addresses: Harbor then gets an address the nodes reach',
      });
    } else if (expose === 'ingress' && !ingress) {
      ctx.report('error', at, 'expose ingress needs an ingress controller', { hint: 'enable ingressNginx (or, on RKE2, leave distribution.ingressController at traefik), or use expose: loadBalancer with MetalLB' });
    } else if (expose === 'loadBalancer' && !metallb) {
      ctx.report('error', at, 'expose loadBalancer needs MetalLB (spec.components.metallb) to give Harbor an address', { hint: 'enable metallb with addresses, or use expose: ingress' });
    }
    const pool = (settings as { pool?: unknown } | undefined)?.pool;
    if (typeof pool === 'string') reportUnknownPool(ctx, ['spec', 'components', 'harbor', 'pool'], pool);
    const ip = (settings as { loadBalancerIP?: unknown } | undefined)?.loadBalancerIP;
    if (typeof ip === 'string') {
      const lb = expose === 'loadBalancer' || (expose === 'auto' && autoExposure(ingress, metallb) === 'loadBalancer');
      if (!lb) ctx.report('error', ['spec', 'components', 'harbor', 'loadBalancerIP'], 'loadBalancerIP is set, and Harbor is exposed through the ingress', { hint: 'set expose: loadBalancer, or drop loadBalancerIP' });
      if (lb) reportAddressOutsidePools(ctx, ['spec', 'components', 'harbor', 'loadBalancerIP'], ip, typeof pool === 'string' ? pool : undefined);
    }
    const auth = (settings as { auth?: { mode?: unknown; oidc?: { issuer?: unknown } } } | undefined)?.auth;
    const ldap = ctx.spec.spec?.identity?.ldap as { url?: unknown; startTls?: unknown; groupBase?: unknown } | undefined;
    if (auth?.mode === 'ldap') {
      if (!ldap) ctx.report('error', ['spec', 'components', 'harbor', 'auth', 'mode'], 'Harbor signs people in against LDAP, and spec.identity.ldap is not set', { hint: 'describe the directory under spec.identity.ldap' });
      else if (isString(ldap.url) && ldap.url.startsWith('ldap://')) {
        ctx.report('error', ['spec', 'components', 'harbor', 'auth', 'mode'], `Harbor would send passwords to ${ldap.url} in clear: it speaks ldaps://, not StartTLS`, { hint: 'give spec.identity.ldap an ldaps:// URL' });
      }
    }
    if (auth?.mode === 'oidc' && !isString(auth.oidc?.issuer) && !ctx.spec.spec?.identity?.oidc) {
      ctx.report('error', ['spec', 'components', 'harbor', 'auth', 'mode'], 'Harbor signs people in through OIDC, and neither auth.oidc.issuer nor spec.identity.oidc is set', { hint: 'set spec.identity.oidc.issuer (the site\'s provider)' });
    }
    checkProjects(ctx, settings);
    const setupImage = (settings as { setup?: { image?: unknown } } | undefined)?.setup?.image;
    if (isString(setupImage)) {
      const { tag, digest } = imagePin(setupImage);
      if ((tag === undefined || tag === 'latest') && digest === undefined) ctx.report('error', ['spec', 'components', 'harbor', 'setup', 'image'], `${show(setupImage)} is not pinned`, { hint: 'pin a version tag or digest' });
    }
    if (ctx.spec.spec?.components?.certManager?.enabled !== true) {
      ctx.report('warning', ['spec', 'components', 'harbor'], 'without certManager, Harbor signs its own certificate, and no node trusts it: containerd refuses the pull-through mirrors and direct pulls', {
        hint: 'enable spec.components.certManager: siteforge then makes the site CA, cert-manager issues Harbor\'s certificate from it and the Ansible output installs it on every node',
      });
    }
  },
  releases(site, settings): ReleaseDef[] {
    const host = harborHostname(site);
    const viaIngress = harborExposure(site) === 'ingress';
    const dns = site.componentSettings.externalDns.enabled ? { 'external-dns.alpha.kubernetes.io/hostname': host } : {};
    const loadBalancer = {
      annotations: { ...(settings.loadBalancerIP ? { 'metallb.io/loadBalancerIPs': settings.loadBalancerIP } : {}), ...(settings.pool ? { [POOL_ANNOTATION]: settings.pool } : {}), ...dns },
    };
    const certificate = site.componentSettings.certManager.enabled;
    const className = storageClassFor(site, settings.storageClass);
    const storageClass = className ? { storageClass: className } : {};
    return [
      {
        name: 'harbor',
        description: `Harbor registry at ${host}`,
        scope: 'cluster',
        namespace: 'harbor',
        upstream: { chart: 'harbor' },
        // First install: database migrations and image store volumes.
        timeout: '20m',
        // Where the chart takes pod tolerations, with its defaults at the pin (kept beside spec.placement's).
        podTolerations: {
          'nginx.tolerations': [],
          'portal.tolerations': [],
          'core.tolerations': [],
          'jobservice.tolerations': [],
          'registry.tolerations': [],
          'trivy.tolerations': [],
          'exporter.tolerations': [],
          'database.internal.tolerations': [],
          'redis.internal.tolerations': [],
        },
        values: {
          certificate: { enabled: certificate, host, secretName: TLS_SECRET, issuer: CLUSTER_ISSUER },
          setup: setupValues(site, settings),
          harbor: {
            expose: {
              type: harborExposure(site),
              tls: certificate
                ? { enabled: true, certSource: 'secret', secret: { secretName: TLS_SECRET } }
                : { enabled: true, certSource: 'auto', auto: { commonName: host } },
              ...(viaIngress ? { ingress: { hosts: { core: host }, className: ingressClassOf(site) } } : { loadBalancer }),
            },
            externalURL: `https://${host}`,
            existingSecretAdminPassword: HARBOR_SECRETS.admin,
            existingSecretAdminPasswordKey: 'HARBOR_ADMIN_PASSWORD',
            existingSecretSecretKey: HARBOR_SECRETS.secretKey,
            core: {
              existingSecret: HARBOR_SECRETS.core,
              existingXsrfSecret: HARBOR_SECRETS.core,
              existingXsrfSecretKey: 'CSRF_KEY',
              ...(settings.auth.mode !== 'database' ? { extraEnvVars: harborAuthEnv(site, settings.auth) } : {}),
            },
            jobservice: { existingSecret: HARBOR_SECRETS.jobservice, existingSecretKey: 'JOBSERVICE_SECRET' },
            registry: {
              existingSecret: HARBOR_SECRETS.registry,
              existingSecretKey: 'REGISTRY_HTTP_SECRET',
              credentials: { username: 'harbor_registry_user', existingSecret: HARBOR_SECRETS.registryCredentials },
            },
            persistence: {
              enabled: true,
              resourcePolicy: 'keep',
              persistentVolumeClaim: {
                registry: { size: settings.registrySize, ...storageClass },
                jobservice: { jobLog: { ...storageClass } },
                database: { ...storageClass },
                redis: { ...storageClass },
                trivy: { ...storageClass },
              },
            },
          },
        },
        valuesSchema: {
          type: 'object',
          required: ['certificate', 'setup'],
          additionalProperties: false,
          properties: {
            setup: SETUP_SCHEMA,
            certificate: {
              type: 'object',
              required: ['enabled', 'host', 'secretName', 'issuer'],
              additionalProperties: false,
              properties: { enabled: { type: 'boolean' }, host: { type: 'string' }, secretName: { type: 'string' }, issuer: { type: 'string' } },
            },
          },
        },
        templates: { 'certificate.yaml': CERTIFICATE_TEMPLATE, 'setup.yaml': SETUP_TEMPLATE },
        // Without the ingress, Harbor's own nginx terminates TLS behind the LoadBalancer (the pinned chart's appVersion).
        images: [...(viaIngress ? [] : [HARBOR_NGINX_IMAGE]), settings.setup.image],
      },
    ];
  },
});

type AuthSettings = SiteModel['componentSettings']['harbor']['auth'];

/**
 * Harbor's user settings (the names of Harbor's configuration API) for the auth mode: the LDAP
 * directory of spec.identity.ldap, or the OIDC provider. The secret is `secret`, which the caller
 * fills in.
 */
export function harborAuthSettings(site: SiteModel, auth: AuthSettings, secret: string): Record<string, unknown> {
  if (auth.mode === 'ldap') {
    const ldap = site.identity.ldap!;
    return {
      auth_mode: 'ldap_auth',
      ldap_url: ldap.url,
      ...(ldap.bindDn ? { ldap_search_dn: ldap.bindDn, ldap_search_password: secret } : {}),
      ldap_base_dn: ldap.userBase,
      ldap_uid: ldap.userAttribute,
      ...(auth.ldap.filter ? { ldap_filter: auth.ldap.filter } : {}),
      ldap_scope: 2,
      ldap_verify_cert: true,
      ...(ldap.groupBase
        ? {
            ldap_group_base_dn: ldap.groupBase,
            ldap_group_search_filter: auth.ldap.groupFilter,
            ldap_group_attribute_name: 'cn',
            ldap_group_membership_attribute: auth.ldap.membershipAttribute,
            ldap_group_search_scope: 2,
          }
        : {}),
      ...(auth.ldap.adminGroupDn ? { ldap_group_admin_dn: auth.ldap.adminGroupDn } : {}),
    };
  }
  return {
    auth_mode: 'oidc_auth',
    oidc_name: site.name,
    oidc_endpoint: auth.oidc.issuer ?? site.identity.oidc!.issuer,
    oidc_client_id: auth.oidc.clientId,
    oidc_client_secret: secret,
    oidc_groups_claim: auth.oidc.groupsClaim,
    ...(auth.oidc.adminGroup ? { oidc_admin_group: auth.oidc.adminGroup } : {}),
    ...(auth.oidc.userClaim ? { oidc_user_claim: auth.oidc.userClaim } : {}),
    oidc_scope: auth.oidc.scopes.join(','),
    oidc_verify_cert: true,
    oidc_auto_onboard: true,
  };
}

/**
 * harbor-core's environment for the auth mode: the secret from its SOPS Secret, and the settings as
 * JSON with the secret put in by Kubernetes ($(VAR) expansion of an earlier variable); every other
 * "$" is written "$$", which Kubernetes reads back as "$", so nothing from the spec expands.
 */
export function harborAuthEnv(site: SiteModel, auth: AuthSettings): Record<string, unknown>[] {
  const placeholder = '\u0000secret\u0000';
  const json = JSON.stringify(harborAuthSettings(site, auth, placeholder)).replace(/\$/g, '$$$$').replace(JSON.stringify(placeholder).slice(1, -1), `$(${HARBOR_AUTH_SECRET_ENV})`);
  const hasSecret = auth.mode === 'oidc' || Boolean(site.identity.ldap?.bindDn);
  return [
    ...(hasSecret ? [{ name: HARBOR_AUTH_SECRET_ENV, valueFrom: { secretKeyRef: { name: HARBOR_SECRETS.auth, key: 'secret' } } }] : []),
    { name: HARBOR_CONFIG_ENV, value: json },
  ];
}

/** Where Harbor's OIDC client sends people back (register it at the provider). */
export const harborOidcRedirect = (site: SiteModel) => `https://${harborHostname(site)}/c/oidc/callback`;

/** How Harbor is exposed: the ingress, or a MetalLB LoadBalancer address (validation refuses anything else when Harbor is on). */
export function harborExposure(site: SiteModel): 'ingress' | 'loadBalancer' | 'clusterIP' {
  const { expose } = site.componentSettings.harbor;
  return expose === 'auto' ? autoExposure(site.ingress, site.componentSettings.metallb.enabled) : expose;
}

/** expose: auto — the ingress, unless a MetalLB address comes first (loadBalancerBeforeIngress); a MetalLB address; else inside the cluster only. */
function autoExposure(ingress: SiteIngress | null, metallb: boolean): 'ingress' | 'loadBalancer' | 'clusterIP' {
  if (ingress && !loadBalancerBeforeIngress(ingress, metallb)) return 'ingress';
  return metallb ? 'loadBalancer' : 'clusterIP';
}

/** The registry host name: the spec's, or harbor.<domain>. */
export function harborHostname(site: SiteModel): string {
  return site.componentSettings.harbor.hostname ?? `harbor.${site.domain}`;
}

type HarborSettings = SiteModel['componentSettings']['harbor'];

// harbor-setup: its script and inputs (ConfigMap), a ServiceAccount that may read only the
// environments' pull Secrets (a Role in each environment namespace), and the CronJob.
const SETUP_TEMPLATE = `{{- with .Values.setup }}
${helmObject('v1', 'ServiceAccount', { name: 'harbor-setup', namespace: '{{ $.Release.Namespace | quote }}', inRange: true })}
{{- range .namespaces }}
---
# harbor-setup reads the environment's pull Secret (its robot's password), and nothing else.
${helmObject('rbac.authorization.k8s.io/v1', 'Role', { name: 'harbor-setup', namespace: '{{ . | quote }}', inRange: true })}
rules:
  - apiGroups: [""]
    resources: [secrets]
    resourceNames: [{{ $.Values.setup.robotSecret | quote }}]
    verbs: [get]
---
${helmObject('rbac.authorization.k8s.io/v1', 'RoleBinding', { name: 'harbor-setup', namespace: '{{ . | quote }}', inRange: true })}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: Role
  name: harbor-setup
subjects:
  - kind: ServiceAccount
    name: harbor-setup
    namespace: {{ $.Release.Namespace | quote }}
{{- end }}
---
${helmScriptCronJob('harbor-setup', { comment: 'Harbor\'s projects, proxy caches and robot accounts as the spec says (assets/harbor/setup.sh).', backoffLimit: 1, deadlineSeconds: 600 })}
          serviceAccountName: harbor-setup
          securityContext:
            runAsNonRoot: true
            runAsUser: 65534
            runAsGroup: 65534
            seccompProfile:
              type: RuntimeDefault
          {{- with .tolerations }}
          tolerations:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          containers:
            - name: setup
              image: {{ .image | quote }}
              command: ["sh", "${SETUP_DIR}/setup.sh"]
              env:
                - name: HARBOR_URL
                  value: {{ .url | quote }}
                - name: HARBOR_SETUP_DIR
                  value: ${SETUP_DIR}
                - name: HARBOR_ADMIN_PASSWORD
                  valueFrom:
                    secretKeyRef:
                      name: {{ .adminSecret | quote }}
                      key: HARBOR_ADMIN_PASSWORD
              securityContext:
${restrictedContainerSecurity(16)}
              resources:
                requests:
                  cpu: 10m
                  memory: 16Mi
                limits:
                  memory: 64Mi
              volumeMounts:
                - name: setup
                  mountPath: ${SETUP_DIR}
                  readOnly: true
                - name: tmp
                  mountPath: /tmp
          volumes:
            - name: setup
              configMap:
                name: harbor-setup
            # The script's working files (credentials for curl) stay in memory.
            - name: tmp
              emptyDir:
                medium: Memory
                sizeLimit: 16Mi
{{- end }}
`;

const SETUP_SCHEMA = {
  type: 'object',
  required: ['image', 'schedule', 'url', 'adminSecret', 'robotSecret', 'namespaces', 'files'],
  additionalProperties: false,
  properties: {
    image: { type: 'string' },
    schedule: { type: 'string' },
    url: { type: 'string' },
    adminSecret: { type: 'string' },
    robotSecret: { type: 'string' },
    namespaces: { type: 'array', items: { type: 'string' } },
    tolerations: { type: 'array' },
    files: { type: 'object', additionalProperties: { type: 'string' } },
  },
};

/** The setup script (assets/harbor/setup.sh). */
export const harborSetupScript = () => assetTree('harbor').find((f) => f.path === 'setup.sh')!.content;

/** The Harbor API body of an environment's robot account: push to its projects, pull from the others and the proxy caches. */
export function harborRobot(settings: HarborSettings, env: string): Record<string, unknown> {
  const pushes = settings.projects.filter((p) => !p.environments || p.environments.includes(env)).map((p) => p.name);
  const pulls = [...settings.projects.map((p) => p.name).filter((n) => !pushes.includes(n)), ...Object.values(HARBOR_PROXY_PROJECTS)];
  return {
    name: harborRobotName(env),
    description: `siteforge: the robot account of environment ${env}`,
    level: 'system',
    duration: -1,
    disable: false,
    permissions: [
      ...pushes.map((namespace) => ({ kind: 'project', namespace, access: PUSH_ACCESS })),
      ...pulls.map((namespace) => ({ kind: 'project', namespace, access: PULL_ACCESS })),
    ],
  };
}

/** harbor-setup's inputs: the script, the projects, the proxy caches and the robots (assets/harbor/setup.sh reads them). */
export function harborSetupFiles(site: SiteModel, settings: HarborSettings): Record<string, string> {
  const lines = (rows: string[][]) => rows.map((r) => `${r.join(' ')}\n`).join('');
  return {
    'setup.sh': harborSetupScript(),
    projects: lines(settings.projects.map((p) => [p.name, String(p.public)])),
    proxies: lines(Object.entries(HARBOR_PROXY_PROJECTS).map(([registry, project]) => [project, PROXY_REGISTRIES[registry]!.type, PROXY_REGISTRIES[registry]!.url])),
    robots: lines(site.environments.map((env) => [harborRobotName(env.name), env.namespace, HARBOR_ROBOT_SECRET])),
    ...Object.fromEntries(site.environments.map((env) => [`robot.${harborRobotName(env.name)}.json`, `${JSON.stringify(harborRobot(settings, env.name))}\n`])),
  };
}

function setupValues(site: SiteModel, settings: HarborSettings): Record<string, unknown> {
  return {
    image: settings.setup.image,
    schedule: settings.setup.schedule,
    // harbor-core's Service of the release (plain HTTP inside the cluster, as Harbor's own nginx reaches it).
    url: 'http://harbor-core.harbor.svc',
    adminSecret: HARBOR_SECRETS.admin,
    robotSecret: HARBOR_ROBOT_SECRET,
    namespaces: site.environments.map((e) => e.namespace),
    ...(site.clusterTolerations.length ? { tolerations: site.clusterTolerations.map(tolerationFor) } : {}),
    files: harborSetupFiles(site, settings),
  };
}

/** The projects: unique, not a proxy cache's name, environments the site has; every environment's robot name is one Harbor takes. */
function checkProjects(ctx: RuleContext, settings: unknown) {
  const at = ['spec', 'components', 'harbor', 'projects'];
  const projects = (settings as { projects?: unknown } | undefined)?.projects;
  const envs = declaredEnvironments(ctx.spec);
  const seen = new Set<string>();
  (Array.isArray(projects) ? projects : []).forEach((p: { name?: unknown; environments?: unknown }, i) => {
    if (isString(p?.name)) {
      if (seen.has(p.name)) ctx.report('error', [...at, i, 'name'], `project "${p.name}" is listed twice`, { hint: 'list each project once' });
      if (Object.values(HARBOR_PROXY_PROJECTS).includes(p.name)) ctx.report('error', [...at, i, 'name'], `"${p.name}" is the proxy cache of ${Object.entries(HARBOR_PROXY_PROJECTS).find(([, v]) => v === p.name)![0]}, which harbor-setup keeps`, { hint: 'choose another name' });
      seen.add(p.name);
    }
    (Array.isArray(p?.environments) ? p.environments : []).forEach((env: unknown, k: number) => {
      if (isString(env) && !envs.includes(env)) ctx.report('error', [...at, i, 'environments', k], `environment "${env}" is not in spec.environments`, { expected: `one of ${envs.join(', ')}` });
    });
  });
  const nameRule = new RegExp(HARBOR_NAME_PATTERN);
  envs.forEach((env, i) => {
    if (!nameRule.test(harborRobotName(env))) {
      ctx.report('error', ['spec', 'environments', i], `Harbor takes no robot account named ${harborRobotName(env)} for environment "${env}" (no two separators in a row)`, { hint: 'rename the environment without "--", or disable Harbor' });
    }
  });
}
