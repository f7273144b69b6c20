// docs/releases.md: every release with every file that belongs to it; every generated file in
// exactly one entry (a release, or the site-wide group), and every listed file exists.
import t from 'tap';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generatedSite, listFiles } from './helpers/cli.ts';

for (const spec of ['site.yaml', 'examples/k0s-gpu.yaml']) {
  t.test(`${spec}: the release index covers every generated file once`, async (t) => {
    const out = await generatedSite(spec, { commit: false });
    const index = await readFile(join(out, 'docs', 'releases.md'), 'utf8');
    const listed = [...index.matchAll(/^\s*- \[`([^`]+)`\]\(\.\.\/\1\)$/gm)].map((m) => m[1]!);
    const generated = (await listFiles(out)).filter((f) => f !== '.siteforge/manifest.json');
    t.same([...listed].sort(), generated, 'every file listed, nothing else');
    t.equal(new Set(listed).size, listed.length, 'no file listed twice');
    for (const f of listed) t.ok(existsSync(join(out, f)), `${f} exists`);
    const releases = [...index.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);
    const helmfileBases = [...(await readFile(join(out, 'helmfile.yaml'), 'utf8')).matchAll(/^  - releases\/([^.]+)\.yaml$/gm)].map((m) => m[1]!);
    t.same(releases.filter((r) => r !== 'Site-wide files').sort(), [...new Set(helmfileBases)].sort(), 'one entry per release definition');
    const harbor = index.split('\n## ').find((s) => s.startsWith('harbor\n'));
    if (harbor) {
      t.match(harbor, /upstream: `harbor` 1\.19\.1 from https:\/\/helm\.goharbor\.io/);
      t.match(harbor, /\[`secrets\/cluster\/harbor\/harbor-admin\.sops\.yaml`\]/, 'its secrets are its files');
      t.match(harbor, /\[`clusters\/hpc4\/infrastructure\/harbor\.yaml`\]/, 'its Flux object');
    }
    await rm(out, { recursive: true, force: true });
  });
}
