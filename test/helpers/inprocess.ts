// The siteforge command line run in this test process (cdk8s' Testing.synth style): the same
// main() the executable runs, with stdout/stderr captured and the environment and working
// directory set for the call. Calls are serialised; each restores what it changed.
import { main } from '../../generator/main.ts';
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

let queue: Promise<unknown> = Promise.resolve();

export function runInProcess(args: readonly string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  const run = async (): Promise<CliResult> => {
    let stdout = '';
    let stderr = '';
    const out = process.stdout.write;
    const err = process.stderr.write;
    const cwd = process.cwd();
    const saved = new Map<string, string | undefined>();
    for (const [k, v] of Object.entries({ NO_COLOR: '1', ...opts.env })) {
      saved.set(k, process.env[k]);
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    process.stdout.write = ((chunk: string | Uint8Array) => ((stdout += String(chunk)), true)) as typeof process.stdout.write;
    process.stderr.write = ((chunk: string | Uint8Array) => ((stderr += String(chunk)), true)) as typeof process.stderr.write;
    try {
      if (opts.cwd) process.chdir(opts.cwd);
      const code = await main(args);
      return { code, stdout, stderr };
    } finally {
      process.stdout.write = out;
      process.stderr.write = err;
      process.chdir(cwd);
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  };
  const next = queue.then(run, run);
  queue = next.catch(() => undefined);
  return next;
}
