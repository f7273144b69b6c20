// The output directory as the writer and the secret store see it: every path is relative, stays
// inside the directory, and is never reached through a symbolic link. Paths come from the
// renderers and from .siteforge/manifest.json — the latter is untrusted input (a person or a
// merge can put anything in it), so both are checked the same way here.
import { lstat, readFile, realpath, statfs } from 'node:fs/promises';
import { dirname, join, normalize, posix, resolve, sep } from 'node:path';
import { UserError, show } from '../spec/diagnostics.ts';

/** Why a relative path is unsafe to use under the output directory, or null when it is fine. */
export function unsafePathReason(path: string): string | null {
  if (typeof path !== 'string' || path === '') return 'is empty';
  if (path.includes('\0') || /[\u0000-\u001f\\]/.test(path)) return 'contains control characters or a backslash';
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return 'is absolute';
  if (path.split('/').some((s) => s === '..' || s === '.' || s === '')) return 'has an empty, "." or ".." component';
  if (posix.normalize(path) !== path || normalize(path).split(sep).join('/') !== path) return 'is not in normal form';
  return null;
}

export type EntryKind = 'missing' | 'file' | 'directory' | 'symlink' | 'other';

/** Parents already proven to be real directories (or absent) inside an output directory. */
const checkedParents = new Map<string, true>();

/**
 * Refuses a path whose parent, anywhere between the output directory and the file, is a symbolic
 * link or not a directory: writing or deleting there would act outside the output tree.
 */
export async function assertNoLinkedParent(outDir: string, path: string): Promise<void> {
  const parts = path.split('/').slice(0, -1);
  let rel = '';
  for (const part of parts) {
    rel = rel ? `${rel}/${part}` : part;
    const key = `${outDir}\0${rel}`;
    if (checkedParents.has(key)) continue;
    let info;
    try {
      info = await lstat(join(outDir, rel));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // nothing below exists yet
      throw e;
    }
    if (info.isSymbolicLink()) {
      throw new UserError(
        `${rel} in ${outDir} is a symbolic link; siteforge never writes, reads or deletes through a link (it would act outside the output directory)`,
        `replace the link with a real directory (or remove it), then run again; ${show(path)} lies below it`,
      );
    }
    if (!info.isDirectory()) {
      throw new UserError(`${rel} in ${outDir} is not a directory, but ${show(path)} must go inside it`, 'move the file out of the way, then run again');
    }
    checkedParents.set(key, true);
  }
}

/** Forget what was checked (the writer calls this before it changes the tree). */
export const forgetCheckedParents = () => checkedParents.clear();

export async function entryKind(outDir: string, path: string): Promise<EntryKind> {
  await assertNoLinkedParent(outDir, path);
  try {
    const info = await lstat(join(outDir, path));
    if (info.isSymbolicLink()) return 'symlink';
    if (info.isFile()) return 'file';
    if (info.isDirectory()) return 'directory';
    return 'other';
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw e;
  }
}

/**
 * The content of a file siteforge owns, or null when absent. A link, directory or device where the
 * file should be is an error naming it: its content is not siteforge's to read.
 */
export async function readOwnedFile(outDir: string, path: string, encoding: 'utf8'): Promise<string | null>;
export async function readOwnedFile(outDir: string, path: string): Promise<Buffer | null>;
export async function readOwnedFile(outDir: string, path: string, encoding?: 'utf8'): Promise<string | Buffer | null> {
  const kind = await entryKind(outDir, path);
  if (kind === 'missing') return null;
  if (kind !== 'file') {
    throw new UserError(
      `${path} in ${outDir} is a ${kind === 'symlink' ? 'symbolic link' : kind}, not a regular file`,
      'siteforge reads and writes only regular files it generated; replace it with the file from git (`git checkout -- <path>`) or remove it',
    );
  }
  return encoding ? readFile(join(outDir, path), encoding) : readFile(join(outDir, path));
}

/** File systems that are not storage: writing there is never what a user meant. */
const PSEUDO_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x73636673, 'securityfs'],
]);

/**
 * The output directory must be a place for a repository: not inside a .git directory, not on a
 * pseudo file system such as /proc, not below a file. Decided from the nearest existing ancestor.
 */
export async function assertOutputLocation(outDir: string): Promise<void> {
  const absolute = resolve(outDir);
  let existing = absolute;
  for (;;) {
    try {
      await lstat(existing);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      const parent = dirname(existing);
      if (parent === existing) break;
      existing = parent;
    }
  }
  const real = await realpath(existing).catch(() => existing);
  const full = join(real, absolute.slice(existing.length));
  if (full.split(sep).includes('.git')) {
    throw new UserError(`${outDir} lies inside a .git directory`, 'give --out the working tree of a repository (or a new directory), never git\'s own directory');
  }
  const fs = await statfs(real).catch(() => null);
  const pseudo = fs ? PSEUDO_FILE_SYSTEMS.get(Number(fs.type)) : undefined;
  if (pseudo || /^\/(proc|sys|dev)(\/|$)/.test(full)) {
    throw new UserError(`${outDir} is on the ${pseudo ?? 'system'} pseudo file system, not storage`, 'give --out a directory on a real disk, e.g. a checkout of your site repository');
  }
}
