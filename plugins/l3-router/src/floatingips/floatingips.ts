import { randomUUID } from 'node:crypto';
import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import {
  BadRequest,
  bindTable,
  DEVICE_OWNER_FLOATINGIP,
  DEVICE_OWNER_NETWORK_PREFIX,
  DEVICE_OWNER_ROUTER_INTF,
  parseIp,
  resourceChange,
  type Context,
  type CorePluginApi,
  type Port,
  type PortCreate,
  type Runtime,
} from '@nucleon/core';
import {
  floatingip,
  type FloatingIp,
  type FloatingIpCreate,
  type FloatingIpUpdate,
  PORT_DETAILS_KEYS,
  type PortDetails,
} from '../definitions.js';
import { ExternalGatewayForFloatingIPNotFound, ExternalIpAddressExhausted, FloatingIPPortAlreadyAssociated } from '../errors.js';
import { ROUTER_INTERFACE_OWNERS, type RouterService } from '../routers/routers.js';
import { floatingips } from './schema.js';

/** Floating IPs as the API shows them. */
export const floatingipsTable = bindTable(floatingip, floatingips, {
  computed: {
    // jsonb stores keys shortest first; Neutron shows port_details' keys in this order.
    port_details: (t) =>
      sql`case when ${t.port_details} is null then null else json_build_object(${sql.join(
        PORT_DETAILS_KEYS.map((key) => sql`${sql.raw(`'${key}'`)}, ${t.port_details}->${sql.raw(`'${key}'`)}`),
        sql`, `,
      )}) end`,
  },
});

/** Where an association points: the internal port, its address and the router in between. */
export interface Association {
  readonly portId: string | null;
  readonly fixedIpAddress: string | null;
  readonly routerId: string | null;
  readonly portDetails: PortDetails | null;
}

const NONE: Association = { portId: null, fixedIpAddress: null, routerId: null, portDetails: null };

/** The `port_details` of an associated port (`fip-port-details`). */
export function portDetails(port: Port): PortDetails {
  return Object.fromEntries(PORT_DETAILS_KEYS.map((key) => [key, port[key]])) as PortDetails;
}

/**
 * Floating IPs: an address on an external network, held by a hidden port, optionally associated
 * with a fixed IP of an internal port reachable through a router with a gateway on that network.
 */
export class FloatingIpService {
  constructor(
    private readonly runtime: Runtime,
    private readonly routers: RouterService,
  ) {}

  private get core(): CorePluginApi {
    return this.runtime.plugins.core();
  }

  async create(ctx: Context, body: FloatingIpCreate): Promise<FloatingIp> {
    const admin = ctx.elevated();
    const metadata: Record<string, unknown> = { association_event: null };
    // Neutron publishes before_create first: a subscriber's veto wins over a bad network.
    return resourceChange(ctx, { resource: 'floatingip', action: 'create', request: body, metadata }, async () => {
      const network = await this.core.getNetwork(admin, body.floating_network_id);
      if (!network['router:external']) {
        throw BadRequest({ resource: 'floatingip', msg: `Network ${network.id} is not a valid external network` });
      }
      const v4Subnets = await this.core.getSubnets(admin, { filters: { network_id: [network.id], ip_version: ['4'] } });
      if (v4Subnets.length === 0) {
        throw BadRequest({ resource: 'floatingip', msg: `Network ${network.id} does not contain any IPv4 subnet` });
      }
      const id = randomUUID();
      const wanted = {
        ...(body.subnet_id ? { subnet_id: body.subnet_id } : {}),
        ...(body.floating_ip_address ? { ip_address: body.floating_ip_address } : {}),
      };
      const portBody = this.runtime.requestBody<PortCreate>(
        'port',
        {
          network_id: network.id,
          device_owner: DEVICE_OWNER_FLOATINGIP,
          device_id: id,
          // Without a hint, the network's usual allocation (as Neutron): an IPv4 address from
          // whichever subnet has room, and IPv6 ones as the network gives them.
          ...(Object.keys(wanted).length > 0 ? { fixed_ips: [wanted] } : {}),
        },
        '',
      );
      const port = await this.core.createPort(admin, portBody);
      const address = port.fixed_ips.find((ip) => parseIp(ip.ip_address)?.version === 4)?.ip_address;
      // A subnet_id naming an IPv6 subnet gets the port no IPv4 address; the transaction undoes the port.
      if (!address) throw ExternalIpAddressExhausted({ net_id: network.id });
      const association = await this.associate(
        ctx,
        { id, floating_ip_address: address, floating_network_id: network.id, project_id: body.project_id! },
        body.port_id,
        body.fixed_ip_address,
      );
      if (association.portId !== null) metadata.association_event = true;
      // `dns-integration` (in the body only while served): Neutron's `_validate_floatingip_dns`.
      const dnsName = body.dns_name ?? '';
      const dnsDomain = body.dns_domain ?? '';
      if (dnsDomain && !dnsName) throw BadRequest({ resource: 'floatingip', msg: 'dns_domain cannot be specified without a dns_name' });
      if (dnsName && !dnsDomain) throw BadRequest({ resource: 'floatingip', msg: 'dns_name cannot be specified without a dns_domain' });
      await floatingipsTable.insert(ctx, {
        id,
        project_id: body.project_id,
        description: body.description,
        floating_ip_address: address,
        floating_network_id: network.id,
        floatingPortId: port.id,
        status: 'DOWN',
        port_id: association.portId,
        fixed_ip_address: association.fixedIpAddress,
        router_id: association.routerId,
        port_details: association.portDetails,
        dns_name: dnsName,
        dns_domain: dnsDomain,
      });
      return floatingipsTable.get(ctx, id);
    });
  }

  async update(ctx: Context, id: string, body: FloatingIpUpdate): Promise<FloatingIp> {
    const original = await floatingipsTable.get(ctx, id);
    // Neutron's association_event: true when associated with a new port, false when
    // disassociated, null when the association did not change.
    const metadata: Record<string, unknown> = { association_event: null };
    return resourceChange(ctx, { resource: 'floatingip', action: 'update', id, request: body, original, metadata }, async () => {
      const values: Record<string, unknown> = { ...body };
      if ('port_id' in body || 'fixed_ip_address' in body) {
        // Like Neutron, a fixed_ip_address needs the port_id beside it, even when already associated.
        const association = await this.associate(ctx, original, body.port_id, body.fixed_ip_address);
        if (association.portId !== original.port_id) metadata.association_event = association.portId !== null;
        Object.assign(values, {
          port_id: association.portId,
          fixed_ip_address: association.fixedIpAddress,
          router_id: association.routerId,
          port_details: association.portDetails,
          lastKnownRouterId: original.router_id,
        });
      }
      await floatingipsTable.update(ctx, id, values);
      return floatingipsTable.get(ctx, id);
    });
  }

  async delete(ctx: Context, id: string): Promise<void> {
    const original = await floatingipsTable.get(ctx, id);
    await resourceChange(ctx, { resource: 'floatingip', action: 'delete', id, original }, async () => {
      const [row] = await ctx.db.select({ port: floatingips.floatingPortId }).from(floatingips).where(eq(floatingips.id, id));
      await floatingipsTable.delete(ctx, id);
      // Releasing the address: the external port goes with the floating IP.
      await this.core.deletePort(ctx.elevated(), row!.port, { portCheck: false });
      return undefined;
    });
  }

  /**
   * Neutron's association checks, in its order: the port (visible, same project unless admin,
   * not a network device), the fixed IP (IPv4, on the port, chosen when there are several), a
   * router joining the port's subnet to the floating network, and no other floating IP on that
   * fixed IP and network.
   */
  async associate(
    ctx: Context,
    fip: Pick<FloatingIp, 'id' | 'floating_ip_address' | 'floating_network_id' | 'project_id'>,
    portId: string | null | undefined,
    fixedIpAddress: string | null | undefined,
  ): Promise<Association> {
    if (!portId) {
      if (fixedIpAddress) throw BadRequest({ resource: 'floatingip', msg: 'fixed_ip_address cannot be specified without a port_id' });
      return NONE;
    }
    const port = await this.core.getPort(ctx.elevated(), portId);
    if (port.project_id !== fip.project_id && !ctx.isAdmin) {
      throw BadRequest({
        resource: 'floatingip',
        msg: `Cannot process floating IP association with Port ${port.id}, since that port is owned by a different project`,
      });
    }
    if (port.device_owner.startsWith(DEVICE_OWNER_NETWORK_PREFIX)) {
      throw BadRequest({ resource: 'floatingip', msg: `Port ${port.id} is unable to be assigned a floating IP` });
    }
    const v4 = port.fixed_ips.filter((ip) => parseIp(ip.ip_address)?.version === 4);
    let fixed;
    if (fixedIpAddress) {
      if (parseIp(fixedIpAddress)?.version !== 4) {
        throw BadRequest({
          resource: 'floatingip',
          msg: `Cannot process floating IP association with ${fixedIpAddress}, since that is not an IPv4 address`,
        });
      }
      fixed = v4.find((ip) => ip.ip_address === fixedIpAddress);
      if (!fixed) throw BadRequest({ resource: 'floatingip', msg: `Port ${port.id} does not have fixed ip ${fixedIpAddress}` });
    } else {
      if (v4.length === 0) {
        throw BadRequest({ resource: 'floatingip', msg: `Cannot add floating IP to port ${port.id} that has no fixed IPv4 addresses` });
      }
      if (v4.length > 1) {
        throw BadRequest({
          resource: 'floatingip',
          msg: `Port ${port.id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP`,
        });
      }
      fixed = v4[0]!;
    }
    const routerId = await this.routerFor(ctx, port, fixed.subnet_id, fip.floating_network_id);
    const [taken] = await ctx.db
      .select({ id: floatingips.id })
      .from(floatingips)
      .where(
        and(
          eq(floatingips.port_id, port.id),
          eq(floatingips.fixed_ip_address, fixed.ip_address),
          eq(floatingips.floating_network_id, fip.floating_network_id),
          ne(floatingips.id, fip.id),
        ),
      );
    if (taken) {
      throw FloatingIPPortAlreadyAssociated({
        floating_ip_address: fip.floating_ip_address ?? '',
        fip_id: fip.id,
        port_id: port.id,
        fixed_ip: fixed.ip_address,
        net_id: fip.floating_network_id,
      });
    }
    return { portId: port.id, fixedIpAddress: fixed.ip_address, routerId, portDetails: portDetails(port) };
  }

  /**
   * Override point (Neutron's `get_router_for_floatingip`): a router with an interface on the
   * internal subnet and a gateway on the external network, preferring the one whose interface holds
   * the subnet's gateway address.
   */
  async routerFor(ctx: Context, internalPort: Port, subnetId: string, externalNetworkId: string): Promise<string> {
    const admin = ctx.elevated();
    const interfacesOnSubnet = async () =>
      (
        await this.core.getPorts(admin, { filters: { network_id: [internalPort.network_id], device_owner: ROUTER_INTERFACE_OWNERS } })
      ).filter((p) => p.fixed_ips.some((ip) => ip.subnet_id === subnetId));
    let interfaces = await interfacesOnSubnet();
    if (interfaces.length > 0) {
      // Lock the candidate routers, then read again: an interface removal or a gateway change
      // that committed while we waited must be seen, and none can commit before we do.
      await this.routers.lockShared(admin, [...new Set(interfaces.map((p) => p.device_id))]);
      interfaces = await interfacesOnSubnet();
    }
    const routers = await this.routers.withGatewayOn(admin, [...new Set(interfaces.map((p) => p.device_id))], externalNetworkId);
    if (routers.length === 0) {
      throw ExternalGatewayForFloatingIPNotFound({ external_network_id: externalNetworkId, subnet_id: subnetId, port_id: internalPort.id });
    }
    const gateway = (await this.core.getSubnet(admin, subnetId)).gateway_ip;
    const preferred = interfaces.find(
      (p) =>
        routers.includes(p.device_id) && p.device_owner === DEVICE_OWNER_ROUTER_INTF && p.fixed_ips.some((ip) => ip.ip_address === gateway),
    );
    return preferred?.device_id ?? routers[0]!;
  }

  /**
   * Disassociates every floating IP of a port being deleted, in the same transaction, publishing
   * each as an update without an association (Neutron's `disassociate_floatingips`).
   */
  async disassociatePort(ctx: Context, portId: string): Promise<void> {
    const admin = ctx.elevated();
    const rows = await ctx.db.select({ id: floatingips.id }).from(floatingips).where(eq(floatingips.port_id, portId));
    for (const { id } of rows) {
      const original = await floatingipsTable.get(admin, id);
      await resourceChange(
        admin,
        { resource: 'floatingip', action: 'update', id, original, metadata: { association_event: false } },
        async () => {
          await floatingipsTable.update(ctx, id, {
            port_id: null,
            fixed_ip_address: null,
            router_id: null,
            port_details: null,
            lastKnownRouterId: original.router_id,
          });
          return floatingipsTable.get(admin, id);
        },
      );
    }
  }

  /** Keeps `port_details` in step with the port it describes. */
  async refreshPortDetails(ctx: Context, port: Port): Promise<void> {
    const details = portDetails(port);
    await ctx.db
      .update(floatingips)
      .set({ port_details: details })
      .where(and(eq(floatingips.port_id, port.id), sql`${floatingips.port_details} is distinct from ${JSON.stringify(details)}::jsonb`));
  }

  /** The floating IPs of a network that no port uses. */
  async disassociatedOn(ctx: Context, networkId: string): Promise<string[]> {
    const rows = await ctx.db
      .select({ id: floatingips.id })
      .from(floatingips)
      .where(and(eq(floatingips.floating_network_id, networkId), isNull(floatingips.port_id)));
    return rows.map((r) => r.id);
  }

  /** Floating IPs associated with a port. */
  async ofPort(ctx: Context, portId: string): Promise<Array<{ id: string; fixedIpAddress: string | null }>> {
    return ctx.db
      .select({ id: floatingips.id, fixedIpAddress: floatingips.fixed_ip_address })
      .from(floatingips)
      .where(eq(floatingips.port_id, portId));
  }
}
