// Stage 4: every output family, each a pure function of the site model, into one file list.
import type { SiteModel } from '../model/site.ts';
import { editorSchema } from '../spec/schema.ts';
import { jsonFile, stampHeaders, type GeneratedFile } from './files.ts';
import { renderAnsible } from './ansible.ts';
import { renderHpk } from './hpk.ts';
import { renderCharts } from './charts.ts';
import { renderHelmfile } from './helmfile.ts';
import { renderImageList } from './images.ts';
import { renderSecrets } from './secrets.ts';
import { renderGitops } from './gitops.ts';
import { renderDocs } from './docs.ts';
import type { ResolvedSecrets } from '../secrets/store.ts';
import { renderReleaseIndex } from './release-index.ts';
import { renderReference } from './reference.ts';
import { versionCharts, type ChartVersionRecord, type ChartVersions } from './chart-versions.ts';

export const SCHEMA_FILE = 'site.schema.json';

/** Output families, in the order they appear in the repository layout. */
const renderers: readonly ((site: SiteModel, secrets: ResolvedSecrets) => GeneratedFile[])[] = [
  (site) => [jsonFile(SCHEMA_FILE, editorSchema()), renderReference(site)],
  // How the cluster is built: Ansible for dedicated nodes, scripts and a Slurm job for HPK.
  (site, secrets) => (site.distribution.type === 'hpk' ? renderHpk(site) : renderAnsible(site, secrets)),
  renderCharts,
  renderHelmfile,
  renderImageList,
  renderSecrets,
  renderGitops,
  renderDocs,
];

/** Every output file, wrapper charts versioned by content against the versions recorded before. */
export function renderSite(site: SiteModel, secrets: ResolvedSecrets, previousCharts: ChartVersions = {}): { files: GeneratedFile[]; charts: Record<string, ChartVersionRecord> } {
  const rendered = renderers.flatMap((render) => render(site, secrets));
  const seen = new Set<string>();
  for (const file of rendered) {
    if (seen.has(file.path)) throw new Error(`internal error: two renderers produce ${file.path}`);
    seen.add(file.path);
  }
  const versioned = versionCharts(rendered, previousCharts);
  const { charts } = versioned;
  const files = [...versioned.files, renderReleaseIndex(site, versioned.files)];
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files: stampHeaders(files, site.specFile), charts };
}
