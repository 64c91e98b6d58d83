import { type Context, type Network, type Port, type Runtime } from '@nucleon/core';
import { L3RouterPlugin, floatingipsTable, type FloatingIp, type FloatingIpCreate, type FloatingIpUpdate } from '@nucleon/l3-router';
import type { DnsDriver } from './drivers/driver.js';
import { DnsPublisher } from './publisher.js';
import type { ReverseZones } from './records.js';

/**
 * The stock L3 plugin, keeping DNS in step with floating IPs: a floating IP named with
 * `dns_name` + `dns_domain`, or associated with a port that has a `dns_name` on a network with a
 * `dns_domain`, gets an A (or AAAA) record and a PTR. Association changes, port renames, network
 * domain changes and releases move or remove them, in the transaction of the change.
 */
export class DnsPlugin extends L3RouterPlugin {
  readonly dns: DnsPublisher;

  constructor(runtime: Runtime, driver: DnsDriver, zones: ReverseZones, ttl: number) {
    super(runtime);
    this.dns = new DnsPublisher(runtime, driver, zones, ttl);
    const events = runtime.events;
    events.subscribe(
      'port',
      'precommit_update',
      async (payload) => {
        const [before, after] = payload.states as readonly Port[];
        if (before && after && before.dns_name !== after.dns_name) await this.syncPortFloatingips(payload.context, after.id);
      },
      { name: 'l3-dns.port-rename' },
    );
    events.subscribe(
      'network',
      'precommit_update',
      async (payload) => {
        const [before, after] = payload.states as readonly Network[];
        if (!before || !after || before.dns_domain === after.dns_domain) return;
        const ports = await runtime.plugins.core().getPorts(payload.context.elevated(), { filters: { network_id: [after.id] } });
        for (const port of ports) await this.syncPortFloatingips(payload.context, port.id);
      },
      { name: 'l3-dns.network-domain' },
    );
  }

  override createFloatingip(ctx: Context, body: FloatingIpCreate): Promise<FloatingIp> {
    return ctx.transaction(async () => {
      const fip = await super.createFloatingip(ctx, body);
      await this.dns.sync(ctx, fip.id);
      return fip;
    });
  }

  override updateFloatingip(ctx: Context, id: string, body: FloatingIpUpdate): Promise<FloatingIp> {
    return ctx.transaction(async () => {
      const fip = await super.updateFloatingip(ctx, id, body);
      await this.dns.sync(ctx, id);
      return fip;
    });
  }

  override deleteFloatingip(ctx: Context, id: string): Promise<void> {
    return ctx.transaction(async () => {
      await this.dns.unpublish(ctx, id);
      await super.deleteFloatingip(ctx, id);
    });
  }

  /** A deleted port's floating IPs lose the names they had from it. */
  override async disassociateFloatingips(ctx: Context, portId: string): Promise<void> {
    const associated = await floatingipsTable.findMany(ctx.elevated(), { filters: { port_id: [portId] }, fields: ['id'] });
    await super.disassociateFloatingips(ctx, portId);
    for (const { id } of associated) await this.dns.sync(ctx, id);
  }

  private async syncPortFloatingips(ctx: Context, portId: string): Promise<void> {
    for (const { id } of await floatingipsTable.findMany(ctx.elevated(), { filters: { port_id: [portId] }, fields: ['id'] })) {
      await this.dns.sync(ctx, id);
    }
  }
}
