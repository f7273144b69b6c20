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

/** Letters and digits with at least one of each kind (upper, lower, digit): drawn again until it has them. */
function mixedString(length: number): string {
  if (length < 3) throw new Error('internal error: a mixed secret needs at least 3 characters');
  for (;;) {
    const s = randomString(length, ALNUM);
    if (/[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s)) return s;
  }
}

/** A registry auth file (Docker's config.json, the `.dockerconfigjson` of a pull Secret) with one registry's credentials. */
export function dockerConfigJson(registry: string, username: string, password: string): string {
  return JSON.stringify({ auths: { [registry]: { username, password, auth: Buffer.from(`${username}:${password}`).toString('base64') } } });
}

/** New values for every key, except those `kept` holds (what derives from a kept value follows it): htpasswd lines hash the password generated alongside; registry auth files hold the password beside them; a CA certificate is made for the CA key beside it. */
export async function generateValues(spec: Readonly<Record<string, SecretValueSpec>>, now?: Date, kept: Readonly<Record<string, unknown>> = {}): Promise<Record<string, string>> {
  const out: Record<string, string> = Object.fromEntries(Object.keys(spec).flatMap((k) => (typeof kept[k] === 'string' ? [[k, kept[k]]] : [])));
  for (const [key, s] of Object.entries(spec)) {
    if (key in out) continue;
    if (s.kind === 'fixed') out[key] = s.value;
    else if (s.kind === 'random') {
      out[key] =
        s.charset === 'alnum'
          ? randomString(s.length, ALNUM)
          : s.charset === 'mixed'
            ? mixedString(s.length)
            : s.charset === 'hex'
              ? randomBytes(Math.ceil(s.length / 2)).toString('hex').slice(0, s.length)
              : randomBytes(s.length).toString('base64');
    } else if (s.kind === 'caKey') out[key] = await newCaKey();
  }
  for (const [key, s] of Object.entries(spec)) {
    if (s.kind !== 'htpasswd' || key in out) continue;
    const password = out[s.passwordKey];
    if (password === undefined) throw new Error(`internal error: htpasswd ${key} refers to unknown key ${s.passwordKey}`);
    out[key] = `${s.user}:${bcrypt.hashSync(password, 10)}`;
  }
  for (const [key, s] of Object.entries(spec)) {
    if (s.kind !== 'dockerConfig' || key in out) continue;
    const password = out[s.passwordKey];
    if (password === undefined) throw new Error(`internal error: dockerConfig ${key} refers to unknown key ${s.passwordKey}`);
    out[key] = dockerConfigJson(s.registry, s.user, password);
  }
  for (const [key, s] of Object.entries(spec)) {
    if (s.kind !== 'caCertificate' || key in out) continue;
    const caKey = out[s.keyKey];
    if (caKey === undefined || spec[s.keyKey]?.kind !== 'caKey') throw new Error(`internal error: caCertificate ${key} refers to ${s.keyKey}, which is no CA key`);
    out[key] = await selfSignedCa(caKey, s.commonName, s.years, now);
  }
  return Object.fromEntries(Object.keys(spec).map((k) => [k, out[k]!]));
}
