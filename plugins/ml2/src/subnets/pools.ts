import { defineError, ipAt, parseIp, type AllocationPool, type Cidr } from '@nucleon/core';

export const InvalidAllocationPool = defineError('InvalidAllocationPool', 400, 'The allocation pool {pool} is not valid.');
export const OutOfBoundsAllocationPool = defineError(
  'OutOfBoundsAllocationPool',
  400,
  'The allocation pool {pool} spans beyond the subnet cidr {subnet_cidr}.',
);
export const OverlappingAllocationPools = defineError(
  'OverlappingAllocationPools',
  409,
  'Found overlapping allocation pools: {pool_1} {pool_2} for subnet {subnet_cidr}.',
);
export const GatewayConflictWithAllocationPools = defineError(
  'GatewayConflictWithAllocationPools',
  409,
  'Gateway ip {ip_address} conflicts with allocation pool {pool}.',
);

/** An allocation pool as integers (inclusive). */
export interface Range {
  readonly start: bigint;
  readonly end: bigint;
}

/** The first and last address a subnet may hand out (network and broadcast excluded for IPv4). */
export function usableBounds(cidr: Cidr): Range {
  const last = cidr.network + (1n << BigInt((cidr.version === 4 ? 32 : 128) - cidr.prefix)) - 1n;
  if (cidr.version === 4 && cidr.prefix >= 31) return { start: cidr.network, end: last };
  return { start: cidr.network + 1n, end: cidr.version === 4 ? last - 1n : last };
}

/** The default gateway: the first host for IPv4, the subnet-router anycast (first) address for IPv6. */
export function defaultGateway(cidr: Cidr): bigint {
  return cidr.version === 4 ? cidr.network + 1n : cidr.network;
}

/** Neutron's `generate_pools`: the usable range minus the gateway, split around it. */
export function generatePools(cidr: Cidr, gateway: bigint | null): Range[] {
  const { start, end } = usableBounds(cidr);
  if (gateway === null || gateway < start || gateway > end) return [{ start, end }];
  const pools: Range[] = [];
  if (gateway > start) pools.push({ start, end: gateway - 1n });
  if (gateway < end) pools.push({ start: gateway + 1n, end });
  return pools;
}

/** `10.0.0.2-10.0.0.254`, as netaddr prints a range in Neutron's messages. */
export function rangeText(version: 4 | 6, range: Range): string {
  return `${ipAt(version, range.start)}-${ipAt(version, range.end)}`;
}

/** Converts, orders and checks requested pools (Neutron's `validate_allocation_pools`). */
export function checkPools(cidr: Cidr, pools: readonly AllocationPool[]): Range[] {
  const ranges: Range[] = [];
  for (const pool of pools) {
    const start = parseIp(pool.start);
    const end = parseIp(pool.end);
    if (!start || !end || start.version !== cidr.version || end.version !== cidr.version || start.value > end.value) {
      throw InvalidAllocationPool({ pool: `${pool.start}-${pool.end}` });
    }
    ranges.push({ start: start.value, end: end.value });
  }
  const bounds = usableBounds(cidr);
  for (const range of ranges) {
    if (range.start < bounds.start || range.end > bounds.end) {
      throw OutOfBoundsAllocationPool({ pool: rangeText(cidr.version, range), subnet_cidr: cidr.text });
    }
  }
  for (let i = 0; i < ranges.length; i++) {
    for (let j = i + 1; j < ranges.length; j++) {
      const a = ranges[i]!;
      const b = ranges[j]!;
      if (a.start <= b.end && b.start <= a.end) {
        throw OverlappingAllocationPools({
          pool_1: rangeText(cidr.version, a),
          pool_2: rangeText(cidr.version, b),
          subnet_cidr: cidr.text,
        });
      }
    }
  }
  return ranges;
}

/** Refuses a gateway inside a pool. */
export function checkGatewayOutOfPools(version: 4 | 6, gateway: bigint | null, ranges: readonly Range[]): void {
  if (gateway === null) return;
  const pool = ranges.find((r) => gateway >= r.start && gateway <= r.end);
  if (pool) throw GatewayConflictWithAllocationPools({ ip_address: ipAt(version, gateway), pool: rangeText(version, pool) });
}

/** Pools as the API shows them. */
export function poolsToApi(version: 4 | 6, ranges: readonly Range[]): AllocationPool[] {
  return ranges.map((r) => ({ start: ipAt(version, r.start), end: ipAt(version, r.end) }));
}

/** Pools from the API form (already validated). */
export function poolsFromApi(pools: readonly AllocationPool[]): Range[] {
  return pools.map((p) => ({ start: parseIp(p.start)!.value, end: parseIp(p.end)!.value }));
}
