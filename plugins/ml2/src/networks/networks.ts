import { and, asc, eq, inArray, ne, notInArray, sql } from 'drizzle-orm';
import {
  AUTO_DELETE_PORT_OWNERS,
  bindTable,
  defineError,
  InvalidInput,
  network,
  resourceChange,
  type Context,
  type Network,
  type NetworkCreate,
  type NetworkUpdate,
} from '@nucleon/core';
import { ports } from '../ports/schema.js';
import { subnets } from '../subnets/schema.js';
import { networks } from './schema.js';
import type { Segment, SegmentRequest, TypeManager } from './segments.js';

export const NetworkInUse = defineError('NetworkInUse', 409, 'Unable to complete operation on network {net_id}. {reason}.');
const InvalidSharedSetting = defineError(
  'InvalidSharedSetting',
  409,
  'Unable to reconfigure sharing settings for network {network}. Multiple tenants are using it.',
);

/** Networks as the API shows them: subnets by id; shared and external ones visible to all. */
export const networksTable = bindTable(network, networks, {
  computed: {
    subnets: (t) =>
      sql`coalesce((select json_agg(${subnets.id} order by ${subnets.created_at}, ${subnets.id}) from ${subnets} where ${subnets.network_id} = ${t.id}), '[]'::json)`,
    // Every network is one segment here, so all its ports are L2-adjacent.
    l2_adjacency: () => sql`true`,
  },
  visibleWhen: (t) => sql`(${t.shared} or ${t['router:external']})`,
});

function providerRequest(body: NetworkCreate | NetworkUpdate): SegmentRequest {
  return {
    network_type: body['provider:network_type'],
    physical_network: body['provider:physical_network'],
    segmentation_id: body['provider:segmentation_id'],
  };
}

function segmentOf(n: Network): Segment {
  return {
    network_type: n['provider:network_type'] ?? 'local',
    physical_network: n['provider:physical_network'],
    segmentation_id: n['provider:segmentation_id'],
  };
}

/** What network changes need from the other ML2 resources. */
export interface NetworkDependencies {
  /** Ensures the project's default security group (Neutron does on network create). */
  ensureDefaultSecurityGroup(ctx: Context, projectId: string): Promise<unknown>;
  /** Deletes a port the network owns (DHCP and the like). */
  deletePort(ctx: Context, id: string): Promise<void>;
  /** Removes a subnet without the in-use check (the network's ports are gone). */
  removeSubnets(ctx: Context, networkId: string): Promise<void>;
}

/** Networks: segments from the type drivers, MTU, sharing, deletion rules. */
export class NetworkService {
  constructor(
    private readonly types: TypeManager,
    private readonly deps: NetworkDependencies,
  ) {}

  private checkMtu(requested: number | undefined, segment: Segment): number {
    const max = this.types.maxMtu(segment);
    if (requested === undefined || requested === 0) return max;
    if (requested > max) throw InvalidInput({ error_message: `Requested MTU is too big, maximum is ${max}` });
    return requested;
  }

  async create(ctx: Context, body: NetworkCreate): Promise<Network> {
    const projectId = body.project_id!;
    const provider = providerRequest(body);
    const isProvider = Object.values(provider).some((v) => v !== undefined && v !== null);
    const requested = isProvider ? this.types.validate(provider) : undefined;
    await this.deps.ensureDefaultSecurityGroup(ctx, projectId);
    return resourceChange(ctx, { resource: 'network', action: 'create', request: body }, async () => {
      const id = await networksTable.insert(ctx, {
        project_id: projectId,
        name: body.name,
        description: body.description,
        admin_state_up: body.admin_state_up,
        status: 'ACTIVE',
        shared: body.shared,
        'router:external': body['router:external'] ?? false,
        port_security_enabled: body.port_security_enabled ?? true,
        // `dns-integration`: in the body only while the extension is served.
        dns_domain: body.dns_domain ?? '',
        mtu: 0,
      });
      const segment = requested ? await this.types.reserveProvider(ctx, id, requested) : await this.types.reserveTenant(ctx, id);
      await networksTable.update(ctx, id, {
        'provider:network_type': segment.network_type,
        'provider:physical_network': segment.physical_network,
        'provider:segmentation_id': segment.segmentation_id,
        mtu: this.checkMtu(body.mtu, segment),
      });
      return networksTable.get(ctx, id);
    });
  }

  async update(ctx: Context, id: string, body: NetworkUpdate): Promise<Network> {
    const original = await networksTable.get(ctx, id);
    return resourceChange(ctx, { resource: 'network', action: 'update', id, request: body, original }, async () => {
      const values: Record<string, unknown> = { ...body };
      let segment = segmentOf(original);
      const changed = (['network_type', 'physical_network'] as const).filter((key) => {
        const value = body[`provider:${key}`];
        return value !== undefined && value !== null && value !== segment[key];
      });
      if (changed.length > 0) {
        throw InvalidInput({
          error_message: `Plugin does not support updating the following provider network attributes: ${changed.map((k) => `provider:${k}`).join(', ')}`,
        });
      }
      const segmentationId = body['provider:segmentation_id'];
      if (segmentationId !== undefined && segmentationId !== null && segmentationId !== segment.segmentation_id) {
        if (segment.network_type !== 'vlan') throw InvalidInput({ error_message: 'Only VLAN type networks can be updated.' });
        segment = await this.types.changeVlan(ctx, id, segment, segmentationId);
      }
      delete values['provider:network_type'];
      delete values['provider:physical_network'];
      values['provider:segmentation_id'] = segment.segmentation_id;
      if ('mtu' in body) values.mtu = this.checkMtu(body.mtu, segment);
      if (body.shared === false && original.shared) await this.checkUnshare(ctx, original);
      await networksTable.update(ctx, id, values);
      return networksTable.get(ctx, id);
    });
  }

  /** A network other projects use cannot stop being shared. */
  private async checkUnshare(ctx: Context, original: Network): Promise<void> {
    const [port] = await ctx.db
      .select({ id: ports.id })
      .from(ports)
      .where(and(eq(ports.network_id, original.id), ne(ports.project_id, original.project_id), ne(ports.project_id, '')))
      .limit(1);
    const [subnet] = await ctx.db
      .select({ id: subnets.id })
      .from(subnets)
      .where(and(eq(subnets.network_id, original.id), ne(subnets.project_id, original.project_id)))
      .limit(1);
    if (port || subnet) throw InvalidSharedSetting({ network: original.id });
  }

  async delete(ctx: Context, id: string): Promise<void> {
    const original = await networksTable.get(ctx, id);
    await resourceChange(ctx, { resource: 'network', action: 'delete', id, original }, async () => {
      const admin = ctx.elevated();
      await networksTable.lockAndCheckRevision(admin, id);
      const inUse = await admin.db
        .select({ id: ports.id })
        .from(ports)
        .where(and(eq(ports.network_id, id), notInArray(ports.device_owner, [...AUTO_DELETE_PORT_OWNERS])))
        .orderBy(asc(ports.created_at), asc(ports.id));
      if (inUse.length > 0) {
        throw NetworkInUse({
          net_id: id,
          reason: `There are one or more ports still in use on the network, id for these ports is: ${inUse.map((p) => p.id).join(',')}`,
        });
      }
      const owned = await admin.db
        .select({ id: ports.id })
        .from(ports)
        .where(and(eq(ports.network_id, id), inArray(ports.device_owner, [...AUTO_DELETE_PORT_OWNERS])));
      for (const port of owned) await this.deps.deletePort(admin, port.id);
      await this.deps.removeSubnets(admin, id);
      await this.types.release(admin, id);
      await networksTable.delete(admin, id);
      return undefined;
    });
  }
}
