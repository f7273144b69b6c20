// Alerts that reach someone, checked by the tools that consume them: Alertmanager's own amtool
// loads the generated configuration and routes test alerts to the right receivers; Prometheus's
// promtool parses the site's rules and unit-tests that they fire; Flux's Provider and Alert
// validate against the Flux CRDs and point at the Alertmanager Service the real chart renders.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { ROOT, generatedSite, siteforge, tempDir } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';
import { parseManifests, validateDocument } from './helpers/k8s.ts';
import { decryptYaml, encryptYaml } from '../generator/sops/document.ts';
import { readIdentities } from '../generator/sops/age.ts';
import { SECRET_MANIFEST_REGEX } from '../generator/secrets/store.ts';

const out = await generatedSite('site.yaml', { commit: false });
const values = parse(await readFile(join(out, 'charts/monitoring/values.yaml'), 'utf8'));
const work = await tempDir();
const KEY = join(ROOT, 'test/fixtures/keys/example-site.agekey');

t.test('amtool loads the Alertmanager configuration and routes alerts by severity', async (t) => {
  const config = values['kube-prometheus-stack'].alertmanager.config;
  const file = join(work, 'alertmanager.yaml');
  await writeFile(file, stringify(config));
  const check = await runTool('amtool', ['check-config', file]);
  t.equal(check.code, 0, check.stdout + check.stderr);
  t.match(check.stdout, /Found:\n - global config\n - route\n - 1 inhibit rules\n - 3 receivers/);
  const route = async (...labels: string[]) => (await runTool('amtool', ['config', 'routes', 'test', `--config.file=${file}`, ...labels])).stdout.trim();
  t.equal(await route('alertname=HarborDown', 'severity=critical'), 'hpc-admins,ops-chat', 'critical: both receivers');
  t.equal(await route('alertname=WorkflowStepFailed', 'severity=warning'), 'hpc-admins', 'warning: the admins only');
  t.equal(await route('alertname=Watchdog', 'severity=none'), 'null', 'the Watchdog goes nowhere');
  const admins = config.receivers.find((r: { name: string }) => r.name === 'hpc-admins');
  t.same(admins.email_configs[0].auth_password_file, '/etc/alertmanager/secrets/alertmanager-credentials/hpc-admins-smtp-password', 'the password is read from the mounted Secret, never in values');
  t.same(values['kube-prometheus-stack'].alertmanager.alertmanagerSpec.secrets, ['alertmanager-credentials'], 'which Alertmanager mounts');
  t.notMatch(JSON.stringify(values), /REPLACE-ME/, 'no credential placeholder in the chart values');
});

t.test('the credentials are a SOPS secret the admin fills in, one key per credential', async (t) => {
  const res = await siteforge(['secrets', 'show', join(out, 'secrets/cluster/monitoring/alertmanager-credentials.sops.yaml')], { env: { SOPS_AGE_KEY_FILE: KEY } });
  t.equal(res.code, 0, res.stderr);
  const secret = parse(res.stdout);
  t.same(Object.keys(secret.stringData).sort(), ['hpc-admins-smtp-password', 'ops-chat-mattermost-url']);
  t.match(secret.stringData['ops-chat-mattermost-url'], /^REPLACE-ME: sops secrets\/cluster\/monitoring\/alertmanager-credentials\.sops\.yaml/);
});

t.test('a credential filled in with sops survives every regenerate', async (t) => {
  const path = join(out, 'secrets/cluster/monitoring/alertmanager-credentials.sops.yaml');
  const identities = await readIdentities(KEY);
  const { plain } = await decryptYaml(await readFile(path, 'utf8'), identities);
  (plain.stringData as Record<string, string>)['ops-chat-mattermost-url'] = 'https://chat.example.edu/hooks/abc123';
  // What `sops` does on save: the same document, re-encrypted for the same recipients.
  const recipients = [(parse(await readFile(join(ROOT, 'site.yaml'), 'utf8')).spec.secrets.ageRecipients as string[])[0]!];
  await writeFile(path, await encryptYaml(plain, { recipients, encryptedRegex: SECRET_MANIFEST_REGEX }));
  const edited = await readFile(path, 'utf8');
  const res = await siteforge(['generate', join(ROOT, 'site.yaml'), '--out', out, '--no-commit']);
  t.equal(res.code, 0, res.stderr);
  t.equal(await readFile(path, 'utf8'), edited, 'the edited file is kept byte for byte');
  t.equal((await siteforge(['generate', join(ROOT, 'site.yaml'), '--out', out, '--check'])).code, 0, 'and the tree is up to date');
});

t.test('promtool parses the site rules and they fire on the failures they are for', async (t) => {
  const rules = join(work, 'rules.yaml');
  await writeFile(rules, stringify(values.siteRules));
  const check = await runTool('promtool', ['check', 'rules', rules]);
  t.equal(check.code, 0, check.stdout + check.stderr);
  t.match(check.stdout, /SUCCESS: 4 rules found/);
  const tests = join(work, 'rules.test.yaml');
  await writeFile(
    tests,
    stringify({
      rule_files: ['rules.yaml'],
      evaluation_interval: '1m',
      tests: [
        {
          interval: '1m',
          input_series: [
            { series: 'kube_pod_status_phase{phase="Failed",namespace="dev-hpc4",pod="spack-stack-x"}', values: '1x20' },
            { series: 'kube_pod_status_phase{phase="Failed",namespace="kube-system",pod="other"}', values: '1x20' },
            { series: 'kube_deployment_status_replicas_available{namespace="harbor",deployment="harbor-core"}', values: '0x20' },
            { series: 'node_filesystem_device_error{instance="k8s-cpu1",mountpoint="/export/software",fstype="nfs4"}', values: '1x20' },
          ],
          alert_rule_test: [
            { eval_time: '10m', alertname: 'WorkflowStepFailed', exp_alerts: [{ exp_labels: { severity: 'warning', namespace: 'dev-hpc4' }, exp_annotations: { summary: 'Build steps failed in dev-hpc4', description: '1 workflow step pod(s) failed in dev-hpc4: argo list -n dev-hpc4 --status Failed; the alert clears when the failed pods are removed (podGC).' } }] },
            { eval_time: '10m', alertname: 'HarborDown', exp_alerts: [{ exp_labels: { severity: 'critical', deployment: 'harbor-core' }, exp_annotations: { summary: 'Harbor harbor-core has no available replica', description: 'Nodes pull images through Harbor and builds push to it: kubectl -n harbor describe deployment harbor-core.' } }] },
            { eval_time: '5m', alertname: 'NfsMountStale', exp_alerts: [] },
            { eval_time: '15m', alertname: 'NfsMountStale', exp_alerts: [{ exp_labels: { severity: 'critical', instance: 'k8s-cpu1', mountpoint: '/export/software' }, exp_annotations: { summary: 'NFS mount /export/software on k8s-cpu1 does not answer', description: 'statfs on the mount fails (a stale handle or an unreachable server): check the NFS server and remount.' } }] },
          ],
        },
      ],
    }),
  );
  const unit = await runTool('promtool', ['test', 'rules', tests], { cwd: work });
  t.equal(unit.code, 0, unit.stdout + unit.stderr);
});

t.test('Flux sends failed reconciliations to that Alertmanager', async (t) => {
  const docs = parseManifests(await readFile(join(out, 'clusters/hpc4/infrastructure/flux-alerts.yaml'), 'utf8'));
  t.same(docs.map((d) => d.kind), ['Provider', 'Alert']);
  for (const doc of docs) t.same(await validateDocument(doc), [], `${doc.kind} validates against the Flux CRDs`);
  t.match(await readFile(join(out, 'clusters/hpc4/infrastructure/kustomization.yaml'), 'utf8'), /- flux-alerts\.yaml/, 'the layer applies it');
  const address = new URL((docs[0]!.spec as { address: string }).address);
  // The real chart, rendered as the monitoring release: the Service and port the Provider posts to exist.
  const chart = join(ROOT, '..', 'shared', 'charts', 'kube-prometheus-stack-88.5.3.tgz');
  const rendered = await runTool('helm', ['template', 'monitoring', chart, '--namespace', 'monitoring', '--show-only', 'templates/alertmanager/service.yaml']);
  t.equal(rendered.code, 0, rendered.stderr);
  const service = parse(rendered.stdout);
  t.equal(`${service.metadata.name}.monitoring`, address.hostname, 'the Provider names the Alertmanager Service');
  t.ok(service.spec.ports.some((p: { port: number }) => String(p.port) === address.port), `port ${address.port} is served`);
});

t.test('receivers need monitoring and somewhere to send', async (t) => {
  const dir = await tempDir();
  const spec = (await readFile(join(ROOT, 'site.yaml'), 'utf8'))
    .replace('    monitoring:\n      enabled: true\n', '    monitoring:\n      enabled: false\n')
    .replace('        mattermost: {channel: hpc-ops}\n', '');
  await writeFile(join(dir, 'site.yaml'), spec);
  const res = await siteforge(['validate', join(dir, 'site.yaml')]);
  t.equal(res.code, 1);
  t.match(res.stderr, /spec\.alerting\.receivers\[1\]: receiver "ops-chat" sends nowhere/);
  t.match(res.stderr, /spec\.alerting\.receivers: alert receivers are set, but nothing sends them alerts: spec\.components\.monitoring is not enabled/);
});
