// Which ingress controller serves the web front ends, as the spec decides it (siteforge's
// ingress-nginx, RKE2's bundled Traefik, or none), and verify's check that every Ingress names a
// class some controller of the site serves — an Ingress of an unserved class is never routed — and
// the warning when RKE2's Traefik could run on no node.
// What the real charts render with each choice is checked in test/integration/ingress.test.ts.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ROOT, siteforge, tempDir } from './helpers/cli.ts';
import { CHECKS, type CheckContext } from '../generator/verify/checks.ts';
import { loadBalancerBeforeIngress, siteIngressOf } from '../generator/spec/guards.ts';

t.test('the site\'s ingress controller', async (t) => {
  const spec = (type: string, extra: Record<string, unknown> = {}, ingressNginx?: boolean) => ({
    spec: { distribution: { type, ...extra }, components: ingressNginx === undefined ? {} : { ingressNginx: { enabled: ingressNginx } } },
  });
  t.equal(siteIngressOf(spec('rke2')), 'rke2Traefik', 'RKE2: its bundled Traefik by default');
  t.equal(siteIngressOf(spec('rke2', { ingressController: 'none' })), null);
  t.equal(siteIngressOf(spec('rke2', {}, true)), 'ingressNginx', 'siteforge\'s ingress-nginx when the site runs it');
  t.equal(siteIngressOf(spec('k0s')), null, 'k0s bundles none');
  t.equal(siteIngressOf(spec('kubespray', {}, true)), 'ingressNginx');
  t.equal(siteIngressOf(spec('hpk')), null);
  t.ok(loadBalancerBeforeIngress('rke2Traefik', true), 'Traefik on host ports: a MetalLB address of its own comes first');
  t.notOk(loadBalancerBeforeIngress('rke2Traefik', false));
  t.notOk(loadBalancerBeforeIngress('ingressNginx', true), 'ingress-nginx has a MetalLB address itself');
});

t.test('verify: every Ingress names a class a controller of the site serves', async (t) => {
  const check = CHECKS.find((c) => c.name === 'ingress hosts and issuers')!.check;
  const ingress = (className?: string) => ({ object: { kind: 'Ingress', metadata: { name: 'grafana' }, spec: { ...(className ? { ingressClassName: className } : {}), rules: [{ host: 'grafana.t1.example.net' }] } }, namespace: 'monitoring', source: 'test' });
  const nginxClass = (isDefault: boolean) => ({ object: { kind: 'IngressClass', metadata: { name: 'nginx', ...(isDefault ? { annotations: { 'ingressclass.kubernetes.io/is-default-class': 'true' } } : {}) } }, source: 'test' });
  const problems = (ingress: 'rke2Traefik' | 'ingressNginx' | null, objects: unknown[]) =>
    check({ objects, site: { domain: 't1.example.net', ingress } } as unknown as CheckContext).map((p) => p.message);
  t.same(problems('rke2Traefik', [ingress('traefik')]), [], 'RKE2 serves traefik without an object in the repository');
  t.same(problems('rke2Traefik', [ingress()]), [], 'and it is the default class');
  t.same(problems('ingressNginx', [nginxClass(true), ingress('nginx'), ingress()]), [], 'the chart\'s IngressClass, named or by default');
  t.match(problems('ingressNginx', [nginxClass(true), ingress('traefik')]), [/names IngressClass traefik, which no controller of the site serves/]);
  t.match(problems(null, [ingress('nginx')]), [/names IngressClass nginx, which no controller of the site serves/], 'RKE2 with ingressController none: the old class is gone');
  t.match(problems('ingressNginx', [nginxClass(false), ingress()]), [/names no IngressClass and the site has no default one/]);
});

t.test('a warning when every node has a taint RKE2\'s Traefik does not tolerate', async (t) => {
  const spec = await readFile(join(ROOT, 'test/fixtures/sites/traefik-nowhere.yaml'), 'utf8');
  const dir = await tempDir();
  const check = async (text: string) => {
    await writeFile(join(dir, 'site.yaml'), text);
    return siteforge(['validate', join(dir, 'site.yaml')]);
  };
  const warned = await check(spec);
  t.equal(warned.code, 0, 'a warning, not an error');
  t.match(warned.stderr, /9:5: warning: spec\.distribution: RKE2's Traefik serves the web front ends, and every node has a taint it does not tolerate, so it runs on no node/);
  t.notMatch((await check(spec.replace('serverTaints: ["CriticalAddonsOnly=true:NoExecute"]', 'serverTaints: ["CriticalAddonsOnly=true:NoExecute"]\n    tolerations: ["hpc/pool=gpu:NoSchedule"]'))).stderr, /runs on no node/, 'tolerating the GPU pool puts it there');
  t.notMatch((await check(spec.replace(', taints: ["hpc/login=yes:NoSchedule"]', ''))).stderr, /runs on no node/, 'the tainted server is tolerated (server taints are)');
  t.notMatch((await check(spec.replace('    serviceCIDR: 10.43.0.0/16\n', '    serviceCIDR: 10.43.0.0/16\n    ingressController: none\n'))).stderr, /runs on no node/, 'no Traefik, no warning');
});
