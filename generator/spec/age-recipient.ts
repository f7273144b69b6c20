// age X25519 recipients: bech32 with human-readable part "age" and a 32-byte key.
import { createPublicKey, diffieHellman, generateKeyPairSync } from 'node:crypto';
import { bech32 } from '@scure/base';
import { AGE_IDENTITY_PREFIX } from '../sops/age.ts';
import { show } from './diagnostics.ts';

export type RecipientCheck = { ok: true } | { ok: false; reason: string; hint: string };

/**
 * A public key X25519 can agree with: not the all-zero key or another low-order point, for which
 * every shared secret is zero (age refuses those, so nobody could decrypt).
 */
function isUsableX25519Point(key: Uint8Array): boolean {
  try {
    const peer = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: Buffer.from(key).toString('base64url') }, format: 'jwk' });
    const secret = diffieHellman({ privateKey: generateKeyPairSync('x25519').privateKey, publicKey: peer });
    return secret.some((b) => b !== 0);
  } catch {
    return false;
  }
}

export function checkAgeRecipient(text: string): RecipientCheck {
  if (text.trim().toUpperCase().includes(AGE_IDENTITY_PREFIX.slice(0, -1))) {
    return {
      ok: false,
      reason: 'this is an age PRIVATE key',
      hint: 'remove it from the file now and treat it as leaked; list the public key instead (`age-keygen -y key.txt` prints it)',
    };
  }
  if (!text.startsWith('age1')) {
    return { ok: false, reason: `${show(text)} is not an age recipient`, hint: 'age public keys start with "age1"; `age-keygen -y key.txt` prints yours' };
  }
  try {
    const { prefix, words } = bech32.decode(text as `${string}1${string}`, 90);
    const key = bech32.fromWords(words);
    if (prefix !== 'age' || key.length !== 32) {
      return { ok: false, reason: `${show(text)} is not an X25519 age recipient`, hint: 'SOPS supports X25519 age keys ("age1" + 58 characters)' };
    }
    if (!isUsableX25519Point(key)) {
      return { ok: false, reason: `${show(text)} is not a usable X25519 public key (a low-order point such as the all-zero key)`, hint: 'nobody could decrypt for this key; copy your real public key from `age-keygen -y key.txt`' };
    }
    return { ok: true };
  } catch {
    return {
      ok: false,
      reason: `${show(text)} has an invalid bech32 checksum`,
      hint: 'the key was probably mistyped or truncated; copy it again from `age-keygen -y key.txt`',
    };
  }
}
