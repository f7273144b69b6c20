// A site certificate authority: an ECDSA P-256 key and its self-signed certificate, made once by
// the secrets stage (the key only ever leaves memory SOPS-encrypted). @peculiar/x509 builds the
// certificate on node's WebCrypto; it is loaded only when a CA is created.
import { webcrypto } from 'node:crypto';

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

const pem = (label: string, der: ArrayBuffer) =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;

/** A new CA key (PKCS#8 PEM). */
export async function newCaKey(): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify']);
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
}

/** The self-signed CA certificate (PEM) of a PKCS#8 PEM key: CA:TRUE, keyCertSign + cRLSign, valid `years` from now. */
export async function selfSignedCa(keyPem: string, commonName: string, years: number, now = new Date()): Promise<string> {
  await import('reflect-metadata'); // @peculiar/x509's dependency injection needs the Reflect API
  const loaded = await import('@peculiar/x509');
  // Bundled, the CommonJS build arrives as the default export.
  const x509 = ('cryptoProvider' in loaded && loaded.cryptoProvider ? loaded : (loaded as unknown as { default: typeof loaded }).default);
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const der = Buffer.from(keyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const privateKey = await webcrypto.subtle.importKey('pkcs8', der, ALGORITHM, true, ['sign']);
  // The public half, from the private JWK (d dropped).
  const { d: _private, ...jwk } = await webcrypto.subtle.exportKey('jwk', privateKey);
  const publicKey = await webcrypto.subtle.importKey('jwk', { ...jwk, key_ops: ['verify'] }, ALGORITHM, true, ['verify']);
  const notBefore = new Date(now.getTime() - 60 * 60 * 1000); // an hour of clock skew between nodes
  const notAfter = new Date(now);
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + years);
  const serial = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial,
    name: [{ CN: [commonName] }],
    notBefore,
    notAfter,
    keys: { privateKey, publicKey },
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ],
  });
  return cert.toString('pem').replace(/\r\n/g, '\n').trimEnd() + '\n';
}
