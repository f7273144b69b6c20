// age X25519 recipients: bech32 with human-readable part "age" and a 32-byte key.
import { bech32 } from '@scure/base';
import { AGE_IDENTITY_PREFIX } from '../sops/age.ts';

export type RecipientCheck = { ok: true } | { ok: false; reason: string; hint: string };

export function checkAgeRecipient(text: string): RecipientCheck {
  if (text.toUpperCase().startsWith(AGE_IDENTITY_PREFIX)) {
    return {
      ok: false,
      reason: 'this is an age PRIVATE key',
      hint: 'remove it from the file now and treat it as leaked; list the public key instead (`age-keygen -y key.txt` prints it)',
    };
  }
  if (!text.startsWith('age1')) {
    return { ok: false, reason: `"${text}" is not an age recipient`, hint: 'age public keys start with "age1"; `age-keygen -y key.txt` prints yours' };
  }
  try {
    const { prefix, words } = bech32.decode(text as `${string}1${string}`, 90);
    const key = bech32.fromWords(words);
    if (prefix !== 'age' || key.length !== 32) {
      return { ok: false, reason: `"${text}" is not an X25519 age recipient`, hint: 'SOPS supports X25519 age keys ("age1" + 58 characters)' };
    }
    return { ok: true };
  } catch {
    return {
      ok: false,
      reason: `"${text}" has an invalid bech32 checksum`,
      hint: 'the key was probably mistyped or truncated; copy it again from `age-keygen -y key.txt`',
    };
  }
}
