// cert-manager (certificates for ingress hosts).
import { Type } from '@sinclair/typebox';
import { Enabled } from '../spec/formats.ts';
import { defineComponent } from './types.ts';

export const certManager = defineComponent({
  name: 'certManager',
  title: 'cert-manager (certificates for ingress hosts)',
  scope: 'cluster',
  namespace: 'cert-manager',
  dependsOn: [],
  settings: Type.Object({ enabled: Enabled(false) }, { additionalProperties: false }),
});
