// ExternalDNS (DNS records for services and ingresses).
import { Type } from '@sinclair/typebox';
import { Enabled } from '../spec/formats.ts';
import { defineComponent } from './types.ts';

export const externalDns = defineComponent({
  name: 'externalDns',
  title: 'ExternalDNS (DNS records for services and ingresses)',
  scope: 'cluster',
  namespace: 'external-dns',
  dependsOn: ['namespaces'],
  settings: Type.Object({ enabled: Enabled(false) }, { additionalProperties: false }),
});
