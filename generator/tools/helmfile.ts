// npm run helmfile -- <args>: runs helmfile (the hands-on deploy path from a bastion) when it is on
// PATH, in the directory the command was started from; otherwise says how to install it.
// Exit codes: helmfile's own, or 127 when helmfile is missing.
import { spawn } from 'node:child_process';
import { findOnPath } from './path.ts';

export const INSTALL_HINT = `helmfile is not installed (not found on PATH).
Install it on the bastion, with its helm plugins:
  - download the release for your platform from https://github.com/helmfile/helmfile/releases
    and put the helmfile binary on PATH (or: brew install helmfile)
  - helmfile init          # installs helm-diff, helm-secrets and helm-git
SOPS-encrypted values also need sops and your age key (SOPS_AGE_KEY_FILE).`;

const binary = findOnPath('helmfile');
if (!binary) {
  process.stderr.write(`${INSTALL_HINT}\n`);
  process.exitCode = 127;
} else {
  const cwd = process.env.INIT_CWD ?? process.cwd();
  const child = spawn(binary, process.argv.slice(2), { stdio: 'inherit', cwd });
  child.on('exit', (code, signal) => {
    process.exitCode = code ?? (signal ? 128 : 1);
  });
}
