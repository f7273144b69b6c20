// kube-prometheus-stack: Prometheus, Alertmanager, Grafana; optional scrape targets for the
// node-exporters on the SLURM nodes (the cluster watches its neighbours without touching them).
import { Type } from '@sinclair/typebox';
import { ChartVersion, DnsSubdomain, Enabled, Quantity } from '../spec/formats.ts';
import { requireStorageClass, storageClassFor } from './storage.ts';
import { defineComponent, type ReleaseDef, webhookCaBundles } from './types.ts';
import { ingressFor } from './web.ts';
import { fixed, random, sopsPlaceholder, type SecretDef } from '../secrets/types.ts';
import { helmObject } from './labels.ts';
import type { SiteModel } from '../model/site.ts';
import { ldapServer } from '../model/identity.ts';
import { ALERT_CREDENTIALS_SECRET, alertCredentialsSecret, alertmanagerConfig, siteAlertRules } from './alerting.ts';

/** The site's PrometheusRule (spec.alerting.siteRules): its groups come from the values. */
const SITE_RULES_TEMPLATE = `{{- if .Values.siteRules }}
${helmObject('monitoring.coreos.com/v1', 'PrometheusRule', { name: 'siteforge-site-rules', namespace: '{{ .Release.Namespace | quote }}' })}
spec:
  {{- toYaml .Values.siteRules | nindent 2 }}
{{- end }}
`;

export const GRAFANA_ADMIN_SECRET = 'grafana-admin';
/** The password Grafana searches the directory with (spec.identity.ldap.bindDn), a SOPS secret the admin fills in. */
export const GRAFANA_LDAP_SECRET = 'grafana-ldap';
const GRAFANA_LDAP_SECRET_DIR = '/etc/secrets/grafana-ldap';

const LdapGroup = Type.String({ pattern: '^[A-Za-z0-9 ._@=,-]{1,256}$', expected: 'an LDAP group DN such as cn=hpc-admins,ou=groups,dc=hpc4,dc=example,dc=edu' });

/** TOML basic string: every value in ldap.toml is validated (letters, digits and DN punctuation), quoted as TOML requires. */
const tomlString = (s: string) => JSON.stringify(s);

/**
 * Grafana's ldap.toml from the site's directory: the server, how users are found, the bind (the
 * search account, its password read from the mounted secret with $__file, or each user binding as
 * themselves), and the roles the groups give. Without Viewer groups every directory user views.
 */
export function grafanaLdapToml(ldap: NonNullable<SiteModel['identity']['ldap']>, roles: Record<'Admin' | 'Editor' | 'Viewer', readonly string[]>): string {
  const { host, port, ssl } = ldapServer(ldap);
  const mappings = (['Admin', 'Editor', 'Viewer'] as const).flatMap((role) => roles[role].map((group) => ({ role, group })));
  if (!roles.Viewer.length) mappings.push({ role: 'Viewer', group: '*' });
  return [
    '[[servers]]',
    `host = ${tomlString(host)}`,
    `port = ${port}`,
    `use_ssl = ${ssl}`,
    `start_tls = ${!ssl && ldap.startTls}`,
    'ssl_skip_verify = false',
    ...(ldap.bindDn
      ? [`bind_dn = ${tomlString(ldap.bindDn)}`, `bind_password = ${tomlString(`$__file{${GRAFANA_LDAP_SECRET_DIR}/password}`)}`]
      : [`bind_dn = ${tomlString(`${ldap.userAttribute}=%s,${ldap.userBase}`)}`]),
    `search_filter = ${tomlString(`(${ldap.userAttribute}=%s)`)}`,
    `search_base_dns = [${tomlString(ldap.userBase)}]`,
    ...(ldap.groupBase ? [`group_search_filter = ${tomlString(`(&(objectClass=posixGroup)(memberUid=%s))`)}`, `group_search_base_dns = [${tomlString(ldap.groupBase)}]`, 'group_search_filter_user_attribute = "uid"'] : []),
    '',
    '[servers.attributes]',
    `username = ${tomlString(ldap.userAttribute)}`,
    'name = "givenName"',
    'surname = "sn"',
    'email = "mail"',
    'member_of = "memberOf"',
    ...mappings.flatMap((m) => ['', '[[servers.group_mappings]]', `group_dn = ${tomlString(m.group)}`, `org_role = ${tomlString(m.role)}`, ...(m.role === 'Admin' ? ['grafana_admin = true'] : [])]),
    '',
  ].join('\n');
}
import { BUSYBOX_IMAGE as GRAFANA_INIT_CHOWN_IMAGE } from './labels.ts';

export const monitoring = defineComponent({
  name: 'monitoring',
  title: 'Monitoring: kube-prometheus-stack',
  dependsOn: ['namespaces', 'storage', 'ingressNginx', 'certManager'],
  notUnderHpk: 'node-exporter is a DaemonSet in every node\'s host network and PID namespace, and Prometheus needs a dynamic claim; HPK has no nodes of its own: monitor the Slurm nodes with the site\'s own monitoring',
  settings: Type.Object(
    {
      enabled: Enabled(false),
      chartVersion: ChartVersion(),
      retention: Type.String({ default: '15d', pattern: '^[0-9]+(h|d|w|y)$', expected: 'a Prometheus duration such as 15d', description: 'How long Prometheus keeps samples.' }),
      storageSize: Quantity({ default: '50Gi', description: 'Size of the Prometheus data claim.' }),
      storageClass: Type.Optional(DnsSubdomain({ description: 'StorageClass for Prometheus (default: the cluster default).' })),
      slurmNodeExporters: Type.Array(
        Type.String({ pattern: '^[A-Za-z0-9.-]+:[0-9]{1,5}$', expected: 'host:port of a SLURM node exporter, e.g. 10.40.1.1:9100' }),
        { default: [], description: 'node-exporter endpoints on SLURM nodes to scrape.' },
      ),
      grafanaRoles: Type.Object(
        {
          Admin: Type.Array(LdapGroup, { default: [], description: 'LDAP groups whose members are Grafana administrators.' }),
          Editor: Type.Array(LdapGroup, { default: [], description: 'LDAP groups whose members edit dashboards.' }),
          Viewer: Type.Array(LdapGroup, { default: [], description: 'LDAP groups whose members view (empty: every user of the directory views).' }),
        },
        { additionalProperties: false, default: {}, description: 'With spec.identity.ldap, users sign in to Grafana with their LDAP account; these groups give them their role.' },
      ),
    },
    { additionalProperties: false },
  ),
  secrets: (site): SecretDef[] => [
    {
      name: GRAFANA_ADMIN_SECRET,
      scope: 'cluster',
      namespace: 'monitoring',
      description: 'Grafana administrator',
      data: { 'admin-user': fixed('admin'), 'admin-password': random(24) },
    },
    ...alertCredentialsSecret(site),
    ...(site.identity.ldap?.bindDn
      ? [{ name: GRAFANA_LDAP_SECRET, scope: 'cluster' as const, namespace: 'monitoring', description: `The password of ${site.identity.ldap.bindDn}, which Grafana searches the directory as`, data: { password: sopsPlaceholder('monitoring', GRAFANA_LDAP_SECRET, 'password') } }]
      : []),
  ],
  check: (ctx, settings) => requireStorageClass(ctx, 'monitoring', settings, 'Prometheus\' time series'),
  releases(site, settings): ReleaseDef[] {
    const grafanaHost = `grafana.${site.domain}`;
    const ingress = ingressFor(site, grafanaHost, 'grafana-tls');
    const storageClassName = storageClassFor(site, settings.storageClass);
    const claim = (size: string) => ({ ...(storageClassName ? { storageClassName } : {}), accessModes: ['ReadWriteOnce'], resources: { requests: { storage: size } } });
    const receivers = site.alerting.receivers;
    const ldap = site.identity.ldap;
    const credentials = alertCredentialsSecret(site).length > 0;
    return [
      {
        name: 'monitoring',
        layer: 'operators',
        description: 'Prometheus, Alertmanager and Grafana (kube-prometheus-stack)',
        scope: 'cluster',
        namespace: 'monitoring',
        upstream: { chart: 'kube-prometheus-stack' },
        // The admission-patch job writes the operator webhook's CA.
        selfMutated: webhookCaBundles(['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration'], 2),
        timeout: '15m',
        // Where the chart takes pod tolerations, with its defaults at the pin (kept beside spec.placement's).
        podTolerations: {
          'prometheusOperator.tolerations': [],
          'prometheusOperator.admissionWebhooks.patch.tolerations': [],
          'prometheusOperator.admissionWebhooks.deployment.tolerations': [],
          'prometheus.prometheusSpec.tolerations': [],
          'alertmanager.alertmanagerSpec.tolerations': [],
          'grafana.tolerations': [],
          'kube-state-metrics.tolerations': [],
          'prometheus-node-exporter.tolerations': [{ effect: 'NoSchedule', operator: 'Exists' }],
          'crds.upgradeJob.tolerations': [],
        },
        templates: { 'site-rules.yaml': SITE_RULES_TEMPLATE },
        // With persistence, Grafana's chart chowns its volume with busybox first (the pinned chart's image).
        images: [GRAFANA_INIT_CHOWN_IMAGE],
        valuesSchema: {
          type: 'object',
          additionalProperties: false,
          properties: { siteRules: { type: 'object', required: ['groups'], additionalProperties: false, properties: { groups: { type: 'array', minItems: 1, items: { type: 'object', required: ['name', 'rules'] } } } } },
        },
        values: {
          ...(site.alerting.siteRules ? { siteRules: siteAlertRules(site) } : {}),
          'kube-prometheus-stack': {
            grafana: {
              admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: 'admin-user', passwordKey: 'admin-password' },
              // Dashboards and users made in the UI survive a restart.
              persistence: { enabled: true, type: 'pvc', size: '5Gi', ...(storageClassName ? { storageClassName } : {}), accessModes: ['ReadWriteOnce'] },
              ...(ingress ? { ingress: { enabled: true, ...ingress } } : {}),
              ...(ldap
                ? {
                    'grafana.ini': { 'auth.ldap': { enabled: true, allow_sign_up: true, config_file: '/etc/grafana/ldap.toml' } },
                    ldap: { enabled: true, config: grafanaLdapToml(ldap, settings.grafanaRoles) },
                    ...(ldap.bindDn ? { extraSecretMounts: [{ name: 'ldap-password', secretName: GRAFANA_LDAP_SECRET, mountPath: GRAFANA_LDAP_SECRET_DIR, readOnly: true }] } : {}),
                  }
                : {}),
            },
            alertmanager: {
              // Silences and the notification log survive a restart.
              alertmanagerSpec: {
                storage: { volumeClaimTemplate: { spec: claim('2Gi') } },
                ...(credentials ? { secrets: [ALERT_CREDENTIALS_SECRET] } : {}),
              },
              ...(receivers.length ? { config: alertmanagerConfig(site) } : {}),
            },
            prometheus: {
              prometheusSpec: {
                retention: settings.retention,
                serviceMonitorSelectorNilUsesHelmValues: false,
                podMonitorSelectorNilUsesHelmValues: false,
                // Every PrometheusRule in the cluster, the site's own included (not only the chart's).
                ruleSelectorNilUsesHelmValues: false,
                storageSpec: { volumeClaimTemplate: { spec: claim(settings.storageSize) } },
                ...(settings.slurmNodeExporters.length
                  ? { additionalScrapeConfigs: [{ job_name: 'slurm-node-exporter', static_configs: [{ targets: settings.slurmNodeExporters, labels: { site: site.name } }] }] }
                  : {}),
              },
            },
          },
        },
      },
    ];
  },
});
