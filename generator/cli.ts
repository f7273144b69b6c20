#!/usr/bin/env node
// The `siteforge` executable: runs the command line in generator/main.ts and exits with its code.
// `--version` answers without loading the rest; paths given through `npm run` are the caller's.
import { PACKAGE_ROOT, PACKAGE_VERSION } from './home.ts';

// A reader that stops early (`siteforge plan site.yaml | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

const args = process.argv.slice(2);
// `npm run generate -- site.yaml` in the siteforge checkout runs in the package directory; INIT_CWD
// is where the person typed it, so relative paths mean what they meant there.
if (process.env.npm_lifecycle_event && process.env.INIT_CWD && process.cwd() === PACKAGE_ROOT) process.chdir(process.env.INIT_CWD);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${PACKAGE_VERSION}\n`);
} else {
  const { main } = await import('./main.ts');
  process.exitCode = await main(args);
}
