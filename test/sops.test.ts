// siteforge's SOPS implementation against files made by the real sops (test/fixtures/sops-vectors,
// see its README for their origin and licences), and what it writes against two independent
// readers: the sops-age package and the age CLI.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { decryptSops } from 'sops-age';
import { decryptYaml, encryptJson, encryptYaml, inspectSops, rekeyYaml } from '../generator/sops/document.ts';
import { readIdentities } from '../generator/sops/age.ts';
import { decryptValue } from '../generator/sops/cipher.ts';
import { runTool } from './helpers/tools.ts';
import { ROOT } from './helpers/cli.ts';

const VECTORS = join(ROOT, 'test/fixtures/sops-vectors');
const KEYS = join(ROOT, 'test/fixtures/keys');

const vector = async (name: string) => ({
  text: await readFile(join(VECTORS, `${name}.sops.yaml`), 'utf8'),
  identities: await readIdentities(join(VECTORS, `${name}.agekey`)),
});

t.test('reads and verifies what real sops wrote', async (t) => {
  const flux = await vector('flux-age-secret');
  t.same((await decryptYaml(flux.text, flux.identities)).plain, { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'age' }, stringData: { key: 'value' } });
  const global = await vector('flux-global-secret');
  t.same(((await decryptYaml(global.text, global.identities)).plain as any).stringData, { key: 'global-value' });
  const typed = await vector('sops-age-typed');
  t.same((await decryptYaml(typed.text, typed.identities)).plain, {
    secret: 'this is a secret',
    string: 'string',
    int: 7,
    float: 3.14,
    boolean: true,
    complex: { value: 'this is a secret', array: ['one', 'two', 'three'] },
  });
});

/** Changes one character inside the first match of `pattern` (a base64 or digit character). */
function tamper(text: string, pattern: RegExp): string {
  const m = pattern.exec(text);
  if (!m) throw new Error(`pattern ${pattern} not found`);
  const at = m.index + m[0].length - 1;
  const c = text[at]!;
  const replacement = c === 'A' ? 'B' : c === '0' ? '1' : /[0-9]/.test(c) ? '0' : 'A';
  return text.slice(0, at) + replacement + text.slice(at + 1);
}

t.test('rejects a file after one byte of a value, lastmodified, the MAC or a clear value changed', async (t) => {
  for (const name of ['flux-age-secret', 'flux-global-secret', 'sops-age-typed']) {
    const { text, identities } = await vector(name);
    const cases: [string, string][] = [
      ['a value', tamper(text, /\n[^\n]*ENC\[AES256_GCM,data:[A-Za-z0-9+/]{2}/)],
      ['lastmodified', tamper(text, /lastmodified: "?\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/)],
      ['the MAC', tamper(text, /mac: ENC\[AES256_GCM,data:[A-Za-z0-9+/]{5}/)],
    ];
    if (name.startsWith('flux')) cases.push(['an unencrypted value under the MAC', text.replace(/^kind: Secret$/m, 'kind: Secreu')]);
    for (const [what, changed] of cases) {
      t.not(changed, text, `${name}: ${what} was changed`);
      await t.rejects(decryptYaml(changed, identities), { name: 'SopsError' }, `${name}: tampered ${what} is rejected`);
    }
  }
});

t.test('what siteforge encrypts, sops-age and the age CLI read', async (t) => {
  const keyFile = join(KEYS, 'example-site.agekey');
  const identity = await readIdentities(keyFile);
  const recipient = 'age1m2eemtx2jfdk9g298kg4f76fgdzypna5czpxheh2dpqvyzsktptsfaljk2';
  const plain = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: 'demo', namespace: 'harbor' },
    stringData: { password: 'p4ss:w0rd é', count: 7, ratio: 3.25, flag: false, list: ['a', 'b'] },
  };
  for (const regex of [undefined, '^(data|stringData)$']) {
    const text = await encryptYaml(plain, { recipients: [recipient], encryptedRegex: regex });
    t.notMatch(text, /p4ss:w0rd/, 'no plaintext in the output');
    t.same((await decryptYaml(text, identity)).plain, plain, 'round trip');
    const independent = await decryptSops(text, { secretKey: identity[0]!, fileType: 'yaml' });
    t.same(independent, plain, `sops-age decrypts it (encrypted_regex ${regex ?? 'none'})`);
    if (regex) t.equal(parse(text).kind, 'Secret', 'fields outside the regex stay readable');

    const enc = parse(text).sops.age[0].enc as string;
    const age = await runTool('sh', ['-c', `age --decrypt -i '${keyFile}' | od -An -tx1 | tr -d ' \\n'`], { input: enc });
    t.equal(age.code, 0, `age CLI: ${age.stderr}`);
    const key = Buffer.from(age.stdout, 'hex');
    t.equal(key.length, 32, 'the age CLI unwraps a 32-byte data key');
    const password = parse(text).stringData.password as string;
    t.equal(decryptValue(password, key, 'stringData:password:').value, 'p4ss:w0rd é', 'that data key decrypts the values');
  }
});

t.test('JSON: what siteforge encrypts, sops-age reads, and siteforge reads back', async (t) => {
  const identity = await readIdentities(join(KEYS, 'example-site.agekey'));
  const plain = { db: { user: 'build', password: 'sw0rdf1sh', port: 5432, ratio: 0.5, tls: true }, hosts: ['a', 'b'] };
  const text = await encryptJson(plain, { recipients: ['age1m2eemtx2jfdk9g298kg4f76fgdzypna5czpxheh2dpqvyzsktptsfaljk2'] });
  t.notMatch(text, /sw0rdf1sh/);
  t.equal(JSON.parse(text).sops.age.length, 1, 'valid JSON with the sops block');
  t.same(await decryptSops(text, { secretKey: identity[0]!, fileType: 'json' }), plain, 'sops-age decrypts it');
  t.same((await decryptYaml(text, identity)).plain, plain, 'and so does siteforge');
});

t.test('rekey re-wraps the data key and keeps every value, the MAC and lastmodified', async (t) => {
  const first = await readIdentities(join(KEYS, 'example-site.agekey'));
  const second = await readIdentities(join(KEYS, 'example-second.agekey'));
  const r1 = 'age1m2eemtx2jfdk9g298kg4f76fgdzypna5czpxheh2dpqvyzsktptsfaljk2';
  const r2 = 'age1tkvvlcfmjckc8x0j69dk25u3ywtmdwph4jtpdhrz8263urmr5v0qs04k64';
  const text = await encryptYaml({ a: 'one', b: { c: 'two' } }, { recipients: [r1] });
  await t.rejects(decryptYaml(text, second), /none of the available age keys/);
  const rekeyed = await rekeyYaml(text, first, [r1, r2]);
  const inspected = inspectSops(rekeyed);
  t.same(inspected.problem === null ? inspected.recipients : inspected.problem, [r1, r2]);
  t.same((await decryptYaml(rekeyed, second)).plain, { a: 'one', b: { c: 'two' } }, 'the new recipient can decrypt');
  const strip = (s: string) => s.replace(/\n {2}age:\n(?: {4}.*\n)+/, '\n');
  t.equal(strip(rekeyed), strip(text), 'values, MAC and lastmodified unchanged');
});
