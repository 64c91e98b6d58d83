import { and, eq, sql } from 'drizzle-orm';
import { defineError, InvalidInput, queryRows, type Context, type OptionValues } from '@nucleon/core';
import type { ml2Options } from '../options.js';
import { segmentAllocations } from './schema.js';

export const FlatNetworkInUse = defineError(
  'FlatNetworkInUse',
  409,
  'Unable to create the flat network. Physical network {physical_network} is in use.',
);
export const VlanIdInUse = defineError(
  'VlanIdInUse',
  409,
  'Unable to create the network. The VLAN {vlan_id} on physical network {physical_network} is in use.',
);
export const TunnelIdInUse = defineError('TunnelIdInUse', 409, 'Unable to create the network. The tunnel ID {tunnel_id} is in use.');
export const NoNetworkAvailable = defineError(
  'NoNetworkAvailable',
  503,
  'Unable to create the network. No tenant network is available for allocation.',
);

/** A network's segment as the provider attributes show it. */
export interface Segment {
  readonly network_type: string;
  readonly physical_network: string | null;
  readonly segmentation_id: number | null;
}

/** Provider attributes of a request (any may be absent). */
export interface SegmentRequest {
  readonly network_type?: string | null | undefined;
  readonly physical_network?: string | null | undefined;
  readonly segmentation_id?: number | null | undefined;
}

type Range = readonly [number, number];
type Ml2Values = OptionValues<(typeof ml2Options)['sections']>;

const VLAN_MAX = 4094;
const VNI_MAX = 2 ** 24 - 1;
const VXLAN_ENCAP_OVERHEAD = 30;
const IP_HEADER_LENGTH = { '4': 20, '6': 40 } as const;
/** Random picks tried before searching the ranges for a gap. */
const RANDOM_PROBES = 8;

function parseRange(text: string, max: number, what: string): Range {
  const [lo, hi] = text.split(':').map((n) => Number(n.trim()));
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo! < 1 || hi! > max || lo! > hi!) {
    throw new Error(`invalid ${what} range '${text}' (expected <min>:<max> within 1..${max})`);
  }
  return [lo!, hi!];
}

/**
 * ML2's type drivers for local, flat, VLAN and VXLAN segments: validation of provider attributes,
 * tenant allocation from the configured ranges, and MTUs. Allocations are rows whose primary key
 * makes a segment impossible to hand out twice, on PGlite as on PostgreSQL with many workers.
 */
export class TypeManager {
  private readonly types: ReadonlySet<string>;
  private readonly tenantTypes: readonly string[];
  private readonly flatNetworks: readonly string[];
  private readonly vlanRanges = new Map<string, Range[]>();
  private readonly vniRanges: Range[];
  private readonly physnetMtus = new Map<string, number>();

  constructor(
    options: Ml2Values,
    private readonly globalMtu: number,
  ) {
    this.types = new Set(options.ml2.type_drivers);
    this.tenantTypes = options.ml2.tenant_network_types;
    this.flatNetworks = options.ml2_type_flat.flat_networks;
    for (const entry of options.ml2_type_vlan.network_vlan_ranges) {
      const [physnet, ...range] = entry.split(':');
      if (!physnet) throw new Error(`invalid network_vlan_ranges entry '${entry}'`);
      const ranges = this.vlanRanges.get(physnet) ?? [];
      if (range.length > 0) ranges.push(parseRange(range.join(':'), VLAN_MAX, 'VLAN'));
      this.vlanRanges.set(physnet, ranges);
    }
    this.vniRanges = options.ml2_type_vxlan.vni_ranges.map((r) => parseRange(r, VNI_MAX, 'VNI'));
    for (const entry of options.ml2.physical_network_mtus) {
      const [physnet, mtu] = entry.split(':');
      if (physnet && Number(mtu) > 0) this.physnetMtus.set(physnet, Number(mtu));
    }
    this.tunnelMtu =
      Math.min(this.globalMtu, options.ml2.path_mtu > 0 ? options.ml2.path_mtu : this.globalMtu) -
      IP_HEADER_LENGTH[options.ml2.overlay_ip_version] -
      VXLAN_ENCAP_OVERHEAD;
    const unsupported = [...this.types].filter((t) => !['local', 'flat', 'vlan', 'vxlan'].includes(t));
    if (unsupported.length > 0) throw new Error(`[ml2] type_drivers: unsupported network types ${unsupported.join(', ')}`);
  }

  private readonly tunnelMtu: number;

  /** The largest MTU a segment allows. */
  maxMtu(segment: Segment): number {
    switch (segment.network_type) {
      case 'vxlan':
        return this.tunnelMtu;
      case 'flat':
      case 'vlan':
        return Math.min(this.globalMtu, this.physnetMtus.get(segment.physical_network ?? '') ?? this.globalMtu);
      default:
        return this.globalMtu;
    }
  }

  /** Checks provider attributes with Neutron's messages; returns the normalised segment. */
  validate(request: SegmentRequest): Segment {
    const type = request.network_type;
    if (!type) throw InvalidInput({ error_message: 'network_type required' });
    if (!this.types.has(type)) throw InvalidInput({ error_message: `network_type value '${type}' not supported` });
    const physnet = request.physical_network ?? null;
    const segId = request.segmentation_id ?? null;
    switch (type) {
      case 'local':
        if (physnet !== null) throw InvalidInput({ error_message: 'physical_network prohibited for local provider network' });
        if (segId !== null) throw InvalidInput({ error_message: 'segmentation_id prohibited for local provider network' });
        break;
      case 'flat':
        if (physnet === null) throw InvalidInput({ error_message: 'physical_network required for flat provider network' });
        if (this.flatNetworks.length === 0) throw InvalidInput({ error_message: 'Flat provider networks are disabled' });
        if (!this.flatNetworks.includes('*') && !this.flatNetworks.includes(physnet)) {
          throw InvalidInput({ error_message: `physical_network '${physnet}' unknown for flat provider network` });
        }
        if (segId !== null) throw InvalidInput({ error_message: 'segmentation_id prohibited for flat provider network' });
        break;
      case 'vlan':
        if (physnet !== null && !this.vlanRanges.has(physnet)) {
          throw InvalidInput({ error_message: `physical_network '${physnet}' unknown for VLAN provider network` });
        }
        if (segId !== null) {
          if (physnet === null) {
            throw InvalidInput({ error_message: 'segmentation_id requires physical_network for VLAN provider network' });
          }
          if (segId < 1 || segId > VLAN_MAX) {
            throw InvalidInput({ error_message: `segmentation_id out of range (1 through ${VLAN_MAX})` });
          }
        }
        break;
      case 'vxlan':
        if (physnet !== null) throw InvalidInput({ error_message: 'provider:physical_network specified for vxlan network' });
        if (segId !== null && (segId < 1 || segId > VNI_MAX)) {
          throw InvalidInput({ error_message: `segmentation_id out of range (1 through ${VNI_MAX})` });
        }
        break;
    }
    return { network_type: type, physical_network: physnet, segmentation_id: segId };
  }

  /** Reserves a provider segment (validated) for a network; 409 when it is taken. */
  async reserveProvider(ctx: Context, networkId: string, segment: Segment): Promise<Segment> {
    switch (segment.network_type) {
      case 'local':
        return segment;
      case 'flat':
        await this.claim(ctx, networkId, 'flat', segment.physical_network!, 0, () =>
          FlatNetworkInUse({ physical_network: segment.physical_network! }),
        );
        return { ...segment, segmentation_id: null };
      case 'vlan':
        if (segment.segmentation_id === null) {
          const physnets = segment.physical_network ? [segment.physical_network] : [...this.vlanRanges.keys()];
          for (const physnet of physnets) {
            const id = await this.allocate(ctx, networkId, 'vlan', physnet, this.vlanRanges.get(physnet) ?? []);
            if (id !== undefined) return { network_type: 'vlan', physical_network: physnet, segmentation_id: id };
          }
          throw NoNetworkAvailable({});
        }
        await this.claim(ctx, networkId, 'vlan', segment.physical_network!, segment.segmentation_id, () =>
          VlanIdInUse({ vlan_id: segment.segmentation_id!, physical_network: segment.physical_network! }),
        );
        return segment;
      default: {
        if (segment.segmentation_id === null) {
          const id = await this.allocate(ctx, networkId, 'vxlan', '', this.vniRanges);
          if (id === undefined) throw NoNetworkAvailable({});
          return { network_type: 'vxlan', physical_network: null, segmentation_id: id };
        }
        await this.claim(ctx, networkId, 'vxlan', '', segment.segmentation_id, () =>
          TunnelIdInUse({ tunnel_id: segment.segmentation_id! }),
        );
        return segment;
      }
    }
  }

  /** A segment for a network created without provider attributes: the first tenant type that has one. */
  async reserveTenant(ctx: Context, networkId: string): Promise<Segment> {
    for (const type of this.tenantTypes) {
      if (!this.types.has(type)) continue;
      if (type === 'local') return { network_type: 'local', physical_network: null, segmentation_id: null };
      if (type === 'vxlan') {
        const id = await this.allocate(ctx, networkId, 'vxlan', '', this.vniRanges);
        if (id !== undefined) return { network_type: 'vxlan', physical_network: null, segmentation_id: id };
      }
      if (type === 'vlan') {
        for (const [physnet, ranges] of this.vlanRanges) {
          const id = await this.allocate(ctx, networkId, 'vlan', physnet, ranges);
          if (id !== undefined) return { network_type: 'vlan', physical_network: physnet, segmentation_id: id };
        }
      }
      // Flat networks are never handed out to projects.
    }
    throw NoNetworkAvailable({});
  }

  /** Releases every segment of a network. */
  async release(ctx: Context, networkId: string): Promise<void> {
    await ctx.db.delete(segmentAllocations).where(eq(segmentAllocations.networkId, networkId));
  }

  /** Moves a VLAN network to another VLAN id (the one provider update Neutron allows). */
  async changeVlan(ctx: Context, networkId: string, current: Segment, segmentationId: number): Promise<Segment> {
    const next = this.validate({ ...current, segmentation_id: segmentationId });
    await ctx.db
      .delete(segmentAllocations)
      .where(and(eq(segmentAllocations.networkId, networkId), eq(segmentAllocations.networkType, 'vlan')));
    return this.reserveProvider(ctx, networkId, next);
  }

  private async claim(
    ctx: Context,
    networkId: string,
    networkType: string,
    physicalNetwork: string,
    segmentationId: number,
    inUse: () => Error,
  ): Promise<void> {
    const inserted = await ctx.db
      .insert(segmentAllocations)
      .values({ networkType, physicalNetwork, segmentationId, networkId })
      .onConflictDoNothing()
      .returning({ id: segmentAllocations.segmentationId });
    if (inserted.length === 0) throw inUse();
  }

  /** A free id from the ranges: random picks first (few collisions between workers), then a gap search. */
  private async allocate(
    ctx: Context,
    networkId: string,
    networkType: string,
    physicalNetwork: string,
    ranges: readonly Range[],
  ): Promise<number | undefined> {
    const size = ranges.reduce((n, [lo, hi]) => n + hi - lo + 1, 0);
    if (size === 0) return undefined;
    const tryInsert = async (segmentationId: number) => {
      const inserted = await ctx.db
        .insert(segmentAllocations)
        .values({ networkType, physicalNetwork, segmentationId, networkId })
        .onConflictDoNothing()
        .returning({ id: segmentAllocations.segmentationId });
      return inserted.length > 0;
    };
    for (let probe = 0; probe < RANDOM_PROBES; probe++) {
      let offset = Math.floor(Math.random() * size);
      for (const [lo, hi] of ranges) {
        if (offset <= hi - lo) {
          if (await tryInsert(lo + offset)) return lo + offset;
          break;
        }
        offset -= hi - lo + 1;
      }
    }
    for (const [lo, hi] of ranges) {
      // The lowest free id: the range start, or one past an allocated id whose successor is free.
      for (;;) {
        const [row] = await queryRows<{ id: number | null }>(
          ctx.db,
          sql`select min(candidate) as id from (
                select ${lo}::int as candidate
                union all
                select a.segmentation_id + 1 from ${segmentAllocations} a
                where a.network_type = ${networkType} and a.physical_network = ${physicalNetwork}
                  and a.segmentation_id between ${lo} and ${hi - 1}) c
              where not exists (select 1 from ${segmentAllocations} b
                where b.network_type = ${networkType} and b.physical_network = ${physicalNetwork}
                  and b.segmentation_id = c.candidate)`,
        );
        if (row?.id === null || row?.id === undefined || row.id > hi) break;
        if (await tryInsert(row.id)) return row.id;
      }
    }
    return undefined;
  }
}
