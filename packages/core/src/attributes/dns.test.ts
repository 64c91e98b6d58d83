import { describe, expect, test } from 'vitest';
import { NeutronError } from '../errors/neutron-error.js';
import {
  dnsNameReason,
  dottedDnsDomain,
  portDnsNamesUsed,
  toCaseInsensitive,
  validateDnsDomain,
  validateDnsName,
  validateFipDnsName,
} from './dns.js';

const label = (c: string, n = 63) => c.repeat(n);
const invalid = (data: string, reason: string) => `'${data}' not a valid PQDN or FQDN. Reason: ${reason}`;

describe('validate_dns_name (type:dns_host_name)', () => {
  test('accepts empty, PQDNs, FQDNs and keyword labels', () => {
    for (const ok of ['', 'vm1', 'my-vm', 'vm1.example.org', 'vm1.example.org.', '1.example.org', '<project_id>.org', label('a')]) {
      expect(validateDnsName(ok)).toBeUndefined();
    }
  });

  test("Neutron's reasons", () => {
    expect(validateDnsName('a..b')).toBe(invalid('a..b', 'Encountered an empty component'));
    expect(validateDnsName('.')).toBe(invalid('.', 'Encountered an empty component'));
    expect(validateDnsName('vm-')).toBe(invalid('vm-', "Name 'vm-' must not start or end with a hyphen"));
    expect(validateDnsName('a.-b.c')).toBe(invalid('a.-b.c', "Name '-b' must not start or end with a hyphen"));
    expect(validateDnsName('vm_1')).toBe(
      invalid('vm_1', "Name 'vm_1' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen"),
    );
    expect(validateDnsName(label('a', 64))).toBe(
      invalid(label('a', 64), `Name '${label('a', 64)}' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen`),
    );
    // Lower case only: the attribute lower-cases before validating.
    expect(validateDnsName('VM')).toBe(
      invalid('VM', "Name 'VM' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen"),
    );
    expect(validateDnsName('vm.123')).toBe(invalid('vm.123', "TLD '123' must not be all numeric"));
    expect(validateDnsName('vm.123.')).toBe(invalid('vm.123.', "TLD '123' must not be all numeric"));
    expect(validateDnsName('123')).toBeUndefined();
  });

  test('255 characters at most, a trailing dot not counted', () => {
    const max = `${label('a')}.${label('b')}.${label('c')}.${label('d', 63)}`;
    expect(max).toHaveLength(255);
    expect(validateDnsName(max)).toBeUndefined();
    expect(validateDnsName(`${max}.`)).toBeUndefined();
    expect(validateDnsName(`${max}e`)).toBe(invalid(`${max}e`, `'${max}e' exceeds the 255 character FQDN limit`));
  });

  test('with [DEFAULT] dns_domain: only checked when names are used (not the default domain)', () => {
    expect(dnsNameReason('vm.other.org.', 'openstacklocal')).toBeUndefined();
    expect(dnsNameReason('vm.other.org.', 'openstacklocal.')).toBeUndefined();
    expect(dnsNameReason('vm.other.org.', '')).toBeUndefined();
    expect(dnsNameReason('vm.example.org.', 'example.org')).toBeUndefined();
    expect(dnsNameReason('vm.example.org.', 'example.org.')).toBeUndefined();
    expect(dnsNameReason('vm', 'example.org')).toBeUndefined();
    expect(dnsNameReason('vm.other.org.', 'example.org')).toBe(
      "The dns_name passed is a FQDN. Its higher level labels must be equal to the dns_domain option in neutron.conf, that has been set to 'example.org'. It must also include one or more valid DNS labels to the left of 'example.org'",
    );
    // The domain alone is no name under it.
    expect(dnsNameReason('example.org.', 'example.org')).toMatch(/^The dns_name passed is a FQDN/);
    const pqdn = `${label('a')}.${label('b')}.${label('c')}.${label('d', 60)}`;
    expect(dnsNameReason(pqdn, 'example.org')).toBe(
      "The dns_name passed is a PQDN and its size is '252'. The dns_domain option in neutron.conf is set to example.org, with a length of '13'. When the two are concatenated to form a FQDN (with a '.' at the end), the resulting length exceeds the maximum size of '255'",
    );
    expect(dnsNameReason('-x', 'example.org')).toBe(invalid('-x', "Name '-x' must not start or end with a hyphen"));
  });

  test('the configured domain, dotted; whether port names are used', () => {
    expect(dottedDnsDomain('')).toBe('');
    expect(dottedDnsDomain('example.org')).toBe('example.org.');
    expect(dottedDnsDomain('example.org.')).toBe('example.org.');
    expect(portDnsNamesUsed('openstacklocal')).toBe(false);
    expect(portDnsNamesUsed('openstacklocal.')).toBe(false);
    expect(portDnsNamesUsed('')).toBe(false);
    expect(portDnsNamesUsed('example.org')).toBe(true);
  });
});

describe('validate_fip_dns_name (type:fip_dns_host_name)', () => {
  test('a relative name', () => {
    expect(validateFipDnsName('')).toBeUndefined();
    expect(validateFipDnsName('www')).toBeUndefined();
    expect(validateFipDnsName('www.sub')).toBeUndefined();
    expect(validateFipDnsName('www.example.org.')).toBe("'www.example.org.' is a FQDN. It should be a relative domain name");
    expect(validateFipDnsName('w_w')).toBe(
      invalid('w_w', "Name 'w_w' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen"),
    );
    expect(validateFipDnsName(7)).toBe("'7' is not a valid string");
  });

  test('room for a domain: 252 characters at most', () => {
    const name = `${label('a')}.${label('b')}.${label('c')}.${label('d', 60)}`;
    expect(name).toHaveLength(252);
    expect(validateFipDnsName(name)).toBeUndefined();
    expect(validateFipDnsName(`${name}d`)).toBe(
      `'${name}d' contains 253 characters. Adding a domain name will cause it to exceed the maximum length of a FQDN of '255'`,
    );
  });
});

describe('validate_dns_domain (type:dns_domain_name)', () => {
  test('an FQDN', () => {
    expect(validateDnsDomain('')).toBeUndefined();
    expect(validateDnsDomain('example.org.')).toBeUndefined();
    expect(validateDnsDomain('example.org')).toBe("'example.org' is not a FQDN");
    expect(validateDnsDomain('.')).toBe(invalid('.', 'Encountered an empty component'));
    expect(validateDnsDomain('example..org.')).toBe(invalid('example..org.', 'Encountered an empty component'));
    expect(validateDnsDomain('example.-org.')).toBe(invalid('example.-org.', "Name '-org' must not start or end with a hyphen"));
    expect(validateDnsDomain(null)).toBe("'None' is not a valid string");
  });

  test('room for a sub-domain: 253 characters at most', () => {
    const domain = `${label('a')}.${label('b')}.${label('c')}.${label('d', 60)}.`;
    expect(domain).toHaveLength(253);
    expect(validateDnsDomain(domain)).toBeUndefined();
    const longer = `d${domain}`;
    expect(validateDnsDomain(longer)).toBe(
      invalid(longer, `Name 'd${label('a')}' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen`),
    );
    const tooLong = `${label('a')}.${label('b')}.${label('c')}.${label('d', 61)}.`;
    expect(validateDnsDomain(tooLong)).toBe(
      `'${tooLong}' contains 254 characters. Adding a sub-domain will cause it to exceed the maximum length of a FQDN of '255'`,
    );
  });
});

describe('convert_string_to_case_insensitive', () => {
  test('lower-cases strings, refuses the rest with InvalidInput', () => {
    expect(toCaseInsensitive('Example.ORG.')).toBe('example.org.');
    for (const [value, shown] of [
      [null, 'None'],
      [12, '12'],
      [true, 'True'],
    ] as const) {
      let error: unknown;
      try {
        toCaseInsensitive(value);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(NeutronError);
      expect((error as NeutronError).message).toBe(`Invalid input for operation: Input value ${shown} must be string type.`);
    }
  });
});
