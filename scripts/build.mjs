// Builds the shipped command: generator/cli.ts and its imports bundled into one ES module,
// dist/siteforge.mjs (esbuild: one file to load, no transpiler at run time), and the site
// schema's validator compiled ahead of time, dist/site-validator.js (ajv standalone). Static
// files stay in generator/ and are read from the package root. Run by `npm ci` (prepare) and
// `npm run build`; with --if-stale it rebuilds only when a source is newer than the build.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { build as esbuild } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'generator');
const dist = join(root, 'dist');
const stamp = join(dist, '.built');

function newest(path) {
  const info = statSync(path);
  if (!info.isDirectory()) return info.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const stale = () =>
  !existsSync(stamp) || Math.max(newest(src), newest(join(root, 'package.json')), newest(join(root, 'scripts', 'build.mjs'))) > statSync(stamp).mtimeMs;

export async function build() {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const common = { define: { SITEFORGE_BUNDLED: 'true' }, bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'bundle', logLevel: 'warning', legalComments: 'none' };
  // CommonJS dependencies bundled into an ES module need a require for node's built-ins.
  const banner = { js: "import { createRequire as __siteforgeRequire } from 'node:module';\nconst require = __siteforgeRequire(import.meta.url);" };
  // Split at dynamic imports: `siteforge --version` loads only the entry chunk.
  await esbuild({ ...common, entryPoints: { siteforge: join(src, 'cli.ts') }, outdir: dist, splitting: true, outExtension: { '.js': '.mjs' }, chunkNames: 'chunks/[name]-[hash]', banner });
  await esbuild({ ...common, entryPoints: [join(src, 'tools', 'helmfile.ts')], outfile: join(dist, 'helmfile.mjs'), banner });
  await writeValidator();
  await writeTemplates();
  await writeKubernetesSchema();
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}

/** The document templates precompiled by Handlebars (same options as at run time): no template parsing per run. */
async function writeTemplates() {
  const Handlebars = (await import('handlebars')).default;
  const dir = join(src, 'assets', 'docs');
  const specs = {};
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.hbs')).sort()) {
    specs[file.slice(0, -4)] = Handlebars.precompile(readFileSync(join(dir, file), 'utf8'), { noEscape: true, strict: true });
  }
  writeFileSync(join(dist, 'templates.json'), JSON.stringify(specs));
}

/** The Kubernetes API's object schemas, extracted once from the packages generated from its OpenAPI (see generator/verify/kubernetes-schema.ts). */
async function writeKubernetesSchema() {
  const module = join(dist, 'kubernetes-schema.tmp.mjs');
  await esbuild({ bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', entryPoints: [join(src, 'verify', 'kubernetes-schema.ts')], outfile: module, packages: 'external' });
  const { extractKubernetesSchema } = await import(pathToFileURL(module).href);
  rmSync(module);
  writeFileSync(join(dist, 'kubernetes-schema.json'), JSON.stringify(await extractKubernetesSchema(join(root, 'node_modules'))));
}

/** The site schema's validator as ajv standalone code: no schema compilation at run time. */
async function writeValidator() {
  const schemaModule = join(dist, 'schema.tmp.mjs');
  await esbuild({ bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', entryPoints: [join(src, 'spec', 'schema.ts')], outfile: schemaModule, packages: 'external' });
  const { SiteSchema, AJV_OPTIONS, SCHEMA_ANNOTATIONS } = await import(pathToFileURL(schemaModule).href);
  rmSync(schemaModule);
  const { Ajv } = await import('ajv');
  const standalone = (await import('ajv/dist/standalone/index.js')).default;
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: true } });
  ajv.addVocabulary([...SCHEMA_ANNOTATIONS]);
  const code = standalone(ajv, ajv.compile(SiteSchema));
  // Bundled so the command needs nothing but node: the standalone code require()s ajv's runtime helpers.
  await esbuild({
    stdin: { contents: code, resolveDir: root, sourcefile: 'site-validator.js', loader: 'js' },
    bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning', outfile: join(dist, 'site-validator.js'),
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (!process.argv.includes('--if-stale') || stale()) {
    if (process.argv.includes('--if-stale')) process.stderr.write('siteforge: sources changed; rebuilding dist/ ...\n');
    await build();
  }
}
