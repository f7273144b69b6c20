// The age half of SOPS: the 32-byte data key wrapped for each recipient (armored age files),
// and the private keys (identities) a user has, found where sops looks for them.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../spec/diagnostics.ts';
import { SopsError } from './cipher.ts';

export interface AgeStanza {
  readonly recipient: string;
  readonly enc: string;
}

/** age itself, loaded when a run encrypts, decrypts or checks a key (an unchanged run does neither). */
const age = () => import('age-encryption');

export async function wrapDataKey(dataKey: Uint8Array, recipients: readonly string[]): Promise<AgeStanza[]> {
  const { Encrypter, armor } = await age();
  const stanzas: AgeStanza[] = [];
  for (const recipient of recipients) {
    const e = new Encrypter();
    e.addRecipient(recipient);
    stanzas.push({ recipient, enc: armor.encode(await e.encrypt(dataKey)) });
  }
  return stanzas;
}

export async function unwrapDataKey(stanzas: readonly AgeStanza[], identities: readonly string[]): Promise<Uint8Array> {
  if (!identities.length) throw new SopsError('no age private key available');
  const { Decrypter, armor } = await age();
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  for (const stanza of stanzas) {
    try {
      const key = await d.decrypt(armor.decode(stanza.enc));
      if (key.length !== 32) throw new SopsError('the data key is not 32 bytes');
      return key;
    } catch (e) {
      if (e instanceof SopsError) throw e;
      // not for these identities: try the next recipient
    }
  }
  throw new SopsError(`none of the available age keys can decrypt this file (recipients: ${stanzas.map((s) => s.recipient).join(', ')})`);
}

/** What to tell a user who has no usable private key. */
export const AGE_KEY_HINT = 'set SOPS_AGE_KEY_FILE to your key file, or SOPS_AGE_KEY to the key, or put it in ~/.config/sops/age/keys.txt';

/** sops' default key file: $XDG_CONFIG_HOME/sops/age/keys.txt, else ~/.config/sops/age/keys.txt. */
export function defaultKeyFile(env: NodeJS.ProcessEnv = process.env): string {
  const config = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(config, 'sops', 'age', 'keys.txt');
}

/** How every age X25519 private key (identity) starts. */
export const AGE_IDENTITY_PREFIX = 'AGE-SECRET-KEY-1';

export const parseIdentities = (text: string): string[] =>
  text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.toUpperCase().startsWith(AGE_IDENTITY_PREFIX));

/** Key material never appears in a message: anything shaped like an age private key is masked. */
export const redactKeys = (text: string) => text.replace(new RegExp(`${AGE_IDENTITY_PREFIX}[0-9A-Za-z]*`, 'gi'), `${AGE_IDENTITY_PREFIX}…(redacted)`);

/**
 * The valid identities of one source (the variable or the file), in age's upper case. A malformed
 * one is an error that names the source and the line, never the key.
 */
async function checkedIdentities(text: string, source: string): Promise<string[]> {
  const lines = text.split('\n');
  const out: string[] = [];
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (!line.toUpperCase().startsWith(AGE_IDENTITY_PREFIX)) continue;
    const key = line.toUpperCase();
    try {
      await (await age()).identityToRecipient(key);
    } catch {
      throw new UserError(
        `${source}, line ${i + 1}: this is not a valid age private key (mistyped, truncated or with extra characters)`,
        `copy the whole AGE-SECRET-KEY-1… line again from the key file that \`siteforge init\` or age-keygen wrote; ${AGE_KEY_HINT}`,
      );
    }
    out.push(key);
  }
  return out;
}

/** The identities in a key file (age-keygen format: comments, then one key per line). */
export const readIdentities = async (file: string): Promise<string[]> => checkedIdentities(await readFile(file, 'utf8'), file);

/**
 * The age identities available to this process, in sops' order: SOPS_AGE_KEY, SOPS_AGE_KEY_FILE,
 * then the default key file. Missing files are skipped; the result may be empty.
 */
export async function availableIdentities(env: NodeJS.ProcessEnv = process.env): Promise<{ identities: string[]; sources: string[] }> {
  const identities: string[] = [];
  const sources: string[] = [];
  if (env.SOPS_AGE_KEY) {
    const found = await checkedIdentities(env.SOPS_AGE_KEY, 'the SOPS_AGE_KEY variable');
    if (!found.length) throw new UserError('the SOPS_AGE_KEY variable holds no age private key (AGE-SECRET-KEY-1…)', AGE_KEY_HINT);
    identities.push(...found);
    sources.push('SOPS_AGE_KEY');
  }
  for (const file of [env.SOPS_AGE_KEY_FILE, defaultKeyFile(env)]) {
    if (!file) continue;
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue; // not there: a run that needs a key says so
      throw new UserError(`cannot read the age key file ${file} (${code ?? 'unknown error'})`, 'check the path and its permissions (the file should be mode 0600)');
    }
    const found = await checkedIdentities(text, file);
    if (found.length) {
      identities.push(...found);
      sources.push(file);
    }
  }
  return { identities: [...new Set(identities)], sources };
}
