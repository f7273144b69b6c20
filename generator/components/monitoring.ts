// kube-prometheus-stack: Prometheus, Alertmanager, Grafana; optional SLURM node scrape targets.
import { Type } from '@sinclair/typebox';
import { Enabled, Quantity } from '../spec/formats.ts';
import { defineComponent } from './types.ts';

export const monitoring = defineComponent({
  name: 'monitoring',
  title: 'Monitoring: kube-prometheus-stack',
  scope: 'cluster',
  namespace: 'monitoring',
  dependsOn: ['namespaces'],
  settings: Type.Object(
    {
      enabled: Enabled(false),
      retention: Type.String({ default: '15d', pattern: '^[0-9]+(h|d|w|y)$', expected: 'a Prometheus duration such as 15d' }),
      storageSize: Quantity({ default: '50Gi' }),
      slurmNodeExporters: Type.Array(
        Type.String({ pattern: '^[A-Za-z0-9.-]+:[0-9]{1,5}$', expected: 'host:port of a SLURM node exporter, e.g. 10.40.1.1:9100' }),
        { default: [], description: 'node-exporter endpoints on SLURM nodes to scrape.' },
      ),
    },
    { additionalProperties: false },
  ),
});
