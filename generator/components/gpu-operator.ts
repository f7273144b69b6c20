// NVIDIA GPU Operator: device plugin, container toolkit, DCGM exporter, MIG manager. HPC nodes
// usually carry the NVIDIA driver in their image, so the operator-managed driver is off by default.
import { Type } from '@sinclair/typebox';
import { Enabled, OneOf, ChartVersion } from '../spec/formats.ts';
import { upstreamVersion } from './upstream.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { KUBELET_DIR } from './storage.ts';
import { nodeDistribution } from '../model/distribution.ts';
import { KUBESPRAY_PATHS } from '../model/kubespray.ts';

/** Where the distribution's containerd lives: the toolkit registers the nvidia runtime there. */
const CONTAINERD = {
  rke2: { config: '/var/lib/rancher/rke2/agent/etc/containerd/config.toml.tmpl', socket: '/run/k3s/containerd/containerd.sock' },
  k0s: { config: '/etc/k0s/containerd.d/nvidia.toml', socket: '/run/k0s/containerd.sock' },
  // Kubespray's own config.toml: it carries the nvidia runtime too (containerd_additional_runtimes), so its next run keeps it.
  kubespray: { config: KUBESPRAY_PATHS.containerdConfig, socket: KUBESPRAY_PATHS.containerdSocket },
} as const;

export const gpuOperator = defineComponent({
  name: 'gpuOperator',
  title: 'NVIDIA GPU Operator',
  dependsOn: ['namespaces', 'monitoring'],
  notUnderHpk: 'it is a DaemonSet-based operator: drivers, container toolkit and device plugin on every Kubernetes node, and HPK has no nodes of its own. GPUs are Slurm\'s there: steps ask with resources.gpus and get them as GRES (distribution.hpk.pods.gpu)',
  settings: Type.Object(
    {
      enabled: Enabled(false),
      chartVersion: ChartVersion(),
      driverPreinstalled: Type.Boolean({ default: true, description: 'HPC nodes usually carry the NVIDIA driver already; true skips the operator-managed driver.' }),
      migStrategy: OneOf(['none', 'single', 'mixed'], { default: 'none', description: 'How MIG slices are advertised: none, single (all slices alike, as nvidia.com/gpu) or mixed (one resource per slice profile).' }),
    },
    { additionalProperties: false },
  ),
  releases(site, settings): ReleaseDef[] {
    const containerd = CONTAINERD[nodeDistribution(site)];
    return [
      {
        name: 'gpu-operator',
        layer: 'operators',
        description: 'NVIDIA GPU Operator',
        scope: 'cluster',
        namespace: 'gpu-operator',
        upstream: { chart: 'gpu-operator' },
        timeout: '15m',
        // Where the chart takes pod tolerations, with its defaults at the pin (kept beside spec.placement's).
        podTolerations: {
          'operator.tolerations': [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Equal', value: '', effect: 'NoSchedule' }],
          'node-feature-discovery.master.tolerations': [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Equal', value: '', effect: 'NoSchedule' }],
          'node-feature-discovery.worker.tolerations': [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Equal', value: '', effect: 'NoSchedule' }, { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          'node-feature-discovery.gc.tolerations': [],
        },
        values: {
          'gpu-operator': {
            // The operator image at the pinned release, whatever tag the chart's source defaults to.
            operator: { version: upstreamVersion({ chart: 'gpu-operator', version: settings.chartVersion }) },
            driver: { enabled: !settings.driverPreinstalled },
            mig: { strategy: settings.migStrategy },
            hostPaths: { kubeletRootDir: KUBELET_DIR[nodeDistribution(site)] },
            toolkit: {
              env: [
                { name: 'CONTAINERD_CONFIG', value: containerd.config },
                { name: 'CONTAINERD_SOCKET', value: containerd.socket },
                { name: 'CONTAINERD_RUNTIME_CLASS', value: 'nvidia' },
                { name: 'CONTAINERD_SET_AS_DEFAULT', value: 'false' },
              ],
            },
            dcgmExporter: { serviceMonitor: { enabled: site.componentSettings.monitoring.enabled } },
          },
        },
      },
    ];
  },
});
