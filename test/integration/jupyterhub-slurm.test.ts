// JupyterHub's side of Slurm, against a real one-node Slurm: the job script each profile submits,
// rendered with Jinja2 as batchspawner renders it (Debian's python3-jinja2), is accepted in the
// profile's partition, and runs — the GPU profile with its GPU allocated as GRES — submitted as an
// unprivileged user with nothing but the hub's generated client configuration (the controller and
// munge socket moved to this machine).
import t from 'tap';
import { chmod, chown, readFile, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generatedSite, tempDir } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';
import { startSlurm } from '../helpers/slurm.ts';
import { BATCH_SCRIPT } from '../../generator/components/jupyterhub.ts';

const root = process.getuid?.() === 0;
const NOBODY = 65534;

const asUser = (env: Record<string, string>, cmd: string, args: string[], cwd: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', cmd, ...args], { env, cwd }, (error, stdout, stderr) => done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });

/** batchspawner's step: the batch_script template rendered with Jinja2 and the spawner's values. */
async function renderBatchScript(template: string, vars: Record<string, string>): Promise<string> {
  const res = await runTool('/usr/bin/python3', ['-c', 'import sys, json, jinja2; v = json.load(sys.stdin); sys.stdout.write(jinja2.Template(v["template"]).render(**v["vars"]))'], { input: JSON.stringify({ template, vars }) });
  if (res.code !== 0) throw new Error(res.stderr);
  return res.stdout;
}

t.test('each profile\'s job is accepted and runs, submitted with the hub\'s client configuration', { skip: !root && 'needs root to run slurmd and switch users' }, async (t) => {
  const slurm = await startSlurm({ node: 'c001', partitions: ['batch', 'gpu'], features: [], gpus: 2 });
  t.teardown(() => slurm.stop());
  const out = await generatedSite('test/fixtures/sites/jupyterhub.yaml', { commit: false });
  const values = parse(await readFile(join(out, 'charts/jupyterhub/values.yaml'), 'utf8'));
  const config = values.jupyterhub.hub.config;
  t.equal(config.SlurmSpawner.batch_script, BATCH_SCRIPT, 'the template in the values is the one under test');
  const home = await tempDir('siteforge-jh-');
  await chmod(home, 0o755);
  await chown(home, NOBODY, NOBODY);
  // The hub's slurm.conf, pointed at this machine's controller and munge socket.
  const clientConf = join(home, 'slurm.conf');
  await writeFile(clientConf, (values.slurmConf as string).replace('slurmctld.hpc.example.gov', slurm.controller.host).replace('SlurmctldPort=6817', `SlurmctldPort=${slurm.controller.port}`).replace('socket=/run/munge/munge.socket.2', `socket=${slurm.mungeSocket}`));
  const env = { SLURM_CONF: clientConf, PATH: '/usr/bin:/bin', HOME: home };
  for (const [display, key, cls, req] of config.ProfilesSpawner.profiles as [string, string, string, Record<string, string>][]) {
    t.equal(cls, 'batchspawner.SlurmSpawner', `${key}: spawned as a Slurm job`);
    const script = await renderBatchScript(config.SlurmSpawner.batch_script, {
      username: 'nobody',
      homedir: home,
      keepvars: 'PATH,LANG,JUPYTERHUB_API_TOKEN,JUPYTERHUB_API_URL',
      partition: req.req_partition!,
      runtime: req.req_runtime!,
      nprocs: req.req_nprocs!,
      memory: req.req_memory!,
      options: req.req_options!,
      prologue: '',
      // Stands in for batchspawner-singleuser jupyterhub-singleuser: what the job was given.
      cmd: 'echo "gpus=${CUDA_VISIBLE_DEVICES:-none} partition=$SLURM_JOB_PARTITION cpus=$SLURM_CPUS_PER_TASK"',
      epilogue: '',
    });
    const file = join(home, `${key}.sbatch`);
    await writeFile(file, script);
    await chown(file, NOBODY, NOBODY);
    const test = await asUser(env, 'sbatch', ['--test-only', file], home);
    t.equal(test.code, 0, `${display}: ${test.stderr}`);
    t.match(test.stderr, new RegExp(`on nodes c001 in partition ${req.req_partition}`), `${key}: in partition ${req.req_partition}`);
    const submitted = await asUser(env, 'sbatch', ['--parsable', file], home);
    t.equal(submitted.code, 0, submitted.stderr);
    const id = submitted.stdout.trim();
    let log = '';
    for (let i = 0; i < 60 && !log; i++) {
      log = await readFile(join(home, `.jupyterhub-slurm-${id}.log`), 'utf8').catch(() => '');
      if (!log) await new Promise((r) => setTimeout(r, 500));
    }
    const gpus = /--gres=gpu:(\d+)/.exec(req.req_options!)?.[1];
    t.equal(log.trim(), `gpus=${gpus ? '0' : 'none'} partition=${req.req_partition} cpus=${req.req_nprocs}`, `${key}: ran with its partition, CPUs${gpus ? ' and GPU' : ''}`);
  }
  // The client configuration is what made it work: without its controller, sbatch has nowhere to go.
  await writeFile(join(home, 'broken.conf'), (await readFile(clientConf, 'utf8')).replace(/SlurmctldPort=\d+/, 'SlurmctldPort=1'));
  const broken = await asUser({ ...env, SLURM_CONF: join(home, 'broken.conf') }, 'sbatch', ['--test-only', join(home, 'cpu.sbatch')], home);
  t.not(broken.code, 0, 'a wrong controller port fails');
});
