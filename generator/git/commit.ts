// Stage 7: commit exactly the generated paths (plus manifest and spec) with simple-git.
// Never pushes. Other staged or unstaged work in the repository is left as it was.
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { MANIFEST_PATH } from '../write/manifest.ts';

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
}

export interface CommitResult {
  readonly commit: string | null;
  readonly initialised: boolean;
  readonly message?: string;
}

const MAX_LISTED = 40;

/** "<subject>: N added, N changed, N removed" and the paths of each, from `git diff --name-status`. */
export function commitMessage(subject: string, nameStatus: string, summary: readonly string[] = []): string {
  const groups: Record<'added' | 'changed' | 'removed', string[]> = { added: [], changed: [], removed: [] };
  for (const line of nameStatus.split('\n').filter(Boolean)) {
    const [status, ...rest] = line.split('\t');
    const path = rest[rest.length - 1] ?? '';
    if (path.endsWith(MANIFEST_PATH)) continue;
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
  return [`${subject} (${counts})`, '', ...words, ...body.flatMap((b) => [b, ''])].join('\n').trimEnd() + '\n';
}

async function repositoryFor(outDir: string): Promise<{ git: SimpleGit; initialised: boolean; root: string }> {
  const probe = simpleGit({ baseDir: outDir });
  const inside = await probe.checkIsRepo().catch(() => false);
  if (!inside) {
    await probe.init(['--initial-branch=main']);
    return { git: probe, initialised: true, root: resolve(outDir) };
  }
  const root = (await probe.revparse(['--show-toplevel'])).trim();
  return { git: simpleGit({ baseDir: root }), initialised: false, root };
}

async function identityArgs(git: SimpleGit): Promise<string[]> {
  const name = await git.raw(['config', '--get', 'user.name']).catch(() => '');
  const email = await git.raw(['config', '--get', 'user.email']).catch(() => '');
  return [
    ...(name.trim() ? [] : ['-c', 'user.name=siteforge']),
    ...(email.trim() ? [] : ['-c', 'user.email=siteforge@localhost']),
  ];
}

export async function commitGenerated(req: CommitRequest): Promise<CommitResult> {
  const { git, initialised, root } = await repositoryFor(req.outDir);
  const toRepo = (p: string) => relative(root, resolve(req.outDir, p)).split('\\').join('/');
  const candidates = [...req.paths, MANIFEST_PATH].map(toRepo);
  const spec = relative(root, resolve(req.specPath));
  if (!spec.startsWith('..')) candidates.push(spec);
  // Only paths that exist now or are tracked (removed ones) can be named to git.
  const tracked = new Set((await git.raw(['ls-files', '-z', '--', ...candidates])).split('\0').filter(Boolean));
  const paths = [...new Set(candidates)].filter((p) => tracked.has(p) || existsSync(resolve(root, p))).sort();
  if (!paths.length) return { commit: null, initialised };
  const status = await git.raw(['status', '--porcelain', '--untracked-files=all', '--', ...paths]);
  if (!status.trim()) return { commit: null, initialised };
  await git.raw(['add', '--all', '--', ...paths]);
  const hasHead = await git.raw(['rev-parse', '--verify', 'HEAD']).then(() => true, () => false);
  const nameStatus = hasHead
    ? await git.raw(['diff', '--cached', '--name-status', '--no-renames', 'HEAD', '--', ...paths])
    : (await git.raw(['ls-files', '--', ...paths])).split('\n').filter(Boolean).map((p) => `A\t${p}`).join('\n');
  const message = commitMessage(req.subject, nameStatus, req.summary);
  const args = [...(await identityArgs(git)), 'commit', '--quiet', '-m', message];
  if (hasHead) args.push('--only', '--', ...paths);
  await git.raw(args);
  const commit = (await git.revparse(['--short', 'HEAD'])).trim();
  return { commit, initialised, message };
}
