import { eq } from 'drizzle-orm';
import {
  BadRequest,
  cidrContains,
  DEVICE_OWNER_ROUTER_INTF,
  isUuid,
  parseCidr,
  parseIp,
  pyStr,
  resourceChange,
  type Context,
  type CorePluginApi,
  type Port,
  type PortCreate,
  type Runtime,
  type Subnet,
} from '@nucleon/core';
import type { RouterInterfaceInfo } from '../definitions.js';
import {
  PortInUse,
  RouterInterfaceInUseByFloatingIP,
  RouterInterfaceInUseByRoute,
  RouterInterfaceNotFound,
  RouterInterfaceNotFoundForSubnet,
  SubnetMismatchForPort,
} from '../errors.js';
import { floatingips } from '../floatingips/schema.js';
import { ROUTER_INTERFACE_OWNERS, routersTable, type RouterService } from './routers.js';

/** The body of `add_router_interface`/`remove_router_interface`. */
export interface InterfaceRequest {
  subnet_id?: string;
  port_id?: string;
}

/** Neutron's `_validate_interface_info`. */
function checkInterfaceRequest(body: unknown, forRemoval: boolean): InterfaceRequest {
  const info = (typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}) as Record<string, unknown>;
  const hasPort = info.port_id !== undefined && info.port_id !== null;
  const hasSubnet = info.subnet_id !== undefined && info.subnet_id !== null;
  if (!hasPort && !hasSubnet) throw BadRequest({ resource: 'router', msg: 'Either subnet_id or port_id must be specified' });
  for (const key of ['port_id', 'subnet_id'] as const) {
    if (info[key] !== undefined && info[key] !== null && !isUuid(info[key])) {
      throw BadRequest({ resource: 'router', msg: `'${pyStr(info[key])}' is not a valid UUID` });
    }
  }
  if (hasPort && hasSubnet && !forRemoval) throw BadRequest({ resource: 'router', msg: 'Cannot specify both subnet-id and port-id' });
  return {
    ...(hasPort ? { port_id: (info.port_id as string).toLowerCase() } : {}),
    ...(hasSubnet ? { subnet_id: (info.subnet_id as string).toLowerCase() } : {}),
  };
}

function interfaceInfo(routerId: string, port: Port, subnetIds: readonly string[], subnetId: string): RouterInterfaceInfo {
  return {
    id: routerId,
    tenant_id: port.project_id,
    port_id: port.id,
    network_id: port.network_id,
    subnet_id: subnetId,
    subnet_ids: [...subnetIds],
  };
}

/**
 * A router's interfaces on internal subnets: attached by subnet (a new port holding the subnet's
 * gateway address) or by an existing port, detached unless floating IPs or routes need them.
 */
export class InterfaceService {
  constructor(
    private readonly runtime: Runtime,
    private readonly routers: RouterService,
  ) {}

  private get core(): CorePluginApi {
    return this.runtime.plugins.core();
  }

  async add(ctx: Context, routerId: string, body: unknown): Promise<RouterInterfaceInfo> {
    const request = checkInterfaceRequest(body, false);
    // One interface change per router at a time: the overlap checks read what the others write.
    await routersTable.lockAndCheckRevision(ctx, routerId);
    const router = await routersTable.get(ctx, routerId);
    const admin = ctx.elevated();
    return resourceChange(ctx, { resource: 'router_interface', action: 'create', id: routerId, request: { ...request } }, async () => {
      const attached = await this.routers.attachedSubnets(ctx, routerId);
      let port: Port;
      let subnets: Subnet[];
      if (request.port_id) {
        port = await this.core.getPort(ctx, request.port_id);
        if (port.device_id !== '') throw PortInUse({ port_id: port.id, net_id: port.network_id, device_id: port.device_id });
        if (port.fixed_ips.length === 0) throw BadRequest({ resource: 'router', msg: 'Router port must have at least one fixed IP' });
        subnets = await this.subnetsOf(admin, port);
        if (subnets.filter((s) => s.ip_version === 4).length > 1) {
          throw BadRequest({ resource: 'router', msg: 'Cannot have multiple IPv4 subnets on router port' });
        }
        this.routers.checkNewSubnets(attached, subnets);
        port = await this.core.updatePort(
          admin,
          port.id,
          { device_id: routerId, device_owner: DEVICE_OWNER_ROUTER_INTF },
          { portCheck: false },
        );
      } else {
        const subnet = await this.core.getSubnet(ctx, request.subnet_id!);
        if (!subnet.gateway_ip) throw BadRequest({ resource: 'router', msg: 'Subnet for router interface must have a gateway IP' });
        this.routers.checkNewSubnets(attached, [subnet]);
        subnets = [subnet];
        const portBody = this.runtime.requestBody<PortCreate>(
          'port',
          {
            network_id: subnet.network_id,
            fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }],
            device_owner: DEVICE_OWNER_ROUTER_INTF,
            device_id: routerId,
          },
          router.project_id,
        );
        port = await this.core.createPort(admin, portBody);
      }
      await routersTable.bumpRevision(ctx, routerId);
      const ids = subnets.map((s) => s.id);
      return interfaceInfo(routerId, port, ids, ids[ids.length - 1]!);
    });
  }

  async remove(ctx: Context, routerId: string, body: unknown): Promise<RouterInterfaceInfo> {
    const request = checkInterfaceRequest(body, true);
    // Locked before the in-use checks: floating IP associations hold the router `FOR SHARE`.
    await routersTable.lockAndCheckRevision(ctx, routerId);
    const router = await routersTable.get(ctx, routerId);
    const admin = ctx.elevated();
    return resourceChange(ctx, { resource: 'router_interface', action: 'delete', id: routerId, request: { ...request } }, async () => {
      const interfaces = await this.routers.routerPorts(ctx, routerId, ROUTER_INTERFACE_OWNERS);
      let port: Port | undefined;
      let removed: Subnet[];
      if (request.port_id) {
        port = interfaces.find((p) => p.id === request.port_id);
        if (!port) throw RouterInterfaceNotFound({ router_id: routerId, port_id: request.port_id });
        if (request.subnet_id && !port.fixed_ips.some((ip) => ip.subnet_id === request.subnet_id)) {
          throw SubnetMismatchForPort({ port_id: port.id, subnet_id: request.subnet_id });
        }
        removed = await this.subnetsOf(admin, port);
      } else {
        const subnet = await this.core.getSubnet(ctx, request.subnet_id!);
        port = interfaces.find((p) => p.fixed_ips.some((ip) => ip.subnet_id === subnet.id));
        if (!port) throw RouterInterfaceNotFoundForSubnet({ router_id: routerId, subnet_id: subnet.id });
        removed = [subnet];
      }
      for (const subnet of removed) await this.checkNotInUse(ctx, router.id, router.routes ?? [], subnet);
      const remaining = port.fixed_ips.filter((ip) => !removed.some((s) => s.id === ip.subnet_id));
      if (remaining.length > 0) {
        await this.core.updatePort(admin, port.id, { fixed_ips: remaining }, { portCheck: false });
      } else {
        await this.core.deletePort(admin, port.id, { portCheck: false });
      }
      await routersTable.bumpRevision(ctx, routerId);
      const ids = removed.map((s) => s.id);
      return interfaceInfo(routerId, port, ids, ids[0]!);
    });
  }

  /** The subnets of a port's addresses, in the port's order (the interface info names the first or last). */
  private async subnetsOf(ctx: Context, port: Port): Promise<Subnet[]> {
    const order = [...new Set(port.fixed_ips.map((ip) => ip.subnet_id))];
    const subnets = await this.core.getSubnets(ctx, { filters: { id: order } });
    return subnets.sort((a, b) => order.indexOf(a.id) - order.indexOf(b.id));
  }

  /** An interface that floating IPs or extra routes go through stays. */
  private async checkNotInUse(ctx: Context, routerId: string, routes: ReadonlyArray<{ nexthop: string }>, subnet: Subnet): Promise<void> {
    const cidr = parseCidr(subnet.cidr)!;
    const fips = await ctx.db.select({ fixed: floatingips.fixed_ip_address }).from(floatingips).where(eq(floatingips.router_id, routerId));
    if (fips.some((f) => f.fixed !== null && cidrContains(cidr, parseIp(f.fixed)!))) {
      throw RouterInterfaceInUseByFloatingIP({ router_id: routerId, subnet_id: subnet.id });
    }
    if (routes.some((r) => cidrContains(cidr, parseIp(r.nexthop)!))) {
      throw RouterInterfaceInUseByRoute({ router_id: routerId, subnet_id: subnet.id });
    }
  }
}
