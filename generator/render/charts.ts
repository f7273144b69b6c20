// Output family: charts/<release>/ (wrapper charts) and environments/<env>/<release>.yaml.
import type { SiteModel } from '../model/site.ts';
import { siteReleases } from '../model/releases.ts';
import { chartOf, upstreamVersion } from '../components/upstream.ts';
import type { ReleaseDef } from '../components/types.ts';
import { wrapperChart } from './chart.ts';
import { yamlFile, type GeneratedFile } from './files.ts';

/**
 * values.schema.json for what the wrapper owns: its own templates' values, the switch of the
 * upstream dependency, and (only as "a mapping") the block handed to the upstream chart, whose
 * own schema, if it has one, checks the inside.
 */
function wrapperSchema(def: ReleaseDef): Record<string, unknown> {
  const own = (def.valuesSchema ?? { type: 'object', additionalProperties: false, properties: {} }) as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  if (!def.upstream) return own;
  const key = def.upstream.alias ?? def.upstream.chart;
  return {
    ...own,
    required: [...new Set([...(own.required ?? []), 'upstream'])],
    properties: {
      ...(own.properties ?? {}),
      upstream: { type: 'object', required: ['enabled'], additionalProperties: false, properties: { enabled: { type: 'boolean' } } },
      [key]: { type: 'object', description: `Values for the upstream ${def.upstream.chart} chart.` },
    },
  };
}

/** A wrapper chart carries its upstream chart's version (siteforge's own charts: 0.1.0). */
export function chartVersion(def: ReleaseDef): string {
  return def.upstream ? upstreamVersion(def.upstream) : WRAPPER_ONLY_VERSION;
}

export const WRAPPER_ONLY_VERSION = '0.1.0';

/** Parent-chart value that switches the upstream dependency (kept out of the subchart's values). */
export const UPSTREAM_CONDITION = 'upstream.enabled';

export function renderCharts(site: SiteModel): GeneratedFile[] {
  const { definitions, releases } = siteReleases(site);
  const charts = definitions
    .filter(({ def }) => !def.kustomization)
    .flatMap(({ def }) => {
      const upstream = def.upstream ? chartOf(def.upstream) : undefined;
      return wrapperChart({
        name: def.name,
        description: def.description,
        version: chartVersion(def),
        dependencies: upstream
          ? [
              {
                name: upstream.name,
                version: upstreamVersion(def.upstream!),
                repository: upstream.repository,
                ...(def.upstream?.alias ? { alias: def.upstream.alias } : {}),
                condition: UPSTREAM_CONDITION,
              },
            ]
          : [],
        values: { ...(upstream ? { upstream: { enabled: true } } : {}), ...(def.values ?? {}) },
        valuesSchema: wrapperSchema(def),
        templates: def.templates,
      });
    });
  const environmentValues = releases.flatMap((r) =>
    r.environment && r.def.environmentValues && r.environmentValuesPath ? [yamlFile(r.environmentValuesPath, r.def.environmentValues(r.environment))] : [],
  );
  return [...charts, ...environmentValues];
}
