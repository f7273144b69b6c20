// Output family: the site documentation (RUNBOOK.md, README.md) and the review helpers
// (GitHub Actions and GitLab CI running siteforge on pull requests, Renovate).
import { createRequire } from 'node:module';
import type { SiteModel } from '../model/site.ts';
import { siteReleases } from '../model/releases.ts';
import { siteSecrets } from '../secrets/store.ts';
import { renderDoc } from './assets.ts';
import { deployKeySecret, SOPS_AGE_SECRET } from './gitops.ts';
import { textFile, toYaml, jsonFile, type GeneratedFile } from './files.ts';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

function runbook(site: SiteModel): GeneratedFile {
  const { releases } = siteReleases(site);
  return textFile(
    'RUNBOOK.md',
    renderDoc('RUNBOOK.md', {
      site: site.name,
      spec: site.specFile,
      nodeCount: site.nodes.length,
      distribution: site.distribution.type,
      version: site.distribution.version,
      flux: site.gitops.engine === 'flux',
      fluxHint: 'Flux 2.4 or newer: Kustomization v1, HelmRelease v2',
      repository: site.gitops.repository,
      deployKey: deployKeySecret(site),
      sopsSecret: SOPS_AGE_SECRET,
      layers: [...new Set(releases.map((r) => r.layer))],
      environments: site.environments.map((e) => e.name),
      secrets: siteSecrets(site).map((s) => `${s.namespace}/${s.def.name}`),
    }),
  );
}

/**
 * How CI gets siteforge: the checkout itself when it is the siteforge repository (whose top level
 * is the example site), else the released package of the version that generated this repository.
 */
const SITEFORGE_COMMAND = `if [ -f generator/cli.ts ]; then npm ci --no-audit --no-fund >/dev/null && echo "npx tsx generator/cli.ts"; else echo "npx --yes siteforge@${version}"; fi`;

/** The commands CI runs on a pull request, the same for GitHub and GitLab ($SITEFORGE set first). */
function reviewCommands(site: SiteModel): string[] {
  return [
    `$SITEFORGE validate ${site.specFile}`,
    `$SITEFORGE generate ${site.specFile} --check`,
    `$SITEFORGE plan ${site.specFile} | tee plan.txt`,
    `for d in $(find clusters secrets -name kustomization.yaml -exec dirname {} \\;); do kubectl kustomize "$d" > /dev/null; done`,
  ];
}

function githubWorkflow(site: SiteModel): GeneratedFile {
  const [validate, check, plan, kustomize] = reviewCommands(site);
  return textFile(
    '.github/workflows/siteforge.yml',
    toYaml({
      name: 'siteforge review',
      on: { pull_request: { branches: [site.gitops.branch] } },
      permissions: { contents: 'read' },
      jobs: {
        review: {
          'runs-on': 'ubuntu-latest',
          steps: [
            { uses: 'actions/checkout@v4' },
            { uses: 'actions/setup-node@v4', with: { 'node-version': '22' } },
            { name: 'siteforge', run: `echo "SITEFORGE=$(${SITEFORGE_COMMAND})" >> "$GITHUB_ENV"` },
            { name: 'Validate the site spec', run: validate },
            { name: 'Generated files match the spec', run: check },
            { name: 'Plan (what this pull request changes)', run: `${plan}\ncat plan.txt >> "$GITHUB_STEP_SUMMARY"` },
            { name: 'Kustomizations build', run: kustomize },
          ],
        },
      },
    }),
  );
}

function gitlabCi(site: SiteModel): GeneratedFile {
  return textFile(
    '.gitlab-ci.yml',
    toYaml({
      'siteforge-review': {
        image: 'node:22',
        rules: [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }],
        before_script: [
          'curl -fsSLo /usr/local/bin/kubectl "https://dl.k8s.io/release/$(curl -fsSL https://dl.k8s.io/release/stable.txt)/bin/linux/amd64/kubectl"',
          'chmod +x /usr/local/bin/kubectl',
          `export SITEFORGE="$(${SITEFORGE_COMMAND})"`,
        ],
        script: reviewCommands(site),
        artifacts: { paths: ['plan.txt'], expose_as: 'siteforge plan' },
      },
    }),
  );
}

function renovate(site: SiteModel): GeneratedFile {
  const distribution = site.distribution.type === 'rke2' ? 'rancher/rke2' : 'k0sproject/k0s';
  return jsonFile('renovate.json', {
    $schema: 'https://docs.renovatebot.com/renovate-schema.json',
    extends: ['config:recommended'],
    // Generated files follow the spec: Renovate changes the spec, siteforge regenerates.
    ignorePaths: ['charts/**', 'releases/**', 'clusters/**', 'environments/**', 'ansible/**'],
    customManagers: [
      {
        customType: 'regex',
        description: 'Kubernetes distribution version in the site spec',
        fileMatch: [`(^|/)${site.specFile.replace(/\./g, '\\.')}$`],
        matchStrings: ['distribution:\\s*\\n(?:\\s+\\w+:.*\\n)*?\\s+version:\\s*(?<currentValue>v[^\\s]+)'],
        datasourceTemplate: 'github-releases',
        depNameTemplate: distribution,
      },
      {
        customType: 'regex',
        description: 'Component chart versions pinned in the site spec (# renovate: registryUrl=... depName=...)',
        fileMatch: [`(^|/)${site.specFile.replace(/\./g, '\\.')}$`],
        matchStrings: ['#\\s*renovate:\\s*registryUrl=(?<registryUrl>\\S+)\\s+depName=(?<depName>\\S+)\\s*\\n\\s*chartVersion:\\s*(?<currentValue>\\S+)'],
        datasourceTemplate: 'helm',
      },
      {
        customType: 'regex',
        description: 'siteforge\'s own table of pinned upstream charts (in the siteforge repository)',
        fileMatch: ['(^|/)generator/components/upstream-charts\\.yaml$'],
        matchStrings: ['(?<depName>[a-z0-9-]+):\\s*\\n\\s+repository:\\s*(?<registryUrl>\\S+)\\s*\\n\\s+version:\\s*(?<currentValue>\\S+)'],
        datasourceTemplate: 'helm',
      },
    ],
  });
}

function readme(site: SiteModel): GeneratedFile {
  return {
    path: 'README.md',
    seed: true,
    content: `# ${site.name} GitOps repository\n\nGenerated by siteforge from \`${site.specFile}\`: the Kubernetes build factory of ${site.domain}.\nStart with [RUNBOOK.md](RUNBOOK.md). This README is yours: siteforge created it once and never\nchanges it.\n`,
  };
}

export function renderDocs(site: SiteModel): GeneratedFile[] {
  return [runbook(site), githubWorkflow(site), gitlabCi(site), renovate(site), readme(site)];
}
