// Harbor: the site's container registry and the pull-through cache for the nodes (proxy-cache
// projects dockerhub, ghcr, quay, k8s, nvcr). Every credential comes from an existing Secret.
import { Type } from '@sinclair/typebox';
import { ChartVersion, DnsName, DnsSubdomain, Enabled, Quantity } from '../spec/formats.ts';
import { requireStorageClass, storageClassFor } from './storage.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import type { SiteModel } from '../model/site.ts';
import { helmObject } from './labels.ts';
import { CLUSTER_ISSUER, } from './cert-manager.ts';
import { INGRESS_CLASS } from './ingress-nginx.ts';
import { random, type SecretDef } from '../secrets/types.ts';

/** Secrets Harbor reads (created by the secrets stage, never written as values). */
export const HARBOR_SECRETS = {
  admin: 'harbor-admin',
  secretKey: 'harbor-secret-key',
  core: 'harbor-core',
  jobservice: 'harbor-jobservice',
  registry: 'harbor-registry',
  registryCredentials: 'harbor-registry-credentials',
  databaseValues: 'harbor-database-values',
} as const;

const TLS_SECRET = 'harbor-tls';

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
  settings: Type.Object(
    {
      enabled: Enabled(false),
      chartVersion: ChartVersion(),
      hostname: Type.Optional(DnsName({ description: 'Registry host name (default harbor.<domain>).' })),
      storageClass: Type.Optional(DnsSubdomain({ description: 'StorageClass for registry and database volumes.' })),
      registrySize: Quantity({ default: '500Gi' }),
    },
    { additionalProperties: false },
  ),
  secrets: (): SecretDef[] => {
    const secret = (name: string, description: string, data: SecretDef['data']): SecretDef => ({ name, scope: 'cluster', namespace: 'harbor', description, data });
    return [
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
    if (ctx.spec.spec?.components?.certManager?.enabled !== true) {
      ctx.report('warning', ['spec', 'components', 'harbor'], 'without certManager, Harbor signs its own certificate, and no node trusts it: containerd refuses the pull-through mirrors and direct pulls', {
        hint: 'enable spec.components.certManager: siteforge then makes the site CA, cert-manager issues Harbor\'s certificate from it and the Ansible output installs it on every node',
      });
    }
  },
  releases(site, settings): ReleaseDef[] {
    const host = harborHostname(site);
    const viaIngress = site.componentSettings.ingressNginx.enabled;
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
              type: viaIngress ? 'ingress' : site.componentSettings.metallb.enabled ? 'loadBalancer' : 'clusterIP',
              tls: certificate
                ? { enabled: true, certSource: 'secret', secret: { secretName: TLS_SECRET } }
                : { enabled: true, certSource: 'auto', auto: { commonName: host } },
              ...(viaIngress ? { ingress: { hosts: { core: host }, className: INGRESS_CLASS } } : {}),
            },
            externalURL: `https://${host}`,
            existingSecretAdminPassword: HARBOR_SECRETS.admin,
            existingSecretAdminPasswordKey: 'HARBOR_ADMIN_PASSWORD',
            existingSecretSecretKey: HARBOR_SECRETS.secretKey,
            core: { existingSecret: HARBOR_SECRETS.core, existingXsrfSecret: HARBOR_SECRETS.core, existingXsrfSecretKey: 'CSRF_KEY' },
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
      },
    ];
  },
});

/** The registry host name: the spec's, or harbor.<domain>. */
export function harborHostname(site: SiteModel): string {
  return site.componentSettings.harbor.hostname ?? `harbor.${site.domain}`;
}
