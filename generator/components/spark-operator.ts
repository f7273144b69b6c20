// Kubeflow Spark Operator: SparkApplications in the environment namespaces.
import { Type } from '@sinclair/typebox';
import { Enabled, ChartVersion } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef, webhookCaBundles } from './types.ts';

export const sparkOperator = defineComponent({
  name: 'sparkOperator',
  title: 'Kubeflow Spark Operator',
  dependsOn: ['namespaces'],
  settings: Type.Object({ enabled: Enabled(false), chartVersion: ChartVersion() }, { additionalProperties: false }),
  releases: (site): ReleaseDef[] => [
    {
      name: 'spark-operator',
      layer: 'operators',
      description: 'Kubeflow Spark Operator watching the environment namespaces',
      scope: 'cluster',
      namespace: 'spark-operator',
      upstream: { chart: 'spark-operator' },
      // The operator's webhook writes its own certificate's CA into its configurations.
      selfMutated: webhookCaBundles(['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'], 4),
      // Where the chart takes pod tolerations, with its defaults at the pin (kept beside spec.placement's).
      podTolerations: {
        'controller.tolerations': [],
        'webhook.tolerations': [],
        'hook.tolerations': [],
      },
      values: {
        'spark-operator': {
          spark: { jobNamespaces: site.environments.map((e) => e.namespace) },
          webhook: { enable: true },
        },
      },
    },
  ],
});
