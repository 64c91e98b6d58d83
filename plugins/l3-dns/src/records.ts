import ipaddr from 'ipaddr.js';
import type { RecordSet } from './drivers/driver.js';

/** Prefix sizes of the reverse zones (`ipv4_ptr_zone_prefix_size`, `ipv6_…`), and whether PTRs are published at all. */
export interface ReverseZones {
  readonly ipv4PrefixSize: number;
  readonly ipv6PrefixSize: number;
  /** Designate's `allow_reverse_dns_lookup`; default true. */
  readonly enabled?: boolean;
}

/**
 * The PTR name of an address and the reverse zone it lives in, as Neutron's designate driver
 * derives them: the zone is the reverse name without the labels below the prefix size
 * (203.0.113.10 with /24 → `10.113.0.203.in-addr.arpa.` in `113.0.203.in-addr.arpa.`; IPv6 by nibbles).
 */
export function reverseName(address: string, zones: ReverseZones): { name: string; zone: string } {
  const ip = ipaddr.parse(address);
  if (ip.kind() === 'ipv4') {
    const labels = ip.toByteArray().reverse().map(String);
    return { name: `${labels.join('.')}.in-addr.arpa.`, zone: `${labels.slice((32 - zones.ipv4PrefixSize) / 8).join('.')}.in-addr.arpa.` };
  }
  const nibbles = ip
    .toByteArray()
    .flatMap((byte) => [byte >> 4, byte & 15])
    .map((n) => n.toString(16))
    .reverse();
  return { name: `${nibbles.join('.')}.ip6.arpa.`, zone: `${nibbles.slice((128 - zones.ipv6PrefixSize) / 4).join('.')}.ip6.arpa.` };
}

/** What a floating IP with a name publishes: its A (or AAAA) record and the PTR back to the name. */
export function recordSetsOf(
  fip: { readonly dns_name: string; readonly dns_domain: string; readonly floating_ip_address: string },
  zones: ReverseZones,
  ttl: number,
): RecordSet[] {
  const fqdn = `${fip.dns_name}.${fip.dns_domain}`;
  const version = fip.floating_ip_address.includes(':') ? 6 : 4;
  const forward: RecordSet = {
    zone: fip.dns_domain,
    name: fqdn,
    type: version === 4 ? 'A' : 'AAAA',
    records: [fip.floating_ip_address],
    ttl,
  };
  if (zones.enabled === false) return [forward];
  const reverse = reverseName(fip.floating_ip_address, zones);
  return [forward, { zone: reverse.zone, name: reverse.name, type: 'PTR', records: [fqdn], ttl }];
}
