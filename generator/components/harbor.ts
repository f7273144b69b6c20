// Harbor: the site's container registry and the pull-through cache for the nodes (proxy-cache
// projects dockerhub, ghcr, quay, k8s, nvcr). Every credential comes from an existing Secret.
import { Type } from '@sinclair/typebox';
import { ChartVersion, DistinguishedName, DnsName, DnsSubdomain, Enabled, HttpUrl, Ipv4, OidcGroup, OneOf, Quantity } from '../spec/formats.ts';
import { POOL_ANNOTATION, PoolChoice, reportAddressOutsidePools, reportUnknownPool } from './metallb.ts';
import { requireStorageClass, storageClassFor } from './storage.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import type { SiteModel } from '../model/site.ts';
import { helmObject } from './labels.ts';
import { CLUSTER_ISSUER, } from './cert-manager.ts';
import { INGRESS_CLASS } from './ingress-nginx.ts';
import { random, sopsPlaceholder, type SecretDef } from '../secrets/types.ts';
import { isString } from '../spec/guards.ts';

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
        description: 'How nodes and builds reach Harbor: through the ingress (ingressNginx), or a MetalLB LoadBalancer address of its own; auto: the ingress when there is one, else a LoadBalancer.',
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
    const ingress = components.ingressNginx?.enabled === true;
    const metallb = components.metallb?.enabled === true;
    const expose = (settings as { expose?: unknown } | undefined)?.expose ?? 'auto';
    const at = ['spec', 'components', 'harbor', 'expose'];
    if (expose === 'auto' && !ingress && !metallb) {
      ctx.report('error', ['spec', 'components', 'harbor'], 'Harbor would be reachable only inside the cluster (ClusterIP), while the nodes pull through its mirrors and builds push to it', {
        expected: 'spec.components.ingressNginx or spec.components.metallb enabled',
        hint: 'enable the ingress (ingressNginx) or give the site MetalLB addresses: Harbor then gets an address the nodes reach',
      });
    } else if (expose === 'ingress' && !ingress) {
      ctx.report('error', at, 'expose ingress needs spec.components.ingressNginx', { hint: 'enable ingressNginx, or use expose: loadBalancer with MetalLB' });
    } else if (expose === 'loadBalancer' && !metallb) {
      ctx.report('error', at, 'expose loadBalancer needs MetalLB (spec.components.metallb) to give Harbor an address', { hint: 'enable metallb with addresses, or use expose: ingress' });
    }
    const pool = (settings as { pool?: unknown } | undefined)?.pool;
    if (typeof pool === 'string') reportUnknownPool(ctx, ['spec', 'components', 'harbor', 'pool'], pool);
    const ip = (settings as { loadBalancerIP?: unknown } | undefined)?.loadBalancerIP;
    if (typeof ip === 'string') {
      const lb = expose === 'loadBalancer' || (expose === 'auto' && !ingress && metallb);
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
          harbor: {
            expose: {
              type: harborExposure(site),
              tls: certificate
                ? { enabled: true, certSource: 'secret', secret: { secretName: TLS_SECRET } }
                : { enabled: true, certSource: 'auto', auto: { commonName: host } },
              ...(viaIngress ? { ingress: { hosts: { core: host }, className: INGRESS_CLASS } } : { loadBalancer }),
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
          required: ['certificate'],
          additionalProperties: false,
          properties: {
            certificate: {
              type: 'object',
              required: ['enabled', 'host', 'secretName', 'issuer'],
              additionalProperties: false,
              properties: { enabled: { type: 'boolean' }, host: { type: 'string' }, secretName: { type: 'string' }, issuer: { type: 'string' } },
            },
          },
        },
        templates: { 'certificate.yaml': CERTIFICATE_TEMPLATE },
        // Without the ingress, Harbor's own nginx terminates TLS behind the LoadBalancer (the pinned chart's appVersion).
        ...(viaIngress ? {} : { images: [HARBOR_NGINX_IMAGE] }),
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
  if (expose !== 'auto') return expose;
  return site.componentSettings.ingressNginx.enabled ? 'ingress' : site.componentSettings.metallb.enabled ? 'loadBalancer' : 'clusterIP';
}

/** The registry host name: the spec's, or harbor.<domain>. */
export function harborHostname(site: SiteModel): string {
  return site.componentSettings.harbor.hostname ?? `harbor.${site.domain}`;
}
