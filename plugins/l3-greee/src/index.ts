/**
 * l3-greee — the plugin that started Nucleon: the stock L3 plugin, plus a log line for every
 * floating IP allocation and release.
 */
import { definePlugin, type Context } from '@nucleon/core';
import l3Router, { L3RouterPlugin, type FloatingIp, type FloatingIpCreate } from '@nucleon/l3-router';

/** The fields of a floating IP each log line carries. */
function logged(ctx: Context, fip: FloatingIp) {
  return {
    floatingip_id: fip.id,
    floating_ip_address: fip.floating_ip_address,
    floating_network_id: fip.floating_network_id,
    project_id: fip.project_id,
    request_id: ctx.requestId,
  };
}

/** The stock L3 plugin with two methods overridden; everything else is inherited. */
export class GreeePlugin extends L3RouterPlugin {
  override async createFloatingip(ctx: Context, body: FloatingIpCreate): Promise<FloatingIp> {
    const fip = await super.createFloatingip(ctx, body);
    // The address is only known once allocated; log when the allocation has committed.
    ctx.afterCommit(() => ctx.log.info(logged(ctx, fip), 'floating IP allocated'));
    return fip;
  }

  override async deleteFloatingip(ctx: Context, id: string): Promise<void> {
    const fip = await this.getFloatingip(ctx, id);
    ctx.log.info(logged(ctx, fip), 'floating IP released');
    return super.deleteFloatingip(ctx, id);
  }
}

/** `service_plugins = l3-greee`: the stock L3 descriptor with its own name, description and class. */
export default definePlugin({
  ...l3Router,
  name: 'l3-greee',
  description: 'L3 router plugin that logs each floating IP allocation and release, then does the stock L3 work.',
  create: (runtime) => new GreeePlugin(runtime),
});
