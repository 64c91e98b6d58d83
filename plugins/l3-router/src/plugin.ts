import { eq } from 'drizzle-orm';
import {
  BadRequest,
  DEVICE_OWNER_FLOATINGIP,
  DEVICE_OWNER_ROUTER_GW,
  latestState,
  parseIp,
  type Context,
  type EventPayload,
  type FixedIp,
  type ListOptions,
  type Network,
  type Port,
  type PortUpdate,
  type Runtime,
} from '@nucleon/core';
import type {
  FloatingIp,
  FloatingIpCreate,
  FloatingIpUpdate,
  Router,
  RouterCreate,
  RouterInterfaceInfo,
  RouterUpdate,
} from './definitions.js';
import { ExternalNetworkInUse, ServicePortInUse } from './errors.js';
import { FloatingIpService, floatingipsTable } from './floatingips/floatingips.js';
import { floatingips } from './floatingips/schema.js';
import { InterfaceService } from './routers/interfaces.js';
import { ROUTER_INTERFACE_OWNERS, RouterService, routersTable } from './routers/routers.js';
import { routers } from './routers/schema.js';

/** Ports the L3 plugin owns; API users may not delete them directly. */
const L3_PORT_OWNERS = [...ROUTER_INTERFACE_OWNERS, DEVICE_OWNER_ROUTER_GW, DEVICE_OWNER_FLOATINGIP];

/**
 * The stock L3_ROUTER_NAT plugin (Neutron's `L3RouterPlugin`). Its public methods are Neutron's
 * `RouterPluginBase` methods; extend the class and override them to add behaviour, calling
 * `super` for the normal processing (see `@nucleon/l3-greee`).
 */
export class L3RouterPlugin {
  protected readonly routers: RouterService;
  protected readonly interfaces: InterfaceService;
  protected readonly floatingips: FloatingIpService;

  constructor(readonly runtime: Runtime) {
    this.routers = new RouterService(runtime);
    this.interfaces = new InterfaceService(runtime, this.routers);
    this.floatingips = new FloatingIpService(runtime, this.routers);
    this.subscribe();
  }

  createRouter(ctx: Context, body: RouterCreate): Promise<Router> {
    return this.routers.create(ctx, body);
  }
  updateRouter(ctx: Context, id: string, body: RouterUpdate): Promise<Router> {
    return this.routers.update(ctx, id, body);
  }
  deleteRouter(ctx: Context, id: string): Promise<void> {
    return this.routers.delete(ctx, id);
  }
  getRouter(ctx: Context, id: string): Promise<Router> {
    return routersTable.get(ctx, id);
  }
  getRouters(ctx: Context, options?: ListOptions): Promise<Router[]> {
    return routersTable.findMany(ctx, options);
  }
  addRouterInterface(ctx: Context, routerId: string, body: unknown): Promise<RouterInterfaceInfo> {
    return this.interfaces.add(ctx, routerId, body);
  }
  removeRouterInterface(ctx: Context, routerId: string, body: unknown): Promise<RouterInterfaceInfo> {
    return this.interfaces.remove(ctx, routerId, body);
  }

  createFloatingip(ctx: Context, body: FloatingIpCreate): Promise<FloatingIp> {
    return this.floatingips.create(ctx, body);
  }
  updateFloatingip(ctx: Context, id: string, body: FloatingIpUpdate): Promise<FloatingIp> {
    return this.floatingips.update(ctx, id, body);
  }
  deleteFloatingip(ctx: Context, id: string): Promise<void> {
    return this.floatingips.delete(ctx, id);
  }
  getFloatingip(ctx: Context, id: string): Promise<FloatingIp> {
    return floatingipsTable.get(ctx, id);
  }
  getFloatingips(ctx: Context, options?: ListOptions): Promise<FloatingIp[]> {
    return floatingipsTable.findMany(ctx, options);
  }

  /** Disassociates the floating IPs of a port (override point; called when the port is deleted). */
  disassociateFloatingips(ctx: Context, portId: string): Promise<void> {
    return this.floatingips.disassociatePort(ctx, portId);
  }

  /**
   * Deletes a network's floating IPs that no port uses, each through `deleteFloatingip` so
   * subclasses see them go (Neutron's `delete_disassociated_floatingips`; called when the network
   * is deleted).
   */
  async deleteDisassociatedFloatingips(ctx: Context, networkId: string): Promise<void> {
    const admin = ctx.elevated();
    for (const id of await this.floatingips.disassociatedOn(admin, networkId)) await this.deleteFloatingip(admin, id);
  }

  /**
   * The L3 rules that guard core resources, subscribed to the core plugin's events rather than
   * wired into it: router and floating IP ports are not deleted or renumbered by API users,
   * deleting a port disassociates its floating IPs in the same transaction, an external network
   * with gateways stays external.
   */
  private subscribe(): void {
    const events = this.runtime.events;
    events.subscribe('port', 'before_delete', (payload) => this.preventL3PortDeletion(payload), { name: 'l3.prevent-port-deletion' });
    events.subscribe('port', 'precommit_delete', (payload) => this.disassociateFloatingips(payload.context, payload.resourceId!), {
      name: 'l3.disassociate-floatingips',
    });
    events.subscribe('port', 'before_update', (payload) => this.preventIpChange(payload), { name: 'l3.prevent-ip-change' });
    events.subscribe(
      'port',
      'precommit_update',
      (payload) => {
        const port = latestState(payload);
        return port ? this.floatingips.refreshPortDetails(payload.context, port) : undefined;
      },
      { name: 'l3.port-details' },
    );
    events.subscribe(
      'port',
      'precommit_update',
      (payload) => {
        const port = latestState(payload);
        return port ? this.routers.refreshGatewayIps(payload.context, port) : undefined;
      },
      { name: 'l3.gateway-ips' },
    );
    events.subscribe('network', 'before_update', (payload) => this.preventUnexternal(payload), { name: 'l3.external-network' });
    // Neutron's `_process_l3_delete`: deleting a network first deletes its unassociated floating
    // IPs, in the same transaction (a network still in use rolls them back).
    events.subscribe('network', 'before_delete', (payload) => this.deleteDisassociatedFloatingips(payload.context, payload.resourceId!), {
      name: 'l3.network-delete',
    });
  }

  private async preventL3PortDeletion(payload: EventPayload<Port>): Promise<void> {
    const port = payload.states[0];
    if (!port || payload.metadata.port_check === false || !L3_PORT_OWNERS.includes(port.device_owner)) return;
    const ctx = payload.context.elevated();
    // A port whose router or floating IP is gone may be cleaned up by anyone.
    const owner =
      port.device_owner === DEVICE_OWNER_FLOATINGIP
        ? await ctx.db.select({ id: floatingips.id }).from(floatingips).where(eq(floatingips.id, port.device_id))
        : await ctx.db.select({ id: routers.id }).from(routers).where(eq(routers.id, port.device_id));
    if (owner.length > 0) throw ServicePortInUse({ port_id: port.id, reason: `has device owner ${port.device_owner}` });
  }

  private async preventIpChange(payload: EventPayload<Port>): Promise<void> {
    const port = payload.states[0];
    const request = payload.requestBody as PortUpdate | undefined;
    if (!port || !request?.fixed_ips || payload.metadata.port_check === false) return;
    const requested = request.fixed_ips as Array<Partial<FixedIp>>;
    if (ROUTER_INTERFACE_OWNERS.includes(port.device_owner)) {
      // l3-port-ip-change-not-allowed: a router interface keeps its IPv4 addresses; IPv6 ones may change.
      const { added, removed } = addressChanges(port.fixed_ips, requested);
      const subnetOnly = added.filter((ip) => ip.ip_address === undefined).map((ip) => ip.subnet_id!);
      const v4Subnets = new Set(
        subnetOnly.length === 0
          ? []
          : (await this.runtime.plugins.core().getSubnets(payload.context.elevated(), { filters: { id: subnetOnly } }))
              .filter((s) => s.ip_version === 4)
              .map((s) => s.id),
      );
      const isV4 = (ip: Partial<FixedIp>) =>
        ip.ip_address !== undefined ? parseIp(ip.ip_address)?.version === 4 : v4Subnets.has(ip.subnet_id!);
      if ([...added, ...removed].some(isV4)) throw BadRequest({ resource: 'ports', msg: `IP updates for port ${port.id} are not allowed` });
    }
    const kept = new Set(requested.map((ip) => ip.ip_address).filter(Boolean));
    for (const fip of await this.floatingips.ofPort(payload.context, port.id)) {
      if (fip.fixedIpAddress && !kept.has(fip.fixedIpAddress)) {
        throw BadRequest({
          resource: 'port',
          msg: `Cannot update the fixed_ips of the port ${port.id}, because its original fixed_ip has been associated to a floating ip`,
        });
      }
    }
  }

  private async preventUnexternal(payload: EventPayload<Network>): Promise<void> {
    const network = payload.states[0];
    if (!network?.['router:external'] || payload.requestBody?.['router:external'] !== false) return;
    const [gateway] = await payload.context.db.select({ id: routers.id }).from(routers).where(eq(routers.gwNetworkId, network.id)).limit(1);
    if (gateway) throw ExternalNetworkInUse({ net_id: network.id });
  }
}

/**
 * What a `fixed_ips` request changes on a port (Neutron's `_get_changed_ips_for_port`): entries
 * naming an address keep it or add it; entries naming only a subnet reuse an address the port
 * has there or add one; addresses left unclaimed are removed.
 */
function addressChanges(
  current: readonly FixedIp[],
  requested: ReadonlyArray<Partial<FixedIp>>,
): { added: Array<Partial<FixedIp>>; removed: FixedIp[] } {
  const unclaimed = [...current];
  const added: Array<Partial<FixedIp>> = [];
  const claim = (match: (ip: FixedIp) => boolean) => {
    const index = unclaimed.findIndex(match);
    if (index >= 0) unclaimed.splice(index, 1);
    return index >= 0;
  };
  for (const ip of requested.filter((r) => r.ip_address !== undefined)) {
    if (!claim((c) => c.ip_address === ip.ip_address)) added.push(ip);
  }
  for (const ip of requested.filter((r) => r.ip_address === undefined)) {
    if (!claim((c) => c.subnet_id === ip.subnet_id)) added.push(ip);
  }
  return { added, removed: unclaimed };
}
