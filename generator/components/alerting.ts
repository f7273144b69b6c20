// Alerts that reach someone (spec.alerting), as kube-prometheus-stack runs them: the Alertmanager
// configuration (receivers and routes; credentials read from files of a SOPS-encrypted Secret the
// admin fills in, never in values), and the site's own PrometheusRules for what this cluster exists
// for. Flux's failed reconciliations reach the same receivers through Alertmanager (render/gitops.ts).
import type { SiteModel } from '../model/site.ts';
import { sopsPlaceholder, type SecretDef } from '../secrets/types.ts';

export const ALERT_CREDENTIALS_SECRET = 'alertmanager-credentials';
/** Where Alertmanager (alertmanagerSpec.secrets) mounts that Secret. */
const CREDENTIALS_DIR = `/etc/alertmanager/secrets/${ALERT_CREDENTIALS_SECRET}`;
/** The Alertmanager Service of the monitoring release (kube-prometheus-stack's fullname for release "monitoring"). */
export const ALERTMANAGER_URL = 'http://monitoring-kube-prometheus-alertmanager.monitoring:9093';

type Receiver = SiteModel['alerting']['receivers'][number];

/** The credential keys of a receiver in the alertmanager-credentials Secret. */
export function credentialKeys(r: Receiver): string[] {
  return [...(r.email?.username ? [`${r.name}-smtp-password`] : []), ...(r.slack ? [`${r.name}-slack-url`] : []), ...(r.mattermost ? [`${r.name}-mattermost-url`] : [])];
}


/** The Secret whose values the admin fills in with sops (siteforge keeps them from then on). */
export function alertCredentialsSecret(site: SiteModel): SecretDef[] {
  const keys = site.alerting.receivers.flatMap(credentialKeys);
  if (!keys.length) return [];
  return [
    {
      name: ALERT_CREDENTIALS_SECRET,
      scope: 'cluster',
      namespace: 'monitoring',
      description: 'Alertmanager receiver credentials (SMTP passwords, chat webhook URLs): fill them in with sops',
      data: Object.fromEntries(keys.map((k) => [k, sopsPlaceholder('monitoring', ALERT_CREDENTIALS_SECRET, k)])),
    },
  ];
}

/** Alertmanager's configuration: every receiver, routed by severity; the Watchdog to nowhere. */
export function alertmanagerConfig(site: SiteModel): Record<string, unknown> {
  const { receivers, groupBy, repeatInterval } = site.alerting;
  const file = (key: string) => `${CREDENTIALS_DIR}/${key}`;
  return {
    global: { resolve_timeout: '5m' },
    route: {
      receiver: 'null',
      group_by: [...groupBy],
      group_wait: '30s',
      group_interval: '5m',
      repeat_interval: repeatInterval,
      routes: [
        { receiver: 'null', matchers: ['alertname = "Watchdog"'] },
        ...receivers.map((r) => ({ receiver: r.name, matchers: [`severity =~ "${r.severities.join('|')}"`], continue: true })),
      ],
    },
    // A critical alert silences the warning of the same name and place.
    inhibit_rules: [{ source_matchers: ['severity = "critical"'], target_matchers: ['severity = "warning"'], equal: ['alertname', 'namespace'] }],
    receivers: [
      { name: 'null' },
      ...receivers.map((r) => ({
        name: r.name,
        ...(r.email
          ? {
              email_configs: [
                {
                  to: r.email.to.join(', '),
                  from: r.email.from,
                  smarthost: r.email.smarthost,
                  require_tls: r.email.requireTLS,
                  send_resolved: true,
                  ...(r.email.username ? { auth_username: r.email.username, auth_password_file: file(`${r.name}-smtp-password`) } : {}),
                },
              ],
            }
          : {}),
        ...(r.slack || r.mattermost
          ? {
              slack_configs: [
                ...(r.slack ? [{ api_url_file: file(`${r.name}-slack-url`), send_resolved: true, ...(r.slack.channel ? { channel: r.slack.channel } : {}) }] : []),
                ...(r.mattermost ? [{ api_url_file: file(`${r.name}-mattermost-url`), send_resolved: true, ...(r.mattermost.channel ? { channel: r.mattermost.channel } : {}) }] : []),
              ],
            }
          : {}),
        ...(r.webhook ? { webhook_configs: [{ url: r.webhook.url, send_resolved: true }] } : {}),
      })),
    ],
  };
}

/**
 * The site's PrometheusRules, from metrics kube-prometheus-stack scrapes by default
 * (kube-state-metrics, node-exporter). Full volumes and NotReady nodes are the chart's own
 * default rules (KubePersistentVolumeFillingUp, KubeNodeNotReady).
 */
export function siteAlertRules(site: SiteModel): Record<string, unknown> {
  const environments = site.environments.map((e) => e.namespace).join('|');
  const rules: Record<string, unknown>[] = [];
  if (site.componentSettings.argoWorkflows.enabled) {
    rules.push({
      alert: 'WorkflowStepFailed',
      expr: `sum by (namespace) (kube_pod_status_phase{phase="Failed", namespace=~"${environments}"}) > 0`,
      for: '5m',
      labels: { severity: 'warning' },
      annotations: {
        summary: 'Build steps failed in {{ $labels.namespace }}',
        description: '{{ $value }} workflow step pod(s) failed in {{ $labels.namespace }}: argo list -n {{ $labels.namespace }} --status Failed; the alert clears when the failed pods are removed (podGC).',
      },
    });
  }
  if (site.componentSettings.harbor.enabled) {
    rules.push({
      alert: 'HarborDown',
      expr: 'sum by (deployment) (kube_deployment_status_replicas_available{namespace="harbor"}) == 0',
      for: '5m',
      labels: { severity: 'critical' },
      annotations: { summary: 'Harbor {{ $labels.deployment }} has no available replica', description: 'Nodes pull images through Harbor and builds push to it: kubectl -n harbor describe deployment {{ $labels.deployment }}.' },
    });
  }
  rules.push(
    {
      alert: 'NfsMountStale',
      expr: 'max by (instance, mountpoint) (node_filesystem_device_error{fstype=~"nfs.*"}) == 1',
      for: '10m',
      labels: { severity: 'critical' },
      annotations: { summary: 'NFS mount {{ $labels.mountpoint }} on {{ $labels.instance }} does not answer', description: 'statfs on the mount fails (a stale handle or an unreachable server): check the NFS server and remount.' },
    },
    {
      alert: 'VolumeClaimPending',
      expr: 'max by (namespace, persistentvolumeclaim) (kube_persistentvolumeclaim_status_phase{phase="Pending"}) == 1',
      for: '15m',
      labels: { severity: 'warning' },
      annotations: { summary: 'Claim {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} does not bind', description: 'No volume or StorageClass serves it: kubectl -n {{ $labels.namespace }} describe pvc {{ $labels.persistentvolumeclaim }}.' },
    },
  );
  return { groups: [{ name: `siteforge.${site.name}`, rules }] };
}
