import { randomInt } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import {
  cidrContains,
  defineError,
  DEVICE_OWNER_ROUTER_INTF,
  eui64InterfaceId,
  formatIp,
  InvalidInput,
  parseCidr,
  parseIp,
  queryRows,
  type Context,
  type FixedIp,
  type FixedIpRequest,
  type Subnet,
} from '@nucleon/core';
import { poolsFromApi, type Range } from '../subnets/pools.js';
import { isAutoAddress, subnetsTable } from '../subnets/subnets.js';
import { ipAllocations } from './schema.js';

export const IpAddressAlreadyAllocated = defineError(
  'IpAddressAlreadyAllocated',
  409,
  'IP address {ip} already allocated in subnet {subnet_id}',
);
export const IpAddressGenerationFailure = defineError(
  'IpAddressGenerationFailure',
  409,
  'No more IP addresses available on network {net_id}.',
);
const SubnetIpAddressGenerationFailure = defineError(
  'IpAddressGenerationFailure',
  409,
  'No more IP addresses available for subnet {subnet_id}.',
);
export const InvalidIpForSubnet = defineError(
  'InvalidIpForSubnet',
  400,
  'IP address {ip_address} is not a valid IP for the specified subnet.',
);
export const InvalidIpForNetwork = defineError(
  'InvalidIpForNetwork',
  400,
  'IP address {ip_address} is not a valid IP for any of the subnets on the specified network.',
);
const AllocationOnAutoAddressSubnet = defineError(
  'AllocationOnAutoAddressSubnet',
  400,
  'IPv6 address {ip} cannot be directly assigned to a port on subnet {subnet_id} as the subnet is configured for automatic addresses',
);
export const SubnetNotFound = defineError('SubnetNotFound', 404, 'Subnet {subnet_id} could not be found.');

/** Random addresses tried before the free addresses of a subnet are listed. */
const RANDOM_PROBES = 8;
/** Neutron picks among the first 1,000 free addresses, to spread concurrent workers. */
const CANDIDATE_WINDOW = 1000;

const ROUTER_PORT_OWNERS = new Set([
  DEVICE_OWNER_ROUTER_INTF,
  'network:router_gateway',
  'network:ha_router_replicated_interface',
  'network:router_interface_distributed',
]);

/** What IPAM needs to know about the port it allocates for. */
export interface PortFacts {
  readonly id: string;
  readonly networkId: string;
  readonly macAddress: string;
  readonly deviceOwner: string;
}

/** Neutron's `check_subnet_ip`: inside the subnet, and not its network or broadcast address. */
function validIpForSubnet(subnet: Subnet, ip: string, deviceOwner: string): boolean {
  const cidr = parseCidr(subnet.cidr)!;
  const address = parseIp(ip);
  if (!address || !cidrContains(cidr, address)) return false;
  if (cidr.version === 4) {
    const last = cidr.network + (1n << BigInt(32 - cidr.prefix)) - 1n;
    return cidr.prefix >= 31 || (address.value !== cidr.network && address.value !== last);
  }
  return address.value !== cidr.network || ROUTER_PORT_OWNERS.has(deviceOwner) || deviceOwner === '';
}

/**
 * IP address management: requested addresses are checked and claimed, others are picked at
 * random from the pools. A claim is an insert that the (subnet, address) key makes exclusive,
 * so concurrent requests — several workers on PostgreSQL included — never share an address.
 */
export class Ipam {
  /** Claims one address; false when somebody holds it. */
  private async claim(ctx: Context, port: PortFacts, subnetId: string, ip: string): Promise<boolean> {
    const rows = await ctx.db
      .insert(ipAllocations)
      .values({ portId: port.id, subnetId, networkId: port.networkId, ipAddress: ip })
      .onConflictDoNothing()
      .returning({ ip: ipAllocations.ipAddress });
    return rows.length > 0;
  }

  /** Any free address of a subnet, or undefined when its pools are full. */
  private async allocateAny(ctx: Context, port: PortFacts, subnet: Subnet): Promise<string | undefined> {
    const version = subnet.ip_version as 4 | 6;
    const pools = poolsFromApi(subnet.allocation_pools);
    const size = pools.reduce((n, p) => n + p.end - p.start + 1n, 0n);
    if (size === 0n) return undefined;
    for (let probe = 0; probe < RANDOM_PROBES; probe++) {
      const ip = formatIp({ version, value: addressAt(pools, randomBigInt(size)) });
      if (await this.claim(ctx, port, subnet.id, ip)) return ip;
    }
    // The pools are busy: list what is free (up to the window) and try those in random order.
    const taken = new Set(
      (await ctx.db.select({ ip: ipAllocations.ipAddress }).from(ipAllocations).where(eq(ipAllocations.subnetId, subnet.id))).map(
        (r) => r.ip,
      ),
    );
    const free: string[] = [];
    for (const pool of pools) {
      for (let value = pool.start; value <= pool.end && free.length < CANDIDATE_WINDOW; value++) {
        const ip = formatIp({ version, value });
        if (!taken.has(ip)) free.push(ip);
      }
    }
    while (free.length > 0) {
      const [ip] = free.splice(randomInt(free.length), 1);
      if (await this.claim(ctx, port, subnet.id, ip!)) return ip;
    }
    return undefined;
  }

  private async claimEui64(ctx: Context, port: PortFacts, subnet: Subnet): Promise<FixedIp> {
    const cidr = parseCidr(subnet.cidr)!;
    const ip = formatIp({ version: 6, value: cidr.network | eui64InterfaceId(port.macAddress) });
    if (!(await this.claim(ctx, port, subnet.id, ip))) throw IpAddressAlreadyAllocated({ ip, subnet_id: subnet.id });
    return { subnet_id: subnet.id, ip_address: ip };
  }

  /**
   * Allocates a new port's addresses. Without a request: one IPv4 address (first subnet with
   * room), one DHCPv6-stateful address, and the EUI-64 address of every SLAAC subnet. With one:
   * each entry's address or subnet, checked as Neutron does.
   */
  async allocate(ctx: Context, port: PortFacts, subnets: readonly Subnet[], requested?: readonly FixedIpRequest[]): Promise<FixedIp[]> {
    const allocated: FixedIp[] = [];
    const autoSubnets = subnets.filter((s) => isAutoAddress(s));
    if (requested === undefined) {
      for (const family of [subnets.filter((s) => s.ip_version === 4), subnets.filter((s) => s.ip_version === 6 && !isAutoAddress(s))]) {
        if (family.length === 0) continue;
        let ip: FixedIp | undefined;
        for (const subnet of family) {
          const address = await this.allocateAny(ctx, port, subnet);
          if (address) {
            ip = { subnet_id: subnet.id, ip_address: address };
            break;
          }
        }
        if (!ip) throw IpAddressGenerationFailure({ net_id: port.networkId });
        allocated.push(ip);
      }
    } else {
      allocated.push(...(await this.allocateRequested(ctx, port, subnets, requested)));
    }
    if (!ROUTER_PORT_OWNERS.has(port.deviceOwner)) {
      for (const subnet of autoSubnets) {
        if (!allocated.some((a) => a.subnet_id === subnet.id)) allocated.push(await this.claimEui64(ctx, port, subnet));
      }
    }
    return allocated;
  }

  private async allocateRequested(
    ctx: Context,
    port: PortFacts,
    subnets: readonly Subnet[],
    requested: readonly FixedIpRequest[],
  ): Promise<FixedIp[]> {
    const plan: Array<{ subnet: Subnet; ip?: string }> = [];
    for (const entry of requested) {
      if (subnets.length === 0) throw InvalidInput({ error_message: 'IP allocation requires subnets for network' });
      let subnet: Subnet | undefined;
      if (entry.subnet_id) {
        subnet = subnets.find((s) => s.id === entry.subnet_id);
        if (!subnet) {
          if (!(await subnetsTable.find(ctx.elevated(), entry.subnet_id))) throw SubnetNotFound({ subnet_id: entry.subnet_id });
          throw InvalidInput({
            error_message: `Failed to create port on network ${port.networkId}, because fixed_ips included invalid subnet ${entry.subnet_id}`,
          });
        }
        if (entry.ip_address && !validIpForSubnet(subnet, entry.ip_address, port.deviceOwner)) {
          throw InvalidIpForSubnet({ ip_address: entry.ip_address });
        }
      } else if (entry.ip_address) {
        subnet = subnets.find((s) => validIpForSubnet(s, entry.ip_address!, port.deviceOwner));
        if (!subnet) throw InvalidIpForNetwork({ ip_address: entry.ip_address });
      } else {
        throw InvalidInput({ error_message: 'IP allocation requires subnet_id or ip_address' });
      }
      if (isAutoAddress(subnet) && !ROUTER_PORT_OWNERS.has(port.deviceOwner)) {
        if (entry.ip_address) throw AllocationOnAutoAddressSubnet({ ip: entry.ip_address, subnet_id: subnet.id });
        continue; // the EUI-64 address is added for every automatic subnet
      }
      plan.push({ subnet, ...(entry.ip_address ? { ip: entry.ip_address } : {}) });
    }
    const allocated: FixedIp[] = [];
    // Specific addresses first, so a request cannot lose its address to its own random pick.
    for (const { subnet, ip } of plan.filter((p) => p.ip !== undefined)) {
      if (!(await this.claim(ctx, port, subnet.id, ip!))) throw IpAddressAlreadyAllocated({ ip: ip!, subnet_id: subnet.id });
      allocated.push({ subnet_id: subnet.id, ip_address: ip! });
    }
    for (const { subnet } of plan.filter((p) => p.ip === undefined)) {
      const ip = await this.allocateAny(ctx, port, subnet);
      if (!ip) throw SubnetIpAddressGenerationFailure({ subnet_id: subnet.id });
      allocated.push({ subnet_id: subnet.id, ip_address: ip });
    }
    return allocated;
  }

  /**
   * Applies a port's new `fixed_ips`: addresses it keeps stay, new ones are claimed, the rest are
   * released (EUI-64 addresses of automatic subnets stay unless the subnet is gone).
   */
  async reallocate(
    ctx: Context,
    port: PortFacts,
    subnets: readonly Subnet[],
    current: readonly FixedIp[],
    requested: readonly FixedIpRequest[],
  ): Promise<void> {
    const keep = new Set<string>();
    const additions: FixedIpRequest[] = [];
    for (const entry of requested) {
      const existing = current.find(
        (c) =>
          !keep.has(c.ip_address) &&
          (entry.ip_address ? c.ip_address === entry.ip_address : c.subnet_id === entry.subnet_id) &&
          (!entry.subnet_id || c.subnet_id === entry.subnet_id),
      );
      if (existing) keep.add(existing.ip_address);
      else additions.push(entry);
    }
    const autoIds = new Set(subnets.filter((s) => isAutoAddress(s)).map((s) => s.id));
    for (const address of current) {
      if (keep.has(address.ip_address) || autoIds.has(address.subnet_id)) continue;
      await ctx.db.delete(ipAllocations).where(and(eq(ipAllocations.portId, port.id), eq(ipAllocations.ipAddress, address.ip_address)));
    }
    if (additions.length > 0) await this.allocateRequested(ctx, port, subnets, additions);
  }

  /** Re-derives EUI-64 addresses after a MAC change. */
  async renumberEui64(ctx: Context, port: PortFacts, subnets: readonly Subnet[]): Promise<void> {
    for (const subnet of subnets.filter((s) => isAutoAddress(s))) {
      await ctx.db.delete(ipAllocations).where(and(eq(ipAllocations.portId, port.id), eq(ipAllocations.subnetId, subnet.id)));
      await this.claimEui64(ctx, port, subnet);
    }
  }

  /** Gives every port of a network an address on a new automatic subnet (as Neutron does after create). */
  async addEui64ToPorts(ctx: Context, subnet: Subnet): Promise<void> {
    const rows = await queryRows<{ id: string; mac: string; owner: string }>(
      ctx.db,
      sql`select id, mac_address as mac, device_owner as owner from ports where network_id = ${subnet.network_id}`,
    );
    for (const row of rows) {
      if (ROUTER_PORT_OWNERS.has(row.owner)) continue;
      await this.claimEui64(ctx, { id: row.id, networkId: subnet.network_id, macAddress: row.mac, deviceOwner: row.owner }, subnet);
    }
  }
}

/** A uniformly random integer in [0, n). */
function randomBigInt(n: bigint): bigint {
  if (n <= 2n ** 48n) return BigInt(randomInt(Number(n)));
  let value = 0n;
  for (let bits = 0n; 1n << bits < n * 1024n; bits += 32n) value = (value << 32n) | BigInt(randomInt(2 ** 32));
  return value % n;
}

/** The address at `offset` across the pools. */
function addressAt(pools: readonly Range[], offset: bigint): bigint {
  for (const pool of pools) {
    const size = pool.end - pool.start + 1n;
    if (offset < size) return pool.start + offset;
    offset -= size;
  }
  return pools[pools.length - 1]!.end;
}
