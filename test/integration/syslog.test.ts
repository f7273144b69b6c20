// Log aggregation run for real with Debian's rsyslog: the receiver's configuration as generated
// (only its paths and port moved to this machine) takes syslog over TCP and UDP into one file per
// host and day, keeps a hostile host name inside its directory, and forwards to the collector; a
// node's rsyslog with the drop-in the Ansible output installs sends its messages to the receiver;
// the retention command removes old files only; the chart renders valid objects on the site's
// pool and class.
import t from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Server } from 'node:net';
import { mkdir, readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generatedSite, tempDir } from '../helpers/cli.ts';
import { freePort, runTool } from '../helpers/tools.ts';
import { parseManifests, validateDocument } from '../helpers/k8s.ts';

const out = await generatedSite('site.yaml', { commit: false });
const values = parse(await readFile(join(out, 'charts/syslog/values.yaml'), 'utf8'));
const groupVars = parse(await readFile(join(out, 'ansible/group_vars/all.yml'), 'utf8'), { customTags: [{ tag: '!unsafe', resolve: (v: string) => v }] });
const work = await tempDir();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const daemons: ChildProcess[] = [];
t.teardown(() => daemons.forEach((d) => d.kill()));

/** rsyslogd in the foreground with this configuration; resolves once it accepts TCP on `port`. */
async function rsyslogd(name: string, config: string, port: number): Promise<void> {
  const dir = join(work, name);
  await mkdir(join(dir, 'work'), { recursive: true });
  const file = join(dir, 'rsyslog.conf');
  await writeFile(file, config.replaceAll('/var/lib/rsyslog', join(dir, 'work')));
  const check = await runTool('rsyslogd', ['-N1', '-f', file]);
  if (check.code !== 0) throw new Error(`rsyslogd -N1 ${name}: ${check.stderr}`);
  daemons.push(spawn('rsyslogd', ['-n', '-i', join(dir, 'pid'), '-f', file], { stdio: 'ignore' }));
  for (let i = 0; i < 50; i++) {
    const up = await new Promise<boolean>((done) => connect(port, '127.0.0.1').on('connect', function (this: import('node:net').Socket) { this.end(); done(true); }).on('error', () => done(false)));
    if (up) return;
    await sleep(100);
  }
  throw new Error(`rsyslogd ${name} did not listen on ${port}`);
}

const sendTcp = (port: number, text: string) =>
  new Promise<void>((done, fail) => {
    const s = connect(port, '127.0.0.1', () => s.end(text, () => done()));
    s.on('error', fail);
  });

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Every line of every file under dir, with the file's path relative to dir. */
async function logLines(dir: string): Promise<{ file: string; line: string }[]> {
  if (!existsSync(dir)) return [];
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
  const lines = await Promise.all(files.map(async (e) => {
    const full = join(e.parentPath, e.name);
    return (await readFile(full, 'utf8')).split('\n').filter(Boolean).map((line) => ({ file: full.slice(dir.length + 1), line }));
  }));
  return lines.flat();
}

const logs = join(work, 'received');
const collector: string[] = [];
let receiverPort = 0;

t.before(async () => {
  // The centre's collector: a TCP listener keeping every line.
  const collectorPort = await freePort();
  const server: Server = createServer((socket) => socket.on('data', (d) => collector.push(...d.toString().split('\n').filter(Boolean))));
  await new Promise<void>((done) => server.listen(collectorPort, '127.0.0.1', done));
  t.teardown(() => server.close());
  receiverPort = await freePort();
  const config = (values.config as string)
    .replaceAll('/var/log/remote', logs)
    .replaceAll(`port="${values.port}"`, `port="${receiverPort}"`)
    .replace('target="logs.example.edu" port="514"', `target="127.0.0.1" port="${collectorPort}"`);
  t.match(values.config, 'target="logs.example.edu" port="514" protocol="tcp"', 'the generated configuration forwards to the collector');
  await rsyslogd('receiver', config, receiverPort);
});

t.test('the receiver writes one file per host and day, from TCP and UDP, and forwards each message', async (t) => {
  const tcp = await runTool('logger', ['--server', '127.0.0.1', '--port', String(receiverPort), '--tcp', '--rfc3164', '-t', 'slurmd', 'node1 drained by admin']);
  t.equal(tcp.code, 0, tcp.stderr);
  const udp = await runTool('logger', ['--server', '127.0.0.1', '--port', String(receiverPort), '--udp', '--rfc3164', '-t', 'kernel', 'EDAC MC0: 1 CE memory read error']);
  t.equal(udp.code, 0, udp.stderr);
  await sendTcp(receiverPort, '<34>1 2026-12-01T10:00:00Z switch-core-1 sshd - - - login failure for admin\n');
  const lines = await until('three messages', async () => {
    const l = await logLines(logs);
    return l.length >= 3 ? l : undefined;
  });
  const day = (file: string) => /^[^/]+\/\d{4}-\d{2}-\d{2}\.log$/.test(file);
  t.ok(lines.every((l) => day(l.file)), `host/YYYY-MM-DD.log: ${lines.map((l) => l.file).join(', ')}`);
  t.ok(lines.some((l) => l.file.startsWith('switch-core-1/') && /login failure for admin/.test(l.line)), 'a device\'s message in its own directory');
  t.ok(lines.some((l) => /node1 drained by admin/.test(l.line)), 'TCP');
  t.ok(lines.some((l) => /EDAC MC0/.test(l.line)), 'UDP');
  await until('the collector to have them', async () => (collector.some((l) => /login failure for admin/.test(l)) && collector.some((l) => /EDAC MC0/.test(l)) ? true : undefined));
  t.pass('every message went on to the collector');
});

t.test('a sender cannot write outside its directory with a hostile host name', async (t) => {
  await sendTcp(receiverPort, '<13>1 2026-12-01T10:00:00Z ../../../escaped app - - - from a hostile sender\n');
  const line = await until('the hostile message', async () => (await logLines(logs)).find((l) => /from a hostile sender/.test(l.line)));
  t.notMatch(line.file, /\.\.\//, `kept inside the log directory: ${line.file}`);
  t.notOk(existsSync(join(work, 'escaped')) || existsSync(join(logs, '..', '..', 'escaped')), 'nothing written above it');
});

t.test('a node\'s rsyslog, with the drop-in the Ansible output installs, sends to the receiver', async (t) => {
  const dropIn: string = groupVars.prepare_syslog_forward_config;
  t.match(dropIn, '*.* action(type="omfwd" target="10.40.0.221" port="514" protocol="tcp"', 'to the receiver\'s MetalLB address');
  const nodePort = await freePort();
  // The node: a local input standing in for its applications, and the drop-in as generated (the receiver moved to this machine).
  const node = [`global(workDirectory="/var/lib/rsyslog")`, 'module(load="imtcp")', `input(type="imtcp" port="${nodePort}")`, dropIn.replace('target="10.40.0.221" port="514"', `target="127.0.0.1" port="${receiverPort}"`)].join('\n');
  await rsyslogd('node', node, nodePort);
  const sent = await runTool('logger', ['--server', '127.0.0.1', '--port', String(nodePort), '--tcp', '--rfc3164', '-t', 'munged', 'credential replayed']);
  t.equal(sent.code, 0, sent.stderr);
  await until('the node\'s message at the receiver', async () => ((await logLines(logs)).some((l) => /munged.*credential replayed/.test(l.line)) ? true : undefined));
  t.pass('received through the node\'s forwarding');
});

t.test('the chart: valid objects, the site\'s pool and class, old files removed and new ones kept', async (t) => {
  const res = await runTool('helm', ['template', 'syslog', join(out, 'charts/syslog'), '--namespace', 'syslog']);
  t.equal(res.code, 0, res.stderr);
  const docs = parseManifests(res.stdout);
  for (const d of docs) t.same(await validateDocument(d), [], `${d.kind}/${d.metadata.name} is valid`);
  const svc = docs.find((d) => d.kind === 'Service') as any;
  t.equal(svc.spec.loadBalancerIP, '10.40.0.221');
  t.equal(svc.metadata.annotations['metallb.io/address-pool'], 'public');
  t.same(svc.spec.ports.map((p: { port: number; protocol: string }) => `${p.protocol}/${p.port}`), ['UDP/514', 'TCP/514']);
  t.equal((docs.find((d) => d.kind === 'PersistentVolumeClaim') as any).spec.storageClassName, 'nfs-k8s', 'from the site\'s default class');
  const pod = (docs.find((d) => d.kind === 'Deployment') as any).spec.template.spec;
  t.equal(pod.securityContext.runAsNonRoot, true);
  const retention: string = pod.containers.find((c: { name: string }) => c.name === 'retention').command[2];
  t.match(retention, "-mtime +90 -delete");
  // The retention command's find, run on a copy of the log tree: a 100-day-old file goes, yesterday's stays.
  const tree = join(work, 'retention');
  await mkdir(join(tree, 'node1'), { recursive: true });
  for (const [name, days] of [['2026-08-01.log', 100], ['2026-11-30.log', 1]] as const) {
    const f = join(tree, 'node1', name);
    await writeFile(f, 'x\n');
    const when = new Date(Date.now() - days * 86_400_000);
    await utimes(f, when, when);
  }
  const find = /find (\S+) (.*?-delete)/.exec(retention)!;
  const ran = await runTool('sh', ['-c', `find ${tree} ${find[2]}`]);
  t.equal(ran.code, 0, ran.stderr);
  t.same((await readdir(join(tree, 'node1'))).sort(), ['2026-11-30.log']);
});
