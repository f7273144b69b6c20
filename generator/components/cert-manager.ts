// cert-manager: certificates for the ingress host names, from the site CA. siteforge makes the CA
// itself (secrets stage: key SOPS-encrypted, certificate published in clear) so that the Ansible
// output can install the same certificate on every node before the cluster exists: containerd
// then trusts Harbor, and so does every host that trusts the site CA.
import { Type } from '@sinclair/typebox';
import { Enabled, ChartVersion } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef, webhookCaBundles } from './types.ts';
import { helmObject } from './labels.ts';
import { caCertificate, caKey, publishedId, type SecretDef } from '../secrets/types.ts';
import type { SiteModel } from '../model/site.ts';

export const CLUSTER_ISSUER = 'site-ca';

/** cert-manager's cluster resource namespace: where a ClusterIssuer's CA Secret lives. */
const CA_NAMESPACE = 'cert-manager';

/** Where the secrets stage publishes the site CA certificate (when cert-manager is enabled). */
export function siteCaId(site: SiteModel): string | null {
  const settings = site.componentSettings.certManager;
  return settings.enabled ? publishedId(CA_NAMESPACE, settings.caSecret, 'tls.crt') : null;
}

const ISSUER_TEMPLATE = `# The site CA issuer every ingress certificate comes from. Its key pair is the Secret siteforge
# generated (secrets/cluster/cert-manager/); the nodes trust its certificate (ansible group_vars).
${helmObject('cert-manager.io/v1', 'ClusterIssuer', { name: '{{ .Values.issuer | quote }}' })}
spec:
  ca:
    secretName: {{ .Values.caSecret | quote }}
`;

export const certManager = defineComponent({
  name: 'certManager',
  title: 'cert-manager (certificates for ingress hosts)',
  dependsOn: [],
  settings: Type.Object(
    {
      enabled: Enabled(false),
      chartVersion: ChartVersion(),
      caSecret: Type.String({ default: 'site-ca', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', description: 'Secret (in cert-manager) holding the site CA.' }),
    },
    { additionalProperties: false },
  ),
  secrets: (site, settings): SecretDef[] => [
    {
      name: settings.caSecret,
      scope: 'cluster',
      namespace: CA_NAMESPACE,
      type: 'kubernetes.io/tls',
      description: `The ${site.name} site CA (cert-manager's CA issuer signs with it; nodes trust its certificate)`,
      data: { 'tls.key': caKey(), 'tls.crt': caCertificate('tls.key', `${site.name} site CA`) },
      publish: ['tls.crt'],
    },
  ],
  releases: (site, settings): ReleaseDef[] => [
    {
      name: 'cert-manager',
      layer: 'operators',
      description: 'cert-manager controller, webhook and CRDs',
      scope: 'cluster',
      namespace: 'cert-manager',
      upstream: { chart: 'cert-manager' },
      // cainjector writes the webhook's CA into its configurations.
      selfMutated: webhookCaBundles(['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']),
      timeout: '10m',
      // Where the chart takes pod tolerations, with its defaults at the pin (kept beside spec.placement's).
      podTolerations: {
        'tolerations': [],
        'webhook.tolerations': [],
        'cainjector.tolerations': [],
        'startupapicheck.tolerations': [],
      },
      values: { 'cert-manager': { crds: { enabled: true, keep: true } } },
    },
    {
      name: 'cert-manager-issuers',
      description: `Certificate issuers of site ${site.name}`,
      scope: 'cluster',
      namespace: 'cert-manager',
      after: ['cert-manager'],
      values: { issuer: CLUSTER_ISSUER, caSecret: settings.caSecret },
      valuesSchema: {
        type: 'object',
        required: ['issuer', 'caSecret'],
        additionalProperties: false,
        properties: { issuer: { type: 'string' }, caSecret: { type: 'string' } },
      },
      templates: { 'issuers.yaml': ISSUER_TEMPLATE },
    },
  ],
});
