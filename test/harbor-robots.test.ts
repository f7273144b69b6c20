// Each environment's Harbor robot account: a pull Secret a registry client can use, with a password
// Harbor takes (harbor-setup gives it to Harbor), and the permissions of the spec's projects.
// (test/integration/harbor-setup.test.ts runs harbor-setup itself against Harbor's API rules.)
import t from 'tap';
import { join } from 'node:path';
import { readFile, writeFile } from 'node:fs/promises';
import { loadSite } from '../generator/pipeline.ts';
import { siteSecrets } from '../generator/secrets/store.ts';
import { generateValues } from '../generator/secrets/values.ts';
import { dockerConfig, random } from '../generator/secrets/types.ts';
import { harborRobot, harborSetupFiles } from '../generator/components/harbor.ts';
import { ROOT, tempDir } from './helpers/cli.ts';

/** Harbor's rule for a robot secret (src/controller/robot/controller.go IsValidSec). */
const harborTakes = (s: string) => s.length >= 8 && s.length <= 128 && /[a-z]/.test(s) && /[A-Z]/.test(s) && /\d/.test(s);

async function siteWith(harbor: string) {
  const dir = await tempDir();
  const text = (await readFile(join(ROOT, 'site.yaml'), 'utf8')).replace('harbor: {enabled: true, auth: {mode: ldap}}', harbor);
  await writeFile(join(dir, 'site.yaml'), text);
  const loaded = await loadSite(join(dir, 'site.yaml'));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  return loaded.site;
}

t.test('a robot password is one Harbor takes, every time, even at its shortest', async (t) => {
  let refused = 0;
  for (let i = 0; i < 3000; i++) {
    const { short, long } = await generateValues({ short: random(8, 'mixed'), long: random(40, 'mixed') });
    if (!harborTakes(short!) || !harborTakes(long!) || short!.length !== 8 || long!.length !== 40) refused++;
  }
  t.equal(refused, 0, 'no password Harbor would refuse in 3000 draws');
});

t.test('the pull Secret\'s auth file is the one registry clients read, and follows a kept password', async (t) => {
  const spec = { password: random(40, 'mixed'), '.dockerconfigjson': dockerConfig('harbor.example.edu', 'robot$siteforge-dev', 'password') };
  const fresh = await generateValues(spec);
  const auth = JSON.parse(fresh['.dockerconfigjson']!);
  t.same(Object.keys(auth.auths), ['harbor.example.edu'], 'credentials for the registry host, as `docker login` writes them');
  t.equal(Buffer.from(auth.auths['harbor.example.edu'].auth, 'base64').toString(), `robot$siteforge-dev:${fresh.password}`, 'auth is base64 of user:password');
  // A file written before the auth file existed keeps its password; the auth file is made for it.
  const completed = await generateValues(spec, undefined, { password: 'Kept1passwordOfBefore' });
  t.equal(completed.password, 'Kept1passwordOfBefore');
  t.equal(JSON.parse(completed['.dockerconfigjson']!).auths['harbor.example.edu'].password, 'Kept1passwordOfBefore', 'the auth file follows the kept password');
});

t.test('one pull Secret per environment, each with its own robot', async (t) => {
  const site = await siteWith('harbor: {enabled: true}');
  const robots = siteSecrets(site).filter((s) => s.def.name === 'harbor-robot');
  t.same(robots.map((s) => [s.environment, s.namespace, s.manifestPath]), [
    ['dev', 'dev-hpc4', 'secrets/dev/harbor-robot.sops.yaml'],
    ['prod', 'prod-hpc4', 'secrets/prod/harbor-robot.sops.yaml'],
  ]);
  for (const s of robots) {
    t.equal(s.def.type, 'kubernetes.io/dockerconfigjson', `${s.environment}: a pull Secret kubelets use`);
    const auth = s.data['.dockerconfigjson'];
    t.same(auth, { kind: 'dockerConfig', registry: 'harbor.hpc4.example.edu', user: `robot$siteforge-${s.environment}`, passwordKey: 'password' }, `${s.environment}: robot$siteforge-${s.environment} at the registry host`);
  }
  const files = harborSetupFiles(site, site.componentSettings.harbor);
  t.equal(files.robots, 'siteforge-dev dev-hpc4 harbor-robot\nsiteforge-prod prod-hpc4 harbor-robot\n', 'harbor-setup reads each robot\'s password from that Secret');
});

t.test('robots push to their environment\'s projects and pull from the rest and the proxy caches', async (t) => {
  const site = await siteWith('harbor: {enabled: true, projects: [{name: library, public: true}, {name: spack-release, environments: [prod]}]}');
  const settings = site.componentSettings.harbor;
  const access = (env: string) =>
    Object.fromEntries((harborRobot(settings, env).permissions as { namespace: string; access: { resource: string; action: string }[] }[]).map((p) => [p.namespace, p.access.filter((a) => a.resource === 'repository').map((a) => a.action).join('+')]));
  t.same(access('prod'), { library: 'pull+push', 'spack-release': 'pull+push', dockerhub: 'pull', ghcr: 'pull', quay: 'pull', k8s: 'pull', nvcr: 'pull' });
  t.same(access('dev'), { library: 'pull+push', 'spack-release': 'pull', dockerhub: 'pull', ghcr: 'pull', quay: 'pull', k8s: 'pull', nvcr: 'pull' });
  const robot = harborRobot(settings, 'dev');
  t.same([robot.name, robot.level, robot.duration], ['siteforge-dev', 'system', -1], 'a system robot (several projects) that never expires');
  t.equal(harborSetupFiles(site, settings).projects, 'library true\nspack-release false\n');
});
