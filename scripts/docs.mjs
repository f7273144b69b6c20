// `npm run docs`: rewrites the reference tables in README.md (between the markers) from the
// single definitions — the site schema and the component catalog (generator/render/reference.ts).
// test/reference.test.ts fails when the committed README differs from what this writes.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build as esbuild } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const module = join(root, 'dist', 'reference.tmp.mjs');
await esbuild({ bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', entryPoints: [join(root, 'generator', 'render', 'reference.ts')], outfile: module, packages: 'external' });
try {
  const { spliceReadme } = await import(pathToFileURL(module).href);
  const readme = join(root, 'README.md');
  const before = readFileSync(readme, 'utf8');
  const after = spliceReadme(before);
  if (after === before) console.log('README.md: reference up to date');
  else {
    writeFileSync(readme, after);
    console.log('README.md: reference tables rewritten');
  }
} finally {
  rmSync(module, { force: true });
}
