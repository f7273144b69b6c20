// The real tools the tests run: helm and kubectl from .tools/bin (scripts/setup.sh), the
// Debian packages (ansible, ansible-lint, age) from PATH.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { ROOT } from './cli.ts';

export const TOOLS_BIN = join(ROOT, '.tools', 'bin');

export function toolPath(name: string): string {
  const local = join(TOOLS_BIN, name);
  return existsSync(local) ? local : name;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runTool(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<ToolResult> {
  return new Promise((done, fail) => {
    const child = execFile(
      toolPath(cmd),
      [...args],
      { cwd: opts.cwd, env: { ...process.env, ...opts.env }, maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if (err && typeof err.code !== 'number') return fail(err);
        done({ code: err ? (err.code as number) : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** A TCP port on loopback nobody listens on right now (for a daemon a test starts). */
export function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}
