// harbor-setup keeps Harbor's projects, proxy caches and the environments' robot accounts as the
// spec says. Harbor cannot run here (no container runtime), so the CronJob rendered with the real
// Harbor chart runs as the pod would: its command and environment, its ConfigMap at the mount
// path, the shell and tools of its Alpine image (busybox) with the real curl, the admin password
// and the environments' pull Secrets decrypted from the generated SOPS files. It talks to two
// stand-ins that follow their upstream's rules:
//   - Harbor's API v2.0 as Harbor's handlers validate it (project and robot names, robot secrets,
//     durations, levels, project-scope permissions, proxy-cache registries), with basic auth for
//     admin and for robot$<name>;
//   - the Kubernetes API serving the pull Secrets over TLS to the ServiceAccount's token, allowing
//     only what the rendered Roles and RoleBindings grant.
// The test then signs in to the stand-in Harbor with the auth file of each environment's pull
// Secret, as a registry client would.
import t from 'tap';
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, readdir, symlink, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse, parseAllDocuments } from 'yaml';
import { ROOT, siteforge, tempDir } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';

const CHARTS = join(ROOT, '..', 'shared', 'charts');
const KEY = join(ROOT, 'test/fixtures/keys/example-site.agekey');
const HOST = 'harbor.hpc4.example.edu';
const ENVIRONMENTS = { dev: 'dev-hpc4', prod: 'prod-hpc4' } as const;

type Obj = Record<string, any>;

// ---- Harbor's rules (goharbor/harbor: src/pkg/project/manager.go, src/server/v2.0/handler/robot.go,
// src/controller/robot/controller.go IsValidSec, src/common/rbac/const.go, src/pkg/reg/model/registry.go).
const NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const validSecret = (s: string) => s.length >= 8 && s.length <= 128 && /[a-z]/.test(s) && /[A-Z]/.test(s) && /\d/.test(s);
const PROJECT_SCOPE = new Set([
  'log:list', 'project:read', 'project:delete', 'project:update', 'metadata:read', 'metadata:create', 'metadata:delete', 'metadata:list', 'metadata:update',
  'repository:read', 'repository:update', 'repository:delete', 'repository:list', 'repository:pull', 'repository:push',
  'artifact:read', 'artifact:create', 'artifact:list', 'artifact:delete', 'scan:create', 'scan:read', 'scan:stop', 'tag:create', 'tag:list', 'tag:delete',
]);
const PROXY_TYPES = new Set(['harbor', 'docker-hub', 'docker-registry', 'github-ghcr', 'quay', 'aws-ecr', 'azure-acr', 'google-gcr', 'jfrog-artifactory', 'gitlab']);

interface Robot { id: number; name: string; level: string; duration: number; disable: boolean; description: string; permissions: Obj[]; secret: string }

/** Harbor's API as far as harbor-setup uses it, with Harbor's validation. */
class StandInHarbor {
  projects = new Map<string, { project_id: number; name: string; public: string; registry_id?: number }>();
  registries: { id: number; name: string; type: string; url: string; insecure: boolean }[] = [];
  robots: Robot[] = [];
  requests: string[] = [];
  healthy = true;
  private nextId = 10;
  constructor(readonly adminPassword: string) {
    this.reset();
  }
  /** A fresh Harbor: only the project `library` it creates at install (public). */
  reset() {
    this.projects = new Map([['library', { project_id: 1, name: 'library', public: 'true' }]]);
    this.registries = [];
    this.robots = [];
  }
  /** Who the basic auth header is: admin, robot$<name> with its secret, or nobody (undefined). */
  whoami(req: IncomingMessage): string | undefined {
    const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
    if (!m) return undefined;
    const text = Buffer.from(m[1]!, 'base64').toString();
    const user = text.slice(0, text.indexOf(':'));
    const password = text.slice(text.indexOf(':') + 1);
    if (user === 'admin' && password === this.adminPassword) return 'admin';
    const robot = this.robots.find((r) => `robot$${r.name}` === user && r.secret === password);
    return robot ? user : undefined;
  }
  robotCan(user: string, project: string, action: string): boolean {
    const robot = this.robots.find((r) => `robot$${r.name}` === user);
    return Boolean(robot?.permissions.some((p) => p.kind === 'project' && p.namespace === project && p.access.some((a: Obj) => a.resource === 'repository' && a.action === action)));
  }
  private robotProblem(body: Obj): string | undefined {
    if (typeof body.name !== 'string' || !NAME.test(body.name)) return 'robot name is not in lower case or contains illegal characters';
    if (!(body.duration === -1 || (Number.isInteger(body.duration) && body.duration > 0))) return `bad request error duration input: ${body.duration}`;
    if (body.level !== 'system' && body.level !== 'project') return `bad request error level input: ${body.level}`;
    if (!Array.isArray(body.permissions) || !body.permissions.length) return 'bad request empty permission';
    for (const p of body.permissions) {
      if (!Array.isArray(p?.access) || !p.access.length) return 'bad request empty access';
      if (p.kind !== 'project') return `bad request permission level: ${p.kind}`;
      for (const a of p.access) if (!PROJECT_SCOPE.has(`${a.resource}:${a.action}`)) return `bad request permission: ${a.resource}:${a.action}`;
      if (!this.projects.has(p.namespace)) return `project ${p.namespace} not found`;
    }
    return undefined;
  }
  handle(req: IncomingMessage, body: string, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://harbor');
    const path = url.pathname.replace(/^\/api\/v2\.0/, '');
    this.requests.push(`${req.method} ${path}`);
    const send = (code: number, payload?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(code, { 'Content-Type': 'application/json', ...headers });
      res.end(payload === undefined ? '' : JSON.stringify(payload));
    };
    const error = (code: number, message: string) => send(code, { errors: [{ code: String(code), message }] });
    if (path === '/health' && req.method === 'GET') {
      const status = this.healthy ? 'healthy' : 'unhealthy';
      return send(200, { components: [{ name: 'core', status: 'healthy' }, { name: 'registry', status }], status });
    }
    const who = this.whoami(req);
    if (!who) return error(401, 'unauthorized');
    const json = () => JSON.parse(body || '{}') as Obj;
    const admin = who === 'admin';
    if (path === '/projects' && req.method === 'HEAD') return send(this.projects.has(url.searchParams.get('project_name') ?? '') ? 200 : 404);
    if (path === '/projects' && req.method === 'GET') return send(200, [...this.projects.values()].slice(0, 1));
    if (!admin) return error(403, 'forbidden');
    if (path === '/projects' && req.method === 'POST') {
      const b = json();
      if (typeof b.project_name !== 'string' || !NAME.test(b.project_name) || b.project_name.length > 255) return error(400, 'invalid project name');
      const pub = b.metadata?.public;
      if (pub !== undefined && pub !== 'true' && pub !== 'false') return error(400, `metadata.public should only be 'true' or 'false', but got: '${pub}'`);
      if (b.registry_id !== undefined && !this.registries.some((r) => r.id === b.registry_id)) return error(400, `registry ${b.registry_id} not found`);
      if (this.projects.has(b.project_name)) return error(409, 'Project name already exists');
      const id = this.nextId++;
      this.projects.set(b.project_name, { project_id: id, name: b.project_name, public: pub ?? 'false', ...(b.registry_id !== undefined ? { registry_id: b.registry_id } : {}) });
      return send(201, undefined, { Location: `/api/v2.0/projects/${id}` });
    }
    const project = /^\/projects\/([^/]+)$/.exec(path);
    if (project && req.method === 'PUT') {
      if (req.headers['x-is-resource-name'] !== 'true') return error(400, 'expected X-Is-Resource-Name: true');
      const p = this.projects.get(decodeURIComponent(project[1]!));
      if (!p) return error(404, 'project not found');
      const pub = json().metadata?.public;
      if (pub !== 'true' && pub !== 'false') return error(400, 'bad metadata.public');
      p.public = pub;
      return send(200);
    }
    const q = /^name=(.*)$/.exec(url.searchParams.get('q') ?? '')?.[1];
    if (path === '/registries' && req.method === 'GET') {
      return send(200, this.registries.filter((r) => q === undefined || r.name === q).map((r) => ({ creation_time: '2026-01-01T00:00:00Z', credential: { access_key: '', access_secret: '*****', type: 'basic' }, description: '', id: r.id, insecure: r.insecure, name: r.name, status: 'healthy', type: r.type, url: r.url })));
    }
    if (path === '/registries' && req.method === 'POST') {
      const b = json();
      if (typeof b.name !== 'string' || !b.name) return error(400, 'name required');
      if (!PROXY_TYPES.has(b.type)) return error(400, `invalid registry type ${b.type}`);
      if (typeof b.url !== 'string' || !/^https:\/\//.test(b.url)) return error(400, 'invalid url');
      if (this.registries.some((r) => r.name === b.name)) return error(409, 'registry name already exists');
      const id = this.nextId++;
      this.registries.push({ id, name: b.name, type: b.type, url: b.url, insecure: b.insecure === true });
      return send(201, undefined, { Location: `/api/v2.0/registries/${id}` });
    }
    if (path === '/robots' && req.method === 'GET') {
      return send(200, this.robots.filter((r) => q === undefined || r.name === q).map((r) => ({ creation_time: '2026-01-01T00:00:00Z', creator_ref: 1, creator_type: 'local', description: r.description, disable: r.disable, duration: r.duration, editable: true, expires_at: -1, id: r.id, level: r.level, name: r.name, permissions: r.permissions })));
    }
    if (path === '/robots' && req.method === 'POST') {
      const b = json();
      const problem = this.robotProblem(b);
      if (problem) return error(400, problem);
      if (this.robots.some((r) => r.name === b.name)) return error(409, 'robot already exists');
      const id = this.nextId++;
      // Harbor generates the secret whatever the request says (the controller's CreateSec).
      const secret = `Gen${randomBytes(12).toString('hex')}9`;
      this.robots.push({ id, name: b.name, level: b.level, duration: b.duration, disable: Boolean(b.disable), description: b.description ?? '', permissions: b.permissions, secret });
      return send(201, { id, name: `robot$${b.name}`, secret }, { Location: `/api/v2.0/robots/${id}` });
    }
    const robotPath = /^\/robots\/(\d+)$/.exec(path);
    const robot = robotPath && this.robots.find((r) => r.id === Number(robotPath[1]));
    if (robotPath && !robot) return error(404, 'robot not found');
    if (robot && req.method === 'PUT') {
      const b = json();
      const problem = this.robotProblem(b);
      if (problem) return error(400, problem);
      if (b.level !== robot.level || b.name !== robot.name) return error(400, 'cannot update the level or name of robot');
      Object.assign(robot, { duration: b.duration, disable: Boolean(b.disable), description: b.description ?? '', permissions: b.permissions });
      return send(200);
    }
    if (robot && req.method === 'PATCH') {
      const secret = json().secret;
      if (typeof secret !== 'string' || !validSecret(secret)) return error(400, 'the secret must be 8-128, inclusively, characters long with at least 1 uppercase letter, 1 lowercase letter and 1 number');
      robot.secret = secret;
      return send(200, { secret: '' });
    }
    return error(404, `no route ${req.method} ${path}`);
  }
}

/** The Kubernetes API's Secret reads, authorised by the rendered Roles and RoleBindings for one ServiceAccount token. */
class StandInKubernetes {
  secrets = new Map<string, Record<string, string>>();
  reads: string[] = [];
  constructor(readonly token: string, readonly serviceAccount: { namespace: string; name: string }, readonly rbac: Obj[]) {}
  allowed(namespace: string, name: string): boolean {
    const roles = this.rbac.filter((o) => o.kind === 'Role' && o.metadata.namespace === namespace);
    const bindings = this.rbac.filter((o) => o.kind === 'RoleBinding' && o.metadata.namespace === namespace && o.subjects?.some((s: Obj) => s.kind === 'ServiceAccount' && s.name === this.serviceAccount.name && s.namespace === this.serviceAccount.namespace));
    return bindings.some((b) => {
      const role = roles.find((r) => b.roleRef.kind === 'Role' && r.metadata.name === b.roleRef.name);
      return role?.rules.some((rule: Obj) => rule.apiGroups.includes('') && rule.resources.includes('secrets') && rule.verbs.includes('get') && (!rule.resourceNames || rule.resourceNames.includes(name)));
    });
  }
  handle(req: IncomingMessage, res: ServerResponse) {
    const send = (code: number, payload: unknown) => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(payload));
    };
    if (req.headers.authorization !== `Bearer ${this.token}`) return send(401, { kind: 'Status', code: 401, reason: 'Unauthorized' });
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/.exec(req.url ?? '');
    if (!m || req.method !== 'GET') return send(404, { kind: 'Status', code: 404 });
    const [, namespace, name] = m as unknown as [string, string, string];
    this.reads.push(`${namespace}/${name}`);
    if (!this.allowed(namespace, name)) return send(403, { kind: 'Status', code: 403, reason: 'Forbidden', message: `secrets "${name}" is forbidden` });
    const data = this.secrets.get(`${namespace}/${name}`);
    if (!data) return send(404, { kind: 'Status', code: 404, reason: 'NotFound' });
    // As the API server returns it: data base64-encoded, with the managed fields naming each key.
    send(200, {
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: { name, namespace, managedFields: [{ manager: 'kustomize-controller', operation: 'Apply', fieldsV1: { 'f:data': Object.fromEntries(Object.keys(data).map((k) => [`f:${k}`, {}])) } }] },
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      type: 'kubernetes.io/dockerconfigjson',
    });
  }
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => resolve(body));
  });

async function decrypted(dir: string, path: string): Promise<Record<string, string>> {
  const shown = await siteforge(['secrets', 'show', join(dir, path)], { env: { SOPS_AGE_KEY_FILE: KEY } });
  if (shown.code !== 0) throw new Error(shown.stderr);
  return parse(shown.stdout).stringData as Record<string, string>;
}

function run(command: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command[0]!, command.slice(1), { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

/** The example site generated, Harbor rendered with the real chart, and the two stand-ins serving. */
async function setupPod(t: { teardown: (fn: () => void) => void }, siteText?: (text: string) => string) {
  const dir = await tempDir();
  const text = await readFile(join(ROOT, 'site.yaml'), 'utf8');
  await writeFile(join(dir, 'site.yaml'), siteText ? siteText(text) : text);
  const generated = await siteforge(['generate', join(dir, 'site.yaml'), '--no-commit']);
  if (generated.code !== 0) throw new Error(generated.stderr);
  await mkdir(join(dir, 'charts/harbor/charts'), { recursive: true });
  await copyFile(join(CHARTS, 'harbor-1.19.1.tgz'), join(dir, 'charts/harbor/charts/harbor-1.19.1.tgz'));
  const rendered = await runTool('helm', ['template', 'harbor', join(dir, 'charts/harbor'), '--namespace', 'harbor']);
  if (rendered.code !== 0) throw new Error(rendered.stderr);
  const objects = parseAllDocuments(rendered.stdout).map((d) => d.toJS() as Obj).filter(Boolean);
  const cronJob = objects.find((o) => o.kind === 'CronJob' && o.metadata.name === 'harbor-setup')!;
  const configMap = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'harbor-setup')!;
  const coreService = objects.find((o) => o.kind === 'Service' && o.metadata.name === 'harbor-core')!;
  const pod = cronJob.spec.jobTemplate.spec.template.spec;
  const container = pod.containers[0];

  const admin = await decrypted(dir, 'secrets/cluster/harbor/harbor-admin.sops.yaml');
  const pullSecrets = Object.fromEntries(await Promise.all(Object.entries(ENVIRONMENTS).map(async ([env, ns]) => [ns, await decrypted(dir, `secrets/${env}/harbor-robot.sops.yaml`)] as const)));

  // The pod's file system: the ConfigMap and the memory volume at their mount paths, the token mount.
  const root = join(dir, 'pod');
  const mounts = new Map<string, string>();
  for (const m of container.volumeMounts as Obj[]) {
    const volume = pod.volumes.find((v: Obj) => v.name === m.name);
    const at = join(root, m.mountPath);
    await mkdir(at, { recursive: true });
    if (volume.configMap) for (const [k, v] of Object.entries(configMap.data as Record<string, string>)) await writeFile(join(at, k), v);
    mounts.set(m.mountPath, at);
  }
  const token = randomBytes(24).toString('hex');
  const saDir = join(root, 'var/run/secrets/kubernetes.io/serviceaccount');
  await mkdir(saDir, { recursive: true });
  await writeFile(join(saDir, 'token'), token);
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(root, 'api.key'), '-out', join(saDir, 'ca.crt'), '-days', '1', '-subj', '/CN=kube-apiserver', '-addext', 'subjectAltName=IP:127.0.0.1']);

  const harbor = new StandInHarbor(admin.HARBOR_ADMIN_PASSWORD!);
  const rbac = objects.filter((o) => o.kind === 'Role' || o.kind === 'RoleBinding');
  const kube = new StandInKubernetes(token, { namespace: 'harbor', name: pod.serviceAccountName }, rbac);
  for (const [ns, data] of Object.entries(pullSecrets)) kube.secrets.set(`${ns}/harbor-robot`, data);
  const harborServer = createServer(async (req, res) => harbor.handle(req, await readBody(req), res));
  const kubeServer = createHttpsServer({ key: await readFile(join(root, 'api.key')), cert: await readFile(join(saDir, 'ca.crt')) }, (req, res) => kube.handle(req, res));
  await new Promise<void>((r) => harborServer.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => kubeServer.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    harborServer.close();
    kubeServer.close();
  });

  // The image's tools: busybox applets (Alpine) and curl.
  const bin = join(root, 'bin');
  await mkdir(bin);
  for (const tool of ['sh', 'sed', 'grep', 'base64', 'head', 'tr', 'mktemp', 'rm', 'cat']) await symlink('/bin/busybox', join(bin, tool));
  await symlink('/usr/bin/curl', join(bin, 'curl'));

  // A path in the pod to where its volume is here (the mount it is under), once.
  const mapPath = (p: string) => {
    const mount = [...mounts].find(([from]) => p === from || p.startsWith(`${from}/`));
    return mount ? mount[1] + p.slice(mount[0].length) : p;
  };
  const env: Record<string, string> = {};
  for (const e of container.env as Obj[]) {
    if (e.valueFrom) env[e.name] = e.valueFrom.secretKeyRef.name === 'harbor-admin' ? admin[e.valueFrom.secretKeyRef.key]! : '';
    else env[e.name] = mapPath(e.value);
  }
  const harborPort = (harborServer.address() as AddressInfo).port;
  const runSetup = () =>
    run(container.command.map(mapPath), {
      ...env,
      // The Service harbor-core, here the stand-in.
      HARBOR_URL: env.HARBOR_URL!.replace(/^http:\/\/harbor-core\.harbor\.svc$/, `http://127.0.0.1:${harborPort}`),
      KUBERNETES_SERVICE_HOST: '127.0.0.1',
      KUBERNETES_SERVICE_PORT: String((kubeServer.address() as AddressInfo).port),
      SERVICE_ACCOUNT_DIR: saDir,
      TMPDIR: mounts.get('/tmp')!,
      PATH: bin,
    });
  return { dir, objects, cronJob, pod, container, env, coreService, admin, pullSecrets, harbor, kube, runSetup, tmp: mounts.get('/tmp')!, harborPort };
}

/** The user name in a pull Secret's auth file. */
const userOf = (pullSecret: Record<string, string>) => JSON.parse(pullSecret['.dockerconfigjson']!).auths[HOST].username as string;

/** Signs in to the stand-in Harbor with a pull Secret's auth file, as a registry client does. */
async function signIn(harborPort: number, pullSecret: Record<string, string>): Promise<number> {
  const auth = JSON.parse(pullSecret['.dockerconfigjson']!).auths[HOST].auth as string;
  const res = await fetch(`http://127.0.0.1:${harborPort}/api/v2.0/projects?page_size=1`, { headers: { authorization: `Basic ${auth}` } });
  return res.status;
}

t.test('the rendered CronJob: the harbor-core Service, a restricted pod, and a ServiceAccount that may read only the pull Secrets', async (t) => {
  const { cronJob, pod, container, env, coreService, objects } = await setupPod(t);
  t.ok(coreService, 'the chart has the harbor-core Service');
  t.equal(env.HARBOR_URL, `http://${coreService.metadata.name}.harbor.svc`, 'the script calls harbor-core by its Service');
  t.equal(coreService.spec.ports[0].port, 80, 'on port 80');
  t.equal(cronJob.spec.concurrencyPolicy, 'Forbid', 'one run at a time');
  t.equal(pod.securityContext.runAsNonRoot, true);
  t.same(container.securityContext.capabilities.drop, ['ALL']);
  t.equal(container.securityContext.readOnlyRootFilesystem, true);
  t.match(container.image, /^docker\.io\/curlimages\/curl:\d+\.\d+\.\d+$/, 'a pinned curl image');
  t.same(container.env.find((e: Obj) => e.name === 'HARBOR_ADMIN_PASSWORD').valueFrom, { secretKeyRef: { name: 'harbor-admin', key: 'HARBOR_ADMIN_PASSWORD' } });
  const roles = objects.filter((o) => o.kind === 'Role');
  t.same(roles.map((r) => r.metadata.namespace).sort(), Object.values(ENVIRONMENTS), 'a Role in each environment namespace');
  for (const r of roles) t.same(r.rules, [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['harbor-robot'], verbs: ['get'] }], `${r.metadata.namespace}: get on harbor-robot only`);
  t.notOk(objects.some((o) => o.kind === 'ClusterRole' && /harbor-setup/.test(o.metadata.name)), 'no cluster-wide rights');
});

t.test('a first run creates the projects, proxy caches and robots; the pull Secrets then sign in; a second run changes nothing', async (t) => {
  const { harbor, kube, runSetup, pullSecrets, harborPort, tmp } = await setupPod(t);
  const first = await runSetup();
  t.equal(first.code, 0, first.stderr);
  t.same(Object.fromEntries([...harbor.projects].map(([n, p]) => [n, p.public])), { library: 'true', dockerhub: 'true', ghcr: 'true', quay: 'true', k8s: 'true', nvcr: 'true' }, 'library and the proxy caches, public (the nodes pull anonymously)');
  t.same(harbor.registries.map((r) => [r.name, r.type, r.url]), [
    ['dockerhub', 'docker-hub', 'https://hub.docker.com'],
    ['ghcr', 'github-ghcr', 'https://ghcr.io'],
    ['quay', 'quay', 'https://quay.io'],
    ['k8s', 'docker-registry', 'https://registry.k8s.io'],
    ['nvcr', 'docker-registry', 'https://nvcr.io'],
  ]);
  for (const r of harbor.registries) t.equal(harbor.projects.get(r.name)?.registry_id, r.id, `project ${r.name} is the proxy cache of its registry`);
  t.same(harbor.robots.map((r) => r.name).sort(), ['siteforge-dev', 'siteforge-prod']);
  for (const [env, ns] of Object.entries(ENVIRONMENTS)) {
    const secret = pullSecrets[ns]!;
    t.equal(JSON.parse(secret['.dockerconfigjson']!).auths[HOST].username, `robot$siteforge-${env}`, `${env}: the pull Secret names the robot as Harbor does`);
    t.equal(await signIn(harborPort, secret), 200, `${env}: the pull Secret's auth file signs in to Harbor`);
    t.ok(harbor.robotCan(userOf(secret), 'library', 'push'), `${env}: its robot pushes to library`);
    t.ok(harbor.robotCan(userOf(secret), 'dockerhub', 'pull') && !harbor.robotCan(userOf(secret), 'dockerhub', 'push'), `${env}: and only pulls from the proxy caches`);
    t.notOk(`${first.stdout}${first.stderr}`.includes(secret.password!), `${env}: the run prints no password`);
  }
  t.same(kube.reads.sort(), ['dev-hpc4/harbor-robot', 'prod-hpc4/harbor-robot'], 'it read the two pull Secrets, nothing else');
  t.same(await readdir(tmp), [], 'nothing left in its working directory');

  const before = harbor.requests.length;
  const second = await runSetup();
  t.equal(second.code, 0, second.stderr);
  const changes = harbor.requests.slice(before).filter((r) => /^(POST|PATCH|DELETE)/.test(r));
  t.same(changes, [], 'a second run creates nothing and sets no secret');
  t.equal(second.stdout, '', 'and says nothing');
});

t.test('a changed pull Secret, a Harbor that lost its database, an unhealthy Harbor, a missing Secret', async (t) => {
  const { harbor, kube, runSetup, pullSecrets, harborPort } = await setupPod(t);
  t.equal((await runSetup()).code, 0);

  // `siteforge secrets rotate harbor-robot` gave dev a new password; Flux applied it.
  const rotated: Record<string, string> = { ...pullSecrets['dev-hpc4']!, password: 'N3wPasswordForDev0123456789abcdefABCDEF' };
  rotated['.dockerconfigjson'] = JSON.stringify({ auths: { [HOST]: { username: 'robot$siteforge-dev', password: rotated.password, auth: Buffer.from(`robot$siteforge-dev:${rotated.password}`).toString('base64') } } });
  kube.secrets.set('dev-hpc4/harbor-robot', rotated);
  const before = harbor.requests.length;
  const afterRotation = await runSetup();
  t.equal(afterRotation.code, 0, afterRotation.stderr);
  t.same(harbor.requests.slice(before).filter((r) => r.startsWith('PATCH')), [`PATCH /robots/${harbor.robots.find((r) => r.name === 'siteforge-dev')!.id}`], 'only dev\'s robot gets the new password');
  t.equal(await signIn(harborPort, rotated), 200, 'the new auth file signs in');
  t.equal(await signIn(harborPort, pullSecrets['dev-hpc4']!), 401, 'the old one no longer does');
  t.equal(await signIn(harborPort, pullSecrets['prod-hpc4']!), 200, 'prod is untouched');

  harbor.reset();
  const rebuilt = await runSetup();
  t.equal(rebuilt.code, 0, rebuilt.stderr);
  t.equal(harbor.projects.size, 6, 'a rebuilt Harbor gets its projects back');
  t.equal(await signIn(harborPort, pullSecrets['prod-hpc4']!), 200, 'and the robots, with the passwords of the pull Secrets');

  harbor.healthy = false;
  const count = harbor.requests.length;
  const unhealthy = await runSetup();
  t.equal(unhealthy.code, 1, 'an unhealthy Harbor fails the run');
  t.match(unhealthy.stderr, /Harbor is not healthy yet/);
  t.same(harbor.requests.slice(count), ['GET /health'], 'and nothing else is tried');
  harbor.healthy = true;

  harbor.reset();
  kube.secrets.delete('prod-hpc4/harbor-robot');
  const missing = await runSetup();
  t.equal(missing.code, 1, 'a pull Secret not applied yet fails the run');
  t.match(missing.stderr, /robot siteforge-prod: Secret prod-hpc4\/harbor-robot \(key password\) is not readable yet/);
  t.equal(await signIn(harborPort, rotated), 200, 'dev is set up all the same');
});

t.test('projects of the spec: private ones, pushed to by some environments only', async (t) => {
  const { harbor, runSetup, pullSecrets } = await setupPod(t, (text) =>
    text.replace('harbor: {enabled: true, auth: {mode: ldap}}', 'harbor: {enabled: true, auth: {mode: ldap}, projects: [{name: library, public: true}, {name: spack-release, environments: [prod]}, {name: "2026"}]}'),
  );
  const res = await runSetup();
  t.equal(res.code, 0, res.stderr);
  t.equal(harbor.projects.get('spack-release')?.public, 'false', 'a private project');
  t.ok(harbor.projects.has('2026'), 'an all-digit name is a name');
  t.ok(harbor.robotCan(userOf(pullSecrets['prod-hpc4']!), 'spack-release', 'push'), 'prod pushes to spack-release');
  t.ok(harbor.robotCan(userOf(pullSecrets['dev-hpc4']!), 'spack-release', 'pull') && !harbor.robotCan(userOf(pullSecrets['dev-hpc4']!), 'spack-release', 'push'), 'dev only pulls from it');
  // A project made public by hand is set back by the next run.
  harbor.projects.get('spack-release')!.public = 'true';
  t.equal((await runSetup()).code, 0);
  t.equal(harbor.projects.get('spack-release')?.public, 'false', 'the spec wins');
});
