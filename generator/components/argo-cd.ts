// Argo CD managing itself (gitops.engine argocd): the argo-cd chart as a release of the site, so an
// upgrade of Argo CD is a reviewed commit like any other. Its repo server decrypts what siteforge
// encrypts: KSOPS as a kustomize exec plugin for the secrets directories (kustomize build options
// in argocd-cm), helm-secrets for the SOPS helm values files (secrets:// value files), both with
// the age key from the sops-age Secret made at bootstrap. The tools come from one image the site
// builds (ksops, kustomize, sops and the helm-secrets plugin under /tools), copied in by an init
// container. Applications report their health (the argoproj.io/Application health check, set in
// argocd-cm by the chart values), so the app of apps waits wave by wave. People sign in through
// the site's OIDC provider when spec.identity.oidc is set, with the groups the spec names as admins.
import { Type } from '@sinclair/typebox';
import { ChartVersion, DnsName, ImageReference, imagePin, OidcGroup } from '../spec/formats.ts';
import { defineComponent, type ReleaseDef } from './types.ts';
import { random, SOPS_AGE_KEY, SOPS_AGE_SECRET, type SecretDef } from '../secrets/types.ts';
import { ingressFor } from './web.ts';
import { show } from '../spec/diagnostics.ts';
import { isString } from '../spec/guards.ts';
import type { SiteModel } from '../model/site.ts';

export const ARGOCD_NAMESPACE = 'argocd';
export const ARGOCD_OIDC_SECRET = 'argocd-oidc';
/** The Redis password the chart's components read (name and key fixed by the chart); siteforge makes it instead of the chart's pre-install Job. */
export const ARGOCD_REDIS_SECRET = 'argocd-redis';
/** Where the init container puts the tools image's /tools. */
const TOOLS_DIR = '/custom-tools';

/**
 * The health of an Application as its own status says (Argo CD removed this check from its
 * defaults in 1.8): without it, a parent Application counts its children healthy at once and sync
 * waves do not wait for them.
 */
export const APPLICATION_HEALTH_LUA = [
  'hs = {}',
  'hs.status = "Progressing"',
  'hs.message = ""',
  'if obj.status ~= nil and obj.status.health ~= nil then',
  '  hs.status = obj.status.health.status',
  '  if obj.status.health.message ~= nil then',
  '    hs.message = obj.status.health.message',
  '  end',
  'end',
  'return hs',
  '',
].join('\n');

/** The Argo CD URL people open: argocd.<domain> unless the spec names another. */
export const argocdHostname = (site: SiteModel) => site.componentSettings.argoCd.hostname ?? `argocd.${site.domain}`;

export const argoCd = defineComponent({
  name: 'argoCd',
  title: 'Argo CD, managed from this repository (gitops.engine argocd): KSOPS and helm-secrets in its repo server',
  dependsOn: ['namespaces', 'ingressNginx', 'certManager'],
  notUnderHpk: 'HPK sites use Flux: the Argo CD repo server and controller would be long-running Slurm jobs beside the control plane',
  settings: Type.Object(
    {
      enabled: Type.Boolean({ default: false, description: 'Install and then manage Argo CD from this repository (with gitops.engine argocd). Off: Argo CD is installed by hand (RUNBOOK).' }),
      chartVersion: ChartVersion(),
      toolsImage: Type.Optional(
        ImageReference({
          description:
            'The image the repo server takes its decryption tools from, pinned: /tools/ksops, /tools/kustomize, /tools/sops and the helm-secrets plugin in /tools/helm-plugins/helm-secrets (RUNBOOK: a four-stage Containerfile). Required.',
        }),
      ),
      hostname: Type.Optional(DnsName({ description: 'Where people open Argo CD (default argocd.<domain>), through the ingress with the site CA\'s TLS.' })),
      adminGroups: Type.Array(OidcGroup({ expected: 'a group name as the OIDC provider puts it in the groups claim' }), {
        default: [],
        description: 'With spec.identity.oidc: groups whose members are Argo CD admins (everyone else who signs in may only read).',
      }),
    },
    { additionalProperties: false },
  ),
  check(ctx, settings) {
    const at = ['spec', 'components', 'argoCd'];
    const engine = ctx.spec.spec?.gitops?.engine ?? 'flux';
    if (engine !== 'argocd') {
      ctx.report('error', [...at, 'enabled'], `Argo CD is enabled, and gitops.engine is ${show(engine)}`, { hint: 'set gitops.engine: argocd, or disable argoCd' });
    }
    const image = settings?.toolsImage;
    if (!isString(image)) {
      ctx.report('error', at, 'Argo CD\'s repo server needs the tools image it decrypts with (ksops, kustomize, sops, helm-secrets)', {
        expected: 'toolsImage: registry.example.edu/gitops/argocd-tools:1.0.0',
        hint: 'build it as the RUNBOOK shows and set toolsImage',
      });
    } else {
      const { tag, digest } = imagePin(image);
      if (tag === undefined && digest === undefined) ctx.report('error', [...at, 'toolsImage'], `the tools image ${show(image)} is not pinned`, { hint: 'pin a version tag or digest' });
    }
    if (Array.isArray(settings?.adminGroups) && settings.adminGroups.length && !ctx.spec.spec?.identity?.oidc) {
      ctx.report('error', [...at, 'adminGroups'], 'admin groups come from the OIDC provider\'s groups claim, and spec.identity.oidc is not set', { hint: 'set spec.identity.oidc.issuer, or drop adminGroups' });
    }
  },
  secrets(site): SecretDef[] {
    return [
      { name: ARGOCD_REDIS_SECRET, scope: 'cluster', namespace: ARGOCD_NAMESPACE, description: 'The password of Argo CD\'s Redis (its cache)', data: { auth: random(32) } },
      ...(site.identity.oidc ? [{
        name: ARGOCD_OIDC_SECRET,
        scope: 'cluster',
        namespace: ARGOCD_NAMESPACE,
        description: 'Argo CD\'s OIDC client secret: register it at the provider (client argocd)',
        data: { 'client-secret': random(40) },
        // Argo CD resolves $argocd-oidc:client-secret only in Secrets that carry its part-of label.
        labels: { 'app.kubernetes.io/part-of': 'argocd' },
      } satisfies SecretDef] : []),
    ];
  },
  releases(site, settings): ReleaseDef[] {
    const host = argocdHostname(site);
    const ingress = ingressFor(site, host, 'argocd-tls');
    const oidc = site.identity.oidc;
    const tools = (path: string) => `${TOOLS_DIR}/${path}`;
    return [
      {
        name: 'argo-cd',
        layer: 'operators',
        description: 'Argo CD, managing itself and every release of the site',
        scope: 'cluster',
        namespace: ARGOCD_NAMESPACE,
        upstream: { chart: 'argo-cd' },
        podTolerations: {
          'global.tolerations': [],
        },
        images: [settings.toolsImage!],
        values: {
          'argo-cd': {
            // The chart's CRDs stay when the release is removed: deleting them would delete every Application.
            crds: { keep: true },
            // The Redis password is a SOPS secret of the site (argocd-redis), not a pre-install Job's.
            redisSecretInit: { enabled: false },
            configs: {
              cm: {
                url: `https://${host}`,
                // KSOPS is an exec plugin: kustomize runs it only with these options.
                'kustomize.buildOptions': '--enable-alpha-plugins --enable-exec',
                // helm-secrets: value files named secrets://<path> are decrypted with sops.
                'helm.valuesFileSchemes': 'secrets, https',
                'resource.customizations.health.argoproj.io_Application': APPLICATION_HEALTH_LUA,
                ...(oidc
                  ? {
                      'admin.enabled': false,
                      'oidc.config': [
                        'name: SSO',
                        `issuer: ${JSON.stringify(oidc.issuer)}`,
                        'clientID: argocd',
                        `clientSecret: $${ARGOCD_OIDC_SECRET}:client-secret`,
                        'requestedScopes: ["openid", "profile", "email", "groups"]',
                        '',
                      ].join('\n'),
                    }
                  : {}),
              },
              // Behind RKE2's Traefik the ingress ends TLS and the server speaks plain HTTP to it (the
              // chart's ingress then points at the http port); behind ingress-nginx the server keeps TLS.
              ...(ingress && site.ingress === 'rke2Traefik' ? { params: { 'server.insecure': true } } : {}),
              ...(oidc
                ? {
                    rbac: {
                      'policy.default': 'role:readonly',
                      'policy.csv': settings.adminGroups.map((g) => `g, ${JSON.stringify(g)}, role:admin`).join('\n') + (settings.adminGroups.length ? '\n' : ''),
                      scopes: '[groups]',
                    },
                  }
                : {}),
            },
            dex: { enabled: false },
            server: {
              ...(ingress
                ? {
                    ingress: {
                      enabled: true,
                      ingressClassName: ingress.ingressClassName,
                      hostname: host,
                      // Behind ingress-nginx the server speaks TLS itself: the ingress passes HTTPS on to it.
                      annotations: {
                        ...((ingress.annotations as Record<string, string> | undefined) ?? {}),
                        ...(site.ingress === 'ingressNginx' ? { 'nginx.ingress.kubernetes.io/backend-protocol': 'HTTPS' } : {}),
                      },
                      ...(ingress.tls ? { tls: true } : {}),
                    },
                  }
                : {}),
            },
            repoServer: {
              initContainers: [
                {
                  name: 'siteforge-tools',
                  image: settings.toolsImage,
                  command: ['sh', '-c', `cp -a /tools/. ${TOOLS_DIR}/`],
                  securityContext: { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
                  volumeMounts: [{ name: 'custom-tools', mountPath: TOOLS_DIR }],
                },
              ],
              env: [
                { name: 'SOPS_AGE_KEY_FILE', value: `/sops-age/${SOPS_AGE_KEY}` },
                { name: 'HELM_PLUGINS', value: `${tools('helm-plugins')}/` },
                { name: 'HELM_SECRETS_BACKEND', value: 'sops' },
                { name: 'HELM_SECRETS_SOPS_PATH', value: tools('sops') },
                // siteforge's secrets:// value files sit outside the chart directory (../../secrets/...), inside the repository.
                { name: 'HELM_SECRETS_VALUES_ALLOW_PATH_TRAVERSAL', value: 'true' },
                { name: 'HELM_SECRETS_VALUES_ALLOW_SYMLINKS', value: 'false' },
                { name: 'HELM_SECRETS_VALUES_ALLOW_ABSOLUTE_PATH', value: 'false' },
              ],
              volumes: [
                { name: 'custom-tools', emptyDir: {} },
                { name: 'sops-age', secret: { secretName: SOPS_AGE_SECRET } },
              ],
              volumeMounts: [
                { name: 'custom-tools', mountPath: TOOLS_DIR },
                { name: 'custom-tools', mountPath: '/usr/local/bin/ksops', subPath: 'ksops' },
                { name: 'custom-tools', mountPath: '/usr/local/bin/kustomize', subPath: 'kustomize' },
                { name: 'sops-age', mountPath: '/sops-age', readOnly: true },
              ],
            },
          },
        },
      },
    ];
  },
});
