// Static pages served for real: the generated nginx.conf passes `nginx -t`, and the same
// configuration, run by a real nginx over a directory of pages, serves them, refuses writes, and
// answers the exporter's status page — on loopback, as the pod's containers see each other.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, generatedSite, siteforge, tempDir } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';
import { nginxConfig } from '../../generator/components/static-pages.ts';

const work = await tempDir();
await chmod(work, 0o755);

const freePort = async () => {
  const s = createServer();
  await new Promise<void>((done) => s.listen(0, '127.0.0.1', done));
  const { port } = s.address() as { port: number };
  await new Promise((done) => s.close(done));
  return port;
};

t.test('the generated nginx.conf passes nginx -t, and the pages are mounted read-only from NFS', async (t) => {
  const out = await generatedSite('site.yaml', { commit: false });
  const values = parse(await readFile(join(out, 'charts/static-pages/values.yaml'), 'utf8'));
  const cfg = join(work, 'generated.conf');
  await writeFile(cfg, values.config);
  // Output to a file, as a container's stdout is (Node's child pipes are sockets, which /dev/stdout cannot be opened on).
  const log = join(work, 'nginx-t.log');
  const res = await runTool('sh', ['-c', 'nginx -t -c "$1" -p "$2" > "$3" 2>&1', 'sh', cfg, work, log]);
  t.equal(res.code, 0, await readFile(log, 'utf8'));
  t.match(await readFile(log, 'utf8'), /syntax is ok/);
  t.same(values.nfs, { server: '10.40.0.5', path: '/export/www', mountOptions: ['ro'] });
  t.same(values.ingress, {
    ingressClassName: 'nginx',
    annotations: { 'cert-manager.io/cluster-issuer': 'site-ca' },
    hosts: ['www.hpc4.example.edu'],
    tls: [{ secretName: 'static-pages-tls', hosts: ['www.hpc4.example.edu'] }],
  });
});

t.test('a real nginx serves the pages, refuses writes, and answers the status page', async (t) => {
  const pages = join(work, 'pages');
  await mkdir(join(pages, 'guide'), { recursive: true });
  await writeFile(join(pages, 'index.html'), '<h1>hpc4 user guide</h1>\n');
  await writeFile(join(pages, 'guide', 'index.html'), '<p>modules</p>\n');
  await chmod(pages, 0o755);
  await chmod(join(pages, 'guide'), 0o755);
  await mkdir(join(work, 'tmp'), { recursive: true });
  const [port, statusPort] = [await freePort(), await freePort()];
  const cfg = join(work, 'run.conf');
  await writeFile(cfg, nginxConfig({ root: pages, port, statusPort, autoindex: false, tmp: join(work, 'tmp') }));
  const nginx = spawn('nginx', ['-c', cfg, '-p', work, '-g', 'daemon off;'], { stdio: 'ignore' });
  t.teardown(() => void nginx.kill('SIGKILL'));
  const base = `http://127.0.0.1:${port}`;
  let home: Response | undefined;
  for (let i = 0; i < 50 && !home; i++) {
    await new Promise((r) => setTimeout(r, 100));
    home = await fetch(`${base}/`).catch(() => undefined);
  }
  t.equal(home?.status, 200);
  t.equal(await home?.text(), '<h1>hpc4 user guide</h1>\n', 'the page from the directory');
  t.equal(await (await fetch(`${base}/guide/`)).text(), '<p>modules</p>\n', 'a directory serves its index.html');
  t.equal((await fetch(`${base}/nothing-here`)).status, 404);
  t.equal((await fetch(`${base}/index.html`, { method: 'PUT', body: 'x' })).status, 403, 'writes are refused');
  t.equal((await fetch(`${base}/index.html`, { method: 'DELETE' })).status, 403);
  t.equal((await fetch(`${base}/index.html`, { method: 'HEAD' })).status, 200, 'HEAD is a read');
  const status = await (await fetch(`http://127.0.0.1:${statusPort}/stub_status`)).text();
  t.match(status, /^Active connections: \d+/, 'the exporter\'s status page, on loopback only');
});

t.test('static pages need one source and a way in', async (t) => {
  const dir = await tempDir();
  const spec = (await readFile(join(ROOT, 'site.yaml'), 'utf8')).replace('staticPages: {enabled: true, nfs: {server: 10.40.0.5, path: /export/www}}', 'staticPages: {enabled: true, volume: www}');
  await writeFile(join(dir, 'site.yaml'), spec);
  const res = await siteforge(['validate', join(dir, 'site.yaml')]);
  t.equal(res.code, 1);
  t.match(res.stderr, /spec\.components\.staticPages\.volume: volume "www" is not in spec\.storage\.volumes/);
});
