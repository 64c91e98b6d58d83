/**
 * l3-dns — the stock L3 plugin plus DNS: floating IPs named with `dns_name` and `dns_domain`
 * (the `dns-integration` extension) get A/AAAA and PTR records on an authoritative DNS server,
 * through the core's outbox (see README.md).
 */
import { definePlugin, StartupError } from '@nucleon/core';
import l3Router from '@nucleon/l3-router';
import { Rfc2136Driver } from './drivers/rfc2136/index.js';
import { dnsOptions } from './options.js';
import { DnsPlugin } from './plugin.js';
import { dnsPublicationsTable, dnsStatusExtension } from './publications.js';

export { DnsPlugin } from './plugin.js';
export { DnsPublisher } from './publisher.js';
export { dnsOptions } from './options.js';
export { dnsPublication, dnsPublicationsTable, type DnsPublication } from './publications.js';
export { recordSetsOf, reverseName, type ReverseZones } from './records.js';
export { DnsDriverError, type DnsDriver, type RecordSet, type RecordType } from './drivers/driver.js';
export { Rfc2136Driver, type Rfc2136Options } from './drivers/rfc2136/index.js';

/** `service_plugins = l3-dns`: the stock L3 descriptor with DNS publication. */
export default definePlugin({
  ...l3Router,
  name: 'l3-dns',
  description: 'L3 router plugin that publishes floating IPs in DNS (RFC 2136 dynamic update), then does the stock L3 work.',
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
    const { rfc2136, dns } = runtime.config.get(dnsOptions);
    const missing = (['server', 'tsig_key_name', 'tsig_secret'] as const).filter((name) => rfc2136[name] === '');
    if (missing.length > 0) throw new StartupError(missing.map((name) => `[rfc2136] ${name} is required with service_plugins = l3-dns`));
    for (const [name, size, step] of [['ipv4_ptr_zone_prefix_size', rfc2136.ipv4_ptr_zone_prefix_size, 8], ['ipv6_ptr_zone_prefix_size', rfc2136.ipv6_ptr_zone_prefix_size, 4]] as const) {
      if (size % step !== 0) throw new StartupError([`[rfc2136] ${name} must be a multiple of ${step}, not ${size}`]);
    }
    let driver: Rfc2136Driver;
    try {
      driver = new Rfc2136Driver({
        server: rfc2136.server,
        port: rfc2136.port,
        tsigKeyName: rfc2136.tsig_key_name,
        tsigAlgorithm: rfc2136.tsig_algorithm,
        tsigSecret: rfc2136.tsig_secret,
        timeoutMs: rfc2136.timeout_ms,
      });
    } catch (error) {
      throw new StartupError([`[rfc2136] ${(error as Error).message}`]);
    }
    const plugin = new DnsPlugin(runtime, driver, { ipv4PrefixSize: rfc2136.ipv4_ptr_zone_prefix_size, ipv6PrefixSize: rfc2136.ipv6_ptr_zone_prefix_size }, rfc2136.ttl);
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
