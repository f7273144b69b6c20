// npm run bench: wall time and peak memory of the built `siteforge` command (dist/cli.js), as a
// user runs it (a fresh node process, start-up included), each beside `node -e 0` timed in the
// same run so figures compare across machines. Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const bin = join(root, 'dist', 'siteforge.mjs');
const runs = Number(process.env.BENCH_RUNS ?? 7);

function syntheticSpec(nodes) {
  const base = parse(readFileSync(join(root, 'site.yaml'), 'utf8'));
  base.metadata.name = 'bench';
  base.spec.distribution.clusterCIDR = '172.16.0.0/16';
  base.spec.distribution.serviceCIDR = '172.17.0.0/16';
  base.spec.components.metallb.addresses = ['192.168.0.200-192.168.0.210'];
  // Addresses 10.x.y.z with z in 1..254: never a network or broadcast address, all unique.
  const address = (i) => {
    const j = Math.floor(i / 254) * 256 + (i % 254) + 1;
    return `10.${1 + Math.floor(j / 65536)}.${Math.floor(j / 256) % 256}.${j % 256}`;
  };
  base.spec.nodes = Array.from({ length: nodes }, (_, i) => ({
    name: i < 3 ? `master${i + 1}` : `node${String(i).padStart(5, '0')}`,
    address: address(i),
    role: i < 3 ? 'server' : 'agent',
    ...(i >= 3 && i % 4 === 0 ? { labels: { 'hpc/pool': 'gpu' }, gpus: { vendor: 'nvidia', count: 4 } } : {}),
  }));
  return stringify(base);
}

/** Median wall time (ms) and peak RSS (MB) of `node <args>` over `runs` runs; `prepare` runs before each. */
function time(args, prepare = () => ({}), count = runs) {
  const times = [];
  const rss = [];
  for (let i = 0; i < count; i++) {
    const extra = prepare() ?? {};
    const rusage = join(tmpdir(), `siteforge-bench-${process.pid}-${i}.rss`);
    const start = process.hrtime.bigint();
    const res = spawnSync(process.execPath, ['--import', join(root, 'scripts/report-rusage.mjs'), ...args(extra)], {
      cwd: root,
      env: { ...process.env, SITEFORGE_RUSAGE_FILE: rusage },
      encoding: 'utf8',
    });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
    if (res.status !== 0) throw new Error(`${args(extra).join(' ')} failed\n${res.stderr}`);
    rss.push(Number(readFileSync(rusage, 'utf8')) / 1024);
    rmSync(rusage, { force: true });
    extra.cleanup?.();
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0], max: times.at(-1), rss: Math.max(...rss) };
}

const dir = mkdtempSync(join(tmpdir(), 'siteforge-bench-spec-'));
const big = join(dir, 'bench-5000.yaml');
writeFileSync(big, syntheticSpec(5000));
const fresh = () => {
  const out = mkdtempSync(join(tmpdir(), 'siteforge-bench-'));
  return { out, cleanup: () => rmSync(out, { recursive: true, force: true }) };
};
const generated = (spec) => {
  const out = mkdtempSync(join(tmpdir(), 'siteforge-bench-'));
  spawnSync(process.execPath, [bin, 'generate', spec, '--out', out, '--no-commit'], { cwd: root });
  return out;
};
const exampleOut = generated(join(root, 'site.yaml'));
const bigOut = generated(big);

const baseline = time(() => ['-e', '0']);
const cases = [
  ['siteforge --version', () => [bin, '--version'], undefined, 150],
  ['example site.yaml, unchanged rerun', () => [bin, 'generate', join(root, 'site.yaml'), '--out', exampleOut, '--no-commit'], undefined, 350],
  ['example site.yaml, new output', (e) => [bin, 'generate', join(root, 'site.yaml'), '--out', e.out, '--no-commit'], fresh, 600],
  ['synthetic 5,000 nodes, unchanged rerun', () => [bin, 'generate', big, '--out', bigOut, '--no-commit'], undefined, 1500],
  ['synthetic 5,000 nodes, new output', (e) => [bin, 'generate', big, '--out', e.out, '--no-commit'], fresh, 1500],
];
console.log(`siteforge (dist/siteforge.mjs), ${runs} runs each, fresh process per run, node ${process.version}`);
const row = (label, r, target) =>
  console.log(
    `${label.padEnd(40)} median ${r.median.toFixed(0).padStart(5)} ms  (${(r.median / baseline.median).toFixed(1).padStart(4)}× node -e 0; min ${r.min.toFixed(0)}, max ${r.max.toFixed(0)})  peak RSS ${r.rss.toFixed(0).padStart(4)} MB${target ? `  target ≤ ${target} ms` : ''}`,
  );
row('node -e 0 (baseline)', baseline);
for (const [label, args, prepare, target] of cases) row(label, time(args, prepare), target);
// verify renders every release with the real upstream charts (../shared/charts): seconds, so fewer runs.
const charts = join(root, '..', 'shared', 'charts');
row('verify example site.yaml (real charts)', time(() => [bin, 'verify', join(root, 'site.yaml'), '--out', exampleOut, '--charts', charts], undefined, Math.min(runs, 3)), 20000);
console.log('peak RSS target ≤ 200 MB');
for (const d of [dir, exampleOut, bigOut]) rmSync(d, { recursive: true, force: true });
