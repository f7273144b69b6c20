// npm run bench: wall time and peak memory of `siteforge generate`, measured as a user runs it
// (a fresh node process, start-up included), for the example site and for a synthetic
// 5,000-node site. Prints figures; asserts nothing.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify, parse } from 'yaml';

const root = resolve(fileURLToPath(import.meta.url), '../..');
const runs = Number(process.env.BENCH_RUNS ?? 5);

function syntheticSpec(nodes: number): string {
  const base = parse(readFileSync(join(root, 'site.yaml'), 'utf8'));
  base.metadata.name = 'bench';
  base.spec.distribution.clusterCIDR = '172.16.0.0/16';
  base.spec.distribution.serviceCIDR = '172.17.0.0/16';
  base.spec.components.metallb.addresses = ['192.168.0.200-192.168.0.210'];
  // Addresses 10.x.y.z with z in 1..254: never a network or broadcast address, all unique.
  const address = (i: number) => {
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

/** `fresh`: a new output directory per run (everything written, secrets created); else one directory, regenerated. */
function measure(label: string, specPath: string, fresh = true) {
  const times: number[] = [];
  const rss: number[] = [];
  const shared = fresh ? null : mkdtempSync(join(tmpdir(), 'siteforge-bench-'));
  if (shared) spawnSync(process.execPath, ['--import', 'tsx', join(root, 'generator/cli.ts'), 'generate', specPath, '--out', shared, '--no-commit'], { cwd: root });
  for (let i = 0; i < runs; i++) {
    const out = shared ?? mkdtempSync(join(tmpdir(), 'siteforge-bench-'));
    const rusage = join(out, '..', `${out.split('/').pop()}.rss`);
    const start = process.hrtime.bigint();
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--import', join(root, 'scripts/report-rusage.mjs'), join(root, 'generator/cli.ts'), 'generate', specPath, '--out', out, '--no-commit'], {
      cwd: root,
      env: { ...process.env, SITEFORGE_RUSAGE_FILE: rusage },
      encoding: 'utf8',
    });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (res.status !== 0) throw new Error(`${label}: generate failed\n${res.stderr}`);
    times.push(ms);
    rss.push(Number(readFileSync(rusage, 'utf8')) / 1024);
    if (!shared) rmSync(out, { recursive: true, force: true });
    rmSync(rusage, { force: true });
  }
  if (shared) rmSync(shared, { recursive: true, force: true });
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(
    `${label.padEnd(42)} wall median ${median.toFixed(0).padStart(5)} ms (min ${times[0]!.toFixed(0)}, max ${times.at(-1)!.toFixed(0)}), peak RSS ${Math.max(...rss).toFixed(0).padStart(4)} MB`,
  );
}

const dir = mkdtempSync(join(tmpdir(), 'siteforge-bench-spec-'));
const big = join(dir, 'bench-5000.yaml');
writeFileSync(big, syntheticSpec(5000));
console.log(`siteforge generate, ${runs} runs each, fresh process per run (node ${process.version})`);
measure('example site.yaml, new output', join(root, 'site.yaml'));
measure('example site.yaml, unchanged rerun', join(root, 'site.yaml'), false);
measure('synthetic site, 5,000 nodes, new output', big);
measure('synthetic 5,000 nodes, unchanged rerun', big, false);
console.log('targets: example ≤ 1000 ms, 5,000 nodes ≤ 3000 ms, peak RSS ≤ 300 MB');
rmSync(dir, { recursive: true, force: true });
