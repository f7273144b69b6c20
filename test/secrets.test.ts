// Generated secrets end to end: encrypted to the site's recipients, readable by independent
// SOPS/age implementations, never in plaintext in the tree or in git, stable across runs,
// rotated one at a time, re-wrapped when the recipients change.
import t from 'tap';
import { existsSync, statSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { decryptSops } from 'sops-age';
import { simpleGit } from 'simple-git';
import { listFiles, siteforge, tempDir, ROOT } from './helpers/cli.ts';
import { runTool } from './helpers/tools.ts';
import { readIdentities } from '../generator/sops/age.ts';

const KEY_FILE = join(ROOT, 'test/fixtures/keys/example-site.agekey');
const SECOND_KEY_FILE = join(ROOT, 'test/fixtures/keys/example-second.agekey');
const KEYS: Record<string, string> = {
  'site.yaml': KEY_FILE,
  'examples/k0s-gpu.yaml': SECOND_KEY_FILE,
  'examples/minimal.yaml': KEY_FILE,
};

/** No age key anywhere sops would look (a developer's own key file must not leak into tests). */
const noKeyEnv = async () => ({ SOPS_AGE_KEY: '', SOPS_AGE_KEY_FILE: '', XDG_CONFIG_HOME: await tempDir('siteforge-nokey-') });


const secretFiles = (all: string[]) => all.filter((f) => f.startsWith('secrets/') && f.endsWith('.sops.yaml'));

for (const spec of Object.keys(KEYS)) {
  t.test(`${spec}: secrets are encrypted, decryptable elsewhere, and never in plaintext`, async (t) => {
    const out = await tempDir();
    const res = await siteforge(['generate', spec, '--out', out], { env: await noKeyEnv() });
    t.equal(res.code, 0, res.stderr);
    const all = await listFiles(out);
    const secrets = secretFiles(all);
    const [identity] = await readIdentities(KEYS[spec]!);
    const plaintexts = new Set<string>();
    for (const file of secrets) {
      const text = await readFile(join(out, file), 'utf8');
      const decrypted = await decryptSops(text, { secretKey: identity!, fileType: 'yaml' });
      const isValues = file.endsWith('.values.sops.yaml');
      if (!isValues) {
        t.equal(decrypted.kind, 'Secret', `${file}: a Secret manifest`);
        t.equal(parse(text).sops.encrypted_regex, '^(data|stringData)$', `${file}: only data/stringData encrypted`);
        // Published values (the site CA certificate) are public by design, copied in clear into the annotations.
        const published = new Set(Object.entries(parse(text).metadata.annotations ?? {}).filter(([k]) => k.startsWith('siteforge.io/public.')).map(([, v]) => v));
        for (const v of Object.values(decrypted.stringData as Record<string, string>)) if (v.length >= 12 && !published.has(v)) plaintexts.add(v);
      } else {
        t.notOk(parse(text).sops.encrypted_regex, `${file}: encrypted whole`);
      }
      const enc = parse(text).sops.age[0].enc as string;
      const age = await runTool('sh', ['-c', `age --decrypt -i '${KEYS[spec]}' | wc -c`], { input: enc });
      t.equal(age.stdout.trim(), '32', `${file}: the age CLI unwraps its 32-byte data key`);
    }
    if (spec !== 'examples/minimal.yaml') t.ok(plaintexts.size > 0, 'the site has generated secrets');

    // Scan the tree and the git history for every generated secret value.
    const history = await simpleGit(out).raw(['log', '-p', '--all']);
    const contents = await Promise.all(all.map(async (file) => [file, await readFile(join(out, file), 'utf8')] as const));
    for (const value of plaintexts) {
      t.notOk(history.includes(value), 'a secret value is not in git log -p');
      for (const [file, text] of contents) if (text.includes(value)) t.fail(`${file} holds a plaintext secret`);
    }
    // Outside secrets/, no password-like key with a literal value.
    const LITERAL = /^(password|passwd|secret|token|.*Password|.*Passwd|.*Token)$/;
    const offenders: string[] = [];
    const walk = (v: unknown, path: string) => {
      if (!v || typeof v !== 'object') return;
      for (const [k, x] of Object.entries(v)) {
        if (LITERAL.test(k) && !/^existing/.test(k) && typeof x === 'string' && x !== '') offenders.push(`${path}.${k}`);
        walk(x, `${path}.${k}`);
      }
    };
    for (const [file, text] of contents.filter(([f]) => /\.ya?ml$/.test(f) && !f.startsWith('secrets/'))) {
      for (const doc of text.split(/^---$/m)) {
        try {
          walk(parse(doc), file);
        } catch {
          // Helm templates are not plain YAML; their values files are what carry values.
        }
      }
    }
    t.same(offenders, [], 'no literal password-like value outside secrets/');

    const sopsConfig = parse(await readFile(join(out, '.sops.yaml'), 'utf8'));
    t.same(sopsConfig.creation_rules.map((r: { encrypted_regex?: string }) => r.encrypted_regex ?? null), [null, '^(data|stringData)$']);
  });
}

t.test('regenerating keeps every secret file byte for byte; rotating one changes one file', async (t) => {
  const env = await noKeyEnv();
  const out = await tempDir();
  t.equal((await siteforge(['generate', 'site.yaml', '--out', out], { env })).code, 0);
  const before = new Map<string, string>();
  for (const f of secretFiles(await listFiles(out))) before.set(f, await readFile(join(out, f), 'utf8'));
  const again = await siteforge(['generate', 'site.yaml', '--out', out], { env });
  t.match(again.stdout, 'up to date; nothing to commit');
  for (const [f, text] of before) t.equal(await readFile(join(out, f), 'utf8'), text, `${f} unchanged`);

  const rotate = await siteforge(['secrets', 'rotate', 'grafana-admin', 'site.yaml', '--out', out], { env });
  t.equal(rotate.code, 0, rotate.stderr);
  t.match(rotate.stdout, /0 added, 1 changed, 0 removed; secrets 1 rotated; committed/);
  const changed = (await simpleGit(out).raw(['show', '--name-only', '--format=', 'HEAD'])).split('\n').filter(Boolean);
  t.same(changed, ['.siteforge/manifest.json', 'secrets/cluster/monitoring/grafana-admin.sops.yaml']);
  t.match((await simpleGit(out).log()).latest?.message ?? '', 'siteforge: rotate grafana-admin in hpc4');

  const unknown = await siteforge(['secrets', 'rotate', 'no-such-secret', 'site.yaml', '--out', out], { env });
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, 'no secret named "no-such-secret"');
});

t.test('adding a component adds only its files', async (t) => {
  const env = await noKeyEnv();
  const out = await tempDir();
  t.equal((await siteforge(['generate', 'examples/minimal.yaml', '--out', out], { env })).code, 0);
  const spec = join(await tempDir(), 'minimal.yaml');
  await writeFile(spec, `${await readFile('examples/minimal.yaml', 'utf8')}  components:\n    monitoring: {enabled: true, storageClass: local-ssd}\n`);
  const res = await siteforge(['generate', spec, '--out', out], { env });
  t.equal(res.code, 0, res.stderr);
  const diff = (await simpleGit(out).raw(['show', '--name-status', '--format=', 'HEAD'])).split('\n').filter(Boolean);
  const changedExisting = diff.filter((l) => !l.startsWith('A\t') && !l.endsWith('.siteforge/manifest.json'));
  t.ok(diff.includes('A\tsecrets/cluster/monitoring/grafana-admin.sops.yaml'), 'the monitoring secret is added');
  t.same(
    changedExisting.filter((l) => l.includes('secrets/')),
    [],
    'no existing secret file changes',
  );
});

t.test('changing the recipients re-wraps every secret, and needs a private key', async (t) => {
  const out = await tempDir();
  t.equal((await siteforge(['generate', 'site.yaml', '--out', out], { env: await noKeyEnv() })).code, 0);
  const spec = join(await tempDir(), 'site.yaml');
  const original = await readFile('site.yaml', 'utf8');
  await writeFile(
    spec,
    original.replace(
      'ageRecipients: [age1m2eemtx2jfdk9g298kg4f76fgdzypna5czpxheh2dpqvyzsktptsfaljk2]',
      'ageRecipients: [age1m2eemtx2jfdk9g298kg4f76fgdzypna5czpxheh2dpqvyzsktptsfaljk2, age1tkvvlcfmjckc8x0j69dk25u3ywtmdwph4jtpdhrz8263urmr5v0qs04k64]',
    ),
  );
  const before = await simpleGit(out).log();
  const refused = await siteforge(['generate', spec, '--out', out], { env: await noKeyEnv() });
  t.equal(refused.code, 1);
  t.match(refused.stderr, /spec\.secrets\.ageRecipients changed: re-wrapping .* needs an age private key/);
  t.match(refused.stderr, /hint: set SOPS_AGE_KEY_FILE/);
  t.equal((await simpleGit(out).log()).total, before.total, 'nothing committed');

  const secretsBefore = secretFiles(await listFiles(out));
  const oldPlain = new Map<string, unknown>();
  const [firstKey] = await readIdentities(KEY_FILE);
  for (const f of secretsBefore) oldPlain.set(f, await decryptSops(await readFile(join(out, f), 'utf8'), { secretKey: firstKey!, fileType: 'yaml' }));

  const rekeyed = await siteforge(['secrets', 'rekey', spec, '--out', out], { env: { ...(await noKeyEnv()), SOPS_AGE_KEY_FILE: KEY_FILE } });
  t.equal(rekeyed.code, 0, rekeyed.stderr);
  t.match(rekeyed.stdout, new RegExp(`secrets ${new Set(secretsBefore.map((f) => f.replace(/\.values\.sops\.yaml$/, '.sops.yaml'))).size} rekeyed`));
  const [secondKey] = await readIdentities(SECOND_KEY_FILE);
  for (const f of secretsBefore) {
    const text = await readFile(join(out, f), 'utf8');
    t.equal(parse(text).sops.age.length, 2, `${f}: two recipients`);
    t.same(await decryptSops(text, { secretKey: secondKey!, fileType: 'yaml' }), oldPlain.get(f), `${f}: same values, readable with the new key`);
  }
});

t.test('secrets show decrypts with the user\'s key; init creates a key outside the repository', async (t) => {
  const out = await tempDir();
  t.equal((await siteforge(['generate', 'site.yaml', '--out', out], { env: await noKeyEnv() })).code, 0);
  const file = join(out, 'secrets/cluster/monitoring/grafana-admin.sops.yaml');
  const shown = await siteforge(['secrets', 'show', file], { env: { ...(await noKeyEnv()), SOPS_AGE_KEY_FILE: KEY_FILE } });
  t.equal(shown.code, 0, shown.stderr);
  t.match(shown.stdout, /admin-user: admin\n {2}admin-password: [A-Za-z0-9]{24}\n/);
  const noKey = await siteforge(['secrets', 'show', file], { env: await noKeyEnv() });
  t.equal(noKey.code, 1);
  t.match(noKey.stderr, 'no age private key is available');

  const config = await tempDir();
  const init = await siteforge(['init'], { env: { ...(await noKeyEnv()), XDG_CONFIG_HOME: config } });
  t.equal(init.code, 0, init.stderr);
  const keyFile = join(config, 'sops/age/keys.txt');
  t.ok(existsSync(keyFile));
  t.equal(statSync(keyFile).mode & 0o777, 0o600, 'private key is 0600');
  const recipient = init.stdout.trim();
  t.match(recipient, /^age1[02-9ac-hj-np-z]{58}$/);
  const check = await runTool('age-keygen', ['-y', keyFile]);
  t.equal(check.stdout.trim(), recipient, 'age-keygen derives the same public key');
  const again = await siteforge(['init'], { env: { ...(await noKeyEnv()), XDG_CONFIG_HOME: config } });
  t.equal(again.code, 1);
  t.match(again.stderr, 'never overwrites a private key');
});
