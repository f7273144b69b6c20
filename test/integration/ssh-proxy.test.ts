// The SSH proxy run for real: the generated haproxy.cfg passes HAProxy's own check, and the same
// configuration, pointed at two stand-in login nodes on this machine, spreads connections
// round-robin and drops a node that stops answering — what users rely on when a login node hangs.
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer, connect, type Server } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT, generatedSite, siteforge, tempDir } from '../helpers/cli.ts';
import { runTool } from '../helpers/tools.ts';
import { haproxyConfig } from '../../generator/components/ssh-proxy.ts';

const work = await tempDir();

t.test('the generated haproxy.cfg passes haproxy -c', async (t) => {
  const out = await generatedSite('site.yaml', { commit: false });
  const values = parse(await readFile(join(out, 'charts/ssh-proxy/values.yaml'), 'utf8'));
  const cfg = join(work, 'generated.cfg');
  await writeFile(cfg, values.config);
  const res = await runTool('haproxy', ['-c', '-f', cfg]);
  t.equal(res.code, 0, res.stdout + res.stderr);
  t.match(values.config, /server login1 10\.40\.1\.10:22 check\n {2}server login2 10\.40\.1\.11:22 check\n/);
  t.equal(values.loadBalancerIP, '10.40.0.220');
  t.equal(values.pool, 'public', 'from the public pool');
});

/** A stand-in login node: answers every connection with its SSH banner. */
async function loginNode(name: string): Promise<{ server: Server; port: number }> {
  // HAProxy's health checks read the banner and reset the connection: not an error here.
  const server = createServer((socket) => socket.on('error', () => {}).end(`SSH-2.0-OpenSSH_9.2 ${name}\r\n`));
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return { server, port: (server.address() as { port: number }).port };
}

/** The banner a client gets through the proxy. */
const banner = (port: number) =>
  new Promise<string>((done, fail) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('end', () => done(data.trim()));
    socket.on('error', fail);
  });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('round-robin over the login nodes; a node that stops answering leaves the rotation', async (t) => {
  const a = await loginNode('login-a');
  const b = await loginNode('login-b');
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const proxyPort = (probe.address() as { port: number }).port;
  await new Promise((done) => probe.close(done));
  const cfg = join(work, 'run.cfg');
  await writeFile(
    cfg,
    haproxyConfig(
      {
        loginNodes: [
          { name: 'login-a', address: '127.0.0.1', port: a.port },
          { name: 'login-b', address: '127.0.0.1', port: b.port },
        ],
        proxyProtocol: 'none',
        healthCheck: { intervalSeconds: 1, fall: 1, rise: 1 },
        timeoutHours: 1,
      },
      proxyPort,
    ),
  );
  const haproxy = spawn('haproxy', ['-db', '-f', cfg], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    haproxy.kill('SIGKILL');
    a.server.close();
    b.server.close();
  });
  // Up once it accepts connections and both nodes passed a check.
  let first = '';
  for (let i = 0; i < 50 && !first; i++) {
    await sleep(100);
    first = await banner(proxyPort).catch(() => '');
  }
  t.match(first, /^SSH-2\.0-OpenSSH_9\.2 login-[ab]$/, 'the proxy forwards the login node\'s SSH banner unchanged');
  await sleep(1500);
  const spread = [];
  for (let i = 0; i < 4; i++) spread.push(await banner(proxyPort));
  t.same(new Set(spread.map((s) => s.split(' ')[1])), new Set(['login-a', 'login-b']), 'both login nodes get users');
  t.not(spread[0], spread[1], 'one after the other (round-robin)');
  // login-b hangs: it accepts nothing any more.
  await new Promise((done) => b.server.close(done));
  await sleep(2500);
  const after = [];
  for (let i = 0; i < 4; i++) after.push(await banner(proxyPort));
  t.same(after, Array(4).fill('SSH-2.0-OpenSSH_9.2 login-a'), 'every user goes to the node that still answers');
});

t.test('the proxy needs login nodes and a MetalLB address inside a pool', async (t) => {
  const dir = await tempDir();
  const spec = (await readFile(join(ROOT, 'site.yaml'), 'utf8'))
    .replace('loginNodes: [{name: login1, address: 10.40.1.10}, {name: login2, address: 10.40.1.11}]', 'loginNodes: []')
    .replace('loadBalancerIP: 10.40.0.220', 'loadBalancerIP: 10.40.0.205');
  await writeFile(join(dir, 'site.yaml'), spec);
  const res = await siteforge(['validate', join(dir, 'site.yaml')]);
  t.equal(res.code, 1);
  t.match(res.stderr, /spec\.components\.sshProxy\.loginNodes: the SSH proxy has no login nodes/);
  t.match(res.stderr, /spec\.components\.sshProxy\.loadBalancerIP: 10\.40\.0\.205 is outside pool public \(10\.40\.0\.220-10\.40\.0\.229\)/, 'an address of another pool is refused');
});
