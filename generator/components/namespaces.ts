// The environment namespaces `<env>-<site>` with Pod Security Admission labels. One release
// creates every environment's namespace, before anything is deployed into them.
import { Type } from '@sinclair/typebox';
import { Enabled, OneOf } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { helmObject } from './labels.ts';

const NAMESPACE_TEMPLATE = `{{- range .Values.environments }}
---
${helmObject('v1', 'Namespace', { name: '{{ .namespace | quote }}', inRange: true, labels: { 'siteforge.io/site': '{{ $.Values.site | quote }}', 'siteforge.io/environment': '{{ .name | quote }}', 'pod-security.kubernetes.io/enforce': '{{ .podSecurity | quote }}', 'pod-security.kubernetes.io/enforce-version': 'latest', 'pod-security.kubernetes.io/warn': '{{ .podSecurity | quote }}', 'pod-security.kubernetes.io/audit': '{{ .podSecurity | quote }}' } })}
  annotations:
    helm.sh/resource-policy: keep
{{- end }}
`;

export const namespaces = defineComponent({
  name: 'namespaces',
  title: 'Environment namespaces with Pod Security Admission levels',
  dependsOn: [],
  settings: Type.Object(
    {
      enabled: Enabled(true),
      podSecurity: OneOf(['privileged', 'baseline', 'restricted'], {
        default: 'baseline',
        description: 'Pod Security Admission level enforced in every environment namespace.',
      }),
    },
    { additionalProperties: false },
  ),
  releases: (site, settings): ReleaseDef[] => [
    {
      name: 'namespaces',
      layer: 'operators',
      description: `Environment namespaces of site ${site.name}`,
      scope: 'cluster',
      namespace: 'kube-system',
      values: {
        site: site.name,
        environments: site.environments.map((env) => ({ name: env.name, namespace: env.namespace, podSecurity: settings.podSecurity })),
      },
      valuesSchema: {
        type: 'object',
        required: ['site', 'environments'],
        additionalProperties: false,
        properties: {
          site: { type: 'string' },
          environments: {
            type: 'array',
            items: {
              type: 'object',
              required: ['name', 'namespace', 'podSecurity'],
              additionalProperties: false,
              properties: {
                name: { type: 'string' },
                namespace: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 63 },
                podSecurity: { enum: ['privileged', 'baseline', 'restricted'] },
              },
            },
          },
        },
      },
      templates: { 'namespaces.yaml': NAMESPACE_TEMPLATE },
    },
  ],
});
