// Stage 7: commit exactly the generated paths (plus manifest and spec) with simple-git.
// Never pushes. Other staged or unstaged work in the repository is left as it was.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { SimpleGit } from 'simple-git';
import { MANIFEST_PATH } from '../write/manifest.ts';
import { escapeControls, UserError } from '../spec/diagnostics.ts';
import { redactKeys } from '../sops/age.ts';

export interface CommitRequest {
  readonly outDir: string;
  /** Paths relative to outDir: everything generated now, plus what was removed. */
  readonly paths: readonly string[];
  /** Absolute path of the spec; committed too when it lies inside the repository. */
  readonly specPath: string;
  /** First line of the commit message; the file lists are added from what is staged. */
  readonly subject: string;
  /** What changed in words (nodes, components, chart versions, secrets), one line each. */
  readonly summary?: readonly string[];
  /** Paths (relative to outDir) committed but not counted as generated files (siteforge new: package.json). */
  readonly uncounted?: readonly string[];
}

export interface CommitResult {
  readonly commit: string | null;
  readonly initialised: boolean;
  readonly message?: string;
}

const MAX_LISTED = 40;

/**
 * "<subject>: N added, N changed, N removed" and the paths of each, from `git diff --name-status`.
 * The counts are of generated files, as the console reports them: the manifest is not counted,
 * and the spec and other files committed alongside (`uncounted`) are named on their own line.
 */
export function commitMessage(subject: string, nameStatus: string, summary: readonly string[] = [], uncounted: ReadonlySet<string> = new Set()): string {
  const groups: Record<'added' | 'changed' | 'removed', string[]> = { added: [], changed: [], removed: [] };
  const alongside: string[] = [];
  for (const line of nameStatus.split('\n').filter(Boolean)) {
    const [status, ...rest] = line.split('\t');
    const path = rest[rest.length - 1] ?? '';
    if (path.endsWith(MANIFEST_PATH)) continue;
    if (uncounted.has(path)) {
      alongside.push(path);
      continue;
    }
    const group = status?.startsWith('A') ? 'added' : status?.startsWith('D') ? 'removed' : 'changed';
    groups[group].push(path);
  }
  const counts = `${groups.added.length} added, ${groups.changed.length} changed, ${groups.removed.length} removed`;
  const body = (Object.keys(groups) as (keyof typeof groups)[])
    .filter((g) => groups[g].length)
    .map((g) => {
      const shown = groups[g].slice(0, MAX_LISTED).map((p) => `  ${p}`);
      if (groups[g].length > MAX_LISTED) shown.push(`  ... and ${groups[g].length - MAX_LISTED} more`);
      return `${g}:\n${shown.join('\n')}`;
    });
  const words = summary.length ? [...summary, ''] : [];
  const also = alongside.length ? [`also committed: ${alongside.join(', ')}`, ''] : [];
  return [`${subject} (${counts})`, '', ...words, ...body.flatMap((b) => [b, '']), ...also].join('\n').trimEnd() + '\n';
}

async function repositoryFor(outDir: string): Promise<{ git: SimpleGit; initialised: boolean; root: string }> {
  const probe = await gitAt(outDir);
  const inside = await probe.checkIsRepo().catch(() => false);
  if (!inside) {
    await probe.init(['--initial-branch=main']);
    return { git: probe, initialised: true, root: resolve(outDir) };
  }
  const root = (await probe.revparse(['--show-toplevel'])).trim();
  return { git: await gitAt(root), initialised: false, root };
}

/** simple-git, loaded when a run commits or checks git (not on the path of --no-commit or --check). */
const gitAt = async (dir: string): Promise<SimpleGit> => (await import('simple-git')).simpleGit({ baseDir: dir });
/** Path arguments are file names, never pathspec magic (`:(exclude)`, globs). */
const LITERAL = '--literal-pathspecs';

async function identityArgs(git: SimpleGit): Promise<string[]> {
  const name = await git.raw(['config', '--get', 'user.name']).catch(() => '');
  const email = await git.raw(['config', '--get', 'user.email']).catch(() => '');
  return [
    ...(name.trim() ? [] : ['-c', 'user.name=siteforge']),
    ...(email.trim() ? [] : ['-c', 'user.email=siteforge@localhost']),
  ];
}

/** What git said, bounded and with control characters escaped, for a message. */
function gitSaid(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean).slice(0, 8);
  return escapeControls(redactKeys(lines.join(' | '))).slice(0, 800);
}

/** Operations that leave the repository half-way; git cannot commit a subset of paths during them. */
const IN_PROGRESS = [
  { file: 'MERGE_HEAD', what: 'a merge', finish: 'git merge --continue` or `git merge --abort' },
  { file: 'CHERRY_PICK_HEAD', what: 'a cherry-pick', finish: 'git cherry-pick --continue` or `git cherry-pick --abort' },
  { file: 'REVERT_HEAD', what: 'a revert', finish: 'git revert --continue` or `git revert --abort' },
] as const;

export interface CommitPreflight {
  /** Problems that stop the run before anything is written. */
  readonly errors: { message: string; hint: string }[];
  /** Conditions worth a word before committing (detached HEAD, rebase in progress). */
  readonly warnings: string[];
}

/**
 * What would keep a commit of these paths from working, found before anything is written: an
 * operation in progress, ignored paths. Nothing when outDir is not in a repository yet.
 */
export async function commitPreflight(outDir: string, paths: readonly string[], specPath: string): Promise<CommitPreflight> {
  const errors: CommitPreflight['errors'] = [];
  const warnings: string[] = [];
  if (!existsSync(outDir)) return { errors, warnings };
  const probe = await gitAt(outDir);
  if (!(await probe.checkIsRepo().catch(() => false))) return { errors, warnings };
  const root = (await probe.revparse(['--show-toplevel'])).trim();
  const gitDir = (await probe.revparse(['--absolute-git-dir'])).trim();
  const git = await gitAt(root);
  for (const op of IN_PROGRESS) {
    if (existsSync(join(gitDir, op.file))) {
      errors.push({
        message: `${root} is in the middle of ${op.what}; git cannot commit siteforge's files separately now`,
        hint: `finish it first (\`${op.finish}\`), or run with --no-commit and commit yourself`,
      });
    }
  }
  if (existsSync(join(gitDir, 'rebase-merge')) || existsSync(join(gitDir, 'rebase-apply'))) {
    warnings.push(`a rebase is in progress in ${root}: the commit lands on the commit being rebased`);
  }
  const head = await git.raw(['symbolic-ref', '-q', 'HEAD']).catch(() => '');
  if (!head.trim() && !warnings.length) warnings.push(`HEAD is detached in ${root}: the commit belongs to no branch until you create one (\`git switch -c <branch>\`)`);
  const candidates = [...paths, MANIFEST_PATH].map((p) => relative(root, resolve(outDir, p)).split('\\').join('/'));
  const spec = relative(root, resolve(specPath));
  if (!spec.startsWith('..')) candidates.push(spec);
  const listed = await checkIgnored(git, candidates);
  if (listed.length) {
    errors.push({
      message: `git ignores ${listed.length} of the files siteforge generates (e.g. ${listed.slice(0, 3).join(', ')}), so they could not be committed`,
      hint: 'generated files, encrypted secrets included, belong in the repository: remove the matching .gitignore or info/exclude rule, or run with --no-commit',
    });
  }
  return { errors, warnings };
}

/** The untracked paths git would ignore (.gitignore, info/exclude, core.excludesFile): `git add` refuses them. */
async function checkIgnored(git: SimpleGit, paths: readonly string[]): Promise<string[]> {
  if (!paths.length) return [];
  const out = await git.raw(['check-ignore', '--', ...paths]).catch((e: unknown) => {
    // exit 1: nothing ignored
    const msg = e instanceof Error ? e.message : '';
    if (msg.trim() === '') return '';
    throw e;
  });
  return out.split('\n').filter(Boolean);
}

/** The commit hooks this repository runs (pre-commit, commit-msg, ...), by name. */
async function commitHooks(git: SimpleGit): Promise<string[]> {
  const dir = (await git.raw(['rev-parse', '--git-path', 'hooks']).catch(() => '')).trim();
  if (!dir) return [];
  const base = isAbsolute(dir) ? dir : join((await git.revparse(['--show-toplevel'])).trim(), dir);
  return ['pre-commit', 'prepare-commit-msg', 'commit-msg', 'post-commit'].filter((h) => existsSync(join(base, h)));
}

/** Restores the index file as it was before this run, so a failed commit leaves nothing half-staged. */
async function withIndexRestoredOnFailure<T>(gitDir: string, work: () => Promise<T>): Promise<T> {
  const index = join(gitDir, 'index');
  const saved = await readFile(index).catch(() => null);
  try {
    return await work();
  } catch (e) {
    if (saved) await writeFile(index, saved);
    else await unlink(index).catch(() => undefined);
    throw e;
  }
}

export async function commitGenerated(req: CommitRequest): Promise<CommitResult> {
  const { git, initialised, root } = await repositoryFor(req.outDir);
  const gitDir = (await git.revparse(['--absolute-git-dir'])).trim();
  const toRepo = (p: string) => relative(root, resolve(req.outDir, p)).split('\\').join('/');
  const candidates = [...req.paths, MANIFEST_PATH].map(toRepo);
  const spec = relative(root, resolve(req.specPath));
  if (!spec.startsWith('..')) candidates.push(spec);
  const uncounted = new Set([spec, ...(req.uncounted ?? []).map(toRepo)]);
  // Only paths that exist now or are tracked (removed ones) can be named to git.
  const tracked = new Set((await git.raw([LITERAL, 'ls-files', '-z', '--', ...candidates])).split('\0').filter(Boolean));
  const paths = [...new Set(candidates)].filter((p) => tracked.has(p) || existsSync(resolve(root, p))).sort();
  if (!paths.length) return { commit: null, initialised };
  const status = await git.raw([LITERAL, 'status', '--porcelain', '--untracked-files=all', '--', ...paths]);
  if (!status.trim()) return { commit: null, initialised };
  const messageDir = await mkdtemp(join(tmpdir(), 'siteforge-commit-'));
  try {
    return await withIndexRestoredOnFailure(gitDir, async () => {
      try {
        await git.raw([LITERAL, 'add', '--all', '--', ...paths]);
        const hasHead = await git.raw(['rev-parse', '--verify', 'HEAD']).then(() => true, () => false);
        const nameStatus = hasHead
          ? await git.raw([LITERAL, 'diff', '--cached', '--name-status', '--no-renames', 'HEAD', '--', ...paths])
          : (await git.raw([LITERAL, 'ls-files', '--', ...paths])).split('\n').filter(Boolean).map((p) => `A\t${p}`).join('\n');
        const message = commitMessage(req.subject, nameStatus, req.summary, uncounted);
        // The message goes through a file: a large site's message is longer than one argument may be.
        const messageFile = join(messageDir, 'message');
        await writeFile(messageFile, message);
        // --only: exactly these paths, whatever else the person has staged (first commit included).
        await git.raw([LITERAL, ...(await identityArgs(git)), 'commit', '--quiet', '--file', messageFile, '--only', '--', ...paths]);
        const commit = (await git.revparse(['--short', 'HEAD'])).trim();
        return { commit, initialised, message };
      } catch (e) {
        if (e instanceof UserError) throw e;
        const said = gitSaid(e);
        const hint = (await commitHooks(git)).length || /hook/i.test(said)
          ? 'a git hook refused the commit: fix what it reports, then run again (the files are written; `git status` shows them)'
          : /gpg|sign/i.test(said)
            ? 'git could not sign the commit: check your signing key or agent, then run again (the files are written)'
            : 'the files are written but not committed; fix what git reports and run again, or commit them yourself';
        throw new UserError(`git refused the commit: ${said}`, hint);
      }
    });
  } finally {
    await rm(messageDir, { recursive: true, force: true });
  }
}
