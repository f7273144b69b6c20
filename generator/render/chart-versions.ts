// Wrapper chart versions that change exactly when what a chart renders can change: its files
// (templates, values, schema, upstream pin). Flux (reconcileStrategy: ChartVersion), Argo CD and
// helmfile then upgrade only the releases whose chart changed. The version is <upstream version
// or 0.1.0>-sf.<n>: n grows by one with each content change and is recorded, with the content
// hash, in the manifest — stable otherwise. An environment's values are not part of the shared
// chart (Flux passes them in the HelmRelease itself): a change to dev's values rolls dev's release
// only; their hashes are recorded beside the chart's so plan can say which environment rolls.
import { createHash } from 'node:crypto';
import type { GeneratedFile } from './files.ts';
import { sha256 } from '../write/manifest.ts';

export interface ChartVersionRecord {
  readonly hash: string;
  readonly version: string;
  /** Hash of each environment's values file (environment-scoped releases). */
  readonly environments?: Readonly<Record<string, string>>;
}

export type ChartVersions = Readonly<Record<string, ChartVersionRecord>>;

const CHART_YAML = /^charts\/([^/]+)\/Chart\.yaml$/;
const CHART_FILE = /^charts\/([^/]+)\//;
const ENVIRONMENT_VALUES = /^environments\/([^/]+)\/([^/]+)\.yaml$/;
const VERSION_LINE = /^version: (.+)$/m;
/** In a helmfile release: `chart: ./charts/<name>` and the `version:` line under it. */
const LOCAL_CHART_VERSION = /^(\s+chart: \.\/charts\/([^\s]+)\n\s+version: ).*$/gm;

/** The wrapper chart whose rendering a file is an input of: its own files, and its environment values. */
export const chartInputOf = (path: string): string | undefined => CHART_FILE.exec(path)?.[1] ?? ENVIRONMENT_VALUES.exec(path)?.[2];


/** The version a chart gets, given its base (upstream) version, content hash and what was recorded. */
export function nextChartVersion(base: string, hash: string, previous: ChartVersionRecord | undefined): string {
  if (previous?.hash === hash) return previous.version;
  const m = previous ? /^(.*)-sf\.([0-9]+)$/.exec(previous.version) : null;
  return `${base}-sf.${m && m[1] === base ? Number(m[2]) + 1 : 1}`;
}

/**
 * Sets the version in every wrapper chart's Chart.yaml (and wherever `versionFor` is consulted
 * afterwards) from the chart's content; returns the files and the records for the manifest.
 */
export function versionCharts(files: readonly GeneratedFile[], previous: ChartVersions): { files: GeneratedFile[]; charts: Record<string, ChartVersionRecord> } {
  // The files each chart's content is made of (its own), and the values of each environment.
  const related = new Map<string, GeneratedFile[]>();
  const environmentHashes = new Map<string, Record<string, string>>();
  for (const f of files) {
    const own = CHART_FILE.exec(f.path)?.[1];
    if (own) related.set(own, [...(related.get(own) ?? []), f]);
    const env = ENVIRONMENT_VALUES.exec(f.path);
    if (env) environmentHashes.set(env[2]!, { ...environmentHashes.get(env[2]!), [env[1]!]: sha256(f.content) });
  }
  const charts: Record<string, ChartVersionRecord> = {};
  for (const file of files) {
    const name = CHART_YAML.exec(file.path)?.[1];
    if (!name) continue;
    const base = VERSION_LINE.exec(file.content)?.[1]?.replace(/^v/, '') ?? '0.1.0';
    const hash = createHash('sha256');
    for (const f of [...(related.get(name) ?? [])].sort((a, b) => (a.path < b.path ? -1 : 1))) hash.update(f.path).update('\0').update(f.content).update('\0');
    const digest = hash.digest('hex');
    const environments = environmentHashes.get(name);
    charts[name] = { hash: digest, version: nextChartVersion(base, digest, previous[name]), ...(environments ? { environments: Object.fromEntries(Object.entries(environments).sort(([a], [b]) => (a < b ? -1 : 1))) } : {}) };
  }
  const out = files.map((file) => {
    const name = CHART_YAML.exec(file.path)?.[1];
    if (name) return { ...file, content: file.content.replace(VERSION_LINE, `version: ${charts[name]!.version}`) };
    // helmfile release files name the wrapper chart's version (a local chart: for the record).
    const release = /^releases\/([^/]+)\.yaml$/.exec(file.path)?.[1];
    if (!release) return file;
    const content = file.content.replace(LOCAL_CHART_VERSION, (line, head: string, chart: string) => (charts[chart] ? `${head}${charts[chart]!.version}` : line));
    return content === file.content ? file : { ...file, content };
  });
  return { files: out, charts };
}
