// cert-manager: certificates for the ingress host names, from a site CA issuer.
import { Type } from '@sinclair/typebox';
import { Enabled, ChartVersion } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { helmObject } from './labels.ts';

export const CLUSTER_ISSUER = 'site-ca';

const ISSUER_TEMPLATE = `# A self-signed root, and the site CA issuer every ingress certificate comes from.
${helmObject('cert-manager.io/v1', 'ClusterIssuer', { name: 'selfsigned-root' })}
spec:
  selfSigned: {}
---
${helmObject('cert-manager.io/v1', 'Certificate', { name: '{{ .Values.caSecret | quote }}', namespace: '{{ .Release.Namespace | quote }}' })}
spec:
  isCA: true
  commonName: {{ printf "%s site CA" .Values.site | quote }}
  secretName: {{ .Values.caSecret | quote }}
  duration: 87600h
  privateKey:
    algorithm: ECDSA
    size: 256
  issuerRef:
    name: selfsigned-root
    kind: ClusterIssuer
    group: cert-manager.io
---
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
  releases: (site, settings): ReleaseDef[] => [
    {
      name: 'cert-manager',
      layer: 'operators',
      description: 'cert-manager controller, webhook and CRDs',
      scope: 'cluster',
      namespace: 'cert-manager',
      upstream: { chart: 'cert-manager' },
      values: { 'cert-manager': { crds: { enabled: true, keep: true } } },
    },
    {
      name: 'cert-manager-issuers',
      description: `Certificate issuers of site ${site.name}`,
      scope: 'cluster',
      namespace: 'cert-manager',
      after: ['cert-manager'],
      values: { site: site.name, issuer: CLUSTER_ISSUER, caSecret: settings.caSecret },
      valuesSchema: {
        type: 'object',
        required: ['site', 'issuer', 'caSecret'],
        additionalProperties: false,
        properties: { site: { type: 'string' }, issuer: { type: 'string' }, caSecret: { type: 'string' } },
      },
      templates: { 'issuers.yaml': ISSUER_TEMPLATE },
    },
  ],
});
