// The site CA end to end: siteforge makes it once (key SOPS-encrypted, certificate published in
// clear under the MAC), cert-manager's CA issuer can sign with it, every node is given the same
// certificate, it survives regeneration byte for byte, and a damaged or hostile copy is refused.
import t from 'tap';
import { createPrivateKey, webcrypto, X509Certificate } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { decryptSops } from 'sops-age';
import { ROOT, siteforge, tempDir } from './helpers/cli.ts';
import { readIdentities } from '../generator/sops/age.ts';

const KEY_FILE = join(ROOT, 'test/fixtures/keys/example-site.agekey');
const CA_FILE = 'secrets/cluster/cert-manager/site-ca.sops.yaml';
const noKeyEnv = async () => ({ SOPS_AGE_KEY: '', SOPS_AGE_KEY_FILE: '', XDG_CONFIG_HOME: await tempDir('siteforge-nokey-') });
const unsafe = { tag: '!unsafe', resolve: (v: string) => v };
const groupVars = async (out: string) => parse(await readFile(join(out, 'ansible/group_vars/all.yml'), 'utf8'), { customTags: [unsafe] });

async function siteCa(out: string) {
  const text = await readFile(join(out, CA_FILE), 'utf8');
  const [identity] = await readIdentities(KEY_FILE);
  const plain = (await decryptSops(text, { secretKey: identity!, fileType: 'yaml' })) as { type: string; stringData: Record<string, string> };
  return { text, plain, annotation: parse(text).metadata.annotations['siteforge.io/public.tls.crt'] as string };
}

t.test('the site CA is a CA whose key signs certificates that verify against it', async (t) => {
  const { plain, annotation } = await siteCa(ROOT);
  t.equal(plain.type, 'kubernetes.io/tls', 'the Secret type cert-manager\'s CA issuer reads');
  const ca = new X509Certificate(plain.stringData['tls.crt']!);
  t.ok(ca.ca, 'basicConstraints CA:TRUE');
  t.match(ca.subject, /CN=hpc4 site CA/);
  t.ok(new Date(ca.validTo).getTime() - Date.now() > 9 * 365 * 86400_000, 'valid for years');
  const key = createPrivateKey(plain.stringData['tls.key']!);
  t.ok(ca.checkPrivateKey(key), 'tls.key is the key of tls.crt');
  t.equal(annotation, plain.stringData['tls.crt'], 'the clear copy is the encrypted certificate');

  // What cert-manager's CA issuer does: sign a leaf for Harbor with the CA key; a TLS client checks it against the CA.
  await import('reflect-metadata');
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const caKey = await webcrypto.subtle.importKey('pkcs8', key.export({ type: 'pkcs8', format: 'der' }), alg, false, ['sign']);
  const leafKeys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
  const leaf = await x509.X509CertificateGenerator.create({
    serialNumber: '02', subject: 'CN=harbor.hpc4.example.edu', issuer: ca.subject.replace(/\n/g, ','), notBefore: new Date(), notAfter: new Date(Date.now() + 86400_000),
    publicKey: leafKeys.publicKey, signingKey: caKey, signingAlgorithm: alg,
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'harbor.hpc4.example.edu' }])],
  });
  const issued = new X509Certificate(leaf.toString('pem'));
  t.ok(issued.checkIssued(ca), 'the leaf names the CA as its issuer');
  t.ok(issued.verify(ca.publicKey), 'and its signature verifies with the CA certificate the nodes trust');
  t.equal(issued.checkHost('harbor.hpc4.example.edu'), 'harbor.hpc4.example.edu');
});

t.test('every node is given the same certificate, and containerd verifies Harbor against it', async (t) => {
  const { annotation } = await siteCa(ROOT);
  const vars = await groupVars(ROOT);
  t.equal(vars.prepare_site_ca_certificate, annotation);
  t.same(vars.rke2_registry_configs['harbor.hpc4.example.edu'], { tls: { ca_file: vars.prepare_site_ca_path } });
  const issuers = await readFile(join(ROOT, 'charts/cert-manager-issuers/templates/issuers.yaml'), 'utf8');
  t.notMatch(issuers, /selfSigned/, 'no in-cluster self-signed root the nodes could never know');
});

t.test('regeneration keeps the CA; a damaged or hostile clear copy is refused', async (t) => {
  const out = await tempDir();
  const env = await noKeyEnv();
  t.equal((await siteforge(['generate', 'site.yaml', '--out', out, '--no-commit'], { env })).code, 0);
  const first = await readFile(join(out, CA_FILE), 'utf8');
  const vars = await readFile(join(out, 'ansible/group_vars/all.yml'), 'utf8');
  const again = await siteforge(['generate', 'site.yaml', '--out', out, '--no-commit'], { env });
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout + again.stderr, /up to date/, 'without a private key, the CA and the nodes\' copy stay as they are');
  t.equal(await readFile(join(out, CA_FILE), 'utf8'), first);
  t.equal(await readFile(join(out, 'ansible/group_vars/all.yml'), 'utf8'), vars);

  for (const [what, replace] of [
    ['a Jinja2 payload', (pem: string) => pem.replace(/\n[A-Za-z0-9+/]{8}/, "\n{{ lookup('pipe', 'id') }}")],
    ['a certificate cut short', (pem: string) => pem.slice(0, 120)],
  ] as const) {
    const doc = parse(first);
    doc.metadata.annotations['siteforge.io/public.tls.crt'] = replace(doc.metadata.annotations['siteforge.io/public.tls.crt']);
    const { stringify } = await import('yaml');
    await writeFile(join(out, CA_FILE), stringify(doc));
    const res = await siteforge(['generate', 'site.yaml', '--out', out, '--no-commit'], { env });
    t.equal(res.code, 1, `${what}: refused`);
    t.match(res.stderr, /damaged secret file: secrets\/cluster\/cert-manager\/site-ca\.sops\.yaml annotation siteforge\.io\/public\.tls\.crt is not one PEM certificate/, what);
    t.notMatch(res.stderr, /at .*\.ts:\d+/, 'no stack trace');
    t.equal(await readFile(join(out, 'ansible/group_vars/all.yml'), 'utf8'), vars, `${what}: nothing written`);
  }
  await writeFile(join(out, CA_FILE), first);

  const rotated = await siteforge(['secrets', 'rotate', 'site-ca', 'site.yaml', '--out', out, '--no-commit'], { env });
  t.equal(rotated.code, 0, rotated.stderr);
  const next = parse(await readFile(join(out, CA_FILE), 'utf8')).metadata.annotations['siteforge.io/public.tls.crt'];
  t.not(next, parse(first).metadata.annotations['siteforge.io/public.tls.crt'], 'rotating the CA makes a new one');
  t.equal((await groupVars(out)).prepare_site_ca_certificate, next, 'and the nodes are given the new one');
});
