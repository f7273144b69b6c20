// The pinned upstream chart table (upstream-charts.yaml), read once.
import { readFileSync } from 'node:fs';
import { UPSTREAM_CHARTS_FILE } from '../home.ts';
import { parse } from 'yaml';

export interface UpstreamChart {
  readonly name: string;
  readonly repository: string;
  readonly version: string;
}

export interface UpstreamKustomization {
  readonly name: string;
  readonly git: string;
  readonly version: string;
  readonly path: string;
}

type Entry = { repository?: string; git?: string; version: string; path?: string; images?: string[]; kubeVersion?: string };

const table = parse(readFileSync(UPSTREAM_CHARTS_FILE, 'utf8')) as Record<string, Entry>;

function entry(name: string): Entry {
  const found = table[name];
  if (!found) throw new Error(`internal error: ${name} is not in upstream-charts.yaml`);
  return found;
}

export function upstreamChart(name: string): UpstreamChart {
  const e = entry(name);
  if (!e.repository) throw new Error(`internal error: ${name} is not a Helm chart in upstream-charts.yaml`);
  return { name, repository: e.repository, version: String(e.version) };
}

export function upstreamKustomization(name: string): UpstreamKustomization {
  const e = entry(name);
  if (!e.git || !e.path) throw new Error(`internal error: ${name} is not a kustomization in upstream-charts.yaml`);
  return { name, git: e.git, version: String(e.version), path: e.path };
}

/** A release's upstream chart: a key of the pinned table, or a chart the spec names with its repository and version. */
export interface UpstreamRef {
  readonly chart: string;
  readonly alias?: string;
  readonly version?: string;
  /** Set for a chart outside the table (spec.extraReleases): its Helm repository. */
  readonly repository?: string;
}

/** The chart, repository and version a release's upstream stands for. */
export function chartOf(upstream: UpstreamRef): UpstreamChart {
  if (upstream.repository) return { name: upstream.chart, repository: upstream.repository, version: upstream.version! };
  return upstreamChart(upstream.chart);
}

/** Images an upstream chart runs at its defaults, where the table records them (a chart the spec names lists its own). */
export const imagesOf = (upstream: UpstreamRef): readonly string[] => (upstream.repository ? [] : upstreamImages(upstream.chart));

/** Every pinned Helm chart, by name. */
export const upstreamCharts = (): UpstreamChart[] =>
  Object.keys(table).filter((n) => table[n]!.repository).sort().map(upstreamChart);

/** Images the upstream chart (or kustomization) runs at its default values, recorded with its pin. */
export const upstreamImages = (name: string): readonly string[] => entry(name).images ?? [];

/** The upstream chart version a release uses: its override, or the pin. */
export const upstreamVersion = (upstream: UpstreamRef): string => upstream.version ?? upstreamChart(upstream.chart).version;

/** The Kubernetes versions a pinned chart declares it supports (its Chart.yaml kubeVersion), if it declares any. */
export const upstreamKubeVersion = (name: string): string | undefined => entry(name).kubeVersion;
