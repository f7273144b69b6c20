// The build factory's workflows as Argo runs them: steps by name stay a sequence; step objects
// make a DAG whose parallel branches, GPU step (resources, node selection, the pool's taint
// tolerated) and mounts are read back from the WorkflowTemplate helm renders with the real chart,
// validated against Argo's schema (@kubernetes-models/argo-workflows).
import t from 'tap';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { generatedSite, siteforge, tempDir } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';
import { parseManifests, validateDocument } from './helpers/k8s.ts';

const out = await generatedSite('site.yaml', { commit: false });

async function rendered(release: string, env: string) {
  const res = await runTool('helm', ['template', release, join(out, 'charts/workflows'), '--namespace', `${env}-hpc4`, '-f', join(out, 'charts/workflows/values.yaml'), '-f', join(out, `environments/${env}/workflows.yaml`)]);
  if (res.code !== 0) throw new Error(res.stderr);
  return parseManifests(res.stdout);
}

t.test('a DAG: two parallel branches, then a GPU step that tolerates the GPU pool', async (t) => {
  const docs = await rendered('workflows-dev', 'dev');
  const tpl = docs.find((d) => d.kind === 'WorkflowTemplate' && d.metadata.name === 'spack-stack') as any;
  t.ok(tpl, 'WorkflowTemplate spack-stack');
  t.same(await validateDocument(tpl), [], 'valid against Argo\'s WorkflowTemplate schema');
  const tasks = tpl.spec.templates.find((x: { name: string }) => x.name === 'pipeline').dag.tasks;
  const deps = Object.fromEntries(tasks.map((x: { name: string; dependencies?: string[] }) => [x.name, x.dependencies ?? []]));
  t.same(deps, { concretize: [], compilers: ['concretize'], mpi: ['concretize'], 'cuda-tests': ['compilers', 'mpi'] }, 'compilers and mpi run in parallel after concretize');
  const byName = (name: string) => tpl.spec.templates.find((x: { name: string }) => x.name === name);
  const gpu = byName('step-cuda-tests');
  t.same(gpu.script.resources.limits, { cpu: '8', memory: '32Gi', 'nvidia.com/gpu': 1 });
  t.same(gpu.script.resources.requests, gpu.script.resources.limits, 'requests equal limits (Guaranteed: the static CPU manager pins cores)');
  t.same(gpu.nodeSelector, { 'nvidia.com/gpu.present': 'true' });
  t.same(gpu.tolerations, [{ key: 'nvidia.com/gpu', operator: 'Equal', value: 'present', effect: 'NoSchedule' }], 'the GPU nodes\' taint from the spec');
  t.match(gpu.script.source, /spack -e "\$SPACK_ENV" test run cuda/);
  t.same(gpu.script.env[0], { name: 'SPACK_ENV', value: '{{workflow.parameters.spack-env}}' }, 'Argo expressions pass helm untouched');
  t.same(byName('step-concretize').container.args, ['concretize', '{{workflow.parameters.spack-env}}']);
  t.same(byName('step-mpi').container.volumeMounts.filter((m: { name: string }) => m.name !== 'site-ca' && m.name !== 'registry-auth'), [{ name: 'builds', mountPath: '/mnt/builds', readOnly: false }], 'a step mounts only the volumes it names (and the site CA and its registry credentials)');
  t.notOk(byName('step-compilers').tolerations, 'CPU steps tolerate nothing');
  t.same(tpl.spec.arguments.parameters, [{ name: 'spack-env', value: 'hpc4-2026' }]);
  t.same([tpl.spec.ttlStrategy, tpl.spec.podGC, byName('step-mpi').retryStrategy], [{ secondsAfterCompletion: 604800 }, { strategy: 'OnPodSuccess' }, { limit: 1 }]);
});

t.test('build steps trust the site CA where container tools look for Harbor\'s', async (t) => {
  const docs = await rendered('workflows-dev', 'dev');
  const cert = docs.find((d) => d.kind === 'Certificate') as any;
  t.same([cert?.metadata.namespace, cert?.spec.secretName, cert?.spec.issuerRef], ['dev-hpc4', 'site-ca-bundle', { name: 'site-ca', kind: 'ClusterIssuer', group: 'cert-manager.io' }], 'a certificate from the site CA issuer: its Secret\'s ca.crt is the site CA');
  const tpl = docs.find((d) => d.kind === 'WorkflowTemplate' && d.metadata.name === 'spack-stack') as any;
  t.same(tpl.spec.volumes.find((v: { name: string }) => v.name === 'site-ca'), { name: 'site-ca', secret: { secretName: 'site-ca-bundle', items: [{ key: 'ca.crt', path: 'ca.crt' }] } });
  for (const step of tpl.spec.templates.filter((x: { container?: unknown; script?: unknown }) => x.container || x.script)) {
    const c = step.container ?? step.script;
    const paths = c.volumeMounts.filter((m: { name: string }) => m.name === 'site-ca').map((m: { mountPath: string }) => m.mountPath);
    t.same(paths, ['/etc/containers/certs.d/harbor.hpc4.example.edu/ca.crt', '/etc/docker/certs.d/harbor.hpc4.example.edu/ca.crt', '/etc/siteforge/site-ca.crt'], `${step.name}: buildah/podman/skopeo, docker, and a plain path`);
    t.ok(c.env.some((e: { name: string; value: string }) => e.name === 'SITEFORGE_CA_FILE' && e.value === '/etc/siteforge/site-ca.crt'), `${step.name}: SITEFORGE_CA_FILE`);
  }
});

t.test('build steps push and pull with their environment\'s Harbor robot; workflow pods pull with it', async (t) => {
  const docs = await rendered('workflows-dev', 'dev');
  for (const tpl of docs.filter((d) => d.kind === 'WorkflowTemplate') as any[]) {
    t.same(tpl.spec.volumes.find((v: { name: string }) => v.name === 'registry-auth'), { name: 'registry-auth', secret: { secretName: 'harbor-robot', items: [{ key: '.dockerconfigjson', path: 'config.json' }] } }, `${tpl.metadata.name}: the pull Secret's auth file as config.json`);
    for (const step of tpl.spec.templates.filter((x: { container?: unknown; script?: unknown }) => x.container || x.script)) {
      const c = step.container ?? step.script;
      const env = Object.fromEntries(c.env.map((e: { name: string; value: string }) => [e.name, e.value]));
      const dir = c.volumeMounts.find((m: { name: string }) => m.name === 'registry-auth')?.mountPath;
      t.same([dir, env.DOCKER_CONFIG, env.REGISTRY_AUTH_FILE], ['/etc/siteforge/registry', '/etc/siteforge/registry', '/etc/siteforge/registry/config.json'], `${tpl.metadata.name}/${step.name}: docker, kaniko and crane find it through DOCKER_CONFIG, buildah, podman and skopeo through REGISTRY_AUTH_FILE`);
    }
  }
  const argo = (await import('yaml')).parse(await readFile(join(out, 'charts/argo-workflows/values.yaml'), 'utf8'));
  t.same(argo['argo-workflows'].workflow.serviceAccount.pullSecrets, [{ name: 'harbor-robot' }], 'the workflow ServiceAccount pulls with the pull Secret');
});

t.test('steps by name stay one sequence with the workflow image; the cron policy follows the spec', async (t) => {
  const docs = await rendered('workflows-dev', 'dev');
  const tpl = docs.find((d) => d.kind === 'WorkflowTemplate' && d.metadata.name === 'spack-tests') as any;
  t.same(await validateDocument(tpl), []);
  t.same(tpl.spec.templates[0].steps.map((g: { name: string }[]) => g.map((s) => s.name)), [['compiler-tests'], ['mpi-compiler-tests'], ['runtime-tests']], 'one step per group: in order');
  t.equal(tpl.spec.templates[1].container.image, 'harbor.hpc4.example.edu/library/spack:0.22.1');
  const cron = docs.find((d) => d.kind === 'CronWorkflow' && d.metadata.name === 'spack-tests') as any;
  t.equal(cron.spec.concurrencyPolicy, 'Forbid');
});

t.test('helm lint passes for the workflows chart with each environment\'s values', async (t) => {
  for (const env of ['dev', 'prod']) {
    const lint = await runTool('helm', ['lint', join(out, 'charts/workflows'), '-f', join(out, `environments/${env}/workflows.yaml`)]);
    t.equal(lint.code, 0, `${env}: ${lint.stdout}${lint.stderr}`);
  }
});

t.test('images: latest and untagged images warn, foreign registries warn when nodes pull through Harbor, Renovate reads the pins', async (t) => {
  const dir = await tempDir();
  const spec = (await readFile('site.yaml', 'utf8'))
    .replace('image: harbor.hpc4.example.edu/library/spack:0.22.1\n      steps: [compiler-tests', 'image: harbor.hpc4.example.edu/library/spack:latest\n      steps: [compiler-tests')
    .replace('image: harbor.hpc4.example.edu/library/spack-cuda:0.22.1', 'image: registry.example.com/cuda/spack')
    .replace('image: harbor.hpc4.example.edu/library/spack:0.22.1\n      parameters', 'image: docker.io/spack/ubuntu-jammy@sha256:' + 'a'.repeat(64) + '\n      parameters');
  await writeFile(join(dir, 'site.yaml'), spec);
  const res = await siteforge(['validate', join(dir, 'site.yaml')]);
  t.equal(res.code, 0, 'warnings, not errors');
  t.match(res.stderr, /site\.yaml:\d+:14: warning: spec\.workflows\[0\]\.image: image "harbor\.hpc4\.example\.edu\/library\/spack:latest" is not pinned \(latest\)/);
  t.match(res.stderr, /spec\.workflows\[2\]\.steps\[3\]\.image: image "registry\.example\.com\/cuda\/spack" is not pinned \(no tag\)/);
  t.match(res.stderr, /spec\.workflows\[2\]\.steps\[3\]\.image: image "registry\.example\.com\/cuda\/spack" comes from registry\.example\.com, which Harbor does not mirror/);
  t.notMatch(res.stderr, /spack\/ubuntu-jammy/, 'a digest is a pin; docker.io is mirrored');
  t.notMatch((await siteforge(['validate', 'site.yaml'])).stderr, /not pinned/, 'the example pins its images');

  // Renovate's regex manager, as it applies matchStrings (JavaScript named groups, global), on the spec.
  const manager = JSON.parse(await readFile('renovate.json', 'utf8')).customManagers.find((m: { description: string }) => /images pinned in the site spec/i.test(m.description));
  const found = [...(await readFile('site.yaml', 'utf8')).matchAll(new RegExp(manager.matchStrings[0], 'g'))].map((m) => `${m.groups!.depName}:${m.groups!.currentValue}`);
  t.same([...new Set(found)].sort(), ['harbor.hpc4.example.edu/library/spack-cuda:0.22.1', 'harbor.hpc4.example.edu/library/spack:0.22.1', 'harbor.hpc4.example.edu/library/spack:0.23.0'], 'the shared images and dev\'s pin');
  t.equal(manager.datasourceTemplate, 'docker');
  // The images components name are pinned in the spec too, under their own keys.
  const inExample = async (spec: string) => [...new Set([...(await readFile(spec, 'utf8')).matchAll(new RegExp(manager.matchStrings[0], 'g'))].map((m) => `${m.groups!.depName}:${m.groups!.currentValue}`))].sort();
  t.same(await inExample('examples/sandia.yaml'), ['registry.hpc.example.gov/hpc/slurm:24.11.5', 'registry.hpc.example.gov/jupyter/k8s-hub-slurm:4.4.0'], 'the Slurm image and the hub image');
  t.ok((await inExample('examples/k0s-gpu.yaml')).includes('ghcr.io/example/argocd-tools:1.0.0'), 'Argo CD\'s tools image');
  t.ok((await inExample('examples/hpk.yaml')).some((i) => /kubernetes-from-scratch/.test(i)), 'the HPK control-plane image');
});

t.test('hostile step values stay data: YAML 1.1 words, Helm and Jinja braces, shell, reach the pod as written', async (t) => {
  const dir = await tempDir();
  const hostile = ['yes', 'on', '0o17', '12:30', '{{ .Release.Name }}', "{{ lookup('pipe', 'id') }}", '$(id)', '`id`', '; rm -rf /'];
  const step = `        - name: hostile\n          env: {${hostile.map((v, i) => `V${i}: ${JSON.stringify(v)}`).join(', ')}}\n          args: [${hostile.map((v) => JSON.stringify(v)).join(', ')}]\n`;
  await writeFile(join(dir, 'site.yaml'), (await readFile('site.yaml', 'utf8')).replace('        - {name: concretize,', `${step}        - {name: concretize,`));
  const out = await generatedSite(join(dir, 'site.yaml'), { commit: false });
  const res = await runTool('helm', ['template', 'w', join(out, 'charts/workflows'), '--namespace', 'dev-hpc4', '-f', join(out, `environments/dev/workflows.yaml`)]);
  t.equal(res.code, 0, res.stderr);
  const tpl = parseManifests(res.stdout).find((d) => d.kind === 'WorkflowTemplate' && d.metadata.name === 'spack-stack') as any;
  const c = tpl.spec.templates.find((x: { name: string }) => x.name === 'step-hostile').container;
  t.same(c.args, hostile, 'arguments arrive exactly as written');
  t.same(c.env.filter((e: { name: string }) => e.name.startsWith('V')).map((e: { value: string }) => e.value), hostile, 'environment values too, strings all');
  const bad = await siteforge(['validate', join(dir, 'site.yaml')]);
  t.equal(bad.code, 0);
  await writeFile(join(dir, 'site.yaml'), (await readFile(join(dir, 'site.yaml'), 'utf8')).replace('args: ["yes"', 'args: ["a\\u0000b", "yes"'));
  const nul = await siteforge(['validate', join(dir, 'site.yaml')]);
  t.equal(nul.code, 1, 'a control character is refused');
  t.match(nul.stderr, /steps\[0\]\.args\[0\]: .* is not valid/);
});
