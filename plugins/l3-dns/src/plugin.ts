import type { Context, Runtime } from '@nucleon/core';
import { L3RouterPlugin, type FloatingIp, type FloatingIpCreate } from '@nucleon/l3-router';
import type { DnsDriver } from './drivers/driver.js';
import { DnsPublisher, type NamedFloatingIp } from './publisher.js';
import type { ReverseZones } from './records.js';

/**
 * The stock L3 plugin, publishing named floating IPs in DNS: a floating IP created with
 * `dns_name` and `dns_domain` gets an A (or AAAA) record and a PTR; releasing it removes them.
 */
export class DnsPlugin extends L3RouterPlugin {
  readonly dns: DnsPublisher;

  constructor(runtime: Runtime, driver: DnsDriver, zones: ReverseZones, ttl: number) {
    super(runtime);
    this.dns = new DnsPublisher(runtime, driver, zones, ttl);
  }

  override createFloatingip(ctx: Context, body: FloatingIpCreate): Promise<FloatingIp> {
    return ctx.transaction(async () => {
      const fip = await super.createFloatingip(ctx, body);
      await this.dns.publish(ctx, fip as NamedFloatingIp);
      return fip;
    });
  }

  override deleteFloatingip(ctx: Context, id: string): Promise<void> {
    return ctx.transaction(async () => {
      await this.dns.unpublish(ctx, id);
      await super.deleteFloatingip(ctx, id);
    });
  }
}
