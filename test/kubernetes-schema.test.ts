// The Kubernetes object schemas verify checks built-in kinds against: extracted whole from the
// packages generated from the Kubernetes OpenAPI, shipped current, and strict where the API
// server is (unknown fields, types, required fields, served versions).
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { extractKubernetesSchema, SCALAR_TYPES, SCHEMA_FILE, validateBuiltIn } from '../generator/verify/kubernetes-schema.ts';

const schema = await extractKubernetesSchema();

t.test('the shipped extract is the one the installed packages give', async (t) => {
  t.same(JSON.parse(await readFile(SCHEMA_FILE, 'utf8')), JSON.parse(JSON.stringify(schema)), 'dist/kubernetes-schema.json is current (npm run build)');
  t.match(schema.kubernetes, /^1\.\d+\.\d+$/);
});

t.test('every kind a site renders is there, and every type a field names is defined', async (t) => {
  for (const k of ['v1/Pod', 'v1/Service', 'v1/Secret', 'v1/ConfigMap', 'v1/PersistentVolumeClaim', 'apps/v1/Deployment', 'apps/v1/StatefulSet', 'apps/v1/DaemonSet', 'batch/v1/CronJob', 'networking.k8s.io/v1/Ingress', 'rbac.authorization.k8s.io/v1/ClusterRole', 'storage.k8s.io/v1/StorageClass', 'apiextensions.k8s.io/v1/CustomResourceDefinition', 'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration', 'policy/v1/PodDisruptionBudget']) {
    t.ok(schema.kinds[k], k);
  }
  t.notOk(schema.kinds['policy/v1beta1/PodSecurityPolicy'], 'removed APIs are not served');
  const named = (expr: string): string => {
    const m = /^Array<(.+)>$/.exec(expr) ?? /^\{ \[key: string\]: (.+); \}$/.exec(expr);
    return m ? named(m[1]!) : expr;
  };
  const dangling = Object.entries(schema.types).flatMap(([type, def]) => Object.values(def.fields).map(named).filter((n) => !SCALAR_TYPES.has(n) && !schema.types[n]).map((n) => `${type} → ${n}`));
  t.same(dangling, [], 'no field type is left unchecked');
});

t.test('strict like the API server', async (t) => {
  const deployment = (container: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', labels: { app: 'web' }, creationTimestamp: null },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [container] } }, ...extra },
  });
  t.same(validateBuiltIn(schema, deployment({ name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: { limits: { cpu: 1, memory: '1Gi' } } })), [], 'a valid object (numeric quantities, null timestamps)');
  t.same(validateBuiltIn(schema, deployment({ name: 'web', image: 'nginx', imagePullPolicy: 'Always', livenessProbe: { httpGet: { port: 'http' } } })), [], 'int-or-string ports');
  t.same(validateBuiltIn(schema, deployment({ name: 'web', imag: 'nginx' })), [{ path: '/spec/template/spec/containers/0/imag', message: 'is not a field of this kind (unknown field)' }]);
  t.same(validateBuiltIn(schema, deployment({ name: 'web' }, { replicas: 'two' })), [{ path: '/spec/replicas', message: 'must be a number, not "two"' }]);
  t.same(validateBuiltIn(schema, deployment({ image: 'nginx' })), [{ path: '/spec/template/spec/containers/0/name', message: 'is required' }]);
  t.same(validateBuiltIn(schema, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', annotations: { a: 1 } } }), [{ path: '/metadata/annotations/a', message: 'must be a string, not 1' }], 'annotations are strings');
  t.equal(validateBuiltIn(schema, { apiVersion: 'extensions/v1beta1', kind: 'Ingress', metadata: { name: 'x' } }), null, 'an apiVersion no longer served');
});
