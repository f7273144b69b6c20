// siteforge command line: every command, callable in-process (tests) or from bin (cli.ts). Exit codes: 0 ok, 1 invalid input / refused / drift, 2 usage,
// 3 internal error.
import { PACKAGE_NAME, PACKAGE_VERSION as version } from './home.ts';
import { existsSync } from 'node:fs';
import { lstat, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { AGE_KEY_HINT as KEY_HINT, availableIdentities, defaultKeyFile, readIdentities, redactKeys } from './sops/age.ts';
import { decryptYaml, rfc3339 } from './sops/document.ts';
import { SopsError } from './sops/cipher.ts';
import type { SopsBackendName } from './sops/backend.ts';
import type { SecretAction } from './secrets/store.ts';
import { toYaml } from './render/files.ts';
import { familyOf } from './plan/summary.ts';
import pc from 'picocolors';
import { escapeControls, formatDiagnostic, UserError, type Diagnostic } from './spec/diagnostics.ts';
import { generate, loadSite } from './pipeline.ts';
import { describeConflict, isNoop, type WritePlan } from './write/writer.ts';

export const EXIT = { ok: 0, invalid: 1, usage: 2, internal: 3 } as const;



function printDiagnostics(list: readonly Diagnostic[]) {
  for (const d of list) {
    const text = formatDiagnostic(d);
    process.stderr.write(`${d.severity === 'error' ? pc.red(text) : pc.yellow(text)}\n`);
  }
}

function summarise(list: readonly Diagnostic[]) {
  const errors = list.filter((d) => d.severity === 'error').length;
  if (errors) process.stderr.write(`${errors} error${errors === 1 ? '' : 's'}: nothing was written\n`);
}

function planLines(plan: WritePlan): string[] {
  return [
    ...plan.added.map((f) => `  + ${f.path}`),
    ...plan.changed.map((f) => `  ~ ${f.path}`),
    ...plan.removed.map((p) => `  - ${p}`),
  ];
}

/**
 * The one summary of a write plan that generate, --check and plan print (and the commit message
 * repeats): generated files added/changed/removed, and refused when generate would stop. The
 * manifest (.siteforge/manifest.json) is never counted.
 */
const counts = (plan: WritePlan) =>
  `${plan.added.length} added, ${plan.changed.length} changed, ${plan.removed.length} removed${plan.conflicts.length ? `, ${plan.conflicts.length} refused` : ''}`;

/** What generate refuses and why, the same words from generate, --check and plan (stderr). */
function printRefusal(plan: WritePlan) {
  process.stderr.write(`${pc.red('siteforge: refusing to write; these files are not siteforge\'s to change:')}\n`);
  for (const c of plan.conflicts) process.stderr.write(`  ! ${describeConflict(c)}\n`);
  process.stderr.write('  hint: move your change into the spec (or out of the generated tree) and restore the file with git, or rerun with --force to overwrite\n');
}

interface GenerateFlags {
  out?: string;
  commit: boolean;
  check: boolean;
  force: boolean;
  sops: SopsBackendName;
  /** Files beside the generated ones to commit with them (siteforge new: package.json, lockfile). */
  extraCommitPaths?: string[];
}

function secretSummary(actions: ReadonlyMap<string, SecretAction>): string {
  const counts = new Map<SecretAction, number>();
  for (const a of actions.values()) if (a !== 'kept') counts.set(a, (counts.get(a) ?? 0) + 1);
  return counts.size ? `; secrets ${[...counts].map(([a, n]) => `${n} ${a}`).join(', ')}` : '';
}

async function runGenerate(spec: string, o: GenerateFlags, rotate?: string[], subject?: string): Promise<number> {
  const outcome = await generate({ specPath: spec, outDir: o.out, commit: o.commit, check: o.check, force: o.force, sops: o.sops, rotate, extraCommitPaths: o.extraCommitPaths, subject });
  printDiagnostics(outcome.diagnostics);
  switch (outcome.kind) {
    case 'invalid':
      summarise(outcome.diagnostics);
      return EXIT.invalid;
    case 'conflict':
      printRefusal(outcome.plan);
      return EXIT.invalid;
    case 'checked': {
      const { plan } = outcome;
      if (isNoop(plan) && !plan.conflicts.length) {
        process.stdout.write(`up to date: ${plan.outDir}\n`);
        return EXIT.ok;
      }
      const verdict = plan.conflicts.length ? 'generate would refuse to write' : 'out of date: generate would change';
      process.stdout.write(`${verdict} ${plan.outDir} (${counts(plan)})\n`);
      for (const line of planLines(plan)) process.stdout.write(`${line}\n`);
      for (const c of plan.conflicts) process.stdout.write(`  ! ${describeConflict(c)}\n`);
      if (plan.manifest !== null && !plan.added.length && !plan.changed.length && !plan.removed.length) {
        process.stdout.write('  ~ .siteforge/manifest.json (the record of generated files)\n');
      }
      if (plan.conflicts.length) printRefusal(plan);
      return EXIT.invalid;
    }
    case 'written': {
      const { plan, commit, site, secrets } = outcome;
      for (const w of outcome.gitWarnings) process.stderr.write(`${pc.yellow(`siteforge: warning: ${w}`)}\n`);
      const what = isNoop(plan) ? 'up to date' : counts(plan);
      const committed = commit?.commit ? `; committed ${commit.commit}` : commit ? '; nothing to commit' : '';
      process.stdout.write(`${site.name}: ${what}${secretSummary(secrets.actions)}${committed}\n`);
      for (const line of outcome.change) process.stdout.write(`  ${line}\n`);
      if (!isNoop(plan)) process.stderr.write(`next: \`siteforge verify ${spec}\` renders the new output with the real upstream charts and checks it deploys\n`);
      return EXIT.ok;
    }
  }
}

async function runPlan(spec: string, o: { out?: string; json: boolean; markdown: boolean; sops: SopsBackendName }): Promise<number> {
  const outcome = await generate({ specPath: spec, outDir: o.out, commit: false, check: true, force: false, sops: o.sops });
  printDiagnostics(outcome.diagnostics);
  if (outcome.kind === 'invalid') {
    summarise(outcome.diagnostics);
    return EXIT.invalid;
  }
  if (outcome.kind !== 'checked') throw new Error('internal error: plan wrote files');
  const { plan, change, changeData } = outcome;
  if (o.markdown) {
    const { planMarkdown } = await import('./plan/markdown.ts');
    process.stdout.write(planMarkdown(outcome.siteName, plan, change, changeData));
    return plan.conflicts.length ? EXIT.invalid : EXIT.ok;
  }
  const entry = (path: string) => ({ path, family: familyOf(path) });
  if (o.json) {
    const report = {
      outDir: plan.outDir,
      upToDate: isNoop(plan) && !plan.conflicts.length,
      summary: { ...changeData, lines: change },
      files: {
        added: plan.added.map((f) => entry(f.path)),
        changed: plan.changed.map((f) => entry(f.path)),
        removed: plan.removed.map(entry),
      },
      refused: plan.conflicts.map((c) => ({ path: c.path, reason: describeConflict(c) })),
    };
    process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    return plan.conflicts.length ? EXIT.invalid : EXIT.ok;
  }
  const out: string[] = [`plan for ${plan.outDir}: ${isNoop(plan) && !plan.conflicts.length ? 'up to date' : counts(plan)}`];
  for (const line of change) out.push(`  ${line}`);
  const groups = new Map<string, string[]>();
  const add = (mark: string, path: string) => groups.set(familyOf(path), [...(groups.get(familyOf(path)) ?? []), `${mark} ${path}`]);
  plan.added.forEach((f) => add('+', f.path));
  plan.changed.forEach((f) => add('~', f.path));
  plan.removed.forEach((p) => add('-', p));
  for (const [family, lines] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`${family}:`);
    for (const l of lines.sort((a, b) => a.slice(2).localeCompare(b.slice(2)))) out.push(`  ${l}`);
  }
  for (const c of plan.conflicts) out.push(`  ! ${describeConflict(c)}`);
  process.stdout.write(`${out.join('\n')}\n`);
  if (plan.conflicts.length) {
    printRefusal(plan);
    return EXIT.invalid;
  }
  return EXIT.ok;
}

interface PromoteFlags {
  workflow?: string;
  component?: string;
  out?: string;
  commit: boolean;
  force: boolean;
  sops: SopsBackendName;
}

/**
 * promote <from> <to>: each workflow that runs in both environments gets in `to` what it runs in
 * `from` (its pin, or the shared definition); the spec is edited in place (comments and layout
 * kept), then generated and committed like generate, with a subject naming what was promoted.
 * Cluster-wide components have one release for every environment: nothing to promote, said so.
 */
async function runPromote(from: string, to: string, spec: string, o: PromoteFlags): Promise<number> {
  const loaded = await loadSite(spec);
  printDiagnostics(loaded.diagnostics);
  if (!loaded.ok) {
    summarise(loaded.diagnostics);
    return EXIT.invalid;
  }
  const { site } = loaded;
  const envs = site.environments.map((e) => e.name);
  for (const env of [from, to]) {
    if (!envs.includes(env)) throw new UserError(`environment ${env} is not in spec.environments of ${spec}`, `environments: ${envs.join(', ')}`);
  }
  if (o.component !== undefined) {
    const { siteReleases } = await import('./model/releases.ts');
    const releases = siteReleases(site).releases.filter((r) => r.component === o.component);
    if (!releases.length) throw new UserError(`component ${o.component} is not enabled in ${spec}`, `enabled: ${site.components.map((c) => c.name).join(', ')}`);
    if (releases.every((r) => !r.environment)) {
      throw new UserError(
        `${o.component} is cluster-wide: ${releases.map((r) => r.name).join(', ')} serve${releases.length === 1 ? 's' : ''} every environment (${envs.join(', ')}), so there is nothing to promote from ${from} to ${to}`,
        'a change to it reaches every environment in one commit: try it on a test site first; per-environment changes are promoted with --workflow',
      );
    }
    throw new UserError(`${o.component}'s per-environment releases (${releases.map((r) => r.name).join(', ')}) follow the spec's shared settings; only workflows carry per-environment pins`, `promote a workflow: siteforge promote ${from} ${to} --workflow <name>`);
  }
  if ((await lstat(spec)).isSymbolicLink()) throw new UserError(`${spec} is a symbolic link; promote edits the spec in place`, 'run it on the spec file itself');
  const text = await readFile(spec, 'utf8');
  const { promoteSpec, PromoteError } = await import('./spec/promote.ts');
  let result;
  try {
    result = promoteSpec(text, from, to, o.workflow);
  } catch (e) {
    if (e instanceof PromoteError) throw new UserError(e.message, e.hint);
    throw e;
  }
  if (!result.promoted.length) {
    process.stdout.write(`nothing to promote: ${to} already runs what ${from} runs${o.workflow ? ` (workflow ${o.workflow})` : ''}\n`);
    return EXIT.ok;
  }
  for (const p of result.promoted) process.stdout.write(`promote ${from} → ${to}: workflow ${p.workflow} ${p.change}\n`);
  const temporary = join(dirname(spec), `.${basename(spec)}.promote-${process.pid}`);
  await writeFile(temporary, result.text, { flag: 'wx' });
  await rename(temporary, spec);
  const subject = `siteforge: promote ${from} → ${to} in ${site.name}: ${result.promoted.map((p) => `workflow ${p.workflow}`).join(', ')}`;
  let code: number | undefined;
  try {
    code = await runGenerate(spec, { out: o.out, commit: o.commit, check: false, force: o.force, sops: o.sops }, undefined, subject);
    return code;
  } finally {
    // generate refused or failed (nothing committed): the spec goes back as it was.
    if (code !== EXIT.ok) await writeFile(spec, text);
  }
}

async function runValidate(spec: string): Promise<number> {
  const result = await loadSite(spec);
  printDiagnostics(result.diagnostics);
  if (!result.ok) {
    summarise(result.diagnostics);
    return EXIT.invalid;
  }
  const { site } = result;
  process.stdout.write(
    `${spec}: valid — site ${site.name}, ${site.servers.length} server(s), ${site.agents.length} agent(s), ` +
      `components: ${site.components.map((c) => c.name).join(', ') || 'none'}\n`,
  );
  return EXIT.ok;
}

async function runShow(file: string): Promise<number> {
  const { identities } = await availableIdentities();
  if (!identities.length) throw new UserError('no age private key is available to decrypt with', KEY_HINT);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new UserError(`cannot read ${file}`, 'give the path of a *.sops.yaml file');
  }
  try {
    const { plain } = await decryptYaml(text, identities);
    process.stdout.write(toYaml(plain));
    return EXIT.ok;
  } catch (e) {
    if (e instanceof SopsError) throw new UserError(`${file}: ${e.message}`, KEY_HINT);
    throw e;
  }
}

async function runRekey(spec: string, o: GenerateFlags): Promise<number> {
  const { identities } = await availableIdentities();
  if (!identities.length) throw new UserError('secrets rekey needs an age private key that can decrypt the current files', KEY_HINT);
  return runGenerate(spec, o);
}

/** The top of the git working tree that holds path (or its nearest existing parent), if any. */
function gitWorkTreeOf(path: string): string | null {
  for (let dir = dirname(resolve(path)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return null;
  }
}

async function runInit(keyFile?: string): Promise<number> {
  const path = keyFile ?? defaultKeyFile();
  const existing = await lstat(path).catch(() => null);
  if (existing?.isSymbolicLink()) {
    throw new UserError(`${path} is a symbolic link${existsSync(path) ? '' : ' to nothing'}; siteforge writes a private key only to a regular new file`, 'remove the link or choose another path with --key-file');
  }
  if (existing) {
    throw new UserError(`${path} already exists; siteforge never overwrites a private key`, 'use it (its public key: `age-keygen -y <file>`), or choose another path with --key-file');
  }
  const repo = gitWorkTreeOf(path);
  if (repo) {
    process.stderr.write(pc.yellow(`siteforge: warning: ${path} is inside the git working tree ${repo}; a private key must never be committed — keep it out of the repository (or at least in .gitignore)\n`));
  }
  const { generateX25519Identity, identityToRecipient } = await import('age-encryption');
  const identity = await generateX25519Identity();
  const recipient = await identityToRecipient(identity);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const created = rfc3339(new Date());
  await writeFile(path, `# created: ${created}\n# public key: ${recipient}\n${identity}\n`, { mode: 0o600, flag: 'wx' });
  process.stdout.write(`${recipient}\n`);
  process.stderr.write(`private key written to ${path} (mode 0600); keep it out of the repository and back it up.\nadd the public key above to spec.secrets.ageRecipients.\n`);
  return EXIT.ok;
}

/** A DNS-1123 label from a directory name (the starter site's metadata.name). */
const siteNameFrom = (dir: string) =>
  basename(resolve(dir)).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '') || 'site';

interface NewFlags {
  keyFile?: string;
  generator?: string;
  engine: 'flux' | 'argocd';
}

/**
 * A new site repository: a commented starter spec, an age key (created outside the repository
 * when there is none), package.json pinning this generator (and its lockfile when npm can resolve
 * it), then the first generate and commit.
 */
async function runNew(dir: string, o: NewFlags): Promise<number> {
  const { readdir } = await import('node:fs/promises');
  const entries = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw new UserError(`cannot use ${dir} (${e.code ?? 'unknown error'})`, 'give a new directory for the site repository');
  });
  if (entries.length) throw new UserError(`${dir} is not empty`, 'siteforge new creates a repository in a new (or empty) directory; to regenerate an existing site use `siteforge generate`');
  const keyFile = o.keyFile ?? defaultKeyFile();
  const { identityToRecipient } = await import('age-encryption');
  let recipient: string;
  if (existsSync(keyFile)) {
    const [identity] = await readIdentities(keyFile);
    if (!identity) throw new UserError(`${keyFile} holds no age private key`, 'give another key file with --key-file, or move this one away so siteforge creates one');
    recipient = await identityToRecipient(identity);
    process.stderr.write(`siteforge: using the age key in ${keyFile}\n`);
  } else {
    await runInit(keyFile);
    recipient = await identityToRecipient((await readIdentities(keyFile))[0]!);
  }
  const { renderDoc } = await import('./render/assets.ts');
  const spec = join(dir, 'site.yaml');
  await mkdir(dir, { recursive: true });
  await writeFile(spec, renderDoc('starter-site.yaml', { name: siteNameFrom(dir), recipient, engine: o.engine, spec: 'site.yaml' }), { flag: 'wx' });
  const generatorSpec = o.generator ?? version;
  // The same package.json generate seeds, pinning the generator this site was made with.
  const { sitePackageJson } = await import('./render/docs.ts');
  const name = siteNameFrom(dir);
  await writeFile(join(dir, 'package.json'), sitePackageJson({ name, domain: `${name}.example.org`, specFile: 'site.yaml' }, generatorSpec).content, { flag: 'wx' });
  const { spawnSync } = await import('node:child_process');
  // The site repository is a repository of its own, even when created inside another one.
  const init = spawnSync('git', ['init', '--quiet', '--initial-branch=main'], { cwd: dir, encoding: 'utf8' });
  if (init.status !== 0) throw new UserError(`git init in ${dir} failed: ${escapeControls(init.stderr.trim()).slice(0, 400)}`, 'check that git is installed and the directory is writable');
  const npm = spawnSync('npm', ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, encoding: 'utf8', shell: false });
  const locked = npm.status === 0 && existsSync(join(dir, 'package-lock.json'));
  if (!locked) {
    process.stderr.write(pc.yellow(`siteforge: warning: npm could not resolve ${PACKAGE_NAME}@${generatorSpec}, so there is no package-lock.json yet; run \`npm install\` in ${dir} once it can, and commit the lockfile (CI runs \`npm ci\`)\n`));
  }
  const code = await runGenerate(spec, { commit: true, check: false, force: false, sops: 'builtin', extraCommitPaths: ['package.json', ...(locked ? ['package-lock.json'] : [])] });
  if (code === EXIT.ok) {
    process.stderr.write(`\nnew site repository in ${dir}: edit site.yaml (nodes, domain, repository), then \`npx siteforge generate site.yaml\` there.\n`);
  }
  return code;
}

async function runVerify(spec: string, o: { out?: string; charts?: string; manifests?: string; json: boolean }): Promise<number> {
  const result = await loadSite(spec);
  printDiagnostics(result.diagnostics);
  if (!result.ok) {
    summarise(result.diagnostics);
    return EXIT.invalid;
  }
  const { verifySite } = await import('./verify/index.ts');
  const { identities } = await availableIdentities();
  const report = await verifySite(result.site, spec, { outDir: o.out, chartCache: o.charts, manifestCache: o.manifests, identities });
  const errors = report.problems.filter((p) => p.severity === 'error');
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ ...report, releases: report.releases.map((r) => ({ name: r.release.name, namespace: r.release.namespace, upstream: r.upstream ?? null, objects: r.objects, placeholderSecrets: r.placeholders })) }, null, 2)}\n`);
    return errors.length ? EXIT.invalid : EXIT.ok;
  }
  const out: string[] = [`verify ${result.site.name} (${report.outDir}): ${report.releases.length} releases rendered, ${report.objects} objects`];
  for (const r of report.releases) {
    out.push(`  ${r.release.name.padEnd(28)} ${String(r.objects).padStart(4)} objects  ${r.upstream ? `upstream ${r.upstream}` : 'site templates only'}${r.placeholders ? '  (secret values stood in for: no age key)' : ''}`);
  }
  for (const s of report.skipped) out.push(`  ${s.name.padEnd(28)}    - skipped: ${s.reason}`);
  out.push(`checks: ${report.checks.join(', ')}`);
  for (const p of report.problems) {
    out.push(`${p.severity === 'error' ? pc.red('error') : pc.yellow('warning')}: [${p.check}] ${p.object}: ${p.message}`, `  hint: ${p.hint}`);
  }
  const warnings = report.problems.length - errors.length;
  out.push(`${errors.length} problem${errors.length === 1 ? '' : 's'}${warnings ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}`);
  process.stdout.write(`${out.join('\n')}\n`);
  return errors.length ? EXIT.invalid : EXIT.ok;
}

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('siteforge')
    .description('Generate a GitOps repository (Ansible, Helm charts, helmfile, Flux/Argo CD) for an HPC build-factory cluster from one site.yaml.')
    .version(version, '-V, --version')
    .showHelpAfterError('(run siteforge --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(pc.red(text)) });
  const writeOptions = (cmd: Command) =>
    cmd
      .option('-o, --out <dir>', 'output directory (default: the directory holding the spec)')
      .option('--no-commit', 'write the files but do not commit them')
      .option('--check', 'write nothing; exit 1 and list the files that would change', false)
      .option('--force', 'overwrite or remove generated files even if they were edited by hand', false)
      .addOption(new Option('--sops <implementation>', 'who encrypts secrets: siteforge itself or the sops binary on PATH').choices(['builtin', 'binary']).default('builtin'));
  writeOptions(
    program
      .command('generate')
      .description('validate the spec, write the output tree and commit it')
      .argument('<site.yaml>', 'the site spec'),
  ).action(async (spec: string, o: GenerateFlags) => setExit(await runGenerate(spec, o)));
  program
    .command('plan')
    .description('show what generate would change, by output family and in words; writes nothing')
    .argument('<site.yaml>', 'the site spec')
    .option('-o, --out <dir>', 'output directory (default: the directory holding the spec)')
    .option('--json', 'machine-readable output for CI', false)
    .option('--markdown', 'the plan as a pull-request comment (what changes, releases that upgrade, files by family)', false)
    .addOption(new Option('--sops <implementation>').choices(['builtin', 'binary']).default('builtin').hideHelp())
    .action(async (spec: string, o: { out?: string; json: boolean; markdown: boolean; sops: SopsBackendName }) => setExit(await runPlan(spec, o)));
  const secrets = program.command('secrets').description('the site\'s SOPS-encrypted secrets');
  secrets
    .command('show')
    .description('decrypt one secret file to stdout (needs your age private key)')
    .argument('<file>', 'a *.sops.yaml file')
    .action(async (file: string) => setExit(await runShow(file)));
  writeOptions(
    secrets
      .command('rotate')
      .description('give one secret new values, re-encrypt it and commit')
      .argument('<name>', 'secret name (or namespace/name)')
      .argument('[site.yaml]', 'the site spec', 'site.yaml'),
  ).action(async (name: string, spec: string, o: GenerateFlags) => setExit(await runGenerate(spec, o, [name])));
  writeOptions(
    secrets
      .command('rekey')
      .description('re-wrap every secret for the current spec.secrets.ageRecipients (values unchanged)')
      .argument('[site.yaml]', 'the site spec', 'site.yaml'),
  ).action(async (spec: string, o: GenerateFlags) => setExit(await runRekey(spec, o)));
  program
    .command('verify')
    .description('render every release as it will be deployed (real upstream charts) and check the site binds together; writes nothing')
    .argument('[site.yaml]', 'the site spec', 'site.yaml')
    .option('-o, --out <dir>', 'the generated tree (default: the directory holding the spec)')
    .option('--charts <dir>', 'directory of upstream chart archives <name>-<version>.tgz (default: each wrapper chart\'s charts/, from `helm dependency build`)')
    .option('--manifests <dir>', 'directory of upstream kustomize trees as source archives <name>-<version>.tar.gz (the MPI operator); without it those releases are skipped, said in the report')
    .option('--json', 'machine-readable report for CI', false)
    .action(async (spec: string, o: { out?: string; charts?: string; manifests?: string; json: boolean }) => setExit(await runVerify(spec, o)));
  program
    .command('new')
    .description('create a new site repository: starter site.yaml, age key, pinned generator, first generate and commit')
    .argument('<dir>', 'a new (or empty) directory')
    .option('--key-file <path>', 'age key file to use or create (default: sops\' key file)')
    .option('--generator <npm-spec>', `how the site repository pins siteforge (default: ${version}; e.g. a tarball path or git URL at a commit while unpublished)`)
    .addOption(new Option('--engine <engine>', 'GitOps engine').choices(['flux', 'argocd']).default('flux'))
    .action(async (dir: string, o: NewFlags) => setExit(await runNew(dir, o)));
  program
    .command('init')
    .description('create an age key pair for SOPS (private key outside the repository, mode 0600)')
    .option('--key-file <path>', 'where to write the private key (default: sops\' key file)')
    .action(async (o: { keyFile?: string }) => setExit(await runInit(o.keyFile)));
  program
    .command('promote')
    .description('make <to> run what <from> runs: copy each shared workflow\'s pin (image, parameters, steps) in the spec, then generate and commit')
    .argument('<from>', 'the environment a change was tried in, e.g. dev')
    .argument('<to>', 'the environment to promote it to, e.g. prod')
    .argument('[site.yaml]', 'the site spec', 'site.yaml')
    .option('--workflow <name>', 'promote only this workflow')
    .option('--component <name>', 'promote a component (cluster-wide components are shared by every environment: says so)')
    .option('-o, --out <dir>', 'output directory (default: the directory holding the spec)')
    .option('--no-commit', 'write the spec and the files but do not commit them')
    .option('--force', 'overwrite or remove generated files even if they were edited by hand', false)
    .addOption(new Option('--sops <implementation>').choices(['builtin', 'binary']).default('builtin').hideHelp())
    .action(async (from: string, to: string, spec: string, o: PromoteFlags) => setExit(await runPromote(from, to, spec, o)));
  program
    .command('validate')
    .description('check the spec and report every problem; writes nothing')
    .argument('<site.yaml>', 'the site spec')
    .action(async (spec: string) => setExit(await runValidate(spec)));
  const override = (cmd: Command) => {
    cmd.exitOverride();
    cmd.commands.forEach(override);
  };
  override(program);
  return program;
}

export async function main(argv: readonly string[]): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram((c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      if (e.code === 'commander.executeSubCommandAsync') return e.exitCode;
      return EXIT.usage;
    }
    if (e instanceof UserError) {
      process.stderr.write(`${pc.red(`siteforge: ${escapeControls(redactKeys(e.message))}`)}\n${e.hint ? `  hint: ${escapeControls(e.hint)}\n` : ''}`);
      return EXIT.invalid;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code && ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'ENOTDIR', 'EISDIR', 'EMFILE'].includes(err.code)) {
      process.stderr.write(`${pc.red(`siteforge: ${escapeControls(err.message)}`)}\n  hint: the file system refused (${err.code}); nothing is committed — check the path, permissions and free space, then run again\n`);
      return EXIT.invalid;
    }
    process.stderr.write(`${pc.red(`siteforge: internal error: ${redactKeys(err.message)}`)}\n  this is a bug in siteforge; please report it with the spec that caused it\n`);
    if (process.env.SITEFORGE_DEBUG) process.stderr.write(`${redactKeys(err.stack ?? '')}\n`);
    return EXIT.internal;
  }
}
