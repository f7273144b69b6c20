// Kubeflow Spark Operator.
import { Type } from '@sinclair/typebox';
import { Enabled } from '../spec/formats.ts';
import { defineComponent } from './types.ts';

export const sparkOperator = defineComponent({
  name: 'sparkOperator',
  title: 'Kubeflow Spark Operator',
  scope: 'cluster',
  namespace: 'spark-operator',
  dependsOn: ['namespaces'],
  settings: Type.Object({ enabled: Enabled(false) }, { additionalProperties: false }),
});
