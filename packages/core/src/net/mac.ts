import { randomInt } from 'node:crypto';

const MAC_RE = /^[0-9a-f]{2}([:-])(?:[0-9a-f]{2}\1){4}[0-9a-f]{2}$/i;
const BARE_MAC_RE = /^[0-9a-f]{12}$/i;

/** Canonical `aa:bb:cc:dd:ee:ff`, or undefined when `text` is not a unicast, non-zero MAC. */
export function canonicalMac(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  let hex: string;
  if (MAC_RE.test(text)) hex = text.replace(/[:-]/g, '');
  else if (BARE_MAC_RE.test(text)) hex = text;
  else return undefined;
  hex = hex.toLowerCase();
  // Neutron refuses the all-zero address and multicast addresses (low bit of the first octet).
  if (/^0{12}$/.test(hex) || (parseInt(hex.slice(0, 2), 16) & 1) === 1) return undefined;
  return hex.match(/../g)!.join(':');
}

/**
 * A random MAC derived from `base_mac` the way Neutron does: the first three octets are kept,
 * the fourth too when it is not zero, the rest is random.
 */
export function randomMac(baseMac: string): string {
  const base = baseMac.split(':').map((part) => parseInt(part, 16));
  const octets = base.slice(0, 3);
  octets.push(base[3] ? base[3] : randomInt(256));
  while (octets.length < 6) octets.push(randomInt(256));
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}

/** The modified EUI-64 interface identifier of a MAC (RFC 4291 appendix A), for SLAAC addresses. */
export function eui64InterfaceId(mac: string): bigint {
  const octets = mac.split(':').map((part) => parseInt(part, 16));
  const bytes = [octets[0]! ^ 0x02, octets[1]!, octets[2]!, 0xff, 0xfe, octets[3]!, octets[4]!, octets[5]!];
  return bytes.reduce((n, b) => (n << 8n) | BigInt(b), 0n);
}
