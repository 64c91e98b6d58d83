import { describe, expect, test } from 'vitest';
import { canonicalIp, cidrsOverlap, parseCidr, parseIp } from './ip.js';
import { canonicalMac, eui64InterfaceId, randomMac } from './mac.js';

describe('addresses', () => {
  test('strict parsing and canonical forms', () => {
    expect(canonicalIp('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(parseIp('10.1')).toBeUndefined();
    expect(parseIp(' 10.0.0.1')).toBeUndefined();
    expect(parseCidr('10.0.0.5/24')).toMatchObject({ text: '10.0.0.0/24', hostBitsSet: true, prefix: 24 });
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
    expect(cidrsOverlap(parseCidr('10.0.0.0/24')!, parseCidr('10.0.0.128/25')!)).toBe(true);
    expect(cidrsOverlap(parseCidr('10.0.0.0/24')!, parseCidr('10.0.1.0/24')!)).toBe(false);
  });

  test('MACs', () => {
    expect(canonicalMac('FA:16:3E:AA:BB:CC')).toBe('fa:16:3e:aa:bb:cc');
    expect(canonicalMac('ff:ff:ff:ff:ff:ff')).toBeUndefined();
    expect(randomMac('fa:16:3e:00:00:00')).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);
    expect(randomMac('fa:16:3e:42:00:00')).toMatch(/^fa:16:3e:42(:[0-9a-f]{2}){2}$/);
    // RFC 4291: fa:16:3e:12:34:56 → f816:3eff:fe12:3456
    expect(eui64InterfaceId('fa:16:3e:12:34:56').toString(16)).toBe('f8163efffe123456');
  });
});
