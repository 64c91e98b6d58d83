import { describe, expect, it } from 'vitest';
import { recordSetsOf, reverseName } from './records.js';

const zones = { ipv4PrefixSize: 24, ipv6PrefixSize: 64 };

describe('reverse names', () => {
  it('derives the PTR name and its zone from the prefix size, as Neutron does', () => {
    expect(reverseName('203.0.113.10', zones)).toEqual({ name: '10.113.0.203.in-addr.arpa.', zone: '113.0.203.in-addr.arpa.' });
    expect(reverseName('203.0.113.10', { ...zones, ipv4PrefixSize: 16 })).toEqual({
      name: '10.113.0.203.in-addr.arpa.',
      zone: '0.203.in-addr.arpa.',
    });
    expect(reverseName('2001:db8::1', zones)).toEqual({
      name: '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.',
      zone: '0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.',
    });
  });

  it('a named floating IP publishes an A record and a PTR back to its name', () => {
    expect(recordSetsOf({ dns_name: 'www', dns_domain: 'example.org.', floating_ip_address: '203.0.113.10' }, zones, 300)).toEqual([
      { zone: 'example.org.', name: 'www.example.org.', type: 'A', records: ['203.0.113.10'], ttl: 300 },
      { zone: '113.0.203.in-addr.arpa.', name: '10.113.0.203.in-addr.arpa.', type: 'PTR', records: ['www.example.org.'], ttl: 300 },
    ]);
    expect(recordSetsOf({ dns_name: 'v6', dns_domain: 'example.org.', floating_ip_address: '2001:db8::5' }, zones, 300)[0]).toMatchObject({
      type: 'AAAA',
      records: ['2001:db8::5'],
    });
  });
});
