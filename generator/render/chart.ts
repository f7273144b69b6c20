// Wrapper Helm chart files: Chart.yaml, values.yaml, values.schema.json and templates/.
import { jsonFile, textFile, yamlFile, type GeneratedFile } from './files.ts';

export interface ChartDependency {
  readonly name: string;
  readonly version: string;
  readonly repository: string;
  readonly alias?: string;
  readonly condition?: string;
}

export interface WrapperChart {
  readonly name: string;
  readonly description: string;
  /** Version of the wrapper chart itself. */
  readonly version?: string;
  readonly appVersion?: string;
  readonly dependencies?: readonly ChartDependency[];
  readonly values: Record<string, unknown>;
  readonly valuesSchema?: Record<string, unknown>;
  /** templates/<file> → Helm template text, passed through untouched. */
  readonly templates?: Readonly<Record<string, string>>;
}

export function wrapperChart(chart: WrapperChart): GeneratedFile[] {
  const dir = `charts/${chart.name}`;
  const chartYaml: Record<string, unknown> = {
    apiVersion: 'v2',
    name: chart.name,
    description: chart.description,
    type: 'application',
    version: chart.version ?? '0.1.0',
  };
  if (chart.appVersion) chartYaml.appVersion = chart.appVersion;
  if (chart.dependencies?.length) chartYaml.dependencies = chart.dependencies;
  const files: GeneratedFile[] = [yamlFile(`${dir}/Chart.yaml`, chartYaml), yamlFile(`${dir}/values.yaml`, chart.values)];
  if (chart.valuesSchema) {
    files.push(jsonFile(`${dir}/values.schema.json`, { $schema: 'http://json-schema.org/draft-07/schema#', ...chart.valuesSchema }));
  }
  for (const [name, text] of Object.entries(chart.templates ?? {})) files.push(textFile(`${dir}/templates/${name}`, text));
  return files;
}
