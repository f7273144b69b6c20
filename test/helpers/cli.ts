// Runs the siteforge command line: in this process (the same main() the executable runs, fast;
// most tests) or as the built executable in a child process, as a user would (end-to-end tests).
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInProcess } from './inprocess.ts';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
/** The built executable (package.json `bin`); `npm test` builds it first. */
export const BIN = join(ROOT, 'dist', 'siteforge.mjs');

export type { CliResult } from './inprocess.ts';
import type { CliResult } from './inprocess.ts';

/** The command line, run in this process (see inprocess.ts). */
export function siteforge(args: readonly string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  return runInProcess(args, opts);
}

/** The built `siteforge` executable in a child process: exit codes, streams and start-up as a user sees them. */
export function siteforgeBinary(args: readonly string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', fail);
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

/** Every temporary directory a test file made, removed when its process exits. */
const made: string[] = [];
process.on('exit', () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

export const tempDir = async (prefix = 'siteforge-test-') => {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
};

/** Every file under dir (relative path → mtimeMs), skipping .git internals. */
export async function snapshotTree(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (rel: string) => {
    for (const entry of await readdir(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.name === '.git') continue;
      if (entry.isDirectory()) await walk(path);
      else out.set(path, (await stat(join(dir, path))).mtimeMs);
    }
  };
  await walk('');
  return out;
}

/** Runs tasks with at most `limit` at once (the generator's own helper). */
export { mapLimited as inBatches } from '../../generator/tools/concurrency.ts';

/** Generates `spec` into `out` (a new temporary directory by default) and returns the directory. */
export async function generatedSite(spec: string, opts: { out?: string; commit?: boolean; env?: Record<string, string | undefined> } = {}): Promise<string> {
  const out = opts.out ?? (await tempDir());
  const res = await siteforge(['generate', spec, '--out', out, ...(opts.commit === false ? ['--no-commit'] : [])], { env: opts.env });
  if (res.code !== 0) throw new Error(`generate ${spec} failed: ${res.stderr}`);
  return out;
}

/** Every file below dir (relative paths, sorted), skipping .git. */
export async function listFiles(dir: string): Promise<string[]> {
  return [...(await snapshotTree(dir)).keys()].sort();
}
