// Which pinned upstream chart supports the site's Kubernetes version: each chart's declared
// kubeVersion constraint (Helm's semver ranges: comparators joined by spaces or commas, ORed by
// ||), recorded with its pin in upstream-charts.yaml, against spec.distribution.version.
import type { SiteModel } from './site.ts';
import { siteReleases } from './releases.ts';
import { upstreamKubeVersion } from '../components/upstream.ts';

type Version = readonly [number, number, number];

const parseVersion = (text: string): Version | null => {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(text.trim());
  return m ? [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)] : null;
};

const compare = (a: Version, b: Version) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Whether a version satisfies a Helm kubeVersion constraint (pre-release markers such as -0 only widen ranges: ignored). */
export function satisfies(version: string, constraint: string): boolean {
  const v = parseVersion(version);
  if (!v) return true;
  return constraint.split('||').some((alternative) =>
    alternative
      .replace(/([<>]=?|!?=)\s+/g, '$1') // ">= 1.22.0-0" is one comparator
      .split(/[\s,]+/)
      .map((c) => c.trim())
      .filter(Boolean)
      .every((comparator) => {
        const m = /^(>=|<=|>|<|=|!=)?\s*(.+)$/.exec(comparator);
        const bound = m && parseVersion(m[2]!);
        if (!m || !bound) return true;
        const d = compare(v, bound);
        switch (m[1] ?? '=') {
          case '>=': return d >= 0;
          case '>': return d > 0;
          case '<=': return d <= 0;
          case '<': return d < 0;
          case '!=': return d !== 0;
          default: return d === 0;
        }
      }),
  );
}

export interface Incompatibility {
  readonly component: string;
  readonly chart: string;
  readonly constraint: string;
}

/** The enabled components whose pinned chart does not declare support for the site's Kubernetes version. */
export function incompatibleCharts(site: SiteModel): Incompatibility[] {
  const kube = site.distribution.version.replace(/\+.*$/, '');
  const out: Incompatibility[] = [];
  for (const { component, def } of siteReleases(site).definitions) {
    const chart = def.upstream?.chart;
    const constraint = chart && !def.upstream?.version ? upstreamKubeVersion(chart) : undefined;
    if (chart && constraint && !satisfies(kube, constraint)) out.push({ component, chart, constraint });
  }
  return out;
}
