// Output family for HPK sites (distribution.type: hpk), instead of the node-building Ansible: plain
// scripts the HPK user runs on the control-plane host, and the long-running Slurm job that keeps
// the control plane and hpk-kubelet up. Scripts, not a play: everything runs as one unprivileged
// user on one host, and sbatch, squeue and systemctl --user are what that user has. Spec values
// reach the shell in one place only, hpk.env, each quoted as one word.
import type { SiteModel } from '../model/site.ts';
import type { HpkSpec } from '../spec/schema.ts';
import { hpkJobName, podSlurmFlags, slurmFlags } from '../model/hpk.ts';
import { assetTree, renderDoc } from './assets.ts';
import { shellUserPath, shellWord, textFile, type GeneratedFile } from './files.ts';

const DIR = 'hpk';

/** The HPK settings of an HPK site (validation guarantees them). */
export function hpkSettings(site: SiteModel): HpkSpec {
  const hpk = site.distribution.hpk;
  if (site.distribution.type !== 'hpk' || !hpk) throw new Error('internal error: HPK output asked for on a site that is not HPK');
  return hpk;
}

function envFile(site: SiteModel, hpk: HpkSpec): GeneratedFile {
  const host = site.bootstrapServer;
  const vars: [string, string][] = [
    ['HPK_SITE', shellWord(site.name)],
    ['HPK_JOB_NAME', shellWord(hpkJobName(site))],
    ['HPK_RUNTIME', shellWord(hpk.runtime)],
    ['HPK_IMAGE', shellWord(hpk.controlPlaneImage)],
    ['HPK_API_PORT', shellWord(hpk.apiPort)],
    ['HPK_KUBELET_BIN', shellUserPath(hpk.kubelet)],
    ['HPK_DNS', shellWord(hpk.dns)],
    ['HPK_STATE_DIR', shellUserPath(hpk.stateDir)],
    ['HPK_SUPERVISOR', shellWord(hpk.supervisor)],
    ['HPK_HOST', shellWord(host.name)],
    ['HPK_HOST_ADDRESS', shellWord(host.address)],
    ['HPK_ACCOUNT', shellWord(hpk.account ?? '')],
  ];
  return textFile(
    `${DIR}/hpk.env`,
    [
      '# shellcheck shell=bash disable=SC2034',
      `# HPK settings of ${site.name}, from the site spec; sourced by the scripts beside it.`,
      ...vars.map(([name, value]) => `${name}=${value === '' ? "''" : value}`),
    ].join('\n'),
  );
}

/** The long-running job: directives from the spec, then the restart loop and the hand-over (job-body.sh). */
function jobScript(site: SiteModel, hpk: HpkSpec): GeneratedFile {
  const cp = hpk.controlPlane;
  const directives = [
    `--job-name=${hpkJobName(site)}`,
    ...slurmFlags({ account: hpk.account, partition: cp.partition, qos: cp.qos, time: cp.time }),
    // The control plane runs on its host: the API address, kubeconfig and webhooks name it.
    `--nodelist=${site.bootstrapServer.name}`,
    '--nodes=1',
    '--ntasks=1',
    `--cpus-per-task=${cp.cpus}`,
    `--mem=${cp.memory}`,
    // USR1 to the batch shell five minutes before the limit: time to queue the successor.
    '--signal=B:USR1@300',
    '--requeue',
  ];
  const body = assetTree('hpk').find((f) => f.path === 'job-body.sh')!.content;
  return textFile(`${DIR}/hpk.sbatch`, ['#!/usr/bin/env bash', ...directives.map((d) => `#SBATCH ${d}`), body].join('\n'));
}

export function renderHpk(site: SiteModel): GeneratedFile[] {
  const hpk = hpkSettings(site);
  return [
    envFile(site, hpk),
    jobScript(site, hpk),
    ...assetTree('hpk')
      .filter((f) => f.path !== 'job-body.sh')
      .map((f) => textFile(`${DIR}/${f.path}`, f.content)),
    textFile(
      `${DIR}/README.md`,
      renderDoc('hpk-README.md', {
        site: site.name,
        host: `${site.bootstrapServer.name} (${site.bootstrapServer.address})`,
        runtime: hpk.runtime,
        image: hpk.controlPlaneImage,
        stateDir: hpk.stateDir,
        slurm: hpk.supervisor === 'slurm',
        jobName: hpkJobName(site),
        time: hpk.controlPlane.time,
        account: hpk.account ?? '',
        podFlags: podSlurmFlags(hpk, undefined) || '(none: Slurm\'s defaults)',
        gpuFlags: hpk.pods.gpu ? podSlurmFlags(hpk, 1) : '',
        apiPort: hpk.apiPort,
      }),
    ),
  ];
}
