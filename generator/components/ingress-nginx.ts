// ingress-nginx controller.
import { Type } from '@sinclair/typebox';
import { Enabled } from '../spec/formats.ts';
import { defineComponent } from './types.ts';

export const ingressNginx = defineComponent({
  name: 'ingressNginx',
  title: 'ingress-nginx controller',
  scope: 'cluster',
  namespace: 'ingress-nginx',
  dependsOn: ['metallb'],
  settings: Type.Object({ enabled: Enabled(false) }, { additionalProperties: false }),
});
