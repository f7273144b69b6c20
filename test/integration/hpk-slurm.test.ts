// The HPK scripts against a real Slurm (Debian's slurm-wlm and munge, one node on this machine,
// shaped like the example's: node wf01, partitions workflow/regular/gpu, features cpu/gpu, two
// GPUs as GRES). As an unprivileged user, as HPK runs:
//   - Slurm accepts the generated job (start.sh --test-only), and rejects it when a directive is wrong;
//   - the job runs for real with stand-ins for the container runtime, kubectl and hpk-kubelet (no
//     control-plane image can run here): the control plane crashes once and comes back, hpk-kubelet
//     starts after the API answers with a certificate the cluster CA signed, the webhooks carry that
//     CA, every pod job is charged to the account; status.sh, the hand-over to a successor job
//     before the time limit, stop.sh;
//   - a workflow step's sbatch options, as the rendered WorkflowTemplate carries them, make a job
//     Slurm accepts and runs, with its GPU allocated as GRES.
import t from 'tap';
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { parseDocument } from 'yaml';
import { siteforge, tempDir } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';
import { parseManifests, validateDocument } from '../helpers/k8s.ts';
import { startSlurm, type SlurmCluster } from '../helpers/slurm.ts';

const root = process.getuid?.() === 0;
const NOBODY = 65534;

/** Runs a command as the unprivileged HPK user. */
const asUser = (env: Record<string, string>, cmd: string, args: string[], cwd?: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((done) => {
    execFile('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', cmd, ...args], { env, cwd, maxBuffer: 16 << 20 }, (error, stdout, stderr) =>
      done({ code: error ? Number((error as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until<T>(what: string, probe: () => Promise<T | undefined | false>, seconds = 60): Promise<T> {
  for (let i = 0; i < seconds * 2; i++) {
    const value = await probe();
    if (value) return value;
    await sleep(500);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Stand-ins on PATH for what cannot run here, each recording what it was asked to do. */
const STAND_INS: Record<string, string> = {
  // The control-plane image: writes a cluster CA and admin.conf into the bound state directory, as
  // kubernetes-from-scratch does, and stays up; the first start crashes.
  'podman-hpc': `#!/bin/bash
printf '%s\\n' "$*" >> "$HPK_TEST_DIR/runtime.log"
case $1 in pull) exit 0 ;; run) ;; *) exit 2 ;; esac
for a in "$@"; do case $a in *:/usr/local/etc) state=\${a%:/usr/local/etc} ;; esac; done
if [[ ! -e $HPK_TEST_DIR/crashed-once ]]; then touch "$HPK_TEST_DIR/crashed-once"; sleep 1; exit 1; fi
mkdir -p "$state/kubernetes/pki"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=kubernetes -addext basicConstraints=critical,CA:TRUE -addext keyUsage=keyCertSign,cRLSign \\
  -keyout "$state/kubernetes/pki/ca.key" -out "$state/kubernetes/pki/ca.crt" 2> /dev/null
printf 'apiVersion: v1\\nkind: Config\\nclusters: [{name: kubernetes, cluster: {server: "https://127.0.0.1:8444"}}]\\n' > "$state/kubernetes/admin.conf"
trap 'exit 0' TERM
while :; do sleep 1 & wait $!; done
`,
  // kubectl against the stand-in API: ready once admin.conf exists; apply keeps what it was given.
  kubectl: `#!/bin/bash
kc=
args=("$@")
for ((i = 0; i < \${#args[@]}; i++)); do [[ \${args[i]} == --kubeconfig ]] && kc=\${args[i+1]}; done
case " $* " in
  *" get --raw=/readyz "*) [[ -s $kc ]] ;;
  *" apply -f - "*) cat > "$HPK_TEST_DIR/applied.yaml" ;;
  *" get nodes "*) echo "hpk-kubelet   Ready" ;;
  *) exit 2 ;;
esac
`,
  'hpk-kubelet': `#!/bin/bash
{ env | grep -E '^(KUBECONFIG|APISERVER_KEY_LOCATION|APISERVER_CERT_LOCATION|VKUBELET_ADDRESS|SBATCH_ACCOUNT)=' | sort; echo "PWD=$PWD"; } > "$HPK_TEST_DIR/kubelet.env"
trap 'exit 0' TERM
while :; do sleep 1 & wait $!; done
`,
};

/**
 * The HPK user's world: a home, a record of what the stand-ins were asked, the stand-ins on PATH,
 * and the example generated with this machine's paths (the state in that home, the stand-in
 * kubelet, the host on loopback) plus `changes` to distribution.hpk. Slurm settings stay as the
 * example has them.
 */
async function hpkUser(changes: Record<string, string> = {}, extraStandIns: Record<string, string> = {}) {
  const work = await tempDir('siteforge-hpk-');
  await chmod(work, 0o755);
  const home = join(work, 'home');
  const bin = join(work, 'bin');
  const testDir = join(work, 'record');
  for (const d of [home, bin, testDir]) await mkdir(d);
  for (const [name, text] of Object.entries({ ...STAND_INS, ...extraStandIns })) await writeFile(join(bin, name), text, { mode: 0o755 });
  for (const d of [home, testDir]) await chown(d, NOBODY, NOBODY);
  const doc = parseDocument(await readFile('examples/hpk.yaml', 'utf8'));
  for (const [key, value] of Object.entries({ stateDir: join(home, '.k8sfs'), kubelet: join(bin, 'hpk-kubelet'), ...changes })) doc.setIn(['spec', 'distribution', 'hpk', key], value);
  doc.setIn(['spec', 'nodes', 0, 'address'], '127.0.0.1');
  await writeFile(join(work, 'hpk.yaml'), doc.toString());
  const out = join(work, 'repo');
  const generated = await siteforge(['generate', join(work, 'hpk.yaml'), '--out', out, '--no-commit']);
  if (generated.code !== 0) throw new Error(generated.stderr);
  await chmod(out, 0o755);
  return { work, home, testDir, out, env: { HOME: home, PATH: `${bin}:/usr/bin:/bin:/usr/sbin:/sbin`, HPK_TEST_DIR: testDir } };
}

t.test('the HPK scripts against a real one-node Slurm', { skip: !root && 'needs root to run slurmd and switch users' }, async (t) => {
  let slurm: SlurmCluster | undefined;
  t.teardown(async () => slurm?.stop());
  slurm = await startSlurm({ node: 'wf01', partitions: ['workflow', 'regular', 'gpu'], features: ['cpu', 'gpu'], gpus: 2 });

  const { work, home, testDir, out, env: userEnv } = await hpkUser();
  const hpk = join(out, 'hpk');
  const env = { ...slurm.env, ...userEnv };
  const user = (script: string, ...args: string[]) => asUser(env, 'bash', [join(hpk, script), ...args], home);
  const jobs = async () => (await asUser(env, 'squeue', ['--noheader', '--name=hpk-perlhpk', '--format=%i %T'])).stdout.trim().split('\n').filter(Boolean).map((l) => l.split(' ') as [string, string]);

  await t.test('Slurm accepts the generated job, and refuses it with a wrong directive', async (t) => {
    const res = await user('start.sh', '--test-only');
    t.equal(res.code, 0, res.stderr);
    t.match(res.stderr, /to start at .* on nodes wf01 in partition workflow/, 'on the control-plane host, in the workflow partition');
    t.same(await jobs(), [], '--test-only submits nothing');
    const wrong = (await readFile(join(hpk, 'hpk.sbatch'), 'utf8')).replace('--partition=workflow', '--partition=debug');
    await writeFile(join(work, 'wrong.sbatch'), wrong);
    const refused = await asUser(env, 'sbatch', ['--test-only', join(work, 'wrong.sbatch')], home);
    t.not(refused.code, 0, 'a partition Slurm does not have is refused');
    t.match(refused.stderr, /invalid partition/i);
  });

  await t.test('start.sh runs the cluster as a long-running job; it survives a crash of the control plane', async (t) => {
    const res = await user('start.sh');
    t.equal(res.code, 0, res.stderr);
    const [id] = await until('the job to run', async () => (await jobs()).find(([, state]) => state === 'RUNNING'));
    const kubelet = await until('hpk-kubelet to start', async () => readFile(join(testDir, 'kubelet.env'), 'utf8').catch(() => undefined), 90);
    const state = join(home, '.k8sfs');
    t.match(kubelet, `APISERVER_CERT_LOCATION=${state}/hpk-kubelet/kubelet.crt`);
    t.match(kubelet, `KUBECONFIG=${state}/kubernetes/admin.conf`);
    t.match(kubelet, 'SBATCH_ACCOUNT=m3792', 'every pod job is charged to the account');
    t.match(kubelet, 'VKUBELET_ADDRESS=127.0.0.1');
    t.match(kubelet, `PWD=${state}`);
    const runtime = (await readFile(join(testDir, 'runtime.log'), 'utf8')).trim().split('\n');
    t.equal(runtime[0], 'pull ghcr.io/tylern4/kubernetes-from-scratch:v1.24.8', 'prepare.sh pulls the pinned image');
    const runs = runtime.filter((l) => l.startsWith('run '));
    t.equal(runs.length, 2, 'the crashed control plane was started again');
    t.equal(runs[0], `run --rm --replace --name hpk-perlhpk-control-plane --net=host --dns 10.10.0.53 --env K8SFS_MOCK_KUBELET=0 -v ${state}:/usr/local/etc -v ${state}/log:/var/log ghcr.io/tylern4/kubernetes-from-scratch:v1.24.8 8444`);
    const log = await readFile(join(state, 'log', `hpk-perlhpk-${id}.log`), 'utf8');
    t.match(log, /the control plane or hpk-kubelet ended \(exit 1\): stopping the other/, 'the job log says what happened');
    t.match(log, /run\.sh ended \(exit 1\): restarting in 5 s/);
    t.equal((await stat(join(state, 'kubeconfig'))).mode & 0o777, 0o600, 'kubeconfig readable by its user only');
    t.equal((await stat(state)).mode & 0o777, 0o700, 'state directory private');
    const verify = await runTool('openssl', ['verify', '-CAfile', join(state, 'kubernetes/pki/ca.crt'), join(state, 'hpk-kubelet/kubelet.crt')]);
    t.equal(verify.code, 0, `the kubelet certificate is signed by the cluster CA: ${verify.stdout}${verify.stderr}`);
    const san = await runTool('openssl', ['x509', '-noout', '-ext', 'subjectAltName', '-in', join(state, 'hpk-kubelet/kubelet.crt')]);
    t.match(san.stdout, /IP Address:127\.0\.0\.1, IP Address:127\.0\.0\.1/);
    const applied = parseManifests(await readFile(join(testDir, 'applied.yaml'), 'utf8'));
    t.equal(applied.length, 1);
    const hooks = (applied[0] as any).webhooks as { clientConfig: { url: string; caBundle: string }; rules: { resources: string[] }[] }[];
    const ca = (await readFile(join(state, 'kubernetes/pki/ca.crt'))).toString('base64');
    t.same(hooks.map((h) => [h.clientConfig.url, h.rules[0]!.resources[0]]), [['https://127.0.0.1:10250/mutates/pod', 'pods'], ['https://127.0.0.1:10250/mutates/pvc', 'persistentvolumeclaims']]);
    t.ok(hooks.every((h) => h.clientConfig.caBundle === ca), 'the webhooks trust this start\'s cluster CA');
    t.same(await validateDocument(applied[0]!), [], 'the applied webhooks are a valid MutatingWebhookConfiguration');
    const status = await user('status.sh');
    t.equal(status.code, 0, status.stdout + status.stderr);
    t.match(status.stdout, new RegExp(`job: ${id} RUNNING`));
    t.match(status.stdout, /API server: ready/);
    t.match(status.stdout, `export KUBECONFIG=${state}/kubeconfig`);
    const again = await user('start.sh');
    t.equal(again.code, 0);
    t.match(again.stderr, `already queued or running: job ${id}`, 'starting twice submits nothing');
    t.equal((await jobs()).length, 1);
  });

  await t.test('before the time limit the job hands over to a successor', async (t) => {
    const [[first]] = (await jobs()) as [[string, string]];
    // What --signal=B:USR1@300 sends five minutes before the limit.
    const signalled = await asUser(env, 'scancel', ['--batch', '--signal=USR1', first]);
    t.equal(signalled.code, 0, signalled.stderr);
    const [next] = await until('the successor to run', async () => (await jobs()).find(([id, state]) => id !== first && state === 'RUNNING'), 60);
    t.not(next, first);
    t.notOk((await jobs()).some(([id]) => id === first), 'the first job has ended');
    const log = await readFile(join(home, '.k8sfs', 'log', `hpk-perlhpk-${first}.log`), 'utf8');
    t.match(log, /time limit near: queueing the successor job/);
  });

  await t.test('stop.sh cancels the cluster; status.sh says it is not running', async (t) => {
    const res = await user('stop.sh');
    t.equal(res.code, 0, res.stderr);
    await until('the jobs to end', async () => (await jobs()).length === 0);
    const status = await user('status.sh');
    t.equal(status.code, 3, status.stdout);
    t.match(status.stdout, /job: none/);
  });

  await t.test('a workflow step\'s sbatch options, as hpk-kubelet adds them, run a real job with its GPU', async (t) => {
    const rendered = await runTool('helm', ['template', 'workflows-prod', join(out, 'charts/workflows'), '--namespace', 'prod-perlhpk', '-f', join(out, 'charts/workflows/values.yaml'), '-f', join(out, 'environments/prod/workflows.yaml')]);
    t.equal(rendered.code, 0, rendered.stderr);
    const tpl = parseManifests(rendered.stdout).find((d) => d.kind === 'WorkflowTemplate') as any;
    for (const [step, partition, gpus] of [['build-cuda', 'gpu', true], ['build-cpu', 'regular', false]] as const) {
      const flags: string = tpl.spec.templates.find((x: { name: string }) => x.name === `step-${step}`).metadata.annotations['slurm.hpk.io/flags'];
      // hpk-kubelet splits the annotation on spaces, one #SBATCH line each (its host script template).
      const script = ['#!/bin/bash', `#SBATCH --job-name=${step}`, ...flags.split(' ').map((f) => `#SBATCH ${f}`), '#SBATCH --output=%x-%j.out', 'echo "gpus=${CUDA_VISIBLE_DEVICES:-none} partition=$SLURM_JOB_PARTITION"', ''].join('\n');
      const file = join(home, `${step}.sbatch`);
      await writeFile(file, script);
      await chown(file, NOBODY, NOBODY);
      const test = await asUser(env, 'sbatch', ['--test-only', file], home);
      t.equal(test.code, 0, test.stderr);
      t.match(test.stderr, new RegExp(`on nodes wf01 in partition ${partition}`));
      const submitted = await asUser(env, 'sbatch', ['--parsable', '--account=m3792', file], home);
      t.equal(submitted.code, 0, submitted.stderr);
      const id = submitted.stdout.trim();
      const output = await until(`${step} to finish`, async () => readFile(join(home, `${step}-${id}.out`), 'utf8').catch(() => undefined));
      t.equal(output.trim(), `gpus=${gpus ? '0' : 'none'} partition=${partition}`, gpus ? 'Slurm allocated one GPU (GRES)' : 'no GPU for a CPU step');
    }
  });
});

t.test('supervisor systemd-user: start.sh installs a user service systemd accepts, with restart on failure', { skip: !root && 'needs root to switch users' }, async (t) => {
  // systemctl --user needs the user's own systemd, which this machine does not run: a stand-in records the calls.
  const { home, testDir, out, env } = await hpkUser({ supervisor: 'systemd-user' }, { systemctl: '#!/bin/bash\nprintf \'%s\\n\' "$*" >> "$HPK_TEST_DIR/systemctl.log"\n' });
  const res = await asUser(env, 'bash', [join(out, 'hpk/start.sh')], home);
  t.equal(res.code, 0, res.stderr);
  t.same((await readFile(join(testDir, 'systemctl.log'), 'utf8')).trim().split('\n'), ['--user daemon-reload', '--user enable --now hpk-perlhpk.service']);
  const unit = join(home, '.config/systemd/user/hpk-perlhpk.service');
  const text = await readFile(unit, 'utf8');
  t.match(text, `ExecStart=${out}/hpk/run.sh`);
  t.match(text, 'Restart=on-failure');
  t.match(text, /WantedBy=default\.target/);
  // systemd's own parser, in user mode.
  const runtime = await tempDir();
  const verified = await runTool('systemd-analyze', ['verify', '--user', unit], { env: { XDG_RUNTIME_DIR: runtime } });
  t.equal(verified.code, 0, verified.stderr);
  t.equal(verified.stderr.trim(), '', 'systemd reads the unit without a complaint');
  const broken = join(runtime, 'hpk-broken.service');
  await writeFile(broken, text.replace('Restart=on-failure', 'Restart=sometimes'));
  const complaint = await runTool('systemd-analyze', ['verify', '--user', broken], { env: { XDG_RUNTIME_DIR: runtime } });
  t.match(complaint.stderr, /Failed to parse service restart specifier/, 'and it does complain about a bad one');
  const stop = await asUser(env, 'bash', [join(out, 'hpk/stop.sh')], home);
  t.equal(stop.code, 0, stop.stderr);
  t.match(await readFile(join(testDir, 'systemctl.log'), 'utf8'), '--user disable --now hpk-perlhpk.service');
});
