// `siteforge new` as a user runs it, from the package npm pack makes (what the registry would
// serve): the new repository is committed, pins that exact generator, and its own `npm ci` and
// `generate --check` pass. It packs and installs the whole package, so it runs with the slow
// tests (npm run test:integration).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, siteforgeBinary as siteforge, tempDir } from '../helpers/cli.ts';

t.test('siteforge new: a committed site repository whose own npm ci + generate --check pass', async (t) => {
  // The generator as users get it: the package npm pack makes (what the registry would serve).
  const pack = await tempDir();
  const packed = spawnSync('npm', ['pack', '--silent', '--pack-destination', pack], { cwd: ROOT, encoding: 'utf8' });
  t.equal(packed.status, 0, packed.stderr);
  const tarball = join(pack, packed.stdout.trim().split('\n').at(-1)!);
  const base = await tempDir();
  const keyFile = join(base, 'keys', 'keys.txt');
  const res = await siteforge(['new', 'my-site', '--key-file', keyFile, '--generator', `file:${tarball}`], { cwd: base });
  t.equal(res.code, 0, res.stderr);
  const site = join(base, 'my-site');
  const git = (...args: string[]) => spawnSync('git', args, { cwd: site, encoding: 'utf8' }).stdout;
  t.equal(git('status', '--porcelain'), '', 'everything is committed');
  const committed = git('ls-files');
  for (const f of ['site.yaml', 'package.json', 'package-lock.json', 'site.schema.json', '.gitattributes', '.pre-commit-config.yaml', 'helmfile.yaml']) t.match(committed, f, `${f} is committed`);
  t.notMatch(committed, /keys\.txt/, 'the private key is not in the repository');
  t.match(await readFile(join(site, 'site.yaml'), 'utf8'), /^# yaml-language-server: \$schema=\.\/site\.schema\.json/, 'the spec names its schema');
  const pkg = JSON.parse(await readFile(join(site, 'package.json'), 'utf8'));
  t.equal(pkg.devDependencies['siteforge-hpc'], `file:${tarball}`, 'the generator is pinned');
  const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: site, encoding: 'utf8' });
  t.equal(ci.status, 0, ci.stderr);
  const check = spawnSync('npx', ['--no-install', 'siteforge', 'generate', 'site.yaml', '--check'], { cwd: site, encoding: 'utf8' });
  t.equal(check.status, 0, check.stdout + check.stderr);
  t.match(check.stdout, /up to date/);
  t.equal(git('status', '--porcelain'), '', 'node_modules is ignored');
  await rm(base, { recursive: true, force: true });
  await rm(pack, { recursive: true, force: true });
});
