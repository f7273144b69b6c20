// npm run helmfile: runs helmfile when present, explains how to install it when not.
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, tempDir } from './helpers/cli.ts';

function wrapper(args: string[], path: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [join(ROOT, 'dist', 'helmfile.mjs'), ...args], {
      cwd: ROOT,
      env: { ...process.env, PATH: path, INIT_CWD: cwd },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => done({ code: code ?? -1, stdout, stderr }));
  });
}

t.test('without helmfile on PATH: exit 127 and how to install it', async (t) => {
  const empty = await tempDir();
  const res = await wrapper(['-e', 'dev', 'apply'], empty, empty);
  t.equal(res.code, 127);
  t.match(res.stderr, 'helmfile is not installed');
  t.match(res.stderr, 'https://github.com/helmfile/helmfile/releases');
  t.match(res.stderr, 'helmfile init');
});

t.test('with helmfile on PATH: runs it with the arguments, in the calling directory, and passes its exit code', async (t) => {
  // helmfile itself cannot be installed on this machine; a stand-in executable records how it was called.
  const bin = await tempDir();
  const site = await tempDir();
  await writeFile(join(bin, 'helmfile'), '#!/bin/sh\necho "args: $*"\necho "cwd: $(pwd)"\nexit 3\n');
  await chmod(join(bin, 'helmfile'), 0o755);
  const res = await wrapper(['-e', 'prod', 'diff'], `${bin}:/usr/bin:/bin`, site);
  t.equal(res.code, 3);
  t.match(res.stdout, 'args: -e prod diff');
  t.match(res.stdout, `cwd: ${site}`);
});
