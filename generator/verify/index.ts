// siteforge verify: render the site as it will be deployed (real upstream charts, real values)
// and prove it binds together. Reads the generated tree; writes nothing.
import { KUBESPRAY_GROUP_VARS } from '../render/ansible.ts';
import { siteReleases } from '../model/releases.ts';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { SiteModel } from '../model/site.ts';
import { findOnPath } from '../tools/path.ts';
import { PACKAGE_ROOT } from '../home.ts';
import { UserError } from '../spec/diagnostics.ts';
import { renderDeployedSite, type RenderedRelease } from './render.ts';
import { parse } from 'yaml';
import { kubernetesSchema } from './kubernetes-schema.ts';
import { normaliseImage, runChecks, CHECKS, type NodeTrust, type Problem } from './checks.ts';

export interface VerifyOptions {
  readonly outDir?: string;
  readonly chartCache?: string;
  readonly manifestCache?: string;
  readonly identities: readonly string[];
}

export interface VerifyReport {
  readonly outDir: string;
  readonly releases: readonly RenderedRelease[];
  readonly skipped: readonly { name: string; reason: string }[];
  readonly objects: number;
  readonly checks: readonly string[];
  readonly problems: readonly Problem[];
}

/** A tool from PATH, else the one a siteforge checkout's setup extracted (.tools/bin). */
function tool(name: string): string {
  const found = findOnPath(name) ?? [join(PACKAGE_ROOT, '.tools', 'bin', name)].find((p) => existsSync(p));
  if (!found) throw new UserError(`siteforge verify needs ${name}, and it is not on PATH`, `install ${name} (https://helm.sh/docs/intro/install/ for helm; kubectl from your distribution)`);
  return found;
}

/** What the generated Ansible makes every node trust (ansible/group_vars/all.yml, read as Ansible reads it). */
async function readNodeTrust(outDir: string): Promise<NodeTrust> {
  const text = await readFile(join(outDir, 'ansible', 'group_vars', 'all.yml'), 'utf8').catch(() => '');
  const unsafe = { tag: '!unsafe', resolve: (value: string) => value };
  const vars = (parse(text, { customTags: [unsafe] }) ?? {}) as Record<string, any>;
  const certificate = typeof vars.prepare_site_ca_certificate === 'string' ? vars.prepare_site_ca_certificate : '';
  const path = vars.prepare_site_ca_path;
  const registries = new Set<string>();
  for (const [host, config] of Object.entries((vars.rke2_registry_configs ?? {}) as Record<string, any>)) if (config?.tls?.ca_file === path) registries.add(host);
  for (const m of (vars.k0s_registry_mirrors ?? []) as { registry?: string; mirror?: string; ca?: string }[]) if (!m.mirror && m.ca === path && m.registry) registries.add(m.registry);
  // Kubespray: containerd_registries_mirrors (inventory/group_vars/k8s_cluster.yml), one hosts.toml per prefix; the registry's own host verified against the CA.
  const kubespray = (parse(await readFile(join(outDir, KUBESPRAY_GROUP_VARS, 'k8s_cluster.yml'), 'utf8').catch(() => ''), { customTags: [unsafe] }) ?? {}) as Record<string, any>;
  for (const m of (kubespray.containerd_registries_mirrors ?? []) as { prefix?: string; mirrors?: { host?: string; ca?: string | string[] }[] }[]) {
    if (m.prefix && (m.mirrors ?? []).some((h) => h.host === `https://${m.prefix}` && [h.ca].flat().includes(path))) registries.add(m.prefix);
  }
  return { certificates: certificate ? [certificate] : [], registries };
}

export async function verifySite(site: SiteModel, specPath: string, opts: VerifyOptions): Promise<VerifyReport> {
  const outDir = resolve(opts.outDir ?? dirname(specPath));
  if (!existsSync(join(outDir, '.siteforge', 'manifest.json'))) {
    throw new UserError(`${outDir} holds no generated site`, 'run `siteforge generate` first (verify checks the generated tree)');
  }
  // Output older than the spec: what it lacks cannot be verified, and what it has is not what the spec says.
  const missing = siteReleases(site).releases.filter((r) => r.chartPath && !existsSync(join(outDir, r.chartPath))).map((r) => r.chartPath!);
  if (missing.length) {
    throw new UserError(`${outDir} is older than ${specPath}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} missing`, `run \`siteforge generate ${specPath}\` first (\`generate --check\` shows what changed), then verify`);
  }
  // A progress line on a terminal only: logs and pipes get the report alone.
  const tty = process.stderr.isTTY && !process.env.NO_COLOR && !process.env.CI;
  const progress = tty ? (done: number, total: number, release: string) => process.stderr.write(`\rrendering ${done}/${total}: ${release}\u001b[K${done === total ? '\r\u001b[K' : ''}`) : undefined;
  const rendered = await renderDeployedSite(site, { outDir, helm: tool('helm'), kubectl: tool('kubectl'), chartCache: opts.chartCache && resolve(opts.chartCache), manifestCache: opts.manifestCache && resolve(opts.manifestCache), identities: opts.identities, progress });
  const listed = await readFile(join(outDir, 'images.txt'), 'utf8').catch(() => '');
  const imageList = new Set(listed.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean).map(normaliseImage));
  const nodeTrust = await readNodeTrust(outDir);
  const problems = runChecks({ site, objects: rendered.objects, imageList, encryptedResourceDirs: rendered.encryptedResourceDirs, nodeTrust, kubernetes: await kubernetesSchema() });
  return { outDir, releases: rendered.releases, skipped: rendered.skipped, objects: rendered.objects.length, checks: CHECKS.map((c) => c.name), problems };
}
