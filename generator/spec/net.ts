// IPv4 arithmetic for the cross-field rules (overlaps, containment, ranges).

export interface Ipv4Range {
  readonly first: number;
  readonly last: number;
}

export function parseIpv4(text: string): number | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(part)) return null;
    const n = Number(part);
    if (n > 255) return null;
    value = value * 256 + n;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export interface Cidr extends Ipv4Range {
  readonly prefix: number;
  /** The address as written, e.g. 10.140.0.1 in 10.140.0.1/16. */
  readonly address: number;
}

export function parseCidr(text: string): Cidr | null {
  const [addr, bits, extra] = text.split('/');
  if (addr === undefined || bits === undefined || extra !== undefined || !/^[0-9]{1,2}$/.test(bits)) return null;
  const address = parseIpv4(addr);
  const prefix = Number(bits);
  if (address === null || prefix > 32) return null;
  const size = 2 ** (32 - prefix);
  const first = Math.floor(address / size) * size;
  return { address, prefix, first, last: first + size - 1 };
}

/** "a.b.c.d-e.f.g.h" or a CIDR. */
export function parseRange(text: string): Ipv4Range | null {
  if (text.includes('/')) return parseCidr(text);
  const [a, b, extra] = text.split('-');
  if (a === undefined || b === undefined || extra !== undefined) return null;
  const first = parseIpv4(a.trim());
  const last = parseIpv4(b.trim());
  if (first === null || last === null) return null;
  return { first, last };
}

export const overlaps = (a: Ipv4Range, b: Ipv4Range) => a.first <= b.last && b.first <= a.last;
export const contains = (r: Ipv4Range, ip: number) => r.first <= ip && ip <= r.last;

/** The first address pool (a range or a CIDR, as MetalLB writes them) that holds ip, if any. */
export const poolContaining = (ip: number, pools: readonly string[]): string | undefined =>
  pools.find((text) => {
    const range = parseRange(text);
    return range !== null && contains(range, ip);
  });
