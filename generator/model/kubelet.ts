// The kubelet settings a site asks for (NUMA-aware static partitioning), in one neutral form:
// a KubeletConfiguration fragment. RKE2 turns it into kubelet-arg flags, k0s into a worker profile.
import type { SiteModel } from './site.ts';

/** Default hard eviction threshold for memory; the Static memory manager must account for it. */
const EVICTION_MEMORY = '100Mi';

const UNITS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40 };

export function quantityBytes(q: string): number {
  const m = /^([0-9]+(?:\.[0-9]+)?)(k|Ki|Mi|Gi|Ti|M|G|T)?$/.exec(q);
  if (!m) throw new Error(`not a memory quantity: ${q}`);
  return Math.round(Number(m[1]) * UNITS[m[2] ?? '']!);
}

export function formatMemory(bytes: number): string {
  for (const unit of ['Gi', 'Mi', 'Ki'] as const) if (bytes % UNITS[unit]! === 0) return `${bytes / UNITS[unit]!}${unit}`;
  return String(bytes);
}

export interface KubeletSettings {
  cpuManagerPolicy?: string;
  topologyManagerPolicy?: string;
  topologyManagerScope?: string;
  memoryManagerPolicy?: string;
  kubeReserved?: { cpu?: string; memory?: string };
  evictionHard?: Record<string, string>;
  reservedMemory?: { numaNode: number; limits: { memory: string } }[];
}

export function kubeletSettings(site: SiteModel): KubeletSettings {
  const k = site.kubelet;
  if (!k) return {};
  const out: KubeletSettings = {};
  if (k.cpuManagerPolicy) out.cpuManagerPolicy = k.cpuManagerPolicy;
  if (k.topologyManagerPolicy) out.topologyManagerPolicy = k.topologyManagerPolicy;
  if (k.topologyManagerScope) out.topologyManagerScope = k.topologyManagerScope;
  if (k.memoryManagerPolicy) out.memoryManagerPolicy = k.memoryManagerPolicy;
  if (k.reserved?.cpu || k.reserved?.memory) {
    out.kubeReserved = { ...(k.reserved.cpu ? { cpu: k.reserved.cpu } : {}), ...(k.reserved.memory ? { memory: k.reserved.memory } : {}) };
  }
  if (k.memoryManagerPolicy === 'Static' && k.reserved?.memory) {
    // The kubelet insists: reserved memory over all NUMA nodes = kube + system reserved + hard eviction.
    out.evictionHard = { 'memory.available': EVICTION_MEMORY };
    const total = quantityBytes(k.reserved.memory) + quantityBytes(EVICTION_MEMORY);
    out.reservedMemory = [{ numaNode: 0, limits: { memory: formatMemory(total) } }];
  }
  return out;
}

const kebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** The same settings as kubelet flags without the leading "--" (RKE2 `kubelet-arg`). */
export function kubeletArgs(settings: KubeletSettings): string[] {
  const args: string[] = [];
  for (const key of ['cpuManagerPolicy', 'topologyManagerPolicy', 'topologyManagerScope', 'memoryManagerPolicy'] as const) {
    const value = settings[key];
    if (value) args.push(`${kebab(key)}=${value}`);
  }
  if (settings.kubeReserved) {
    args.push(`kube-reserved=${Object.entries(settings.kubeReserved).map(([k, v]) => `${k}=${v}`).join(',')}`);
  }
  if (settings.evictionHard) {
    args.push(`eviction-hard=${Object.entries(settings.evictionHard).map(([k, v]) => `${k}<${v}`).join(',')}`);
  }
  for (const r of settings.reservedMemory ?? []) args.push(`reserved-memory=${r.numaNode}:memory=${r.limits.memory}`);
  return args;
}
