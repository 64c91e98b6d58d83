import { defineOptions, opt } from '@nucleon/core';

/**
 * The DNS plugin's options: Neutron's `external_dns_driver` and the `[rfc2136]` section (its
 * prefix-size options as Neutron's `[designate]` section names them).
 */
export const dnsOptions = defineOptions({
  DEFAULT: {
    external_dns_driver: opt.choice(
      ['rfc2136', 'designate'],
      'rfc2136',
      'How records reach DNS: rfc2136 (TSIG-signed dynamic update to an authoritative server) or designate (OpenStack Designate v2).',
    ),
  },
  rfc2136: {
    server: opt.string('', 'Host name or address of the primary server that accepts updates.'),
    port: opt.int(53, 'Its port.', { min: 1, max: 65535 }),
    tsig_key_name: opt.string('', 'TSIG key name, as the server knows it.'),
    tsig_algorithm: opt.choice(['hmac-sha256', 'hmac-sha512', 'hmac-sha1'], 'hmac-sha256', 'TSIG algorithm.'),
    tsig_secret: opt.string('', 'TSIG secret, base64.'),
    ipv4_ptr_zone_prefix_size: opt.int(24, 'Prefix size of the IPv4 reverse zones (a multiple of 8, 8 to 24).', { min: 8, max: 24 }),
    ipv6_ptr_zone_prefix_size: opt.int(64, 'Prefix size of the IPv6 reverse zones (a multiple of 4, 4 to 124).', { min: 4, max: 124 }),
    ttl: opt.int(3600, 'TTL of the records published.', { min: 0 }),
    timeout_ms: opt.int(5000, 'How long to wait for the server per attempt.', { min: 100 }),
  },
  designate: {
    url: opt.string('', "Designate's versioned endpoint, e.g. http://designate:9001/v2."),
    auth_url: opt.string('', 'Keystone URL the service user signs in at.'),
    username: opt.string('', 'Service user (with the admin role: reverse zones and managed records).'),
    password: opt.string('', "The service user's password."),
    project_name: opt.string('service', "The service user's project."),
    user_domain_name: opt.string('Default', "The service user's domain."),
    project_domain_name: opt.string('Default', "The service project's domain."),
    allow_reverse_dns_lookup: opt.bool(true, 'Publish PTR records (creating reverse zones when missing).'),
    ipv4_ptr_zone_prefix_size: opt.int(24, 'Prefix size of the IPv4 reverse zones (a multiple of 8, 8 to 24).', { min: 8, max: 24 }),
    ipv6_ptr_zone_prefix_size: opt.int(120, 'Prefix size of the IPv6 reverse zones (a multiple of 4, 4 to 124).', { min: 4, max: 124 }),
    ptr_zone_email: opt.string('', 'Email of reverse zones Nucleon creates; default admin@<domain>.'),
    ttl: opt.int(3600, 'TTL of the records published.', { min: 0 }),
    timeout_ms: opt.int(10000, 'How long to wait for Designate or Keystone per request.', { min: 100 }),
  },
  dns: {
    reconcile_interval: opt.int(600, 'Seconds between comparisons of the published records with the zones (0: never).', { min: 0 }),
  },
});
