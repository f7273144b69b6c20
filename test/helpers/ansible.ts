// Ansible helpers for the tests: the generated inventory as ansible-inventory lists it, and a
// check-mode run of site.yml on this machine (hosts mapped to localhost) with what each task would write.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { runTool } from './tools.ts';

export interface InventoryList {
  _meta: { hostvars: Record<string, Record<string, unknown>> };
  [group: string]: { hosts?: string[]; children?: string[] } | InventoryList['_meta'];
}

export const group = (inv: InventoryList, name: string) => (inv[name] as { hosts?: string[]; children?: string[] } | undefined) ?? {};

export async function inventoryList(out: string): Promise<InventoryList> {
  const res = await runTool('ansible-inventory', ['-i', 'ansible/inventory/hosts.yaml', '--list'], { cwd: out });
  if (res.code !== 0) throw new Error(res.stderr);
  return JSON.parse(res.stdout) as InventoryList;
}

export interface PlaybookJson {
  plays: { tasks: { task: { name: string }; hosts: Record<string, { failed?: boolean; msg?: string; diff?: unknown }> }[] }[];
  stats: Record<string, { failures: number; unreachable: number }>;
}

/** Runs site.yml in check mode with the given hosts mapped to this machine; returns the JSON report. */
export async function checkModeRun(out: string, inv: InventoryList, server: string, agent: string | undefined, extraEnv: Record<string, string> = {}): Promise<PlaybookJson> {
  const vars = (host: string) => ({ ...inv._meta.hostvars[host], ansible_host: '127.0.0.1' });
  const test = {
    all: {
      vars: {
        ansible_connection: 'local',
        ansible_python_interpreter: '/usr/bin/python3',
        // This machine has no sudo; as root, su works the same for a check run.
        ansible_become_method: 'ansible.builtin.su',
        // The test machine keeps its own host name.
        prepare_set_hostname: false,
      },
      children: {
        cluster: { children: { servers: { hosts: { [server]: vars(server) } }, agents: { hosts: agent ? { [agent]: vars(agent) } : {} } } },
        ...(agent && group(inv, 'gpu').hosts?.includes(agent) ? { gpu: { hosts: { [agent]: null } } } : {}),
        // A Kubespray site: its groups over the same two hosts.
        ...(group(inv, 'kube_control_plane').hosts
          ? {
              kube_control_plane: { hosts: { [server]: null } },
              etcd: { children: { kube_control_plane: null } },
              kube_node: { hosts: { [agent ?? server]: null } },
              k8s_cluster: { children: { kube_control_plane: null, kube_node: null } },
            }
          : {}),
      },
    },
  };
  // Beside the generated inventory, so the variables there (Kubespray's) apply as they do to it.
  const path = join(out, 'ansible', 'inventory', 'test-only-inventory.yaml');
  await writeFile(path, stringify(test));
  const res = await runTool('ansible-playbook', ['-i', path, 'ansible/site.yml', '--check', '--diff'], {
    cwd: out,
    env: { ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_CONFIG: join(out, 'ansible', 'ansible.cfg'), ANSIBLE_NOCOLOR: '1', ...extraEnv },
  });
  let report: PlaybookJson;
  try {
    report = JSON.parse(res.stdout) as PlaybookJson;
  } catch {
    throw new Error(`check run printed no JSON (exit ${res.code}): ${res.stderr}`);
  }
  return report;
}

/** The content a template/copy task would write for a host, from its --diff output. */
export function rendered(report: PlaybookJson, taskName: string, host: string): string {
  for (const play of report.plays) {
    for (const task of play.tasks) {
      if (!task.task.name.endsWith(taskName)) continue;
      const result = task.hosts[host];
      const diffs = Array.isArray(result?.diff) ? result.diff : [result?.diff];
      for (const d of diffs as { after?: unknown }[]) if (typeof d?.after === 'string') return d.after;
    }
  }
  throw new Error(`no rendered output of "${taskName}" for ${host}`);
}

export function failures(report: PlaybookJson): string[] {
  return report.plays.flatMap((p) =>
    p.tasks.flatMap((task) => Object.entries(task.hosts).filter(([, r]) => r.failed).map(([h, r]) => `${h}: ${task.task.name}: ${r.msg}`)),
  );
}

/** The site CA certificate as the secrets stage published it (the clear annotation of its SOPS Secret). */
export function siteCaOf(sopsText: string): string {
  const ca = parse(sopsText).metadata.annotations['siteforge.io/public.tls.crt'];
  if (!/^-----BEGIN CERTIFICATE-----\n/.test(ca)) throw new Error('no published CA certificate');
  return ca;
}

/** What a looped template task renders, per loop item label. */
export function renderedLoop(report: PlaybookJson, taskName: string, host: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const play of report.plays) {
    for (const task of play.tasks) {
      if (!task.task.name.endsWith(taskName)) continue;
      const results = (task.hosts[host] as { results?: { item?: { registry?: string }; diff?: { after?: unknown } | { after?: unknown }[] }[] } | undefined)?.results ?? [];
      for (const r of results) {
        const diffs = Array.isArray(r.diff) ? r.diff : [r.diff];
        for (const d of diffs) if (typeof d?.after === 'string') out.set(String(r.item?.registry), d.after);
      }
    }
  }
  return out;
}

