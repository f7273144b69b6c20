#!/usr/bin/env node
// siteforge command line. Exit codes: 0 ok, 1 invalid input / refused / drift, 2 usage,
// 3 internal error.
import { createRequire } from 'node:module';
import { Command, CommanderError } from 'commander';
import pc from 'picocolors';
import { formatDiagnostic, UserError, type Diagnostic } from './spec/diagnostics.ts';
import { generate, loadSite } from './pipeline.ts';
import { describeConflict, isNoop, type WritePlan } from './write/writer.ts';

export const EXIT = { ok: 0, invalid: 1, usage: 2, internal: 3 } as const;

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

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

const counts = (plan: WritePlan) => `${plan.added.length} added, ${plan.changed.length} changed, ${plan.removed.length} removed`;

async function runGenerate(spec: string, o: { out?: string; commit: boolean; check: boolean; force: boolean }): Promise<number> {
  const outcome = await generate({ specPath: spec, outDir: o.out, commit: o.commit, check: o.check, force: o.force });
  printDiagnostics(outcome.diagnostics);
  switch (outcome.kind) {
    case 'invalid':
      summarise(outcome.diagnostics);
      return EXIT.invalid;
    case 'conflict':
      process.stderr.write(`${pc.red('siteforge: refusing to write; these files are not siteforge\'s to change:')}\n`);
      for (const c of outcome.plan.conflicts) process.stderr.write(`  ${describeConflict(c)}\n`);
      process.stderr.write('  hint: move your change into the spec (or out of the generated tree) and restore the file with git, or rerun with --force to overwrite\n');
      return EXIT.invalid;
    case 'checked': {
      const { plan } = outcome;
      if (isNoop(plan) && !plan.conflicts.length) {
        process.stdout.write(`up to date: ${plan.outDir}\n`);
        return EXIT.ok;
      }
      process.stdout.write(`out of date: generate would change ${plan.outDir} (${counts(plan)})\n`);
      for (const line of planLines(plan)) process.stdout.write(`${line}\n`);
      for (const c of plan.conflicts) process.stdout.write(`  ! ${describeConflict(c)}\n`);
      if (plan.manifest !== null && !plan.added.length && !plan.changed.length && !plan.removed.length) {
        process.stdout.write('  ~ .siteforge/manifest.json\n');
      }
      return EXIT.invalid;
    }
    case 'written': {
      const { plan, commit, site } = outcome;
      const what = isNoop(plan) ? 'up to date' : counts(plan);
      const committed = commit?.commit ? `; committed ${commit.commit}` : commit ? '; nothing to commit' : '';
      process.stdout.write(`${site.name}: ${what}${committed}\n`);
      return EXIT.ok;
    }
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

export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('siteforge')
    .description('Generate a GitOps repository (Ansible, Helm charts, helmfile, Flux/Argo CD) for an HPC build-factory cluster from one site.yaml.')
    .version(version, '-V, --version')
    .showHelpAfterError('(run siteforge --help for usage)')
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(pc.red(text)) });
  program
    .command('generate')
    .description('validate the spec, write the output tree and commit it')
    .argument('<site.yaml>', 'the site spec')
    .option('-o, --out <dir>', 'output directory (default: the directory holding the spec)')
    .option('--no-commit', 'write the files but do not commit them')
    .option('--check', 'write nothing; exit 1 and list the files that would change', false)
    .option('--force', 'overwrite or remove generated files even if they were edited by hand', false)
    .action(async (spec: string, o) => setExit(await runGenerate(spec, o)));
  program
    .command('validate')
    .description('check the spec and report every problem; writes nothing')
    .argument('<site.yaml>', 'the site spec')
    .action(async (spec: string) => setExit(await runValidate(spec)));
  for (const cmd of program.commands) cmd.exitOverride();
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
      process.stderr.write(`${pc.red(`siteforge: ${e.message}`)}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`);
      return EXIT.invalid;
    }
    const err = e as Error;
    process.stderr.write(`${pc.red(`siteforge: internal error: ${err.message}`)}\n  this is a bug in siteforge; please report it with the spec that caused it\n`);
    if (process.env.SITEFORGE_DEBUG) process.stderr.write(`${err.stack}\n`);
    return EXIT.internal;
  }
}

process.exitCode = await main(process.argv.slice(2));
