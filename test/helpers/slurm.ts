// A real one-node Slurm on this machine (Debian's slurm-wlm and munge, installed by
// scripts/setup.sh): munged, slurmctld and slurmd in a temporary directory, on their own ports and
// socket, with the node name, partitions, features and GPUs (GRES on stand-in device files) a
// test asks for. Needs root (slurmd starts jobs as their users).
import { execFile, spawnSync } from 'node:child_process';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tempDir } from './cli.ts';
import { freePort } from './tools.ts';

export interface SlurmCluster {
  /** Environment for Slurm's commands (SLURM_CONF). */
  readonly env: Record<string, string>;
  readonly dir: string;
  /** Where slurmctld listens, and munged's socket: what a client configuration names. */
  readonly controller: { readonly host: string; readonly port: number };
  readonly mungeSocket: string;
  stop(): Promise<void>;
}

export interface SlurmLayout {
  readonly node: string;
  readonly partitions: readonly string[];
  readonly features: readonly string[];
  readonly gpus: number;
}

const run = (cmd: string, args: string[], env: Record<string, string> = {}) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile(cmd, args, { env: { ...process.env, ...env } }, (error, stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });

export async function startSlurm(layout: SlurmLayout): Promise<SlurmCluster> {
  const dir = await tempDir('siteforge-slurm-');
  // Every user submits here: the configuration, the munge socket and the spool are readable by all.
  await chmod(dir, 0o755);
  for (const d of ['state', 'spool', 'log']) await mkdir(join(dir, d));
  const key = join(dir, 'munge.key');
  const made = spawnSync('mungekey', ['-c', '-k', key]);
  if (made.status !== 0) throw new Error(`mungekey: ${made.stderr}`);
  await chmod(key, 0o400);
  const socket = join(dir, 'munge.sock');
  const munged = await run('munged', [`--key-file=${key}`, `--socket=${socket}`, `--pid-file=${join(dir, 'munged.pid')}`, `--log-file=${join(dir, 'munged.log')}`, `--seed-file=${join(dir, 'munged.seed')}`, '--force']);
  if (munged.code !== 0) throw new Error(`munged: ${munged.stderr}`);
  const devices = Array.from({ length: layout.gpus }, (_, i) => join(dir, `gpu${i}`));
  // Stand-in GPU device files: the GPU GRES plugin needs a file per device.
  for (const d of devices) {
    const node = spawnSync('mknod', [d, 'c', '1', '3']);
    if (node.status !== 0) throw new Error(`mknod: ${node.stderr}`);
  }
  const [ctldPort, slurmdPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'slurm.conf');
  await writeFile(
    conf,
    [
      'ClusterName=siteforge',
      `SlurmctldHost=${hostname()}(127.0.0.1)`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${slurmdPort}`,
      'AuthType=auth/munge',
      `AuthInfo=socket=${socket}`,
      'CredType=cred/munge',
      'SlurmUser=root',
      'SlurmdUser=root',
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${join(dir, 'slurmctld.pid')}`,
      `SlurmdPidFile=${join(dir, 'slurmd.pid')}`,
      `SlurmctldLogFile=${join(dir, 'log', 'slurmctld.log')}`,
      `SlurmdLogFile=${join(dir, 'log', 'slurmd.log')}`,
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core_Memory',
      'MpiDefault=none',
      'ReturnToService=2',
      // The node as the site's are (cores, memory), not as this machine is.
      'SlurmdParameters=config_overrides',
      'SchedulerParameters=sched_interval=2',
      'KillWait=5',
      ...(layout.gpus ? ['GresTypes=gpu'] : []),
      `NodeName=${layout.node} NodeHostname=${hostname()} NodeAddr=127.0.0.1 CPUs=64 RealMemory=262144${layout.features.length ? ` Features=${layout.features.join(',')}` : ''}${layout.gpus ? ` Gres=gpu:${layout.gpus}` : ''} State=UNKNOWN`,
      ...layout.partitions.map((p, i) => `PartitionName=${p} Nodes=${layout.node} ${i === 0 ? 'Default=YES ' : ''}MaxTime=INFINITE State=UP`),
      '',
    ].join('\n'),
  );
  if (layout.gpus) await writeFile(join(dir, 'gres.conf'), `NodeName=${layout.node} Name=gpu File=${join(dir, `gpu[0-${layout.gpus - 1}]`)}\n`);
  const env = { SLURM_CONF: conf };
  const ctld = await run('slurmctld', ['-f', conf], env);
  if (ctld.code !== 0) throw new Error(`slurmctld: ${ctld.stderr}`);
  const slurmd = await run('slurmd', ['-f', conf, '-N', layout.node], env);
  if (slurmd.code !== 0) throw new Error(`slurmd: ${slurmd.stderr}`);
  // Wait until the node is idle (registered, GRES counted).
  for (let i = 0; ; i++) {
    const info = await run('sinfo', ['--noheader', '--format=%T', '--nodes', layout.node], env);
    if (/idle/.test(info.stdout)) break;
    if (i > 60) throw new Error(`the Slurm node did not come up: ${info.stdout}${info.stderr}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  return {
    env,
    dir,
    controller: { host: hostname(), port: ctldPort },
    mungeSocket: socket,
    async stop() {
      await run('scontrol', ['shutdown'], env);
      await run('pkill', ['-f', `munged.*${dir}`]);
    },
  };
}
