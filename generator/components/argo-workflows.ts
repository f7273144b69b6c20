// Argo Workflows: the build factory's workflow engine (server, controller, artifact repository).
import { Type } from '@sinclair/typebox';
import { Enabled, Quantity, OneOf } from '../spec/formats.ts';
import { defineComponent } from './types.ts';

export const argoWorkflows = defineComponent({
  name: 'argoWorkflows',
  title: 'Argo Workflows: workflow controller, server and the site WorkflowTemplates',
  scope: 'cluster',
  namespace: 'argo',
  dependsOn: ['namespaces', 'storage'],
  settings: Type.Object(
    {
      enabled: Enabled(false),
      sso: Type.Object({ enabled: Type.Boolean({ default: false }) }, { additionalProperties: false, default: {} }),
      artifacts: Type.Object(
        {
          type: OneOf(['pvc', 's3'], { default: 'pvc' }),
          size: Quantity({ default: '50Gi' }),
        },
        { additionalProperties: false, default: {} },
      ),
    },
    { additionalProperties: false },
  ),
});
