// Hostile input, tried as an attacker and a careless user would. Every case ends in a clear
// error (exit 1, position or named path, a hint) or in a value its real consumer treats as inert
// data — never in exit 3 ("internal error"), a hang, a write outside the output directory, or
// key material on stderr. Spec cases are the files in test/fixtures/hostile/ (each names its
// expected outcome in its header); tree, git and key cases are built below.
import t from 'tap';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, snapshotTree, tempDir } from './helpers/cli.ts';
import { runInProcess as run } from './helpers/inprocess.ts';
import { runTool } from './helpers/tools.ts';
import type { CliResult } from './helpers/cli.ts';
import { AGE_IDENTITY_PREFIX } from '../generator/sops/age.ts';

const DIR = join(ROOT, 'test', 'fixtures', 'hostile');
const MINIMAL = join(ROOT, 'examples', 'minimal.yaml');
/** Anything shaped like real key material (the messages themselves say "AGE-SECRET-KEY-…"). */
const KEY_MATERIAL = new RegExp(`${AGE_IDENTITY_PREFIX}[0-9A-Z]{6}`, 'i');
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

/** What every hostile run must satisfy, whatever its outcome. */
function assertContained(t: Pick<typeof import('tap').default, 'not' | 'notMatch' | 'ok'>, res: CliResult, what: string) {
  t.not(res.code, 3, `${what}: not an internal error (exit 3)`);
  t.notMatch(res.stderr, /internal error/, `${what}: no "internal error"`);
  t.notMatch(res.stderr + res.stdout, KEY_MATERIAL, `${what}: no key material printed`);
  t.notMatch(res.stderr, /\n\s+at .*:\d+:\d+\)?\n/, `${what}: no stack trace`);
  t.ok(res.stderr.length < 6000, `${what}: a bounded message (${res.stderr.length} characters)`);
}

interface Fixture {
  name: string;
  error?: string;
  variable?: { host: string; name: string; value: unknown };
}

async function fixtures(): Promise<Fixture[]> {
  const names = (await readdir(DIR)).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(
    names.map(async (file) => {
      const head = (await readFile(join(DIR, file), 'utf8')).split('\n', 3);
      const error = head.map((l) => /^# expect-error: (.*)$/.exec(l)?.[1]).find(Boolean);
      const v = head.map((l) => /^# expect-var: (\S+) (\S+) (.*)$/.exec(l)).find(Boolean);
      return { name: file, error, variable: v ? { host: v[1]!, name: v[2]!, value: JSON.parse(v[3]!) } : undefined };
    }),
  );
}

/** ansible-inventory's view of a host's variables, with Ansible's unsafe wrapper removed. */
const unwrapUnsafe = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(unwrapUnsafe)
  : v && typeof v === 'object' ? ('__ansible_unsafe' in v ? (v as { __ansible_unsafe: unknown }).__ansible_unsafe : Object.fromEntries(Object.entries(v).map(([k, x]) => [k, unwrapUnsafe(x)])))
  : v;

t.test('spec corpus: every case is a positioned error or inert data', async (t) => {
  const cases = await fixtures();
  t.ok(cases.length >= 40, `at least 40 hostile specs (${cases.length})`);
  for (const c of cases) {
    t.ok(Boolean(c.error) !== Boolean(c.variable), `${c.name} names exactly one expected outcome`);
    const out = await tempDir();
    await writeFile(join(out, 'keep.txt'), 'the user\'s file\n');
    const before = await snapshotTree(out);
    const res = await run(['generate', join(DIR, c.name), '--out', out, '--no-commit']);
    assertContained(t, res, c.name);
    if (c.error) {
      t.equal(res.code, 1, `${c.name}: exit 1`);
      t.match(res.stderr, new RegExp(`${c.name.replace(/\./g, '\\.')}:\\d+:\\d+: error: `), `${c.name}: file:line:col`);
      t.ok(res.stderr.includes(c.error), `${c.name}: says ${c.error}\n${res.stderr}`);
      t.same([...(await snapshotTree(out)).keys()], [...before.keys()], `${c.name}: nothing written`);
    } else {
      t.equal(res.code, 0, `${c.name}: generates\n${res.stderr}`);
      const inv = await runTool('ansible-inventory', ['-i', 'inventory/hosts.yaml', '--host', c.variable!.host], { cwd: join(out, 'ansible') });
      t.equal(inv.code, 0, inv.stderr);
      const vars = unwrapUnsafe(JSON.parse(inv.stdout)) as Record<string, unknown>;
      t.same(vars[c.variable!.name], c.variable!.value, `${c.name}: Ansible reads ${c.variable!.name} as the spec wrote it`);
    }
    await rm(out, { recursive: true, force: true });
  }
});

t.test('Jinja2 in a spec value is printed literally by ansible -m debug, never run', async (t) => {
  const out = await tempDir();
  const res = await run(['generate', join(DIR, 'jinja-ssh-key-comment.yaml'), '--out', out, '--no-commit']);
  t.equal(res.code, 0, res.stderr);
  const debug = await runTool('ansible', ['-i', 'inventory/hosts.yaml', 'node1', '-c', 'local', '-m', 'ansible.builtin.debug', '-a', 'msg={{ prepare_admin_ssh_keys[0] }}'], {
    cwd: join(out, 'ansible'),
    env: { ANSIBLE_STDOUT_CALLBACK: 'json', ANSIBLE_LOAD_CALLBACK_PLUGINS: '1' },
  });
  t.equal(debug.code, 0, debug.stderr + debug.stdout);
  t.match(debug.stdout, `{{ lookup('pipe','id') }}`, 'the template text is printed as it was written');
  t.notMatch(debug.stdout, /uid=\d+/, 'the lookup did not run');
  await rm(out, { recursive: true, force: true });
});

t.test('spec files too large, too repetitive or oddly named are clear errors', async (t) => {
  const dir = await tempDir();
  const keys = `apiVersion: siteforge/v1alpha1\nkind: Site\nmetadata:\n${Array.from({ length: 40_000 }, (_, i) => `  k${i}: ${i}\n`).join('')}  k7: again\n`;
  await writeFile(join(dir, 'keys.yaml'), keys);
  const started = Date.now();
  const dup = await run(['validate', join(dir, 'keys.yaml')]);
  assertContained(t, dup, '40,000 keys');
  t.equal(dup.code, 1);
  t.match(dup.stderr, /map keys must be unique; "k7" appears twice/);
  t.ok(Date.now() - started < 5000, `40,000 keys checked in ${Date.now() - started} ms (linear, not quadratic)`);

  await writeFile(join(dir, 'huge.yaml'), `# ${'x'.repeat(50 * 1024 * 1024)}\n`);
  const huge = await run(['validate', join(dir, 'huge.yaml')]);
  assertContained(t, huge, '50 MB spec');
  t.equal(huge.code, 1);
  t.match(huge.stderr, /a site spec may have at most \d+ bytes/);

  for (const name of ['site\nx.yaml', 'site$(id).yaml', 'site;touch x.yaml', '-rf.yaml']) {
    await writeFile(join(dir, name), await readFile(MINIMAL));
    const res = await run(['generate', join(dir, name), '--out', join(dir, 'out'), '--no-commit']);
    assertContained(t, res, JSON.stringify(name));
    t.equal(res.code, 1, `${JSON.stringify(name)}: exit 1`);
    t.match(res.stderr, /is not a plain file name/);
    t.notOk(existsSync(join(dir, 'out')), 'nothing written');
  }
  await rm(dir, { recursive: true, force: true });
});

/** A fresh output directory generated from the minimal example (no commit). */
async function generated(spec = MINIMAL): Promise<string> {
  const out = await tempDir();
  const res = await run(['generate', spec, '--out', out, '--no-commit']);
  if (res.code !== 0) throw new Error(res.stderr);
  return out;
}

async function editManifest(out: string, edit: (files: Record<string, string>) => void) {
  const path = join(out, '.siteforge', 'manifest.json');
  const manifest = JSON.parse(await readFile(path, 'utf8'));
  edit(manifest.files);
  await writeFile(path, JSON.stringify(manifest));
}

t.test('the manifest is untrusted: no entry reaches outside the output directory', async (t) => {
  const base = await tempDir();
  const victim = join(base, 'victim.txt');
  await writeFile(victim, 'not siteforge\'s\n');
  const out = join(base, 'out');
  const res0 = await run(['generate', MINIMAL, '--out', out, '--no-commit']);
  t.equal(res0.code, 0, res0.stderr);
  for (const entry of ['../victim.txt', victim, 'charts/../../victim.txt', 'a//b', './x', 'x\\..\\y']) {
    await editManifest(out, (files) => (files[entry] = 'a'.repeat(64)));
    const res = await run(['generate', MINIMAL, '--out', out, '--no-commit', '--force']);
    assertContained(t, res, entry);
    t.equal(res.code, 1, `${entry}: exit 1`);
    t.match(res.stderr, /lists the path/, `${entry}: the entry is named`);
    t.ok(existsSync(victim), `${entry}: the file outside is still there`);
    await editManifest(out, (files) => delete files[entry]);
  }
  // A manifest entry below a symbolic link is never followed either.
  await mkdir(join(base, 'elsewhere'));
  await writeFile(join(base, 'elsewhere', 'x.yaml'), 'keep\n');
  await symlink(join(base, 'elsewhere'), join(out, 'linked'));
  await editManifest(out, (files) => (files['linked/x.yaml'] = 'a'.repeat(64)));
  const linked = await run(['generate', MINIMAL, '--out', out, '--no-commit', '--force']);
  assertContained(t, linked, 'linked/x.yaml');
  t.equal(linked.code, 1);
  t.match(linked.stderr, /linked in .* is a symbolic link/);
  t.ok(existsSync(join(base, 'elsewhere', 'x.yaml')), 'the file behind the link is still there');
  await rm(base, { recursive: true, force: true });
});

t.test('writes never follow a symbolic link; odd output directories are refused quickly', async (t) => {
  const base = await tempDir();
  const out = join(base, 'out');
  const elsewhere = join(base, 'elsewhere');
  await mkdir(out);
  await mkdir(elsewhere);
  await symlink(elsewhere, join(out, 'ansible'));
  const res = await run(['generate', MINIMAL, '--out', out, '--no-commit']);
  assertContained(t, res, 'linked ansible/');
  t.equal(res.code, 1);
  t.match(res.stderr, /ansible in .* is a symbolic link/);
  t.same(await readdir(elsewhere), [], 'nothing written behind the link');
  t.same((await readdir(out)).sort(), ['ansible'], 'nothing written at all');

  const out2 = await generated();
  const target = join(base, 'target.yaml');
  await writeFile(target, 'mine\n');
  await rm(join(out2, 'helmfile.yaml'));
  await symlink(target, join(out2, 'helmfile.yaml'));
  for (const force of [[], ['--force']]) {
    const r = await run(['generate', MINIMAL, '--out', out2, '--no-commit', ...force]);
    assertContained(t, r, `linked helmfile.yaml ${force.join('')}`);
    t.equal(r.code, 1);
    t.match(r.stderr, /helmfile\.yaml: a symbolic link, directory or device/);
    t.equal(await readFile(target, 'utf8'), 'mine\n', 'the link target is untouched');
  }

  git(base, 'init', '-q', 'repo');
  for (const bad of [join(base, 'repo', '.git'), join(base, 'repo', '.git', 'objects', 'site'), '/proc/self/site', '/sys/kernel/site']) {
    const started = Date.now();
    const r = await run(['generate', MINIMAL, '--out', bad, '--no-commit']);
    assertContained(t, r, bad);
    t.equal(r.code, 1, `${bad}: exit 1`);
    t.match(r.stderr, /inside a \.git directory|pseudo file system/);
    t.ok(Date.now() - started < 3000, `${bad}: refused in ${Date.now() - started} ms`);
  }
  await rm(base, { recursive: true, force: true });
  await rm(out2, { recursive: true, force: true });
});

t.test('git: only generated paths are committed; refusals leave the index and tree as they were', async (t) => {
  // A first commit leaves the person's staged file out.
  const first = await tempDir();
  git(first, 'init', '-q', '--initial-branch=main');
  await writeFile(join(first, 'private.env'), 'TOKEN=secret\n');
  git(first, 'add', 'private.env');
  const r1 = await run(['generate', MINIMAL, '--out', first]);
  assertContained(t, r1, 'first commit');
  t.equal(r1.code, 0, r1.stderr);
  t.notMatch(git(first, 'show', '--name-only', '--format=', 'HEAD'), /private\.env/, 'private.env is not in the commit');
  t.match(git(first, 'diff', '--cached', '--name-only'), /private\.env/, 'private.env is still staged, as the person left it');

  // Mid-merge: refused before anything is written.
  const merging = await tempDir();
  git(merging, 'init', '-q', '--initial-branch=main');
  await writeFile(join(merging, 'notes.txt'), 'x\n');
  git(merging, 'add', 'notes.txt');
  git(merging, 'commit', '-qm', 'start');
  await writeFile(join(merging, '.git', 'MERGE_HEAD'), `${git(merging, 'rev-parse', 'HEAD').trim()}\n`);
  const r2 = await run(['generate', MINIMAL, '--out', merging]);
  assertContained(t, r2, 'mid-merge');
  t.equal(r2.code, 1);
  t.match(r2.stderr, /in the middle of a merge/);
  t.match(r2.stderr, /git merge --continue/);
  t.notOk(existsSync(join(merging, 'helmfile.yaml')), 'nothing written');

  // A .gitignore that ignores generated files: refused before anything is written.
  const ignoring = await tempDir();
  git(ignoring, 'init', '-q', '--initial-branch=main');
  await writeFile(join(ignoring, '.gitignore'), 'ansible/\n');
  const r3 = await run(['generate', MINIMAL, '--out', ignoring]);
  assertContained(t, r3, '.gitignore');
  t.equal(r3.code, 1);
  t.match(r3.stderr, /git ignores \d+ of the files siteforge generates/);
  t.notOk(existsSync(join(ignoring, 'ansible')), 'nothing written');

  // A failing pre-commit hook: exit 1 with what happened; the index is as it was.
  const hooked = await tempDir();
  git(hooked, 'init', '-q', '--initial-branch=main');
  await writeFile(join(hooked, 'staged.txt'), 'mine\n');
  git(hooked, 'add', 'staged.txt');
  const indexBefore = git(hooked, 'ls-files', '--stage');
  await writeFile(join(hooked, '.git', 'hooks', 'pre-commit'), '#!/bin/sh\necho "policy: no commits today" >&2\nexit 1\n', { mode: 0o755 });
  const r4 = await run(['generate', MINIMAL, '--out', hooked]);
  assertContained(t, r4, 'pre-commit hook');
  t.equal(r4.code, 1);
  t.match(r4.stderr, /policy: no commits today/);
  t.match(r4.stderr, /hint: a git hook refused the commit/);
  t.equal(git(hooked, 'ls-files', '--stage'), indexBefore, 'the index is exactly as before');

  // Detached HEAD: a warning, then the commit.
  const detached = await tempDir();
  git(detached, 'init', '-q', '--initial-branch=main');
  await writeFile(join(detached, 'notes.txt'), 'x\n');
  git(detached, 'add', 'notes.txt');
  git(detached, 'commit', '-qm', 'start');
  git(detached, 'checkout', '-q', '--detach');
  const r5 = await run(['generate', MINIMAL, '--out', detached]);
  assertContained(t, r5, 'detached HEAD');
  t.equal(r5.code, 0, r5.stderr);
  t.match(r5.stderr, /warning: HEAD is detached/);
  for (const dir of [first, merging, ignoring, hooked, detached]) await rm(dir, { recursive: true, force: true });
});

t.test('a 5,000-node first commit: no argument-length failure, a summarised message', async (t) => {
  const dir = await tempDir();
  const nodes = Array.from({ length: 5000 }, (_, i) => `    - {name: n${i}, address: 10.${40 + Math.floor(i / 62500)}.${Math.floor(i / 250) % 250}.${(i % 250) + 1}, role: ${i < 3 ? 'server' : 'agent'}}`).join('\n');
  const spec = (await readFile(MINIMAL, 'utf8')).replace('    - {name: node1, address: 172.16.0.10, role: server}', nodes);
  await writeFile(join(dir, 'big.yaml'), spec);
  const res = await run(['generate', join(dir, 'big.yaml')]);
  assertContained(t, res, '5,000 nodes');
  t.equal(res.code, 0, res.stderr);
  const message = git(dir, 'log', '-1', '--format=%B');
  t.match(message, /nodes added: n0 .*, and 4980 more/);
  t.ok(message.length < 20_000, `commit message of ${message.length} characters`);
  await rm(dir, { recursive: true, force: true });
});

t.test('keys: a mistyped key names its source, never its text', async (t) => {
  const bad = `${AGE_IDENTITY_PREFIX}${'Q'.repeat(57)}X`; // a key's shape with a wrong checksum
  const r1 = await run(['generate', MINIMAL, '--check'], { env: { SOPS_AGE_KEY: `${bad}\n` } });
  assertContained(t, r1, 'SOPS_AGE_KEY');
  t.equal(r1.code, 1);
  t.match(r1.stderr, /the SOPS_AGE_KEY variable, line 1: this is not a valid age private key/);
  t.notOk(r1.stderr.includes(bad.slice(16, 40)), 'no part of the key is printed');

  const dir = await tempDir();
  const keyFile = join(dir, 'keys.txt');
  await writeFile(keyFile, `# created: today\n${bad.toLowerCase()}\n`, { mode: 0o600 });
  const r2 = await run(['generate', MINIMAL, '--check'], { env: { SOPS_AGE_KEY: undefined, SOPS_AGE_KEY_FILE: keyFile } });
  assertContained(t, r2, 'SOPS_AGE_KEY_FILE');
  t.equal(r2.code, 1);
  t.match(r2.stderr, `${keyFile}, line 2: this is not a valid age private key`);

  const dangling = join(dir, 'dangling.txt');
  await symlink(join(dir, 'nowhere', 'key.txt'), dangling);
  const r3 = await run(['init', '--key-file', dangling]);
  assertContained(t, r3, 'init dangling link');
  t.equal(r3.code, 1);
  t.match(r3.stderr, /is a symbolic link to nothing/);

  git(dir, 'init', '-q');
  const r4 = await run(['init', '--key-file', join(dir, 'sub', 'key.txt')]);
  assertContained(t, r4, 'init in a git tree');
  t.equal(r4.code, 0, r4.stderr);
  t.match(r4.stderr, /warning: .* is inside the git working tree/);
  await rm(dir, { recursive: true, force: true });
});

t.test('damaged secret files: named, with the choices, the same from generate, --check and plan', async (t) => {
  const dir = await tempDir();
  const spec = join(dir, 'dns.yaml');
  await writeFile(spec, (await readFile(MINIMAL, 'utf8')).replace('  environments: [prod]\n', '  environments: [prod]\n  components: {externalDns: {enabled: true, dnsServer: 172.16.0.53}}\n'));
  const out = join(dir, 'out');
  const first = await run(['generate', spec, '--out', out, '--no-commit']);
  t.equal(first.code, 0, first.stderr);
  const [secret] = (await readdir(join(out, 'secrets', 'cluster'), { recursive: true })).filter((f) => String(f).endsWith('.sops.yaml')).map(String);
  t.ok(secret, 'the site has a secret file');
  const path = join(out, 'secrets', 'cluster', secret!);
  const damage: Record<string, () => Promise<void>> = {
    empty: () => writeFile(path, ''),
    unparsable: () => writeFile(path, 'stringData: [unclosed\n  tsig: "x'),
    plaintext: () => writeFile(path, 'apiVersion: v1\nkind: Secret\nstringData:\n  secret: hunter2-plaintext\n'),
    symlink: async () => {
      await writeFile(join(dir, 'elsewhere.yaml'), 'x: 1\n');
      await symlink(join(dir, 'elsewhere.yaml'), path);
    },
  };
  for (const [how, apply] of Object.entries(damage)) {
    await rm(path, { force: true });
    await apply();
    for (const args of [['generate', spec, '--out', out, '--no-commit'], ['generate', spec, '--out', out, '--check'], ['plan', spec, '--out', out]]) {
      const res = await run(args);
      assertContained(t, res, `${how}: ${args[0]} ${args[3] ?? ''}`);
      t.equal(res.code, 1, `${how}: ${args.join(' ')} exits 1`);
      t.match(res.stderr, /damaged secret file/, `${how}: says the secret file is damaged`);
      t.match(res.stderr, /secrets rotate/, `${how}: offers rotate`);
      t.notMatch(res.stderr, /hunter2/, `${how}: the file's content is not echoed`);
    }
  }
  await rm(dir, { recursive: true, force: true });
});

t.test('one writer per output directory; leftovers of a killed run are removed', async (t) => {
  const out = await generated();
  // A live holder (a sleeping child process): the run waits briefly, then names it.
  const holder = spawn('sleep', ['30'], { stdio: 'ignore' });
  await writeFile(join(out, '.siteforge', 'lock'), `${holder.pid}\n`);
  const busy = await run(['generate', MINIMAL, '--out', out, '--no-commit']);
  assertContained(t, busy, 'locked');
  t.equal(busy.code, 1);
  t.match(busy.stderr, `another siteforge run (PID ${holder.pid}) is writing`);
  holder.kill();
  await new Promise((r) => holder.once('exit', r));
  // The holder is gone: its lock and temporary files are taken over and cleaned up.
  await writeFile(join(out, 'helmfile.yaml.siteforge-999999.tmp'), 'half');
  await writeFile(join(out, 'ansible', 'site.yml.siteforge-999999.tmp'), 'half');
  await writeFile(join(out, 'helmfile.yaml'), 'changed by a killed run? no: by hand\n');
  const again = await run(['generate', MINIMAL, '--out', out, '--no-commit', '--force']);
  t.equal(again.code, 0, again.stderr);
  t.notOk(existsSync(join(out, 'helmfile.yaml.siteforge-999999.tmp')), 'stale temporary file removed');
  t.notOk(existsSync(join(out, 'ansible', 'site.yml.siteforge-999999.tmp')), 'stale temporary file removed');
  t.notOk(existsSync(join(out, '.siteforge', 'lock')), 'the lock is released');
  await rm(out, { recursive: true, force: true });
});

t.test('order without meaning changes nothing: labels, taints, environments', async (t) => {
  const dir = await tempDir();
  const base = (await readFile(MINIMAL, 'utf8'))
    .replace('  environments: [prod]', '  environments: [prod, dev]')
    .replace('    - {name: node1, address: 172.16.0.10, role: server}', '    - {name: node1, address: 172.16.0.10, role: server, labels: {b/x: "1", a/y: "2"}, taints: ["b=1:NoSchedule", "a=2:NoSchedule"]}');
  const swapped = base
    .replace('[prod, dev]', '[dev, prod]')
    .replace('{b/x: "1", a/y: "2"}', '{a/y: "2", b/x: "1"}')
    .replace('["b=1:NoSchedule", "a=2:NoSchedule"]', '["a=2:NoSchedule", "b=1:NoSchedule"]');
  const trees = [];
  for (const [i, text] of [base, swapped].entries()) {
    await mkdir(join(dir, String(i)));
    await writeFile(join(dir, String(i), 'site.yaml'), text);
    const res = await run(['generate', join(dir, String(i), 'site.yaml'), '--no-commit']);
    t.equal(res.code, 0, res.stderr);
    const files = [...(await snapshotTree(join(dir, String(i)))).keys()].filter((f) => f !== 'site.yaml').sort();
    trees.push(Object.fromEntries(await Promise.all(files.map(async (f) => [f, await readFile(join(dir, String(i), f), 'utf8')]))));
  }
  t.same(trees[1], trees[0], 'byte-identical output');
  await rm(dir, { recursive: true, force: true });
});

t.test('the generated CI commands are valid shell, with the spec name in them', async (t) => {
  const out = await generated();
  const { parse } = await import('yaml');
  const github = parse(await readFile(join(out, '.github', 'workflows', 'siteforge.yml'), 'utf8'));
  const gitlab = parse(await readFile(join(out, '.gitlab-ci.yml'), 'utf8'));
  const commands: string[] = [
    ...github.jobs.review.steps.flatMap((s: { run?: string }) => (s.run ? [s.run] : [])),
    ...Object.values(gitlab as Record<string, { before_script?: string[]; script?: string[] }>).flatMap((job) => [...(job.before_script ?? []), ...(job.script ?? [])]),
  ];
  t.ok(commands.some((c) => c.includes('minimal.yaml')), 'the commands name the spec');
  for (const command of commands) {
    const res = await runTool('bash', ['-n', '-c', command]);
    t.equal(res.code, 0, `bash -n accepts: ${command}\n${res.stderr}`);
  }
  await rm(out, { recursive: true, force: true });
});
