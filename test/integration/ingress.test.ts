// The web front ends behind RKE2's bundled Traefik (spec.distribution.ingressController, the RKE2
// default when siteforge's ingress-nginx is off): what the real charts render (Harbor, Grafana in
// kube-prometheus-stack, Argo Workflows, Argo CD) is an Ingress of the class Traefik serves, with
// the site CA's certificate; a front end with a MetalLB address of its own keeps it; the RKE2
// servers deploy exactly that controller (check-mode run of the role). RKE2's Traefik chart is not
// in ../shared/charts, so Traefik itself is not rendered: the class and RKE2's setting are what
// this checks against (read from rke2-charts' rke2-traefik values: ingressClass.name traefik,
// providers.kubernetesIngress.ingressClass traefik).
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, siteforge, tempDir } from '../helpers/cli.ts';
import { toolPath } from '../helpers/tools.ts';
import { checkModeRun, failures, inventoryList, rendered } from '../helpers/ansible.ts';
import { loadSite } from '../../generator/pipeline.ts';
import { renderDeployedSite } from '../../generator/verify/render.ts';

const CHARTS = join(ROOT, '..', 'shared', 'charts');

/** The minimal RKE2 example with web front ends; `gitops` is added to its gitops block, `components` to its components. */
async function site(gitops: string, components = ''): Promise<string> {
  const dir = await tempDir();
  const spec = (await readFile(join(ROOT, 'examples/minimal.yaml'), 'utf8')).replace(
    '  environments: [prod]\n',
    `  environments: [prod]
  storage:
    classes:
      - {name: nfs, server: 172.16.0.5, share: /export/k8s, default: true}
  components:
    certManager: {enabled: true}
    harbor: {enabled: true}
    monitoring: {enabled: true}
    argoWorkflows: {enabled: true}
${components}`,
  ) + gitops;
  await writeFile(join(dir, 'site.yaml'), spec);
  const res = await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit']);
  if (res.code !== 0) throw new Error(res.stderr);
  return dir;
}

async function objects(dir: string) {
  const loaded = await loadSite(join(dir, 'site.yaml'));
  if (!loaded.ok) throw new Error(JSON.stringify(loaded.diagnostics));
  const out = await renderDeployedSite(loaded.site, { outDir: dir, helm: toolPath('helm'), kubectl: toolPath('kubectl'), chartCache: CHARTS, identities: [] });
  return out.objects.map((o) => o.object as any);
}

const ingresses = (all: any[]) => all.filter((o) => o.kind === 'Ingress');

t.test('without MetalLB: every front end is an Ingress of class traefik with the site CA\'s certificate', async (t) => {
  const dir = await site('');
  const all = await objects(dir);
  const found = ingresses(all).map((i) => [i.metadata.name, i.spec.ingressClassName, i.spec.rules[0].host, i.metadata.annotations?.['cert-manager.io/cluster-issuer'] ?? null]);
  t.same(found.map((f) => f[1]), found.map(() => 'traefik'), 'all of class traefik, none of nginx');
  const hosts = found.map((f) => f[2]).sort();
  t.same(hosts, ['argo.mini.example.net', 'grafana.mini.example.net', 'harbor.mini.example.net'], 'Harbor, Grafana and the Argo server');
  for (const i of ingresses(all)) t.ok(i.spec.tls?.[0]?.secretName, `${i.metadata.name} terminates TLS`);
  t.ok(found.filter((f) => f[2] !== 'harbor.mini.example.net').every((f) => f[3] === 'site-ca'), 'issued by the site CA (Harbor\'s certificate is its chart\'s own Certificate)');
  t.notOk(ingresses(all).some((i) => Object.keys(i.metadata.annotations ?? {}).some((k) => k.startsWith('nginx.ingress.kubernetes.io/backend'))), 'no ingress-nginx backend setting Traefik would ignore');
  t.notOk(all.some((o) => o.kind === 'Service' && o.spec?.type === 'LoadBalancer'), 'no LoadBalancer Service that would wait for an address forever');
  const vars = parse(await readFile(join(dir, 'ansible/group_vars/all.yml'), 'utf8'));
  t.equal(vars.rke2_ingress_controller, 'traefik');
  const verify = await siteforge(['verify', join(dir, 'site.yaml'), '--charts', CHARTS, '--json']);
  t.same(JSON.parse(verify.stdout).problems, [], 'verify: Harbor reachable and trusted by the node mirrors, no open admin UI');
  t.equal(verify.code, 0);

  // What the RKE2 servers are told to deploy, as Ansible renders their config.yaml.
  const report = await checkModeRun(dir, await inventoryList(dir), 'node1', undefined);
  t.same(failures(report), []);
  t.equal(parse(rendered(report, 'Write the RKE2 configuration', 'node1'))['ingress-controller'], 'traefik', 'RKE2 deploys its Traefik, not its retired ingress-nginx');
});

t.test('with MetalLB: Harbor keeps an address of its own, the UIs without one go through Traefik', async (t) => {
  const dir = await site('', '    metallb: {enabled: true, pools: [{name: web, addresses: [172.16.0.200-172.16.0.210]}]}\n');
  const all = await objects(dir);
  t.same(ingresses(all).map((i) => i.spec.rules[0].host).sort(), ['argo.mini.example.net', 'grafana.mini.example.net']);
  const harbor = all.find((o) => o.kind === 'Service' && o.spec?.type === 'LoadBalancer');
  t.equal(harbor?.metadata.name, 'harbor', 'Harbor on a MetalLB address, as before Traefik');
});

t.test('ingressController: none leaves RKE2 without a controller and the UIs without an Ingress', async (t) => {
  const dir = await site('', '    metallb: {enabled: true, pools: [{name: web, addresses: [172.16.0.200-172.16.0.210]}]}\n');
  await writeFile(join(dir, 'site.yaml'), (await readFile(join(dir, 'site.yaml'), 'utf8')).replace('    serviceCIDR: 10.43.0.0/16\n', '    serviceCIDR: 10.43.0.0/16\n    ingressController: none\n'));
  const res = await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit']);
  t.equal(res.code, 0, res.stderr);
  t.same(ingresses(await objects(dir)), []);
  t.equal(parse(await readFile(join(dir, 'ansible/group_vars/all.yml'), 'utf8')).rke2_ingress_controller, 'none');
});

t.test('Argo CD behind Traefik: TLS ends at the ingress, which reaches the server on its http port', async (t) => {
  const dir = await site('    engine: argocd\n', '    argoCd: {enabled: true, toolsImage: ghcr.io/example/argocd-tools:1.0.0}\n');
  const all = await objects(dir);
  const ingress = ingresses(all).find((i) => i.spec.rules[0].host === 'argocd.mini.example.net');
  t.equal(ingress?.spec.ingressClassName, 'traefik');
  const backend = ingress.spec.rules[0].http.paths[0].backend.service;
  const service = all.find((o) => o.kind === 'Service' && o.metadata.name === backend.name);
  t.equal(service.spec.ports.find((p: any) => p.port === backend.port.number)?.name, 'http', 'the Service port the Ingress names is the server\'s http port');
  const params = all.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'argocd-cmd-params-cm');
  t.equal(params.data['server.insecure'], 'true', 'the server serves plain HTTP behind the ingress, which Traefik speaks to it');
  t.notOk(Object.keys(ingress.metadata.annotations ?? {}).some((k) => k.startsWith('nginx.')), 'no ingress-nginx annotation');
});

t.test('tainted servers: RKE2\'s Traefik tolerates what every cluster component tolerates', async (t) => {
  const dir = await tempDir();
  await writeFile(join(dir, 'site.yaml'), (await readFile(join(ROOT, 'examples/minimal.yaml'), 'utf8')).replace('  environments: [prod]\n', '  placement:\n    serverTaints: ["CriticalAddonsOnly=true:NoExecute"]\n  environments: [prod]\n'));
  const res = await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit']);
  t.equal(res.code, 0, res.stderr);
  const report = await checkModeRun(dir, await inventoryList(dir), 'node1', undefined);
  t.same(failures(report), []);
  const config = parse(rendered(report, 'Write the settings of RKE2\'s Traefik', 'node1'));
  t.same([config.apiVersion, config.kind, config.metadata], ['helm.cattle.io/v1', 'HelmChartConfig', { name: 'rke2-traefik', namespace: 'kube-system' }], 'the object RKE2\'s helm controller merges into its rke2-traefik chart');
  t.same(parse(config.spec.valuesContent), { tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Equal', value: 'true', effect: 'NoExecute' }] }, 'the chart\'s top-level tolerations');
  t.match(await readFile(join(dir, 'RUNBOOK.md'), 'utf8'), /every node it may run on \(node1 172\.16\.0\.10\)/, 'the tainted server serves the front ends');
});
