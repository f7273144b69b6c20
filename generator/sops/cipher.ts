// SOPS value encryption, compatible with sops 3.x: AES-256-GCM with a 32-byte random IV, the
// value's key path as additional data, and the value type recorded in the envelope:
//   ENC[AES256_GCM,data:<b64>,iv:<b64>,tag:<b64>,type:str|int|float|bool]
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export type SopsScalar = string | number | boolean;

const ENVELOPE = /^ENC\[AES256_GCM,data:(.*),iv:(.+),tag:(.+),type:(.+)\]$/;

export class SopsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SopsError';
  }
}

/** Plaintext bytes of a value as sops writes and hashes them (booleans in Python's spelling). */
export function valueBytes(value: SopsScalar, asFloat = false): Buffer {
  if (typeof value === 'boolean') return Buffer.from(value ? 'True' : 'False');
  if (typeof value === 'number') return Buffer.from(asFloat ? formatFloat(value) : String(Math.trunc(value)));
  return Buffer.from(value, 'utf8');
}

/** Go's strconv.FormatFloat(v, 'f', -1, 64): shortest representation, never exponent notation. */
export function formatFloat(value: number): string {
  if (Number.isInteger(value)) return value.toFixed(0);
  const s = String(value);
  if (!/e/i.test(s)) return s;
  const [mantissa, exp] = s.split(/e/i) as [string, string];
  const digits = mantissa.replace('.', '').replace('-', '');
  const point = (mantissa.replace('-', '').indexOf('.') === -1 ? mantissa.replace('-', '').length : mantissa.replace('-', '').indexOf('.')) + Number(exp);
  const sign = value < 0 ? '-' : '';
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

function typeOf(value: SopsScalar, asFloat: boolean): string {
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return asFloat ? 'float' : 'int';
  return 'str';
}

export function encryptValue(value: SopsScalar, key: Uint8Array, additionalData: string, opts: { asFloat?: boolean; iv?: Uint8Array } = {}): string {
  if (value === '') return '';
  const iv = opts.iv ?? randomBytes(32);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
  cipher.setAAD(Buffer.from(additionalData, 'utf8'));
  const data = Buffer.concat([cipher.update(valueBytes(value, opts.asFloat)), cipher.final()]);
  const tag = cipher.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString('base64')},iv:${Buffer.from(iv).toString('base64')},tag:${tag.toString('base64')},type:${typeOf(value, Boolean(opts.asFloat))}]`;
}

export const isEncrypted = (value: unknown): value is string => typeof value === 'string' && ENVELOPE.test(value);

/** Decrypts one envelope; throws SopsError when the key, the path or the bytes are wrong. */
export function decryptValue(envelope: string, key: Uint8Array, additionalData: string): { value: SopsScalar; type: string } {
  if (envelope === '') return { value: '', type: 'str' };
  const m = ENVELOPE.exec(envelope);
  if (!m) throw new SopsError('not a SOPS AES256_GCM envelope');
  const [, data, iv, tag, type] = m as unknown as [string, string, string, string, string];
  let plain: Buffer;
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64'), { authTagLength: 16 });
    decipher.setAAD(Buffer.from(additionalData, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]);
  } catch {
    throw new SopsError(`authentication failed for the value at ${additionalData || '(mac)'}`);
  }
  const text = plain.toString('utf8');
  switch (type) {
    case 'str':
    case 'comment':
    case 'bytes':
      return { value: text, type };
    case 'int':
      if (!/^-?[0-9]+$/.test(text)) throw new SopsError(`invalid int at ${additionalData}`);
      return { value: Number(text), type };
    case 'float':
      if (Number.isNaN(Number(text))) throw new SopsError(`invalid float at ${additionalData}`);
      return { value: Number(text), type };
    case 'bool':
      if (!/^(true|false)$/i.test(text)) throw new SopsError(`invalid bool at ${additionalData}`);
      return { value: text.toLowerCase() === 'true', type };
    default:
      throw new SopsError(`unknown value type ${type}`);
  }
}
