import { and, eq, inArray, sql } from 'drizzle-orm';
import {
  BadRequest,
  bindTable,
  cidrContains,
  cidrsOverlap,
  DEVICE_OWNER_ROUTER_GW,
  DEVICE_OWNER_ROUTER_INTF,
  parseCidr,
  parseIp,
  pyRepr,
  resourceChange,
  type Context,
  type CorePluginApi,
  type FixedIp,
  type HostRoute,
  type Port,
  type PortCreate,
  type Runtime,
  type Subnet,
} from '@nucleon/core';
import { router, type ExternalGatewayRequest, type Router, type RouterCreate, type RouterUpdate } from '../definitions.js';
import { InvalidRoutes, RouterExternalGatewayInUseByFloatingIp, RouterInUse, RoutesExhausted } from '../errors.js';
import { floatingips } from '../floatingips/schema.js';
import { l3Options } from '../options.js';
import { routers } from './schema.js';

/** Routers as the API shows them; the gateway renders from the router row. */
export const routersTable = bindTable(router, routers, {
  computed: {
    external_gateway_info: (t) =>
      sql`case when ${t.gwPortId} is null then null
               else json_build_object('network_id', ${t.gwNetworkId}, 'external_fixed_ips', ${t.gwFixedIps}, 'enable_snat', ${t.enableSnat}) end`,
    // jsonb stores keys shortest first; Neutron shows a route's destination before its nexthop.
    routes: (t) =>
      sql`coalesce((select json_agg(json_build_object('destination', r->>'destination', 'nexthop', r->>'nexthop') order by n)
                    from jsonb_array_elements(${t.routes}) with ordinality as e(r, n)), '[]'::json)`,
  },
});

/** Owners of the ports a router attaches to its internal networks. */
export const ROUTER_INTERFACE_OWNERS = [
  DEVICE_OWNER_ROUTER_INTF,
  'network:ha_router_replicated_interface',
  'network:router_interface_distributed',
];

/** A router's attached subnets, for overlap and nexthop checks. */
export interface AttachedSubnet {
  readonly subnet: Subnet;
  readonly portId: string;
  readonly isGateway: boolean;
}

/**
 * Routers: create, update (name, state, gateway, extra routes), delete, and the gateway port's
 * life cycle. Ports are created and removed through the core plugin's API.
 */
export class RouterService {
  constructor(private readonly runtime: Runtime) {}

  private get core(): CorePluginApi {
    return this.runtime.plugins.core();
  }

  private get options() {
    return this.runtime.config.get(l3Options).DEFAULT;
  }

  /** The ports a router owns with the given device owners, oldest first. */
  async routerPorts(ctx: Context, routerId: string, owners: readonly string[]): Promise<Port[]> {
    return this.core.getPorts(ctx.elevated(), {
      filters: { device_id: [routerId], device_owner: owners },
      sorts: [{ key: 'created_at', direction: 'asc' }],
    });
  }

  /**
   * Every subnet a router touches: its interfaces' and all of its gateway network's. `gateway`
   * asks about a gateway the router is about to have instead (null: none) — Neutron checks a new
   * gateway's routes before it replaces the old one.
   */
  async attachedSubnets(
    ctx: Context,
    routerId: string,
    gateway?: { networkId: string | null; portId: string | null },
  ): Promise<AttachedSubnet[]> {
    const admin = ctx.elevated();
    const ports = await this.routerPorts(ctx, routerId, ROUTER_INTERFACE_OWNERS);
    const subnetIds = [...new Set(ports.flatMap((p) => p.fixed_ips.map((ip) => ip.subnet_id)))];
    const attached: AttachedSubnet[] = [];
    if (subnetIds.length > 0) {
      for (const subnet of await this.core.getSubnets(admin, { filters: { id: subnetIds } })) {
        const port = ports.find((p) => p.fixed_ips.some((ip) => ip.subnet_id === subnet.id))!;
        attached.push({ subnet, portId: port.id, isGateway: false });
      }
    }
    let gw = gateway;
    if (!gw) {
      const [row] = await admin.db
        .select({ networkId: routers.gwNetworkId, portId: routers.gwPortId })
        .from(routers)
        .where(eq(routers.id, routerId));
      gw = row ?? { networkId: null, portId: null };
    }
    if (gw.networkId) {
      for (const subnet of await this.core.getSubnets(admin, { filters: { network_id: [gw.networkId] } })) {
        attached.push({ subnet, portId: gw.portId ?? '', isGateway: true });
      }
    }
    return attached;
  }

  /** Neutron's `_check_for_dup_router_subnets`: no subnet twice, no overlapping CIDRs. */
  checkNewSubnets(attached: readonly AttachedSubnet[], added: readonly Subnet[]): void {
    for (const subnet of added) {
      if (attached.some((a) => a.subnet.id === subnet.id)) {
        throw BadRequest({ resource: 'router', msg: `Router already has a port on subnet ${subnet.id}` });
      }
      const cidr = parseCidr(subnet.cidr)!;
      const overlapping = attached.find((a) => cidrsOverlap(parseCidr(a.subnet.cidr)!, cidr));
      if (overlapping) {
        throw BadRequest({
          resource: 'router',
          msg: `Cidr ${subnet.cidr} of subnet ${subnet.id} overlaps with cidr ${overlapping.subnet.cidr} of subnet ${overlapping.subnet.id}`,
        });
      }
    }
  }

  /** Override point (as in Neutron): whether floating IPs use a router's gateway. */
  async gatewayHasFloatingIps(ctx: Context, routerId: string): Promise<boolean> {
    const [row] = await ctx.db.select({ id: floatingips.id }).from(floatingips).where(eq(floatingips.router_id, routerId)).limit(1);
    return row !== undefined;
  }

  async create(ctx: Context, body: RouterCreate): Promise<Router> {
    return resourceChange(ctx, { resource: 'router', action: 'create', request: body }, async () => {
      const id = await routersTable.insert(ctx, {
        project_id: body.project_id,
        name: body.name,
        description: body.description,
        admin_state_up: body.admin_state_up,
        status: 'ACTIVE',
        routes: [],
        enableSnat: this.options.enable_snat_by_default,
      });
      if (body.external_gateway_info) await this.setGateway(ctx, id, body.external_gateway_info as ExternalGatewayRequest);
      return routersTable.get(ctx, id);
    });
  }

  async update(ctx: Context, id: string, body: RouterUpdate): Promise<Router> {
    const original = await routersTable.get(ctx, id);
    return resourceChange(ctx, { resource: 'router', action: 'update', id, request: body, original }, async () => {
      const { external_gateway_info: gateway, ...values } = body;
      // Routes are checked against the router as the request leaves it: a new gateway brings its
      // subnets, a dropped one takes them away (Neutron re-validates routes on gateway changes).
      const routes = values.routes ?? original.routes ?? [];
      if ('external_gateway_info' in body) await this.setGateway(ctx, id, (gateway ?? null) as ExternalGatewayRequest | null, routes);
      if (values.routes) await this.checkRoutes(ctx, id, values.routes);
      await routersTable.update(ctx, id, values);
      return routersTable.get(ctx, id);
    });
  }

  async delete(ctx: Context, id: string): Promise<void> {
    const original = await routersTable.get(ctx, id);
    // Checked before anything is published, so a refused delete leaves nothing half-done.
    const interfaces = await this.routerPorts(ctx, id, ROUTER_INTERFACE_OWNERS);
    if (interfaces.length > 0) {
      // In port id order, as Neutron lists them (its router-port rows' primary key order; see the
      // reference capture 080, where the later-attached port comes first).
      const ids = interfaces.map((p) => p.id).sort();
      throw RouterInUse({ router_id: id, reason: `has ports still attached: ${ids.join(', ')}` });
    }
    await resourceChange(ctx, { resource: 'router', action: 'delete', id, original }, async () => {
      await this.setGateway(ctx, id, null);
      await routersTable.delete(ctx, id);
      return undefined;
    });
  }

  /**
   * Sets, changes or clears (`null`) a router's external gateway: checks the network is external
   * and the addresses are not a subnet's gateway, refuses to drop a gateway floating IPs need,
   * and creates or replaces the gateway port (owned by no project, so users do not see it).
   */
  async setGateway(ctx: Context, routerId: string, info: ExternalGatewayRequest | null, routes: readonly HostRoute[] = []): Promise<void> {
    const admin = ctx.elevated();
    const [current] = await admin.db.select().from(routers).where(eq(routers.id, routerId));
    if (!current) throw router.notFound(routerId);
    const enableSnat = info?.enable_snat ?? this.options.enable_snat_by_default;
    const requestedIps = info?.external_fixed_ips ?? [];
    let network;
    let networkSubnets: Subnet[] = [];
    if (info) {
      network = await this.core.getNetwork(admin, info.network_id);
      if (!network['router:external']) {
        throw BadRequest({ resource: 'router', msg: `Network ${network.id} is not an external network` });
      }
      networkSubnets = await this.core.getSubnets(admin, { filters: { network_id: [network.id] } });
      const gateways = networkSubnets.map((s) => s.gateway_ip).filter((ip): ip is string => ip !== null);
      const clash = requestedIps.find((ip) => ip.ip_address !== undefined && gateways.includes(ip.ip_address));
      if (clash) throw BadRequest({ resource: 'router', msg: `External IP ${clash.ip_address} is the same as the gateway IP` });
    }
    const sameNetwork = current.gwPortId !== null && network?.id === current.gwNetworkId;
    if (!sameNetwork && routes.length > 0) {
      await this.checkRoutes(ctx, routerId, routes, { networkId: network?.id ?? null, portId: null });
    }
    if (sameNetwork) {
      if (externalIpsChange(current.gwFixedIps, requestedIps)) {
        const port = await this.core.updatePort(admin, current.gwPortId!, { fixed_ips: requestedIps as FixedIp[] }, { portCheck: false });
        await routersTable.update(ctx, routerId, { gwFixedIps: port.fixed_ips });
      }
      await routersTable.update(ctx, routerId, { enableSnat });
      return;
    }
    if (current.gwPortId) {
      if (await this.gatewayHasFloatingIps(admin, routerId)) {
        throw RouterExternalGatewayInUseByFloatingIp({ router_id: routerId, net_id: current.gwNetworkId! });
      }
      const removedPort = current.gwPortId;
      await resourceChange(ctx, { resource: 'router_gateway', action: 'delete', id: routerId }, async () => {
        await routersTable.update(ctx, routerId, { gwPortId: null, gwNetworkId: null, gwFixedIps: [] });
        await this.core.deletePort(admin, removedPort, { portCheck: false });
        return routersTable.get(ctx, routerId);
      });
    }
    if (network) {
      const gatewayNetwork = network;
      // The old gateway is gone by now: the new one's subnets must not overlap the interfaces'.
      this.checkNewSubnets(await this.attachedSubnets(ctx, routerId, { networkId: null, portId: null }), networkSubnets);
      await resourceChange(
        ctx,
        { resource: 'router_gateway', action: 'create', id: routerId, request: { external_gateway_info: info } },
        async () => {
          const body = this.runtime.requestBody<PortCreate>(
            'port',
            {
              network_id: gatewayNetwork.id,
              device_owner: DEVICE_OWNER_ROUTER_GW,
              device_id: routerId,
              ...(requestedIps.length > 0 ? { fixed_ips: requestedIps } : {}),
            },
            '',
          );
          const port = await this.core.createPort(admin, body);
          await routersTable.update(ctx, routerId, {
            gwPortId: port.id,
            gwNetworkId: gatewayNetwork.id,
            gwFixedIps: port.fixed_ips,
            enableSnat,
          });
          return routersTable.get(ctx, routerId);
        },
      );
    } else {
      await routersTable.update(ctx, routerId, { enableSnat });
    }
  }

  /**
   * Extra routes: at most `max_routes`, each nexthop on a subnet the router is attached to and
   * not one of its own addresses. `gateway` checks against a gateway about to replace the current.
   */
  async checkRoutes(
    ctx: Context,
    routerId: string,
    routes: readonly HostRoute[],
    gateway?: { networkId: string | null; portId: null },
  ): Promise<void> {
    const max = this.options.max_routes;
    if (routes.length > max) throw RoutesExhausted({ router_id: routerId, quota: max });
    const attached = await this.attachedSubnets(ctx, routerId, gateway);
    // A gateway about to be replaced has no addresses yet; Neutron then counts interfaces only.
    const owners = gateway ? ROUTER_INTERFACE_OWNERS : [...ROUTER_INTERFACE_OWNERS, DEVICE_OWNER_ROUTER_GW];
    const own = new Set((await this.routerPorts(ctx, routerId, owners)).flatMap((p) => p.fixed_ips.map((ip) => ip.ip_address)));
    // As Neutron prints them: destination first (rows read back from jsonb have nexthop first).
    const printed = () => pyRepr(routes.map((r) => ({ destination: r.destination, nexthop: r.nexthop })));
    for (const route of routes) {
      const nexthop = parseIp(route.nexthop)!;
      if (!attached.some((a) => cidrContains(parseCidr(a.subnet.cidr)!, nexthop))) {
        throw InvalidRoutes({ routes: printed(), reason: 'the nexthop is not connected with router' });
      }
      if (own.has(route.nexthop)) throw InvalidRoutes({ routes: printed(), reason: 'the nexthop is used by router' });
    }
  }

  /**
   * Keeps the copy of a gateway port's addresses on its router in step when the port changes
   * outside the router's own requests (an admin's `PUT /v2.0/ports`). Not a router change: its
   * revision stays, as Neutron's (whose router renders the port) does.
   */
  async refreshGatewayIps(ctx: Context, port: Port): Promise<void> {
    if (port.device_owner !== DEVICE_OWNER_ROUTER_GW) return;
    await ctx.db
      .update(routers)
      .set({ gwFixedIps: port.fixed_ips })
      .where(and(eq(routers.id, port.device_id), eq(routers.gwPortId, port.id)));
  }

  /**
   * Holds routers steady for the rest of the transaction (`FOR SHARE`): their interfaces and
   * gateways change only under the row's `FOR UPDATE` (interface actions, router updates and
   * deletes), so what a floating IP association reads after this stays true until it commits.
   */
  async lockShared(ctx: Context, routerIds: readonly string[]): Promise<void> {
    if (routerIds.length === 0) return;
    await ctx.db
      .select({ id: routers.id })
      .from(routers)
      .where(inArray(routers.id, [...routerIds]))
      .orderBy(routers.id)
      .for('share');
  }

  /** Routers (of the given ids) whose gateway is on a network. */
  async withGatewayOn(ctx: Context, routerIds: readonly string[], networkId: string): Promise<string[]> {
    if (routerIds.length === 0) return [];
    const rows = await ctx.db
      .select({ id: routers.id })
      .from(routers)
      .where(and(inArray(routers.id, [...routerIds]), eq(routers.gwNetworkId, networkId)));
    return rows.map((r) => r.id);
  }
}

/**
 * Neutron's `_check_for_external_ip_change`: asked-for gateway addresses change the port when the
 * set of subnets or the set of addresses they name differs from the port's (entries naming only
 * an address name no subnet, so such a request always updates the port).
 */
function externalIpsChange(current: readonly FixedIp[], requested: readonly { subnet_id?: string; ip_address?: string }[]): boolean {
  if (requested.length === 0) return false;
  const sameSet = (a: Set<string>, b: Set<string>) => a.size === b.size && [...a].every((x) => b.has(x));
  const subnets = new Set(requested.flatMap((ip) => (ip.subnet_id ? [ip.subnet_id] : [])));
  if (!sameSet(subnets, new Set(current.map((ip) => ip.subnet_id)))) return true;
  const addresses = new Set(requested.flatMap((ip) => (ip.ip_address ? [ip.ip_address] : [])));
  return !sameSet(addresses, new Set(current.map((ip) => ip.ip_address)));
}
