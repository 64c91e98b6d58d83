import ipaddr from 'ipaddr.js';

/** An IP address as Nucleon handles it: its version and its value as an unsigned integer. */
export interface IpValue {
  readonly version: 4 | 6;
  readonly value: bigint;
}

/** A CIDR in canonical form (host bits cleared). */
export interface Cidr {
  readonly version: 4 | 6;
  /** Network address as an integer. */
  readonly network: bigint;
  readonly prefix: number;
  /** `10.0.0.0/24`, `2001:db8::/64` */
  readonly text: string;
}

const BITS = { 4: 32, 6: 128 } as const;

/** Strict parse: dotted-quad IPv4 or RFC 4291 IPv6; anything else is undefined. */
export function parseIp(text: unknown): IpValue | undefined {
  if (typeof text !== 'string' || text.trim() !== text || text === '') return undefined;
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    const bytes = ipaddr.IPv4.parse(text).octets;
    return { version: 4, value: bytesToBigInt(bytes) };
  }
  if (text.includes(':') && ipaddr.IPv6.isValid(text) && !text.includes('%')) {
    return { version: 6, value: bytesToBigInt(ipaddr.IPv6.parse(text).toByteArray()) };
  }
  return undefined;
}

/** Canonical text of an address: dotted quad, or RFC 5952 compressed lower-case IPv6. */
export function formatIp(ip: IpValue): string {
  const bytes = bigIntToBytes(ip.value, ip.version === 4 ? 4 : 16);
  if (ip.version === 4) return bytes.join('.');
  return new ipaddr.IPv6(bytesToParts(bytes)).toRFC5952String();
}

/** `10.0.0.5` → `10.0.0.5`, `2001:DB8::1` → `2001:db8::1`; undefined when not an address. */
export function canonicalIp(text: unknown): string | undefined {
  const ip = parseIp(text);
  return ip ? formatIp(ip) : undefined;
}

/**
 * Parses `addr/prefix`. `strict` refuses host bits; otherwise they are cleared.
 * A bare address is not a CIDR here (callers decide whether `/32` is implied).
 */
export function parseCidr(text: unknown): (Cidr & { hostBitsSet: boolean; address: bigint }) | undefined {
  if (typeof text !== 'string') return undefined;
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!ip || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > BITS[ip.version]) return undefined;
  const network = ip.value & netmask(ip.version, prefix);
  return {
    version: ip.version,
    network,
    prefix,
    address: ip.value,
    hostBitsSet: network !== ip.value,
    text: `${formatIp({ version: ip.version, value: network })}/${prefix}`,
  };
}

/** The mask of a prefix length as an integer. */
export function netmask(version: 4 | 6, prefix: number): bigint {
  const bits = BITS[version];
  return ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - prefix)) - 1n);
}

/** Number of addresses in a CIDR. */
export function cidrSize(cidr: Pick<Cidr, 'version' | 'prefix'>): bigint {
  return 1n << BigInt(BITS[cidr.version] - cidr.prefix);
}

/** Last address of a CIDR. */
export function cidrLast(cidr: Cidr): bigint {
  return cidr.network + cidrSize(cidr) - 1n;
}

/** True when `ip` lies inside `cidr`. */
export function cidrContains(cidr: Cidr, ip: IpValue): boolean {
  return ip.version === cidr.version && ip.value >= cidr.network && ip.value <= cidrLast(cidr);
}

/** True when two CIDRs share at least one address. */
export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && a.network <= cidrLast(b) && b.network <= cidrLast(a);
}

/** Address arithmetic helper: `ipAt(cidr, 1)` is the first host of an IPv4 subnet. */
export function ipAt(version: 4 | 6, value: bigint): string {
  return formatIp({ version, value });
}

function bytesToBigInt(bytes: ArrayLike<number>): bigint {
  let n = 0n;
  for (let i = 0; i < bytes.length; i++) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}

function bigIntToBytes(n: bigint, length: number): number[] {
  const out = new Array<number>(length);
  for (let i = length - 1; i >= 0; i--) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

function bytesToParts(bytes: number[]): number[] {
  const parts: number[] = [];
  for (let i = 0; i < 16; i += 2) parts.push((bytes[i]! << 8) | bytes[i + 1]!);
  return parts;
}
