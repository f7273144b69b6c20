// SOPS documents (YAML), compatible with sops 3.x: every value encrypted under one random data
// key (or only those under keys matching encrypted_regex / without unencrypted_suffix), a MAC
// over all values, and the `sops:` metadata block with one age stanza per recipient.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Document, isMap, isScalar, isSeq, parseDocument, Scalar, YAMLMap, type Node as YamlNode } from 'yaml';
import { decryptValue, encryptValue, isEncrypted, SopsError, valueBytes, type SopsScalar } from './cipher.ts';
import { unwrapDataKey, wrapDataKey, type AgeStanza } from './age.ts';

/** The sops release whose format this module writes. */
export const SOPS_FORMAT_VERSION = '3.9.4';

export interface EncryptionRules {
  /** Encrypt only values under a key matching this regex (e.g. ^(data|stringData)$ for Secrets). */
  readonly encryptedRegex?: string;
  /** Leave values under keys ending in this suffix in clear. */
  readonly unencryptedSuffix?: string;
}

export interface SopsMetadata extends EncryptionRules {
  readonly age: readonly AgeStanza[];
  readonly lastmodified: string;
  readonly mac: string;
  readonly macOnlyEncrypted: boolean;
  readonly version: string;
}

type Visit = (scalar: Scalar, path: readonly string[]) => void;

/** Every scalar below `node`, in document order; sequence items share their parent's path. */
function walk(node: unknown, path: readonly string[], visit: Visit, top = false): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
      if (top && key === 'sops') continue;
      walk(pair.value, [...path, key], visit);
    }
  } else if (isSeq(node)) {
    for (const item of node.items) walk(item, path, visit);
  } else if (isScalar(node)) {
    visit(node, path);
  }
}

function shouldEncrypt(path: readonly string[], rules: EncryptionRules): boolean {
  if (rules.unencryptedSuffix && path.some((p) => p.endsWith(rules.unencryptedSuffix!))) return false;
  if (rules.encryptedRegex) {
    const re = new RegExp(rules.encryptedRegex);
    return path.some((p) => re.test(p));
  }
  return true;
}

const additionalData = (path: readonly string[]) => `${path.join(':')}:`;

function scalarValue(scalar: Scalar): SopsScalar {
  const v = scalar.value;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v === null || v === undefined) return '';
  return String(v);
}

/** A number written with a fraction or exponent is a float for sops (its type tag and MAC bytes). */
function isFloat(scalar: Scalar): boolean {
  if (typeof scalar.value !== 'number') return false;
  if (!Number.isInteger(scalar.value)) return true;
  const source = (scalar as Scalar & { source?: string }).source;
  return typeof source === 'string' && /[.eE]/.test(source);
}

/** 2024-11-12T13:33:42Z, as sops writes lastmodified. */
export const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface EncryptOptions extends EncryptionRules {
  readonly recipients: readonly string[];
  readonly dataKey?: Uint8Array;
  readonly lastModified?: Date;
}

/** Encrypts a plain value (a mapping) into SOPS YAML text. */
export async function encryptYaml(plain: Record<string, unknown>, opts: EncryptOptions): Promise<string> {
  const doc = new Document(plain, { aliasDuplicateObjects: false });
  const dataKey = opts.dataKey ?? randomBytes(32);
  const hash = createHash('sha512');
  walk(doc.contents, [], (scalar, path) => {
    const value = scalarValue(scalar);
    const asFloat = isFloat(scalar);
    hash.update(valueBytes(value, asFloat));
    if (shouldEncrypt(path, opts)) scalar.value = encryptValue(value, dataKey, additionalData(path), { asFloat });
  }, true);
  const lastmodified = rfc3339(opts.lastModified ?? new Date());
  const mac = encryptValue(hash.digest('hex').toUpperCase(), dataKey, lastmodified);
  const age = await wrapDataKey(dataKey, opts.recipients);
  appendMetadata(doc, { age, lastmodified, mac, macOnlyEncrypted: false, version: SOPS_FORMAT_VERSION, encryptedRegex: opts.encryptedRegex, unencryptedSuffix: opts.unencryptedSuffix });
  return doc.toString({ lineWidth: 0, indentSeq: true });
}

/**
 * The same for a JSON document: sops' JSON files are the same tree (JSON is YAML), written as JSON.
 * decryptYaml reads them as they are.
 */
export async function encryptJson(plain: Record<string, unknown>, opts: EncryptOptions): Promise<string> {
  const encrypted = parseDocument(await encryptYaml(plain, opts)).toJS() as Record<string, unknown>;
  return `${JSON.stringify(encrypted, null, 4)}\n`;
}

function appendMetadata(doc: Document, meta: SopsMetadata) {
  const root = doc.contents as YAMLMap;
  const sops = new YAMLMap();
  sops.set(
    'age',
    doc.createNode(
      meta.age.map((s) => {
        const enc = new Scalar(s.enc);
        enc.type = Scalar.BLOCK_LITERAL;
        return { recipient: s.recipient, enc };
      }),
    ),
  );
  // Quoted, as sops writes it: unquoted, YAML 1.1 readers (Go's) would take it for a timestamp.
  const lastmodified = new Scalar(meta.lastmodified);
  lastmodified.type = Scalar.QUOTE_DOUBLE;
  sops.set('lastmodified', lastmodified);
  sops.set('mac', meta.mac);
  if (meta.encryptedRegex) sops.set('encrypted_regex', meta.encryptedRegex);
  if (meta.unencryptedSuffix) sops.set('unencrypted_suffix', meta.unencryptedSuffix);
  if (meta.macOnlyEncrypted) sops.set('mac_only_encrypted', true);
  sops.set('version', meta.version);
  root.set('sops', sops);
}

export function readMetadata(doc: Document): SopsMetadata {
  const root = doc.contents;
  const sops = isMap(root) ? (root.get('sops', true) as unknown) : undefined;
  if (!isMap(sops)) throw new SopsError('no sops metadata: the file is not encrypted with sops');
  const m = (sops as YAMLMap).toJSON() as Record<string, unknown>;
  const age = Array.isArray(m.age) ? (m.age as AgeStanza[]) : [];
  if (!age.length) throw new SopsError('the file has no age recipients');
  if (typeof m.mac !== 'string' || typeof m.lastmodified !== 'string') throw new SopsError('sops metadata lacks mac or lastmodified');
  return {
    age: age.map((a) => ({ recipient: a.recipient, enc: a.enc })),
    lastmodified: m.lastmodified,
    mac: m.mac,
    macOnlyEncrypted: m.mac_only_encrypted === true,
    version: String(m.version ?? ''),
    encryptedRegex: typeof m.encrypted_regex === 'string' ? m.encrypted_regex : undefined,
    unencryptedSuffix: typeof m.unencrypted_suffix === 'string' ? m.unencrypted_suffix : undefined,
  };
}

function parseSops(text: string): Document {
  const doc = parseDocument(text, { keepSourceTokens: true });
  // The parser's message quotes the offending line, which may be a plaintext value: not repeated.
  if (doc.errors.length) throw new SopsError(`not valid YAML (line ${doc.errors[0]!.linePos?.[0]?.line ?? '?'})`);
  return doc;
}

/** A SOPS file read once: its recipients and top-level data keys, or what is wrong with it. */
export type SopsInspection = { problem: string } | { problem: null; recipients: string[]; stringDataKeys: string[]; annotations: Record<string, string> };

/** What a file that should be SOPS-encrypted holds (one parse): empty, not YAML, not encrypted, or its recipients. */
export function inspectSops(text: string): SopsInspection {
  if (!text.trim()) return { problem: 'is empty' };
  try {
    const doc = parseSops(text);
    const recipients = readMetadata(doc).age.map((a) => a.recipient);
    const plain = doc.toJS() as { stringData?: Record<string, unknown>; metadata?: { annotations?: Record<string, unknown> } } | null;
    const annotations = Object.fromEntries(Object.entries(plain?.metadata?.annotations ?? {}).filter((e): e is [string, string] => typeof e[1] === 'string'));
    return { problem: null, recipients, stringDataKeys: Object.keys(plain?.stringData ?? {}), annotations };
  } catch (e) {
    if (e instanceof SopsError) return { problem: e.message.startsWith('no sops metadata') ? 'is not SOPS-encrypted (it has no sops metadata; it may hold plaintext)' : e.message };
    throw e;
  }
}

export interface Decrypted {
  /** The plaintext document, without the sops block. */
  readonly plain: Record<string, unknown>;
  readonly metadata: SopsMetadata;
  readonly dataKey: Uint8Array;
}

/** Decrypts SOPS YAML and verifies its MAC; throws SopsError on any mismatch. */
export async function decryptYaml(text: string, identities: readonly string[]): Promise<Decrypted> {
  const doc = parseSops(text);
  const metadata = readMetadata(doc);
  const dataKey = await unwrapDataKey(metadata.age, identities);
  const hash = createHash('sha512');
  walk(doc.contents, [], (scalar, path) => {
    const encrypted = shouldEncrypt(path, metadata);
    let value = scalarValue(scalar);
    let asFloat = isFloat(scalar);
    if (encrypted && isEncrypted(value)) {
      const out = decryptValue(value, dataKey, additionalData(path));
      value = out.value;
      asFloat = out.type === 'float';
      scalar.value = value;
    }
    if (!metadata.macOnlyEncrypted || encrypted) hash.update(valueBytes(value, asFloat));
  }, true);
  const expected = decryptValue(metadata.mac, dataKey, metadata.lastmodified).value;
  const actual = hash.digest('hex').toUpperCase();
  if (typeof expected !== 'string' || expected.length !== actual.length || !timingSafeEqual(Buffer.from(expected), Buffer.from(actual))) {
    throw new SopsError('MAC mismatch: the file was modified after it was encrypted');
  }
  const plain = doc.toJS() as Record<string, unknown>;
  delete plain.sops;
  return { plain, metadata, dataKey };
}

/**
 * The same file for another set of recipients: the data key is re-wrapped, every value, the MAC
 * and lastmodified stay as they are. Needs an identity that can unwrap the current data key.
 */
export async function rekeyYaml(text: string, identities: readonly string[], recipients: readonly string[]): Promise<string> {
  const { dataKey, metadata } = await decryptYaml(text, identities);
  const doc = parseSops(text);
  (doc.contents as YAMLMap).delete('sops');
  appendMetadata(doc, { ...metadata, age: await wrapDataKey(dataKey, recipients) });
  return doc.toString({ lineWidth: 0, indentSeq: true });
}

export type { YamlNode };
