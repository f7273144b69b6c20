// Output family: the site documentation (RUNBOOK.md, README.md) and the review helpers
// (GitHub Actions and GitLab CI running siteforge on pull requests, Renovate).
import { PACKAGE_NAME, PACKAGE_VERSION as version } from '../home.ts';
import type { SiteModel } from '../model/site.ts';
import { siteReleases } from '../model/releases.ts';
import { upstreamKustomization } from '../components/upstream.ts';
import { siteSecrets } from '../secrets/store.ts';
import { renderDoc } from './assets.ts';
import { diagramsMarkdown, siteDiagrams } from './diagrams.ts';
import { credentialKeys, siteAlertRules } from '../components/alerting.ts';
import { ssoClientId, ssoIssuer, ssoRedirectUrl } from '../components/argo-workflows.ts';
import { deployKeySecret, FLUX_BOOTSTRAP_FILES, fluxBootstrapCommand, fluxSelfKustomization, layerTimeout, readsWithDeployKey, releaseTimeout, SOPS_AGE_SECRET } from './gitops.ts';
import { FLUX_EXTRA_COMPONENTS, FLUX_MINIMUM_VERSION } from '../model/flux.ts';
import { toleratesAll } from '../model/taints.ts';
import { loadBalancerFirst } from '../components/web.ts';
import { textFile, toYaml, jsonFile, type GeneratedFile } from './files.ts';
import { HUB_API_PORT, hubApiHost } from '../components/jupyterhub.ts';
import { KUBESPRAY_SNAPSHOT_DIR } from '../model/kubespray.ts';
import { HARBOR_PROXY_PROJECTS, HARBOR_ROBOT_PREFIX, HARBOR_SECRETS, harborHostname, harborOidcRedirect, harborRobotName } from '../components/harbor.ts';
import { clusterSecretPath, SOPS_AGE_KEY } from '../secrets/types.ts';
import { argocdHostname } from '../components/argo-cd.ts';
import { chartOf } from '../components/upstream.ts';
import { LDAP_SECRET, MUNGE_KEY_SECRET, SLURM_NAMESPACE, slurmClusterName } from '../components/slurm.ts';
import { hpkJobName } from '../model/hpk.ts';


function runbook(site: SiteModel): GeneratedFile {
  const { releases } = siteReleases(site);
  return textFile(
    'RUNBOOK.md',
    renderDoc('RUNBOOK.md', {
      site: site.name,
      spec: site.specFile,
      diagrams: diagramsMarkdown(siteDiagrams(site)),
      argocd: (() => {
        const a = site.componentSettings.argoCd;
        if (!a.enabled) return false;
        return {
          chart: chartOf({ chart: 'argo-cd', ...(a.chartVersion ? { version: a.chartVersion } : {}) }).version,
          toolsImage: a.toolsImage ?? '',
          host: argocdHostname(site),
          oidc: site.identity.oidc ? { issuer: site.identity.oidc.issuer, admins: a.adminGroups.join(', ') } : false,
        };
      })(),
      harborSetup: (() => {
        const h = site.componentSettings.harbor;
        if (!h.enabled) return false;
        const list = (items: string[]) => items.map((i) => `\`${i}\``).join(', ');
        return {
          schedule: h.setup.schedule,
          host: harborHostname(site),
          projects: h.projects.map((p) => `\`${p.name}\` (${p.public ? 'public' : 'private'}${p.environments ? `, pushed to by ${p.environments.join(', ')}` : ''})`).join(', ') || 'none',
          proxies: list(Object.values(HARBOR_PROXY_PROJECTS)),
          robots: site.environments.map((e) => `\`${HARBOR_ROBOT_PREFIX}${harborRobotName(e.name)}\` in ${e.namespace}`).join(', '),
        };
      })(),
      harborAuth: (() => {
        const h = site.componentSettings.harbor;
        if (!h.enabled || h.auth.mode === 'database') return false;
        return {
          ldap: h.auth.mode === 'ldap',
          directory: site.identity.ldap ? `${site.identity.ldap.url} (users under ${site.identity.ldap.userBase})` : '',
          bindSecret: h.auth.mode === 'ldap' && site.identity.ldap?.bindDn ? clusterSecretPath('harbor', HARBOR_SECRETS.auth) : '',
          issuer: h.auth.mode === 'oidc' ? (h.auth.oidc.issuer ?? site.identity.oidc?.issuer ?? '') : '',
          clientId: h.auth.oidc.clientId,
          redirect: harborOidcRedirect(site),
          admins: h.auth.mode === 'ldap' ? (h.auth.ldap.adminGroupDn ?? '') : (h.auth.oidc.adminGroup ?? ''),
        };
      })(),
      sshProxy: site.componentSettings.sshProxy.enabled
        ? {
            address: site.componentSettings.sshProxy.loadBalancerIP ?? 'the address MetalLB gives Service ssh-proxy/ssh-proxy',
            replicas: site.componentSettings.sshProxy.replicas,
            nodes: site.componentSettings.sshProxy.loginNodes.map((n) => `${n.name} (${n.address}:${n.port})`).join(', '),
            interval: site.componentSettings.sshProxy.healthCheck.intervalSeconds,
            fall: site.componentSettings.sshProxy.healthCheck.fall,
            rise: site.componentSettings.sshProxy.healthCheck.rise,
          }
        : false,
      jupyterhub: (() => {
        const j = site.componentSettings.jupyterhub;
        if (!j.enabled || !site.identity.ldap) return false;
        return {
          host: j.hostname ?? `jupyter.${site.domain}`,
          ldap: `${site.identity.ldap.url}, users under ${site.identity.ldap.userBase}`,
          groups: j.allowedGroups.join(', '),
          profiles: j.profiles.map((p) => `${p.display} (${p.partition})`).join('; '),
          api: `http://${hubApiHost(j as never)}:${HUB_API_PORT}`,
          networks: j.computeNetworks.join(', '),
          idle: j.idleTimeoutSeconds,
          image: j.hubImage ?? '',
          bindDn: site.identity.ldap.bindDn ?? '',
        };
      })(),
      syslog: (() => {
        const s = site.componentSettings.syslog;
        if (!s.enabled) return false;
        return {
          address: s.hostname ? `${s.hostname} (${s.loadBalancerIP ?? 'the address MetalLB gives Service syslog/syslog'})` : (s.loadBalancerIP ?? 'the address MetalLB gives Service syslog/syslog'),
          nodes: s.nodes,
          nodeProtocol: s.nodeProtocol.toUpperCase(),
          size: s.size,
          retentionDays: s.retentionDays,
          forward: s.forward ? `${s.forward.host}:${s.forward.port} (${s.forward.protocol.toUpperCase()})` : '',
        };
      })(),
      slurm: (() => {
        const s = site.componentSettings.slurm;
        if (!s.enabled) return false;
        return {
          cluster: slurmClusterName(site, s),
          hostname: s.hostname ?? '',
          address: s.loadBalancerIP ?? '',
          externalDns: site.componentSettings.externalDns.enabled,
          partitions: s.partitions.map((p) => `${p.name}${p.default ? ' (default)' : ''}: ${p.nodeSets.map((n) => s.nodeSets.find((set) => set.name === n)?.nodes ?? n).join(', ')}`).join('; '),
          enforce: s.accountingEnforce.join(','),
          associations: s.accountingEnforce.includes('associations'),
          cgroups: s.cgroups,
          munge: clusterSecretPath(SLURM_NAMESPACE, MUNGE_KEY_SECRET),
          stateSize: s.stateSize,
          databaseSize: s.databaseSize,
          jupyterhub: site.componentSettings.jupyterhub.enabled && !site.componentSettings.jupyterhub.slurm,
          sync: s.accountingSync.enabled
            ? {
                groups: s.accountingSync.groups.join(', '),
                schedule: s.accountingSync.schedule,
                prune: s.accountingSync.prune,
                member: s.accountingSync.memberAttribute,
                directory: `${site.identity.ldap?.url} under ${site.identity.ldap?.groupBase}`,
                bindSecret: site.identity.ldap?.bindDn ? clusterSecretPath(SLURM_NAMESPACE, LDAP_SECRET) : '',
              }
            : false,
        };
      })(),
      sso: (() => {
        const { argoWorkflows } = site.componentSettings;
        if (!argoWorkflows.enabled || !argoWorkflows.sso.enabled) return false;
        const { sso } = argoWorkflows;
        return {
          issuer: ssoIssuer(site, sso),
          clientId: ssoClientId(site),
          redirectUrl: ssoRedirectUrl(site),
          rbac: sso.rbac.map((e) => ({ group: e.group, role: e.role, environments: (e.environments ?? site.environments.map((env) => env.name)).join(', ') })),
        };
      })(),
      alerting: site.alerting.receivers.length
        ? {
            receivers: site.alerting.receivers.map((r) => ({
              name: r.name,
              severities: r.severities.join(', '),
              via: [r.email ? `mail to ${r.email.to.join(', ')}` : '', r.slack ? 'Slack' : '', r.mattermost ? 'Mattermost' : '', r.webhook ? `webhook ${r.webhook.url}` : ''].filter(Boolean).join(', '),
            })),
            credentials: site.alerting.receivers.flatMap(credentialKeys).join(', '),
            rules: site.alerting.siteRules ? ((siteAlertRules(site).groups as { rules: { alert: string }[] }[])[0]!.rules.map((r) => r.alert).join(', ')) : '',
          }
        : false,
      selfMutated: releases.filter((r) => r.def.selfMutated?.length).map((r) => ({ release: r.name, fields: [...new Set(r.def.selfMutated!.map((m) => m.kind === 'CustomResourceDefinition' ? `${m.name ?? 'CRD'} conversion CA` : `${m.kind} CA bundles`))].join(', ') })),
      releaseTimeouts: releases.filter((r) => r.def.timeout).map((r) => ({ release: r.name, timeout: releaseTimeout(r) })),
      layerTimeouts: [...new Set(releases.map((r) => r.layer))].map((layer) => ({ layer, timeout: layerTimeout(releases.filter((r) => r.layer === layer)) })),
      nodeCount: site.nodes.length,
      hpk: site.distribution.type === 'hpk' && site.distribution.hpk
        ? {
            runtime: site.distribution.hpk.runtime,
            host: `${site.bootstrapServer.name} (${site.bootstrapServer.address})`,
            slurm: site.distribution.hpk.supervisor === 'slurm',
            jobName: hpkJobName(site),
            stateDir: site.distribution.hpk.stateDir,
          }
        : false,
      distribution: site.distribution.type,
      rke2: site.distribution.type === 'rke2',
      kubespray: site.distribution.type === 'kubespray' ? { release: site.distribution.kubespray.release, snapshots: KUBESPRAY_SNAPSHOT_DIR } : false,
      version: site.distribution.version,
      flux: site.gitops.engine === 'flux',
      ingress: site.ingress
        ? {
            traefik: site.ingress === 'rke2Traefik',
            rke2: site.distribution.type === 'rke2',
            // Where its DaemonSet runs: the nodes whose every repelling taint the cluster components tolerate.
            nodes: site.nodes.filter((n) => toleratesAll(n.taints, site.clusterTolerations)).map((n) => `${n.name} ${n.address}`),
            loadBalancerFirst: loadBalancerFirst(site),
            tls: site.componentSettings.certManager.enabled,
          }
        : false,
      fluxBootstrap: site.gitops.engine === 'flux'
        ? {
            command: fluxBootstrapCommand(site).join(' \\\n  && '),
            ageKey: FLUX_BOOTSTRAP_FILES.ageKey,
            deployKey: readsWithDeployKey(site) ? FLUX_BOOTSTRAP_FILES.deployKey : '',
            version: site.gitops.flux.version,
            minimum: FLUX_MINIMUM_VERSION,
            selfManaged: site.gitops.flux.selfManaged,
            kustomization: fluxSelfKustomization(site),
            manifests: site.gitops.flux.manifests,
            manifestsImage: site.gitops.flux.manifests.replace(/^oci:\/\//, ''),
            extras: FLUX_EXTRA_COMPONENTS.join(', '),
          }
        : false,
      repository: site.gitops.repository,
      deployKey: deployKeySecret(site),
      sopsSecret: SOPS_AGE_SECRET,
      sopsKey: SOPS_AGE_KEY,
      layers: [...new Set(releases.map((r) => r.layer))],
      environments: site.environments.map((e) => e.name),
      secrets: siteSecrets(site).map((s) => `${s.namespace}/${s.def.name}`),
      siteCa: site.componentSettings.certManager.enabled ? `cert-manager/${site.componentSettings.certManager.caSecret}` : '',
      siteCaName: site.componentSettings.certManager.caSecret,
      apiEndpoint: site.distribution.apiEndpoint ? `${site.distribution.apiEndpoint.hostname ? `${site.distribution.apiEndpoint.hostname} (${site.distribution.apiEndpoint.address})` : site.distribution.apiEndpoint.address}` : '',
      kubeVip: site.distribution.apiEndpoint?.type === 'kubeVip',
      etcdS3: site.distribution.backup.s3 ? `s3://${site.distribution.backup.s3.bucket}/${site.distribution.backup.s3.folder ?? site.name} at ${site.distribution.backup.s3.endpoint}` : '',
    }),
  );
}

/**
 * How CI gets siteforge: `npm ci` installs the generator the repository pins in package.json and
 * package-lock.json (in the siteforge repository itself, it builds the checkout), and npx runs
 * that exact install, never a download of whatever the registry holds under the name.
 */
const INSTALL_COMMAND = 'npm ci --no-audit --no-fund';
/** helm for `siteforge verify` in CI (helm template with the real upstream charts). */
const HELM_VERSION = 'v4.1.4';
const SITEFORGE_COMMAND = 'npx --no-install siteforge';

/** The commands CI runs on a pull request, the same for GitHub and GitLab ($SITEFORGE set first). */
function reviewCommands(site: SiteModel): string[] {
  const kustomizeTrees = siteReleases(site).releases.filter((r) => r.def.kustomization).map((r) => upstreamKustomization(r.def.kustomization!));
  return [
    `$SITEFORGE validate ${site.specFile}`,
    `$SITEFORGE generate ${site.specFile} --check`,
    `$SITEFORGE plan ${site.specFile} | tee plan.txt`,
    // Directories with a KSOPS generator (Argo CD) need the ksops plugin and the age key to build; verify reads them.
    `for d in $(find clusters secrets -name kustomization.yaml -exec dirname {} \\;); do grep -q '^generators:' "$d/kustomization.yaml" || kubectl kustomize "$d" > /dev/null; done`,
    // helm dependency build fetches each wrapper's pinned upstream chart; releases from an upstream kustomize
    // tree come as their tag's source archive; verify renders and cross-checks them all.
    [
      ...(kustomizeTrees.length ? ['M="${TMPDIR:-/tmp}/siteforge-manifests"', 'mkdir -p "$M"'] : []),
      ...kustomizeTrees.map((k) => `git clone -q --depth 1 --branch ${k.version} ${k.git}.git "$M/${k.name}" && git -C "$M/${k.name}" archive --prefix=${k.name}-${k.version}/ -o "$M/${k.name}-${k.version}.tar.gz" HEAD`),
      'for c in charts/*/; do helm dependency build "$c" > /dev/null && helm lint --quiet "$c"; done',
      `$SITEFORGE verify ${site.specFile}${kustomizeTrees.length ? ' --manifests "$M"' : ''}`,
    ].join(' && '),
  ];
}

/**
 * The linters of the generated tree, run in Debian bookworm (its ansible, ansible-lint, yamllint and
 * shellcheck, the versions siteforge's own tests run): yamllint over the generated YAML (the spec
 * is the site's own file) with the repository's .yamllint.yaml, then ansible-lint's production
 * profile over ansible/ (collections from Debian's ansible package), or for HPK shellcheck over
 * the scripts and the job.
 */
const LINT_IMAGE = 'debian:bookworm';
/** The lint step's name in the GitHub workflow. */
export const lintStepName = (site: SiteModel) => (site.distribution.type === 'hpk' ? 'yamllint and shellcheck' : 'yamllint and ansible-lint');
export function lintCommands(site: SiteModel): string[] {
  const hpk = site.distribution.type === 'hpk';
  return [
    `yamllint --strict helmfile.yaml .sops.yaml ${hpk ? '' : 'ansible '}charts clusters environments releases secrets`,
    hpk ? '(cd hpk && shellcheck -x *.sh hpk.sbatch hpk.env)' : '(cd ansible && ansible-lint --offline --profile production --nocolor -q)',
  ];
}
const lintInstall = (site: SiteModel) => [
  'apt-get update -qq',
  `DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ${site.distribution.type === 'hpk' ? 'shellcheck' : 'ansible ansible-lint'} yamllint git > /dev/null`,
  // The playbooks import Kubespray's: the pinned release as a collection, before the offline lint.
  ...(site.distribution.type === 'kubespray' ? ['ansible-galaxy collection install -r ansible/requirements.yml > /dev/null'] : []),
];

/** yamllint's configuration for the generated tree: Helm templates are not YAML until rendered; generated lines may be long. */
function yamllintConfig(): GeneratedFile {
  return textFile(
    '.yamllint.yaml',
    toYaml({
      extends: 'default',
      ignore: ['charts/*/templates/', 'node_modules/'],
      rules: { 'line-length': 'disable', 'document-start': 'disable', comments: { 'min-spaces-from-content': 1 } },
    }),
  );
}

function githubWorkflow(site: SiteModel): GeneratedFile {
  const [validate, check, plan, kustomize, verify] = reviewCommands(site);
  return textFile(
    '.github/workflows/siteforge.yml',
    toYaml({
      name: 'siteforge review',
      on: { pull_request: { branches: [site.gitops.branch] } },
      permissions: { contents: 'read', 'pull-requests': 'write' },
      jobs: {
        review: {
          'runs-on': 'ubuntu-latest',
          env: { SITEFORGE: SITEFORGE_COMMAND },
          steps: [
            { uses: 'actions/checkout@v4' },
            { uses: 'actions/setup-node@v4', with: { 'node-version': '22' } },
            { name: 'Install the pinned siteforge', run: INSTALL_COMMAND },
            { name: 'Validate the site spec', run: validate },
            { name: 'Generated files match the spec', run: check },
            { name: 'Plan (what this pull request changes)', run: `${plan}\n$SITEFORGE plan ${site.specFile} --markdown > plan.md\ncat plan.md >> "$GITHUB_STEP_SUMMARY"` },
            {
              name: 'Plan as a pull-request comment (updated in place)',
              env: { GH_TOKEN: '${{ github.token }}', PR: '${{ github.event.pull_request.number }}' },
              run: 'gh pr comment "$PR" --body-file plan.md --edit-last || gh pr comment "$PR" --body-file plan.md',
            },
            { name: 'Kustomizations build', run: kustomize },
            { uses: 'azure/setup-helm@v4', with: { version: HELM_VERSION } },
            { name: 'Deployable: every release rendered with its upstream chart, cross-checked', run: verify },
          ],
        },
        lint: {
          'runs-on': 'ubuntu-latest',
          container: LINT_IMAGE,
          steps: [
            { name: 'Install the linters (Debian bookworm)', run: lintInstall(site).join('\n') },
            { uses: 'actions/checkout@v4' },
            { name: lintStepName(site), run: lintCommands(site).join('\n') },
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
        variables: { SITEFORGE: SITEFORGE_COMMAND },
        rules: [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }],
        before_script: [
          'curl -fsSLo /usr/local/bin/kubectl "https://dl.k8s.io/release/$(curl -fsSL https://dl.k8s.io/release/stable.txt)/bin/linux/amd64/kubectl"',
          'chmod +x /usr/local/bin/kubectl',
          `curl -fsSL "https://get.helm.sh/helm-${HELM_VERSION}-linux-amd64.tar.gz" | tar -xz -C /usr/local/bin --strip-components=1 linux-amd64/helm`,
          INSTALL_COMMAND,
        ],
        script: reviewCommands(site),
        // plan.md is the Markdown plan reviewers read on the merge request (exposed artifact).
        after_script: [`$SITEFORGE plan ${site.specFile} --markdown > plan.md || true`],
        artifacts: { paths: ['plan.txt', 'plan.md'], expose_as: 'siteforge plan', when: 'always' },
      },
      'siteforge-lint': {
        image: LINT_IMAGE,
        rules: [{ if: '$CI_PIPELINE_SOURCE == "merge_request_event"' }],
        before_script: lintInstall(site),
        script: lintCommands(site),
      },
    }),
  );
}

function renovate(site: SiteModel): GeneratedFile {
  const specFile = [`(^|/)${site.specFile.replace(/\./g, '\\.')}$`];
  return jsonFile('renovate.json', {
    $schema: 'https://docs.renovatebot.com/renovate-schema.json',
    extends: ['config:recommended'],
    // Generated files follow the spec: Renovate changes the spec, siteforge regenerates.
    ignorePaths: ['charts/**', 'releases/**', 'clusters/**', 'environments/**', site.distribution.type === 'hpk' ? 'hpk/**' : 'ansible/**'],
    // Every update (the generator pin in package.json, versions in the spec) regenerates the tree
    // on the Renovate branch, so its pull request passes the drift check. A self-hosted Renovate
    // must allow these commands (allowedPostUpgradeCommands); see RUNBOOK.md.
    postUpgradeTasks: {
      commands: [INSTALL_COMMAND, `${SITEFORGE_COMMAND} generate ${site.specFile} --no-commit`],
      fileFilters: ['**/*', '.*/**', '.*'],
      executionMode: 'branch',
    },
    packageRules: [{ description: 'The generator is pinned exactly; its updates regenerate the repository', matchPackageNames: [PACKAGE_NAME], rangeStrategy: 'pin' }],
    customManagers: [
      site.distribution.type === 'hpk'
        ? {
            customType: 'regex',
            description: 'HPK control-plane image pinned in the site spec (change distribution.version with it)',
            fileMatch: specFile,
            matchStrings: ['controlPlaneImage:\\s*"?(?<depName>[a-z0-9][^\\s:@"]*(?::[0-9]+)?(?:/[^\\s:@"]+)+):(?<currentValue>[A-Za-z0-9_][A-Za-z0-9_.-]*)(?:@(?<currentDigest>sha256:[a-f0-9]{64}))?"?'],
            datasourceTemplate: 'docker',
          }
        : site.distribution.type === 'kubespray'
          ? {
              customType: 'regex',
              description: 'Kubespray release in the site spec (choose distribution.version among the Kubernetes versions the new release builds)',
              fileMatch: specFile,
              matchStrings: ['kubespray:\\s*\\n(?:\\s+\\w+:.*\\n)*?\\s+release:\\s*(?<currentValue>v[^\\s]+)', 'kubespray:\\s*\\{[^}]*release:\\s*(?<currentValue>v[^\\s,}]+)'],
              datasourceTemplate: 'github-releases',
              depNameTemplate: 'kubernetes-sigs/kubespray',
            }
          : {
              customType: 'regex',
              description: 'Kubernetes distribution version in the site spec',
              fileMatch: specFile,
              matchStrings: ['distribution:\\s*\\n(?:\\s+\\w+:.*\\n)*?\\s+version:\\s*(?<currentValue>v[^\\s]+)'],
              datasourceTemplate: 'github-releases',
              depNameTemplate: site.distribution.type === 'rke2' ? 'rancher/rke2' : 'k0sproject/k0s',
            },
      ...(site.gitops.engine === 'flux'
        ? [
            {
              customType: 'regex',
              description: 'The Flux release in the site spec (spec.gitops.flux.version): the bootstrap installs it and, self-managed, the repository upgrades Flux to it',
              fileMatch: specFile,
              // spec.gitops.flux at the spec's usual indentation (two spaces a level): the block's own lines only.
              matchStrings: ['\\n    flux:[ \\t]*\\n(?:      .*\\n)*?      version:[ \\t]*"?(?<currentValue>v[0-9][^\\s"]*)"?', '\\n    flux:[ \\t]*\\{[^}]*version:[ \\t]*"?(?<currentValue>v[0-9][^\\s",}]*)'],
              datasourceTemplate: 'github-releases',
              depNameTemplate: 'fluxcd/flux2',
            },
          ]
        : []),
      {
        customType: 'regex',
        description: 'Images pinned in the site spec: workflows and steps, and the images components name (image, hubImage, toolsImage, databaseImage, ...; tags, digests too)',
        fileMatch: specFile,
        matchStrings: ['[Ii]mage:\\s*"?(?<depName>[a-z0-9][^\\s:@"]*(?::[0-9]+)?(?:/[^\\s:@"]+)+|[a-z0-9][^\\s:@/"]*):(?<currentValue>[A-Za-z0-9_][A-Za-z0-9_.-]*)(?:@(?<currentDigest>sha256:[a-f0-9]{64}))?"?'],
        datasourceTemplate: 'docker',
      },
      {
        customType: 'regex',
        description: 'Component chart versions pinned in the site spec (# renovate: registryUrl=... depName=...)',
        fileMatch: specFile,
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

/**
 * The site repository's package.json (a seed: created once, then the repository's own, so Renovate
 * and people may bump it): it pins the exact generator that wrote the repository, so CI and
 * every admin regenerate with that version. `siteforge new --generator <spec>` chooses another
 * source (a tarball, a git URL at a commit) while the package is unpublished.
 */
export function sitePackageJson(site: Pick<SiteModel, 'name' | 'domain' | 'specFile'>, generator = version): GeneratedFile {
  return {
    path: 'package.json',
    seed: true,
    content: `${JSON.stringify(
      {
        name: `${site.name}-gitops`,
        private: true,
        description: `GitOps repository of ${site.domain}, generated by siteforge from ${site.specFile}`,
        scripts: {
          validate: `siteforge validate ${site.specFile}`,
          generate: `siteforge generate ${site.specFile}`,
          check: `siteforge generate ${site.specFile} --check`,
          plan: `siteforge plan ${site.specFile}`,
        },
        devDependencies: { [PACKAGE_NAME]: generator },
      },
      null,
      2,
    )}\n`,
  };
}

/** Keeps what `npm ci` installs out of the repository (a seed: the repository's own afterwards). */
const gitignoreSeed = (): GeneratedFile => ({ path: '.gitignore', seed: true, content: 'node_modules/\n' });

/** Pull-request review collapses generated files; the spec and hand-written files stay open. */
function gitattributes(): GeneratedFile {
  const generated = ['ansible/**', 'charts/**', 'clusters/**', 'docs/**', 'environments/**', 'releases/**', 'secrets/**', 'helmfile.yaml', 'images.txt', 'RUNBOOK.md', 'site.schema.json', '.sops.yaml', '.siteforge/**', '.github/workflows/siteforge.yml', '.gitlab-ci.yml', '.yamllint.yaml', 'renovate.json'];
  return textFile('.gitattributes', ['# Generated paths: collapsed in pull-request diffs (GitHub linguist-generated, GitLab gitlab-generated).', ...generated.map((p) => `${p} linguist-generated=true gitlab-generated=true`)].join('\n'));
}

/** pre-commit hooks: the spec validates and the generated tree matches it before every commit. */
function preCommitConfig(site: SiteModel): GeneratedFile {
  return textFile(
    '.pre-commit-config.yaml',
    toYaml({
      repos: [
        {
          repo: 'local',
          hooks: [
            { id: 'siteforge-validate', name: 'siteforge validate', entry: `${SITEFORGE_COMMAND} validate ${site.specFile}`, language: 'system', pass_filenames: false, files: `^${site.specFile.replace(/\./g, '\\.')}$` },
            { id: 'siteforge-check', name: 'siteforge generate --check', entry: `${SITEFORGE_COMMAND} generate ${site.specFile} --check`, language: 'system', pass_filenames: false },
          ],
        },
      ],
    }),
  );
}

function readme(site: SiteModel): GeneratedFile {
  return {
    path: 'README.md',
    seed: true,
    content: `# ${site.name} GitOps repository\n\nGenerated by siteforge from \`${site.specFile}\`: the Kubernetes build factory of ${site.domain}.\nStart with [RUNBOOK.md](RUNBOOK.md). This README is yours: siteforge created it once and never\nchanges it.\n`,
  };
}

export function renderDocs(site: SiteModel): GeneratedFile[] {
  return [runbook(site), githubWorkflow(site), gitlabCi(site), renovate(site), readme(site), sitePackageJson(site), gitignoreSeed(), gitattributes(), preCommitConfig(site), yamllintConfig()];
}
