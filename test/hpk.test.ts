// HPK sites as their users meet them: no node-building Ansible, but scripts that bash and
// shellcheck accept, settings that reach the shell as the spec wrote them (whatever the value),
// scripts that refuse root and name what is missing, workflow steps whose Slurm options (GPUs as
// GRES) ride on the pod as hpk-kubelet reads them, and verify's HPK check. The scripts run against
// a real Slurm in test/integration/hpk-slurm.test.ts.
import t from 'tap';
import { access, chmod, readFile, stat, writeFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { join } from 'node:path';
import { generatedSite, listFiles, siteforge, tempDir } from './helpers/cli.ts';
import { catalog, componentNames } from '../generator/components/catalog.ts';
import { runTool } from './helpers/tools.ts';
import { parseManifests, validateDocument } from './helpers/k8s.ts';
import { shellUserPath, shellWord } from '../generator/render/files.ts';
import { loadSite } from '../generator/pipeline.ts';
import { CHECKS, type CheckContext } from '../generator/verify/checks.ts';

const out = await generatedSite('examples/hpk.yaml', { commit: false });
const hpk = join(out, 'hpk');
const SCRIPTS = ['prepare.sh', 'start.sh', 'status.sh', 'stop.sh', 'run.sh', 'control-plane.sh', 'kubelet.sh', 'lib.sh'];
const root = process.getuid?.() === 0;

t.test('an HPK site gets scripts and a Slurm job instead of node-building Ansible', async (t) => {
  const files = await listFiles(out);
  t.notOk(files.some((f) => f.startsWith('ansible/')), 'no ansible/ tree: nothing installs Kubernetes on a node');
  for (const f of [...SCRIPTS, 'hpk.sbatch', 'hpk.env', 'README.md']) t.ok(files.includes(`hpk/${f}`), `hpk/${f}`);
  for (const f of SCRIPTS.filter((s) => s !== 'lib.sh')) t.equal((await stat(join(hpk, f))).mode & 0o111, 0o111, `${f} is executable`);
  const all = (await Promise.all(files.filter((f) => f.startsWith('hpk/')).map((f) => readFile(join(out, f), 'utf8')))).join('\n');
  // What HPK must never do on a shared login or service node.
  for (const forbidden of [/\bsudo\b/, /swapoff/, /hostnamectl/, /modprobe/, /firewall-cmd/, /sysctl -w/, /become:/]) t.notMatch(all, forbidden, `nothing like ${forbidden}`);
});

t.test('every script passes bash -n and shellcheck', async (t) => {
  for (const f of [...SCRIPTS, 'hpk.sbatch', 'hpk.env']) {
    const syntax = await runTool('bash', ['-n', join(hpk, f)]);
    t.equal(syntax.code, 0, `bash -n ${f}: ${syntax.stderr}`);
  }
  const lint = await runTool('shellcheck', ['-x', '--severity=style', ...SCRIPTS, 'hpk.sbatch', 'hpk.env'], { cwd: hpk });
  t.equal(lint.code, 0, lint.stdout + lint.stderr);
});

t.test('the job script carries the spec\'s Slurm directives', async (t) => {
  const job = await readFile(join(hpk, 'hpk.sbatch'), 'utf8');
  const directives = job.split('\n').filter((l) => l.startsWith('#SBATCH ')).map((l) => l.slice(8));
  t.same(directives, [
    '--job-name=hpk-perlhpk',
    '--account=m3792',
    '--partition=workflow',
    '--qos=workflow',
    '--time=2-00:00:00',
    '--nodelist=wf01',
    '--nodes=1',
    '--ntasks=1',
    '--cpus-per-task=4',
    '--mem=16G',
    '--signal=B:USR1@300',
    '--requeue',
  ]);
  const firstCommand = job.split('\n').findIndex((l) => l.trim() && !l.startsWith('#'));
  t.ok(job.split('\n').slice(firstCommand).every((l) => !l.startsWith('#SBATCH')), 'every directive comes before the first command (sbatch stops reading there)');
});

t.test('hpk.env gives the scripts the spec\'s values, ~ as the user\'s home', async (t) => {
  const home = await tempDir();
  const res = await runTool('bash', ['-c', '. ./hpk.env && printf "%s\\n" "$HPK_STATE_DIR" "$HPK_KUBELET_BIN" "$HPK_IMAGE" "$HPK_API_PORT" "$HPK_DNS" "$HPK_HOST" "$HPK_ACCOUNT"'], { cwd: hpk, env: { HOME: home } });
  t.equal(res.code, 0, res.stderr);
  t.same(res.stdout.split('\n').slice(0, 7), [`${home}/.k8sfs`, `${home}/hpk/bin/hpk-kubelet`, 'ghcr.io/tylern4/kubernetes-from-scratch:v1.24.8', '8444', '10.10.0.53', 'wf01', 'm3792']);
});

t.test('a value reaches the shell as one word, exactly as written', async (t) => {
  const values = ["it's", '$(touch /tmp/pwned)', '`id`', 'a b\tc', 'line1\nline2', '"quoted"', '\\', '-rf', '!', '*', '', '~root', "'"];
  for (const value of values) {
    const res = await runTool('bash', ['-c', `set -- ${shellWord(value)}; printf '%s|%s' "$#" "$1"`]);
    t.equal(res.stdout, `1|${value}`, JSON.stringify(value));
  }
  const home = await tempDir();
  const res = await runTool('bash', ['-c', `printf %s ${shellUserPath('~/my dir/x')}`], { env: { HOME: home } });
  t.equal(res.stdout, `${home}/my dir/x`, '~/ expands to $HOME, the rest stays one word');
});

t.test('the scripts refuse root, and prepare.sh names what is missing', { skip: !root && 'needs root to switch to an unprivileged user' }, async (t) => {
  const status = await runTool('bash', [join(hpk, 'status.sh')]);
  t.equal(status.code, 1);
  t.match(status.stderr, /never as root/);
  // As an unprivileged user with none of the HPK tools on PATH.
  const home = await tempDir();
  await runTool('chown', ['nobody', home]);
  await chmod(out, 0o755); // the checkout is readable by its user
  const prepare = await runTool('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'bash', join(hpk, 'prepare.sh')], { env: { HOME: home, PATH: '/usr/bin:/bin' } });
  t.equal(prepare.code, 1, prepare.stderr);
  t.match(prepare.stderr, /podman-hpc \(the container runtime/);
  t.match(prepare.stderr, new RegExp(`${home}/hpk/bin/hpk-kubelet \\(hpk-kubelet: build it`));
  await t.rejects(access(join(home, '.k8sfs')), 'nothing created before the prerequisites are there');
});

t.test('workflow steps are Slurm jobs: sbatch options on the pod, GPUs as GRES', async (t) => {
  const res = await runTool('helm', ['template', 'workflows-dev', join(out, 'charts/workflows'), '--namespace', 'dev-perlhpk', '-f', join(out, 'charts/workflows/values.yaml'), '-f', join(out, 'environments/dev/workflows.yaml')]);
  t.equal(res.code, 0, res.stderr);
  const tpl = parseManifests(res.stdout).find((d) => d.kind === 'WorkflowTemplate' && d.metadata.name === 'stack-build') as any;
  t.same(await validateDocument(tpl), [], 'valid against Argo\'s WorkflowTemplate schema');
  const step = (name: string) => tpl.spec.templates.find((x: { name: string }) => x.name === `step-${name}`);
  const flags = (name: string) => step(name).metadata?.annotations?.['slurm.hpk.io/flags'];
  t.equal(flags('build-cpu'), '--partition=regular --qos=regular --constraint=cpu --time=04:00:00');
  t.equal(flags('build-cuda'), '--partition=gpu --qos=regular --constraint=gpu --time=04:00:00 --gres=gpu:1', 'the GPU step asks Slurm for its GPU');
  const cuda = step('build-cuda');
  t.same(cuda.script.resources.limits, { cpu: '16', memory: '64Gi' }, 'no nvidia.com/gpu: hpk-kubelet has no such node resource');
  t.notOk(cuda.nodeSelector, 'no node selector: Slurm places the job');
  t.notOk(cuda.tolerations, 'no tolerations');
  t.same(step('concretize').script.volumeMounts.map((m: { mountPath: string }) => m.mountPath), ['/mnt/software'], 'host-path volumes mount as before');
});

t.test('volumes are local PersistentVolumes on the hpk-kubelet node, the kind HPK mounts', async (t) => {
  const res = await runTool('helm', ['template', 'storage-prod', join(out, 'charts/storage'), '--namespace', 'prod-perlhpk', '-f', join(out, 'charts/storage/values.yaml'), '-f', join(out, 'environments/prod/storage.yaml')]);
  t.equal(res.code, 0, res.stderr);
  const pvs = parseManifests(res.stdout).filter((d) => d.kind === 'PersistentVolume') as any[];
  t.same(pvs.map((pv) => pv.spec.local?.path), ['/global/common/software/m3792', '/pscratch/sd/m3792']);
  for (const pv of pvs) {
    t.same(await validateDocument(pv), [], `${pv.metadata.name} is a valid PersistentVolume`);
    t.same(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0], { key: 'kubernetes.io/hostname', operator: 'In', values: ['hpk-kubelet'] });
    t.notOk(pv.spec.hostPath, 'not hostPath: hpk-kubelet refuses a claim on a hostPath volume');
  }
});

t.test('verify\'s HPK check finds what needs a node, a Service address or a GPU resource', async (t) => {
  const loaded = await loadSite('examples/hpk.yaml');
  if (!loaded.ok) throw new Error('example does not load');
  const check = CHECKS.find((c) => c.name.startsWith('HPK'))!.check;
  const pod = (extra: object, container: object = {}) => ({ template: { spec: { ...extra, containers: [{ name: 'c', image: 'x:1', ...container }] } } });
  const objects = [
    { kind: 'DaemonSet', metadata: { name: 'node-agent' }, spec: pod({}) },
    { kind: 'Service', metadata: { name: 'lb' }, spec: { type: 'LoadBalancer', ports: [{ port: 22 }] } },
    { kind: 'Service', metadata: { name: 'fine' }, spec: { clusterIP: 'None', ports: [{ port: 80 }] } },
    { kind: 'Deployment', metadata: { name: 'hostnet' }, spec: pod({ hostNetwork: true }) },
    { kind: 'Deployment', metadata: { name: 'gpu' }, spec: pod({}, { resources: { limits: { 'nvidia.com/gpu': 1 } } }) },
    { kind: 'PersistentVolume', metadata: { name: 'hostpath-pv' }, spec: { hostPath: { path: '/global' } } },
    { kind: 'PersistentVolume', metadata: { name: 'local-pv' }, spec: { local: { path: '/global' } } },
    { kind: 'Deployment', metadata: { name: 'ok' }, spec: pod({}) },
  ].map((object) => ({ object, namespace: 'x', source: 'test' }));
  const problems = check({ site: loaded.site, objects } as unknown as CheckContext);
  t.same(problems.map((p) => p.object.split(' ')[1]), ['x/node-agent', 'x/lb', 'x/hostnet', 'x/gpu', 'x/hostpath-pv']);
  const rke2 = await loadSite('site.yaml');
  if (!rke2.ok) throw new Error('site.yaml does not load');
  t.same(check({ site: rke2.site, objects } as unknown as CheckContext), [], 'sites with nodes are not held to it');
});

t.test('every component that cannot run under HPK says why, at its enabled field', async (t) => {
  const text = await readFile('examples/hpk.yaml', 'utf8');
  const refused = componentNames.filter((n) => (catalog[n] as { notUnderHpk?: string }).notUnderHpk);
  t.ok(refused.length >= 9, `${refused.length} components refused: ${refused.join(', ')}`);
  t.notOk(refused.some((n) => ['argoWorkflows', 'sparkOperator', 'mpiOperator', 'namespaces', 'storage', 'certManager'].includes(n)), 'what fits HPK is kept');
  const dir = await tempDir();
  for (const name of refused) {
    const doc = parseDocument(text);
    doc.setIn(['spec', 'components', name], doc.createNode({ enabled: true }));
    const file = join(dir, `${name}.yaml`);
    await writeFile(file, doc.toString());
    const res = await siteforge(['validate', file]);
    t.equal(res.code, 1, `${name}: refused`);
    const reason = (catalog[name] as { notUnderHpk: string }).notUnderHpk;
    t.ok(res.stderr.includes(`spec.components.${name}.enabled: ${name} cannot be used with distribution.type hpk: ${reason}`), `${name}: the reason, at spec.components.${name}.enabled`);
    t.match(res.stderr, new RegExp(`${name}\\.yaml:\\d+:\\d+: error: spec\\.components\\.${name}\\.enabled`), `${name}: with its position`);
  }
});
