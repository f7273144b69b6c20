// The whole run, stage by stage: load → validate → model → render → write → commit.
// Effects happen only in the write and commit stages.
import { dirname, resolve } from 'node:path';
import { loadSpecFile } from './spec/load.ts';
import { validateSpec } from './spec/validate.ts';
import { formatPath, type Diagnostic } from './spec/diagnostics.ts';
import { buildSiteModel, type SiteModel } from './model/site.ts';
import { incompatibleCharts } from './model/compatibility.ts';
import { extraReleaseProblems } from './model/extra-releases.ts';
import { componentNames } from './components/catalog.ts';
import { renderSite } from './render/index.ts';
import type { GeneratedFile } from './render/files.ts';
import { applyWrite, assertWritableOutDir, isNoop, lockOutDir, planWrite, removeStaleTemporaries, type WritePlan } from './write/writer.ts';
import { MANIFEST_PATH, readManifest } from './write/manifest.ts';
import { assertOutputLocation, forgetCheckedParents } from './write/tree.ts';
import { commitGenerated, commitPreflight, type CommitResult } from './git/commit.ts';
import { UserError } from './spec/diagnostics.ts';
import { availableIdentities } from './sops/age.ts';
import { sopsBackend, type SopsBackendName } from './sops/backend.ts';
import { resolveSecrets, type ResolvedSecrets } from './secrets/store.ts';
import { describeChange, diffSummary, siteSummary, releaseUpgrades, type SummaryChange } from './plan/summary.ts';

export type LoadOutcome = { ok: true; site: SiteModel; diagnostics: Diagnostic[] } | { ok: false; diagnostics: Diagnostic[] };

export async function loadSite(specPath: string): Promise<LoadOutcome> {
  const loaded = await loadSpecFile(specPath);
  if (!loaded.ok) return loaded;
  const validated = validateSpec(loaded.spec);
  if (!validated.ok) return validated;
  const site = buildSiteModel(validated.spec, specPath);
  // The extra releases against the releases the components make: known once the model is.
  const extras = extraReleaseProblems(
    site.extraReleases,
    site.components.flatMap((c) => c.module.releases(site, c.settings as never).map((def) => ({ component: c.name, name: def.name }))),
    componentNames,
    new Set(site.components.map((c) => c.name)),
    site.extraManifests?.needs,
  ).map((p): Diagnostic => ({ severity: 'error', file: loaded.spec.file, ...loaded.spec.position(p.path), path: formatPath(p.path), message: p.message, hint: p.hint }));
  if (extras.length) return { ok: false, diagnostics: [...validated.diagnostics, ...extras] };
  // Compatibility is known once the model says which charts the site pins: warnings, at the version.
  const compatibility = incompatibleCharts(site).map((c): Diagnostic => ({
    severity: 'warning',
    file: loaded.spec.file,
    ...loaded.spec.position(['spec', 'distribution', 'version']),
    path: 'spec.distribution.version',
    message: `${c.component}: the pinned ${c.chart} chart declares Kubernetes ${c.constraint}, and the site runs ${site.distribution.version}`,
    hint: `choose a distribution version inside that range, or pin another ${c.chart} version (spec.components.${c.component}.chartVersion)`,
  }));
  return { ok: true, site, diagnostics: [...validated.diagnostics, ...compatibility] };
}

export interface GenerateOptions {
  readonly specPath: string;
  /** Default: the directory that holds the spec. */
  readonly outDir?: string;
  readonly commit: boolean;
  readonly check: boolean;
  readonly force: boolean;
  /** Secrets (name or namespace/name) to give new values. */
  readonly rotate?: readonly string[];
  /** Environment to read age keys from (default: process.env). */
  readonly env?: NodeJS.ProcessEnv;
  readonly sops?: SopsBackendName;
  /** Files beside the generated ones to commit with them (paths relative to the output directory). */
  readonly extraCommitPaths?: readonly string[];
  /** Subject of the commit (default: "siteforge: generate <site>"). */
  readonly subject?: string;
}

export type GenerateOutcome =
  | { kind: 'invalid'; diagnostics: Diagnostic[] }
  | { kind: 'conflict'; plan: WritePlan; diagnostics: Diagnostic[] }
  | { kind: 'checked'; plan: WritePlan; change: string[]; changeData: SummaryChange; siteName: string; diagnostics: Diagnostic[] }
  | {
      kind: 'written';
      plan: WritePlan;
      site: SiteModel;
      files: GeneratedFile[];
      secrets: ResolvedSecrets;
      change: string[];
      commit: CommitResult | null;
      /** Git conditions worth a word (detached HEAD, rebase in progress). */
      gitWarnings: string[];
      diagnostics: Diagnostic[];
    };

export async function generate(opts: GenerateOptions): Promise<GenerateOutcome> {
  const loaded = await loadSite(opts.specPath);
  if (!loaded.ok) return { kind: 'invalid', diagnostics: loaded.diagnostics };
  const { site, diagnostics } = loaded;
  const outDir = resolve(opts.outDir ?? dirname(opts.specPath));
  forgetCheckedParents(); // what a previous run in this process saw of the tree proves nothing now
  if (opts.check) {
    await assertOutputLocation(outDir);
    return await generateLocked(opts, site, diagnostics, outDir);
  }
  await assertWritableOutDir(outDir);
  const unlock = await lockOutDir(outDir);
  try {
    return await generateLocked(opts, site, diagnostics, outDir);
  } finally {
    await unlock();
  }
}

/** The run after validation, while this process is the only writer of outDir. */
async function generateLocked(opts: GenerateOptions, site: SiteModel, diagnostics: Diagnostic[], outDir: string): Promise<GenerateOutcome> {
  const { identities } = await availableIdentities(opts.env);
  const secrets = await resolveSecrets(site, { outDir, identities, rotate: opts.rotate, backend: sopsBackend(opts.sops ?? 'builtin') });
  const previous = await readManifest(outDir);
  const { files, charts } = renderSite(site, secrets, previous?.charts ?? {});
  const summary = siteSummary(site, secrets);
  const plan = await planWrite(outDir, files, site.specFile, opts.force, summary, { previous, charts });
  const changeData = diffSummary(plan.previousSummary, summary, secrets, releaseUpgrades(site, previous?.charts ?? {}, charts), site.environments.map((e) => e.name));
  const change = describeChange(changeData, summary);
  if (opts.check) return { kind: 'checked', plan, change, changeData, siteName: site.name, diagnostics };
  if (plan.conflicts.length) return { kind: 'conflict', plan, diagnostics };
  // Seed files (README.md) are committed only when siteforge creates them: afterwards they are the person's.
  const commitPaths = [
    ...files.filter((f) => !f.seed).map((f) => f.path),
    ...plan.added.filter((f) => f.seed).map((f) => f.path),
    ...plan.removed,
    ...(opts.extraCommitPaths ?? []),
  ];
  const preflight = opts.commit ? await commitPreflight(outDir, commitPaths, resolve(opts.specPath)) : { errors: [], warnings: [] };
  const [blocker] = preflight.errors;
  if (blocker) throw new UserError(`${blocker.message}; nothing was written`, blocker.hint);
  await removeStaleTemporaries(outDir, [...files.map((f) => f.path), ...plan.removed, MANIFEST_PATH]);
  if (!isNoop(plan)) await applyWrite(plan);
  const commit = opts.commit
    ? await commitGenerated({
        outDir,
        paths: commitPaths,
        specPath: resolve(opts.specPath),
        uncounted: opts.extraCommitPaths,
        subject: opts.subject ?? (opts.rotate?.length ? `siteforge: rotate ${opts.rotate.join(', ')} in ${site.name}` : `siteforge: generate ${site.name}`),
        summary: change,
      })
    : null;
  return { kind: 'written', plan, site, files, secrets, change, commit, gitWarnings: preflight.warnings, diagnostics };
}
