// Who encrypts: siteforge's own SOPS implementation (default) or the user's `sops` binary
// (--sops=binary), which then must be on PATH. Both write files the other reads.
import { spawn } from 'node:child_process';
import { stringify } from 'yaml';
import { encryptYaml, type EncryptOptions } from './document.ts';
import { UserError } from '../spec/diagnostics.ts';
import { findOnPath } from '../tools/path.ts';

export type SopsBackendName = 'builtin' | 'binary';

export interface SopsBackend {
  readonly name: SopsBackendName;
  encrypt(plain: Record<string, unknown>, opts: EncryptOptions): Promise<string>;
}

export const builtinBackend: SopsBackend = { name: 'builtin', encrypt: encryptYaml };

/** Runs `sops encrypt` with the plaintext on stdin: it never touches the disk. */
function binaryBackend(sops: string): SopsBackend {
  return {
    name: 'binary',
    encrypt: (plain, opts) =>
      new Promise((done, fail) => {
        const args = ['encrypt', '--input-type', 'yaml', '--output-type', 'yaml', '--age', opts.recipients.join(',')];
        if (opts.encryptedRegex) args.push('--encrypted-regex', opts.encryptedRegex);
        if (opts.unencryptedSuffix) args.push('--unencrypted-suffix', opts.unencryptedSuffix);
        args.push('/dev/stdin');
        const child = spawn(sops, args, { stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (err += d));
        child.on('error', fail);
        child.on('close', (code) => (code === 0 ? done(out) : fail(new UserError(`sops encrypt failed: ${err.trim()}`, 'check the sops installation and the recipients'))));
        child.stdin.end(stringify(plain, { lineWidth: 0 }));
      }),
  };
}

export function sopsBackend(name: SopsBackendName): SopsBackend {
  if (name === 'builtin') return builtinBackend;
  const sops = findOnPath('sops');
  if (!sops) throw new UserError('--sops=binary: sops is not installed (not found on PATH)', 'install sops 3.9 or newer, or leave out --sops to use siteforge\'s built-in SOPS');
  return binaryBackend(sops);
}
