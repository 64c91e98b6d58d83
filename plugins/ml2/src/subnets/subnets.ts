import { and, eq, inArray, notInArray, sql } from 'drizzle-orm';
import {
  AUTO_DELETE_PORT_OWNERS,
  BadRequest,
  bindTable,
  cidrsOverlap,
  coreOptions,
  defineError,
  DEVICE_OWNER_ROUTER_INTF,
  formatIp,
  InvalidInput,
  parseCidr,
  parseIp,
  resourceChange,
  subnet,
  type Cidr,
  type Context,
  type Runtime,
  type Subnet,
  type SubnetCreate,
  type SubnetUpdate,
} from '@nucleon/core';
import { networksTable } from '../networks/networks.js';
import { ipAllocations, ports } from '../ports/schema.js';
import { checkGatewayOutOfPools, checkPools, defaultGateway, generatePools, poolsFromApi, poolsToApi, type Range } from './pools.js';
import { networks } from '../networks/schema.js';
import { subnets } from './schema.js';

export const SubnetInUse = defineError(
  'SubnetInUse',
  409,
  'Unable to complete operation on subnet {subnet_id}: One or more ports have an IP allocation from this subnet.',
);
export const GatewayIpInUse = defineError(
  'GatewayIpInUse',
  409,
  'Current gateway ip {ip_address} already in use by port {port_id}. Unable to update.',
);
const DNSNameServersExhausted = defineError(
  'DNSNameServersExhausted',
  400,
  'Unable to complete operation for {subnet_id}. The number of DNS nameservers exceeds the limit {quota}.',
);
const HostRoutesExhausted = defineError(
  'HostRoutesExhausted',
  400,
  'Unable to complete operation for {subnet_id}. The number of host routes exceeds the limit {quota}.',
);

/** Subnets as the API shows them. */
export const subnetsTable = bindTable(subnet, subnets, {
  // Subnets of shared networks are everyone's to see (`get_subnet`: owner or shared); those of a
  // network that is only external are not.
  visibleWhen: (t) => sql`${t.network_id} in (select n.id from ${networks} n where n.shared)`,
});

/** SLAAC and DHCPv6-stateless subnets give every port an EUI-64 address instead of allocating one. */
export function isAutoAddress(s: Pick<Subnet, 'ipv6_ra_mode' | 'ipv6_address_mode'>): boolean {
  const modes = [s.ipv6_ra_mode, s.ipv6_address_mode];
  return modes.includes('slaac') || modes.includes('dhcpv6-stateless');
}

const ROUTER_INTERFACE_OWNERS = [
  DEVICE_OWNER_ROUTER_INTF,
  'network:ha_router_replicated_interface',
  'network:router_interface_distributed',
];

/** A subnet request's facts that `_validate_subnet` checks, before and after an update. */
interface SubnetShape {
  readonly id?: string;
  readonly cidr: Cidr;
  readonly ip_version: number;
  readonly gateway_ip?: string | null;
  readonly dns_nameservers?: readonly string[];
  readonly host_routes?: ReadonlyArray<{ destination: string; nexthop: string }>;
  readonly enable_dhcp?: boolean;
  readonly ipv6_ra_mode?: string | null;
  readonly ipv6_address_mode?: string | null;
}

/**
 * Subnets and their IPAM facts: CIDR and gateway rules, allocation pools (default and given),
 * DNS servers and host routes with Neutron's limits, IPv6 address modes.
 */
export class SubnetService {
  constructor(
    private readonly runtime: Runtime,
    private readonly onAutoAddressSubnet: (ctx: Context, subnet: Subnet) => Promise<void>,
  ) {}

  private get limits() {
    return this.runtime.config.get(coreOptions).DEFAULT;
  }

  /** Neutron's `_validate_subnet`, in its order. */
  private validate(s: SubnetShape, creating: boolean, current?: Subnet): void {
    const { cidr } = s;
    const version = s.ip_version;
    if (cidr.version !== version) {
      throw InvalidInput({ error_message: `cidr '${cidr.text}' does not match the ip_version '${version}'` });
    }
    if (cidr.version === 6 && cidr.network === 0n) throw InvalidInput({ error_message: "IPv6 subnet '::' is not supported" });
    if (s.enable_dhcp && (creating || current?.enable_dhcp === false)) {
      if ((version === 4 && cidr.prefix > 30) || (version === 6 && cidr.prefix > 126)) {
        throw InvalidInput({ error_message: 'Subnet has a prefix length that is incompatible with DHCP service enabled' });
      }
      if (version === 4 && cidr.network >> 28n === 0xen) {
        throw InvalidInput({ error_message: 'Multicast IP subnet is not supported if enable_dhcp is True' });
      }
      if ((version === 4 && cidr.network >> 24n === 127n) || (version === 6 && cidr.text === '::1/128')) {
        throw InvalidInput({ error_message: 'Loopback IP subnet is not supported if enable_dhcp is True' });
      }
      if (version === 4 && cidr.network === 0n) {
        throw InvalidInput({ error_message: "First IP '0.0.0.0' of network is not supported if enable_dhcp is True." });
      }
    }
    if (s.gateway_ip) {
      const gateway = parseIp(s.gateway_ip)!;
      if (gateway.version !== version) {
        throw InvalidInput({ error_message: `gateway_ip '${s.gateway_ip}' does not match the ip_version '${version}'` });
      }
      const last = cidr.network + (1n << BigInt((version === 4 ? 32 : 128) - cidr.prefix)) - 1n;
      if (version === 4 && cidr.prefix < 31 && (gateway.value === cidr.network || gateway.value === last)) {
        throw InvalidInput({ error_message: 'Gateway is not valid on subnet' });
      }
    }
    const subnetId = s.id ?? 'new subnet';
    if (s.dns_nameservers) {
      if (s.dns_nameservers.length > this.limits.max_dns_nameservers) {
        throw DNSNameServersExhausted({ subnet_id: subnetId, quota: this.limits.max_dns_nameservers });
      }
      for (const server of s.dns_nameservers) {
        if (parseIp(server)!.version !== version) {
          throw InvalidInput({ error_message: `dns_nameserver '${server}' does not match the ip_version '${version}'` });
        }
      }
    }
    if (s.host_routes) {
      if (s.host_routes.length > this.limits.max_subnet_host_routes) {
        throw HostRoutesExhausted({ subnet_id: subnetId, quota: this.limits.max_subnet_host_routes });
      }
      for (const route of s.host_routes) {
        if (parseIp(route.nexthop)!.version !== version) {
          throw InvalidInput({ error_message: `nexthop '${route.nexthop}' does not match the ip_version '${version}'` });
        }
        if (parseCidr(route.destination)!.version !== version) {
          throw InvalidInput({ error_message: `destination '${route.destination}' does not match the ip_version '${version}'` });
        }
      }
    }
    if (version === 4) {
      if (s.ipv6_ra_mode) throw InvalidInput({ error_message: 'ipv6_ra_mode is not valid when ip_version is 4' });
      if (s.ipv6_address_mode) throw InvalidInput({ error_message: 'ipv6_address_mode is not valid when ip_version is 4' });
    } else if (creating) {
      const ra = s.ipv6_ra_mode ?? null;
      const address = s.ipv6_address_mode ?? null;
      if ((ra || address) && !s.enable_dhcp) {
        throw InvalidInput({ error_message: 'ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False' });
      }
      if (ra && address && ra !== address) {
        throw InvalidInput({
          error_message: `ipv6_ra_mode set to '${ra}' with ipv6_address_mode set to '${address}' is not valid. If both attributes are set, they must be the same value`,
        });
      }
      if (isAutoAddress({ ipv6_ra_mode: ra as never, ipv6_address_mode: address as never }) && cidr.prefix !== 64) {
        throw InvalidInput({
          error_message: `Invalid CIDR ${cidr.text} for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64`,
        });
      }
    } else if (s.enable_dhcp === false && (current?.ipv6_ra_mode || current?.ipv6_address_mode)) {
      throw InvalidInput({ error_message: 'Cannot disable enable_dhcp with ipv6 attributes set' });
    }
  }

  async create(ctx: Context, body: SubnetCreate): Promise<Subnet> {
    if (body.subnetpool_id) {
      throw BadRequest({ resource: 'subnets', msg: 'subnet pools are not supported by this server; give a cidr' });
    }
    if (!body.cidr) throw BadRequest({ resource: 'subnets', msg: 'a subnetpool must be specified in the absence of a cidr' });
    const requested = parseCidr(body.cidr)!;
    // Host bits are dropped: 10.0.0.5/24 is the subnet 10.0.0.0/24.
    const cidr = parseCidr(requested.text)!;
    if (cidr.prefix === 0) throw InvalidInput({ error_message: '0 is not allowed as CIDR prefix length' });
    this.validate({ ...body, cidr }, true);
    return resourceChange(ctx, { resource: 'subnet', action: 'create', request: body }, async () => {
      // Subnet creations on one network are serialised so the overlap check cannot race.
      await networksTable.lockAndCheckRevision(ctx.elevated(), body.network_id);
      const network = await networksTable.get(ctx, body.network_id);
      await this.checkOverlap(ctx, network.id, cidr);
      const gateway = body.gateway_ip === null ? null : body.gateway_ip ? parseIp(body.gateway_ip)!.value : defaultGateway(cidr);
      let pools: Range[];
      if (body.allocation_pools && body.allocation_pools.length > 0) {
        pools = checkPools(cidr, body.allocation_pools);
        checkGatewayOutOfPools(cidr.version, gateway, pools);
      } else {
        pools = generatePools(cidr, gateway);
      }
      const id = await subnetsTable.insert(ctx, {
        project_id: body.project_id,
        name: body.name,
        description: body.description,
        network_id: network.id,
        ip_version: body.ip_version,
        subnetpool_id: null,
        cidr: cidr.text,
        gateway_ip: gateway === null ? null : formatIp({ version: cidr.version, value: gateway }),
        allocation_pools: poolsToApi(cidr.version, pools),
        dns_nameservers: body.dns_nameservers ?? [],
        host_routes: body.host_routes ?? [],
        enable_dhcp: body.enable_dhcp,
        ipv6_ra_mode: body.ipv6_ra_mode ?? null,
        ipv6_address_mode: body.ipv6_address_mode ?? null,
      });
      await networksTable.bumpRevision(ctx, network.id);
      const created = await subnetsTable.get(ctx, id);
      if (isAutoAddress(created)) await this.onAutoAddressSubnet(ctx, created);
      return created;
    });
  }

  private async checkOverlap(ctx: Context, networkId: string, cidr: Cidr): Promise<void> {
    const siblings = await ctx.db.select({ cidr: subnets.cidr }).from(subnets).where(eq(subnets.network_id, networkId));
    if (siblings.some((s) => cidrsOverlap(parseCidr(s.cidr)!, cidr))) {
      throw InvalidInput({
        error_message: `Requested subnet with cidr: ${cidr.text} for network: ${networkId} overlaps with another subnet`,
      });
    }
  }

  async update(ctx: Context, id: string, body: SubnetUpdate): Promise<Subnet> {
    const original = await subnetsTable.get(ctx, id);
    const cidr = parseCidr(original.cidr)!;
    this.validate({ ...original, ...body, id, cidr, ip_version: original.ip_version }, false, original);
    return resourceChange(ctx, { resource: 'subnet', action: 'update', id, request: body, original }, async () => {
      const values: Record<string, unknown> = { ...body };
      const gatewayChanged = 'gateway_ip' in body && body.gateway_ip !== original.gateway_ip;
      if (gatewayChanged && original.gateway_ip) await this.checkGatewayFree(ctx, id, original.gateway_ip);
      const gateway = 'gateway_ip' in body ? (body.gateway_ip ?? null) : original.gateway_ip;
      const gatewayValue = gateway ? parseIp(gateway)!.value : null;
      if (body.allocation_pools) {
        const pools = checkPools(cidr, body.allocation_pools);
        checkGatewayOutOfPools(cidr.version, gatewayValue, pools);
        values.allocation_pools = poolsToApi(cidr.version, pools);
      } else if (gatewayChanged) {
        checkGatewayOutOfPools(cidr.version, gatewayValue, poolsFromApi(original.allocation_pools));
      }
      await subnetsTable.update(ctx, id, values);
      await networksTable.bumpRevision(ctx, original.network_id);
      return subnetsTable.get(ctx, id);
    });
  }

  /** Refuses to move a gateway a router interface still holds. */
  private async checkGatewayFree(ctx: Context, subnetId: string, gateway: string): Promise<void> {
    const [holder] = await ctx.db
      .select({ portId: ipAllocations.portId })
      .from(ipAllocations)
      .innerJoin(ports, eq(ports.id, ipAllocations.portId))
      .where(
        and(
          eq(ipAllocations.subnetId, subnetId),
          eq(ipAllocations.ipAddress, gateway),
          inArray(ports.device_owner, ROUTER_INTERFACE_OWNERS),
        ),
      );
    if (holder) throw GatewayIpInUse({ ip_address: gateway, port_id: holder.portId });
  }

  async delete(ctx: Context, id: string): Promise<void> {
    const original = await subnetsTable.get(ctx, id);
    await resourceChange(ctx, { resource: 'subnet', action: 'delete', id, original }, async () => {
      await this.remove(ctx, original, true);
      return undefined;
    });
  }

  /**
   * Removes a subnet and the addresses only automatic ports hold on it. With `checkInUse`, ports
   * that need their address block it (`SubnetInUse`), as on `DELETE /subnets/{id}`.
   */
  async remove(ctx: Context, original: Subnet, checkInUse: boolean): Promise<void> {
    await subnetsTable.lockAndCheckRevision(ctx.elevated(), original.id);
    if (checkInUse) {
      const blocking = isAutoAddress(original)
        ? inArray(ports.device_owner, ROUTER_INTERFACE_OWNERS)
        : notInArray(ports.device_owner, [...AUTO_DELETE_PORT_OWNERS]);
      const [used] = await ctx.db
        .select({ id: ports.id })
        .from(ipAllocations)
        .innerJoin(ports, eq(ports.id, ipAllocations.portId))
        .where(and(eq(ipAllocations.subnetId, original.id), blocking))
        .limit(1);
      if (used) throw SubnetInUse({ subnet_id: original.id });
    }
    await ctx.db.delete(ipAllocations).where(eq(ipAllocations.subnetId, original.id));
    await subnetsTable.delete(ctx, original.id);
    await networksTable.bumpRevision(ctx, original.network_id);
  }

  /** Subnets of a network, oldest first (the order IP allocation tries them). */
  async ofNetwork(ctx: Context, networkId: string): Promise<Subnet[]> {
    return subnetsTable.findMany(ctx.elevated(), {
      where: [eq(subnets.network_id, networkId)],
      sorts: [{ key: 'created_at', direction: 'asc' }],
    });
  }
}
