// The command-line contract: help, version, usage errors (exit 2), validate.
import t from 'tap';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, siteforgeBinary as siteforge, tempDir } from './helpers/cli.ts';

t.test('--help and --version exit 0', async (t) => {
  const help = await siteforge(['--help']);
  t.equal(help.code, 0);
  t.match(help.stdout, /generate \[options\] <site\.yaml>/);
  t.match(help.stdout, /validate <site\.yaml>/);
  const genHelp = await siteforge(['generate', '--help']);
  for (const flag of ['--out', '--no-commit', '--check', '--force']) t.match(genHelp.stdout, flag);
  const version = await siteforge(['--version']);
  t.equal(version.code, 0);
  t.equal(version.stdout.trim(), JSON.parse(await readFile('package.json', 'utf8')).version);
});

t.test('usage errors exit 2', async (t) => {
  for (const args of [['frobnicate'], ['generate'], ['generate', 'site.yaml', '--bogus'], ['validate', 'a.yaml', 'b.yaml']]) {
    const res = await siteforge(args);
    t.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    t.match(res.stderr, /error:/);
  }
});

t.test('validate: ok for the examples, 1 for a missing file', async (t) => {
  const ok = await siteforge(['validate', 'site.yaml']);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /site\.yaml: valid — site hpc4, 3 server\(s\), 3 agent\(s\)/);
  const missing = await siteforge(['validate', 'no-such-site.yaml']);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /^no-such-site\.yaml:1:1: error: file not found/);
});

t.test('ingress-nginx, retired upstream, is a warning where a site enables it', async (t) => {
  const res = await siteforge(['validate', 'site.yaml'], { cwd: ROOT });
  t.equal(res.code, 0, 'a warning, not an error');
  t.match(res.stderr, /site\.yaml:\d+:\d+: warning: spec\.components\.ingressNginx\.enabled: ingress-nginx was retired upstream in March 2026/);
  const minimal = await siteforge(['validate', 'examples/minimal.yaml'], { cwd: ROOT });
  t.notMatch(minimal.stderr, /ingress-nginx/, 'not where it is off');
});

t.test('an even number of servers is a warning, not an error', async (t) => {
  const dir = await tempDir();
  const spec = (await readFile('examples/minimal.yaml', 'utf8')).replace(
    '    - {name: node1, address: 172.16.0.10, role: server}',
    '    - {name: node1, address: 172.16.0.10, role: server}\n    - {name: node2, address: 172.16.0.11, role: server}',
  );
  await writeFile(join(dir, 'two.yaml'), spec);
  const res = await siteforge(['validate', join(dir, 'two.yaml')]);
  t.equal(res.code, 0);
  t.match(res.stderr, /two\.yaml:\d+:\d+: warning: spec\.nodes: 2 server nodes: etcd needs a majority/);
  t.match(res.stderr, /hint: use 1 or 3 servers/);
});

t.test('an output path that is a file is a clear error, exit 1, no stack trace', async (t) => {
  const dir = await tempDir();
  const file = join(dir, 'not-a-dir');
  await writeFile(file, 'x');
  const res = await siteforge(['generate', 'examples/minimal.yaml', '--out', file]);
  t.equal(res.code, 1);
  t.match(res.stderr, `${file} is not a directory`);
  t.match(res.stderr, 'hint: give --out a directory');
  t.notMatch(res.stderr, /\n\s+at /, 'no stack trace');
  const nested = await siteforge(['generate', 'examples/minimal.yaml', '--out', join(file, 'sub')]);
  t.equal(nested.code, 1);
  t.match(nested.stderr, /not a directory/);
  t.notMatch(nested.stderr, /internal error|\n\s+at /);
});

t.test('verify refuses output that is missing or older than the spec, saying what to run', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), await readFile(join(ROOT, 'examples/minimal.yaml'), 'utf8'));
  const none = await siteforge(['verify', join(dir, 'site.yaml')]);
  t.equal(none.code, 1);
  t.match(none.stderr, /holds no generated site/);
  t.equal((await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit'])).code, 0);
  // The spec gains a component after the output was generated.
  await writeFile(join(dir, 'site.yaml'), (await readFile(join(dir, 'site.yaml'), 'utf8')).replace('  environments: [prod]\n', '  environments: [prod]\n  components:\n    certManager: {enabled: true}\n'));
  const stale = await siteforge(['verify', join(dir, 'site.yaml')]);
  t.equal(stale.code, 1);
  t.match(stale.stderr, /is older than .*site\.yaml: charts\/cert-manager, charts\/cert-manager-issuers are missing/);
  t.match(stale.stderr, /hint: run `siteforge generate/);
  t.notMatch(stale.stderr, /internal error|\n\s+at /, 'a user error, no stack trace');
});

t.test('the executable runs from any directory; relative paths are the caller\'s', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'mysite.yaml'), await readFile('examples/minimal.yaml'));
  const res = await siteforge(['generate', 'mysite.yaml', '--out', 'out', '--no-commit'], { cwd: dir });
  t.equal(res.code, 0, res.stderr);
  t.ok(existsSync(join(dir, 'out', 'helmfile.yaml')), 'written below the caller\'s directory');
  const abs = await siteforge(['validate', join(ROOT, 'site.yaml')], { cwd: dir });
  t.equal(abs.code, 0, abs.stderr);
  // Through npm run, the package directory is the working directory; INIT_CWD is the caller's.
  const viaNpm = await siteforge(['validate', 'mysite.yaml'], { cwd: ROOT, env: { npm_lifecycle_event: 'validate', INIT_CWD: dir } });
  t.equal(viaNpm.code, 0, viaNpm.stderr);
  t.match(viaNpm.stdout, /^mysite\.yaml: valid/);
  await rm(dir, { recursive: true, force: true });
});

t.test('plan --json: stdout is the JSON document and nothing else', async (t) => {
  const res = await siteforge(['plan', 'examples/minimal.yaml', '--out', join(await tempDir(), 'fresh'), '--json']);
  t.equal(res.code, 0, res.stderr);
  const report = JSON.parse(res.stdout);
  t.equal(report.upToDate, false);
  t.ok(report.files.added.length > 10, 'the files a first generate adds');
});
