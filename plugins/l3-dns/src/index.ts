/**
 * l3-dns — the stock L3 plugin plus DNS: floating IPs named with `dns_name` and `dns_domain`
 * (the `dns-integration` extension) get A/AAAA and PTR records on an authoritative DNS server,
 * through the core's outbox (see README.md).
 */
import { definePlugin, StartupError, type OptionValues } from '@nucleon/core';
import l3Router from '@nucleon/l3-router';
import { DesignateDriver } from './drivers/designate/index.js';
import type { DnsDriver } from './drivers/driver.js';
import { Rfc2136Driver } from './drivers/rfc2136/index.js';
import { dnsOptions } from './options.js';
import { DnsPlugin } from './plugin.js';
import { dnsPublicationsTable, dnsStatusExtension } from './publications.js';
import type { ReverseZones } from './records.js';

export { DnsPlugin } from './plugin.js';
export { DnsPublisher } from './publisher.js';
export { dnsOptions } from './options.js';
export { dnsPublication, dnsPublicationsTable, type DnsPublication } from './publications.js';
export { recordSetsOf, reverseName, type ReverseZones } from './records.js';
export { DnsDriverError, type DnsDriver, type RecordSet, type RecordType } from './drivers/driver.js';
export { Rfc2136Driver, type Rfc2136Options } from './drivers/rfc2136/index.js';
export { DesignateDriver, DesignateApiError, type DesignateOptions } from './drivers/designate/index.js';

type DnsConfig = OptionValues<(typeof dnsOptions)['sections']>;

/** Settings that cannot work are start-up problems, reported together with the option names. */
function required(section: string, values: Readonly<Record<string, unknown>>, names: readonly string[]): string[] {
  return names.filter((name) => values[name] === '').map((name) => `[${section}] ${name} is required with service_plugins = l3-dns`);
}

function prefixProblems(section: string, v4: number, v6: number): string[] {
  return [
    ...(v4 % 8 === 0 ? [] : [`[${section}] ipv4_ptr_zone_prefix_size must be a multiple of 8, not ${v4}`]),
    ...(v6 % 4 === 0 ? [] : [`[${section}] ipv6_ptr_zone_prefix_size must be a multiple of 4, not ${v6}`]),
  ];
}

/** The driver `[DEFAULT] external_dns_driver` names, built from its section. */
function dnsDriver(config: DnsConfig): { driver: DnsDriver; zones: ReverseZones; ttl: number } {
  if (config.DEFAULT.external_dns_driver === 'designate') {
    const d = config.designate;
    const problems = [
      ...required('designate', d, ['url', 'auth_url', 'username', 'password']),
      ...prefixProblems('designate', d.ipv4_ptr_zone_prefix_size, d.ipv6_ptr_zone_prefix_size),
    ];
    if (problems.length > 0) throw new StartupError(problems);
    try {
      const driver = new DesignateDriver({
        url: d.url,
        authUrl: d.auth_url,
        username: d.username,
        password: d.password,
        projectName: d.project_name,
        userDomainName: d.user_domain_name,
        projectDomainName: d.project_domain_name,
        allowReverseDnsLookup: d.allow_reverse_dns_lookup,
        ...(d.ptr_zone_email ? { ptrZoneEmail: d.ptr_zone_email } : {}),
        timeoutMs: d.timeout_ms,
      });
      const zones = {
        ipv4PrefixSize: d.ipv4_ptr_zone_prefix_size,
        ipv6PrefixSize: d.ipv6_ptr_zone_prefix_size,
        enabled: d.allow_reverse_dns_lookup,
      };
      return { driver, zones, ttl: d.ttl };
    } catch (error) {
      throw new StartupError([`[designate] ${(error as Error).message}`]);
    }
  }
  const r = config.rfc2136;
  const problems = [
    ...required('rfc2136', r, ['server', 'tsig_key_name', 'tsig_secret']),
    ...prefixProblems('rfc2136', r.ipv4_ptr_zone_prefix_size, r.ipv6_ptr_zone_prefix_size),
  ];
  if (problems.length > 0) throw new StartupError(problems);
  try {
    const driver = new Rfc2136Driver({
      server: r.server,
      port: r.port,
      tsigKeyName: r.tsig_key_name,
      tsigAlgorithm: r.tsig_algorithm,
      tsigSecret: r.tsig_secret,
      timeoutMs: r.timeout_ms,
    });
    return { driver, zones: { ipv4PrefixSize: r.ipv4_ptr_zone_prefix_size, ipv6PrefixSize: r.ipv6_ptr_zone_prefix_size }, ttl: r.ttl };
  } catch (error) {
    throw new StartupError([`[rfc2136] ${(error as Error).message}`]);
  }
}

/** `service_plugins = l3-dns`: the stock L3 descriptor with DNS publication. */
export default definePlugin({
  ...l3Router,
  name: 'l3-dns',
  description:
    'L3 router plugin that publishes floating IPs in DNS (RFC 2136 dynamic update or OpenStack Designate), then does the stock L3 work.',
  extensions: [...l3Router.extensions, dnsStatusExtension],
  supportedExtensionAliases: [...l3Router.supportedExtensionAliases, 'dns-integration', 'nucleon-dns-status'],
  resources: [...l3Router.resources, dnsPublicationsTable],
  options: [...l3Router.options, dnsOptions],
  migrations: [...l3Router.migrations, { owner: '@nucleon/l3-dns', folder: new URL('../drizzle/', import.meta.url) }],
  commands: {
    'dns reconcile': {
      help: 'Compare the published records with the DNS server, re-send what is missing, and wait until it is applied.',
      run: (plugin: DnsPlugin) => plugin.dns.reconcile(),
    },
  },
  create: (runtime) => {
    const { driver, zones, ttl } = dnsDriver(runtime.config.get(dnsOptions));
    const plugin = new DnsPlugin(runtime, driver, zones, ttl);
    const { dns } = runtime.config.get(dnsOptions);
    if (dns.reconcile_interval > 0) {
      const timer = setInterval(() => {
        plugin.dns.reconcile().catch((err: unknown) => runtime.log.error({ err }, 'DNS reconciliation failed'));
      }, dns.reconcile_interval * 1000);
      timer.unref();
      runtime.onClose(() => clearInterval(timer));
    }
    runtime.onClose(() => driver.close());
    return plugin;
  },
});
