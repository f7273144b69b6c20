// Fresh secret values of the shapes charts want.
import { randomBytes, randomInt } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { SecretValueSpec } from './types.ts';
import { newCaKey, selfSignedCa } from './pki.ts';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function randomString(length: number, alphabet: string): string {
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[randomInt(alphabet.length)];
  return out;
}

/** New values for every key (htpasswd lines hash the password generated alongside; a CA certificate is made for the CA key beside it). */
export async function generateValues(spec: Readonly<Record<string, SecretValueSpec>>, now?: Date): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const [key, s] of Object.entries(spec)) {
    if (s.kind === 'fixed') out[key] = s.value;
    else if (s.kind === 'random') {
      out[key] =
        s.charset === 'alnum' ? randomString(s.length, ALNUM) : s.charset === 'hex' ? randomBytes(Math.ceil(s.length / 2)).toString('hex').slice(0, s.length) : randomBytes(s.length).toString('base64');
    } else if (s.kind === 'caKey') out[key] = await newCaKey();
  }
  for (const [key, s] of Object.entries(spec)) {
    if (s.kind !== 'htpasswd') continue;
    const password = out[s.passwordKey];
    if (password === undefined) throw new Error(`internal error: htpasswd ${key} refers to unknown key ${s.passwordKey}`);
    out[key] = `${s.user}:${bcrypt.hashSync(password, 10)}`;
  }
  for (const [key, s] of Object.entries(spec)) {
    if (s.kind !== 'caCertificate') continue;
    const caKey = out[s.keyKey];
    if (caKey === undefined || spec[s.keyKey]?.kind !== 'caKey') throw new Error(`internal error: caCertificate ${key} refers to ${s.keyKey}, which is no CA key`);
    out[key] = await selfSignedCa(caKey, s.commonName, s.years, now);
  }
  return Object.fromEntries(Object.keys(spec).map((k) => [k, out[k]!]));
}
