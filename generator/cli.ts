#!/usr/bin/env node
// The `siteforge` executable: runs the command line in generator/main.ts and exits with its code.
import { main } from './main.ts';

// A reader that stops early (`siteforge plan site.yaml | head`) is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}

process.exitCode = await main(process.argv.slice(2));
