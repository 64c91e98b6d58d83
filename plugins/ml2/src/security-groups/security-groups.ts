import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql } from 'drizzle-orm';
import {
  bindTable,
  defineError,
  IP_PROTOCOL_MAP,
  parseCidr,
  PORT_PROTOCOLS,
  queryRows,
  resourceChange,
  securityGroup,
  securityGroupRule,
  type Context,
  type SecurityGroup,
  type SecurityGroupCreate,
  type SecurityGroupRule,
  type SecurityGroupRuleCreate,
  type UpdateBody,
} from '@nucleon/core';
import { ports } from '../ports/schema.js';
import { defaultSecurityGroups, securityGroupRules, securityGroups } from './schema.js';

export const SecurityGroupInUse = defineError('SecurityGroupInUse', 409, 'Security Group {id} in use.');
export const SecurityGroupCannotRemoveDefault = defineError(
  'SecurityGroupCannotRemoveDefault',
  409,
  'Insufficient rights for removing default security group.',
);
export const SecurityGroupCannotUpdateDefault = defineError(
  'SecurityGroupCannotUpdateDefault',
  409,
  'Updating default security group not allowed.',
);
export const SecurityGroupNotFound = defineError('SecurityGroupNotFound', 404, 'Security group {id} does not exist');
export const SecurityGroupRuleExists = defineError(
  'SecurityGroupRuleExists',
  409,
  'Security group rule already exists. Rule id is {rule_id}.',
);
const SecurityGroupInvalidPortRange = defineError(
  'SecurityGroupInvalidPortRange',
  400,
  'For TCP/UDP protocols, port_range_min must be <= port_range_max',
);
const SecurityGroupInvalidPortValue = defineError('SecurityGroupInvalidPortValue', 400, 'Invalid value for port {port}');
const SecurityGroupProtocolRequiredWithPorts = defineError(
  'SecurityGroupProtocolRequiredWithPorts',
  400,
  'Must also specify protocol if port range is given.',
);
const SecurityGroupInvalidIcmpValue = defineError(
  'SecurityGroupInvalidIcmpValue',
  400,
  'Invalid value for ICMP {field} ({attr}) {value}. It must be 0 to 255.',
);
const SecurityGroupMissingIcmpType = defineError(
  'SecurityGroupMissingIcmpType',
  400,
  'ICMP code (port-range-max) {value} is provided but ICMP type (port-range-min) is missing.',
);
const SecurityGroupInvalidProtocolForPort = defineError(
  'SecurityGroupInvalidProtocolForPort',
  400,
  'Ports cannot be specified for protocol {protocol}. Ports are only supported for {valid_port_protocols}.',
);
const SecurityGroupRuleParameterConflict = defineError(
  'SecurityGroupRuleParameterConflict',
  400,
  'Conflicting value ethertype {ethertype} for CIDR {cidr}',
);
const SecurityGroupEthertypeConflictWithProtocol = defineError(
  'SecurityGroupEthertypeConflictWithProtocol',
  400,
  'Invalid ethertype {ethertype} for protocol {protocol}.',
);
const SecurityGroupMultipleRemoteEntites = defineError(
  'SecurityGroupMultipleRemoteEntites',
  400,
  'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.',
);

/** Rules render as the rule resource does, embedded in their group. */
export const securityGroupRulesTable = bindTable(securityGroupRule, securityGroupRules, {
  // A group's owner sees every rule in it (`get_security_group_rule`: owner or sg_owner).
  visibleWhen: (t, ctx) =>
    sql`${t.security_group_id} in (select g.id from ${securityGroups} g where g.project_id = ${ctx.projectId ?? ''})`,
});

/** Security groups with their rules embedded. */
export const securityGroupsTable = bindTable(securityGroup, securityGroups, {
  // Listing groups shows a project its default group, created on first use as Neutron does.
  beforeList: async (ctx) => {
    if (ctx.projectId) await ensureDefaultSecurityGroup(ctx, ctx.projectId);
  },
  computed: {
    security_group_rules: (t) =>
      sql`coalesce((select json_agg(${securityGroupRulesTable.jsonOf()} order by ${securityGroupRules.created_at}, ${securityGroupRules.id})
                    from ${securityGroupRules} where ${securityGroupRules.security_group_id} = ${t.id}), '[]'::json)`,
  },
});

const IPV6_ONLY_PROTOCOLS = new Set([
  'ipv6-encap',
  'ipv6-frag',
  'ipv6-icmp',
  'icmpv6',
  'ipv6-nonxt',
  'ipv6-opts',
  'ipv6-route',
  '41',
  '44',
  '58',
  '59',
  '60',
  '43',
]);

/** A protocol as a number, so `tcp` and `6` compare equal (null when any). */
function protocolNumber(protocol: string | null): number | null {
  if (protocol === null) return null;
  return /^\d+$/.test(protocol) ? Number(protocol) : (IP_PROTOCOL_MAP[protocol] ?? null);
}

function isAnyPrefix(prefix: string | null): boolean {
  return prefix === null || prefix === '0.0.0.0/0' || prefix === '::/0';
}

async function insertRule(
  ctx: Context,
  groupId: string,
  projectId: string,
  rule: Partial<SecurityGroupRuleCreate> & Pick<SecurityGroupRuleCreate, 'direction' | 'ethertype'>,
): Promise<string> {
  const prefix = rule.remote_ip_prefix ?? null;
  const cidr = prefix ? parseCidr(prefix) : undefined;
  return securityGroupRulesTable.insert(ctx, {
    project_id: projectId,
    security_group_id: groupId,
    direction: rule.direction,
    ethertype: rule.ethertype,
    protocol: rule.protocol ?? null,
    port_range_min: rule.port_range_min ?? null,
    port_range_max: rule.port_range_max ?? null,
    remote_ip_prefix: prefix,
    normalized_cidr: cidr ? cidr.text : null,
    remote_group_id: rule.remote_group_id ?? null,
    description: rule.description ?? '',
  });
}

/**
 * The id of a project's default security group, creating it (with Neutron's four default
 * rules) on first use. Concurrent first uses create it once: the claim row is taken first.
 */
export async function ensureDefaultSecurityGroup(ctx: Context, projectId: string): Promise<string> {
  return ctx.transaction(async () => {
    const [existing] = await ctx.db
      .select({ id: defaultSecurityGroups.securityGroupId })
      .from(defaultSecurityGroups)
      .where(eq(defaultSecurityGroups.projectId, projectId));
    if (existing) return existing.id;
    const id = randomUUID();
    const claimed = await ctx.db
      .insert(defaultSecurityGroups)
      .values({ projectId, securityGroupId: id })
      .onConflictDoNothing()
      .returning({ id: defaultSecurityGroups.securityGroupId });
    if (claimed.length === 0) {
      const [winner] = await ctx.db
        .select({ id: defaultSecurityGroups.securityGroupId })
        .from(defaultSecurityGroups)
        .where(eq(defaultSecurityGroups.projectId, projectId));
      return winner!.id;
    }
    const admin = ctx.elevated();
    await resourceChange(admin, { resource: 'security_group', action: 'create', id }, async () => {
      await securityGroupsTable.insert(admin, {
        id,
        project_id: projectId,
        name: 'default',
        description: 'Default security group',
        stateful: true,
      });
      for (const ethertype of ['IPv4', 'IPv6'] as const) {
        await insertRule(admin, id, projectId, { direction: 'ingress', ethertype, remote_group_id: id });
        await insertRule(admin, id, projectId, { direction: 'egress', ethertype });
      }
      return securityGroupsTable.get(admin, id);
    });
    return id;
  });
}

/**
 * Security groups and their rules: each project's default group (created once, on first use),
 * Neutron's rule validation and duplicate detection, and the in-use checks.
 */
export class SecurityGroupService {
  /** The id of a project's default security group, created on first use. */
  ensureDefault(ctx: Context, projectId: string): Promise<string> {
    return ensureDefaultSecurityGroup(ctx, projectId);
  }

  async create(ctx: Context, body: SecurityGroupCreate): Promise<SecurityGroup> {
    const projectId = body.project_id!;
    await this.ensureDefault(ctx, projectId);
    return resourceChange(ctx, { resource: 'security_group', action: 'create', request: body }, async () => {
      const id = await securityGroupsTable.insert(ctx, {
        project_id: projectId,
        name: body.name,
        description: body.description,
        stateful: body.stateful,
      });
      for (const ethertype of ['IPv4', 'IPv6'] as const) await insertRule(ctx, id, projectId, { direction: 'egress', ethertype });
      return securityGroupsTable.get(ctx, id);
    });
  }

  async update(ctx: Context, id: string, body: UpdateBody<typeof securityGroup>): Promise<SecurityGroup> {
    const original = await securityGroupsTable.get(ctx, id);
    if (original.name === 'default' && 'name' in body) throw SecurityGroupCannotUpdateDefault({});
    return resourceChange(ctx, { resource: 'security_group', action: 'update', id, request: body, original }, async () => {
      await securityGroupsTable.update(ctx, id, body);
      return securityGroupsTable.get(ctx, id);
    });
  }

  async delete(ctx: Context, id: string): Promise<void> {
    const original = await securityGroupsTable.get(ctx, id);
    if (original.name === 'default' && !ctx.isAdmin) throw SecurityGroupCannotRemoveDefault({});
    await resourceChange(ctx, { resource: 'security_group', action: 'delete', id, original }, async () => {
      if (await this.inUse(ctx, id)) throw SecurityGroupInUse({ id });
      await ctx.db.delete(defaultSecurityGroups).where(eq(defaultSecurityGroups.securityGroupId, id));
      await securityGroupsTable.delete(ctx, id);
      return undefined;
    });
  }

  /** True while a port uses the group (checked under a lock against concurrent port changes). */
  private async inUse(ctx: Context, id: string): Promise<boolean> {
    const [row] = await queryRows<{ used: boolean }>(
      ctx.db,
      sql`select exists (select 1 from ${ports} where ${ports.security_groups} @> ${JSON.stringify([id])}::jsonb) as used`,
    );
    return row!.used;
  }

  /**
   * Checks that groups exist and the caller may use them; locks them against deletion until the
   * transaction ends. Raises `SecurityGroupNotFound` naming every missing id.
   */
  async checkUsable(ctx: Context, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const found = await queryRows<{ id: string; project_id: string }>(
      ctx.db,
      sql`select ${securityGroups.id} as id, ${securityGroups.project_id} as project_id from ${securityGroups}
          where ${inArray(securityGroups.id, [...ids])} for share`,
    );
    const visible = new Set(found.filter((g) => ctx.isAdmin || g.project_id === ctx.projectId).map((g) => g.id));
    const missing = ids.filter((id) => !visible.has(id));
    if (missing.length > 0) throw SecurityGroupNotFound({ id: missing.join(', ') });
  }

  async createRule(ctx: Context, body: SecurityGroupRuleCreate): Promise<SecurityGroupRule> {
    const rule = this.validateRule(body);
    const group = await securityGroupsTable.find(ctx, rule.security_group_id);
    if (rule.remote_group_id && !(await securityGroupsTable.find(ctx, rule.remote_group_id))) {
      throw SecurityGroupNotFound({ id: rule.remote_group_id });
    }
    if (!group) throw SecurityGroupNotFound({ id: rule.security_group_id });
    return resourceChange(ctx, { resource: 'security_group_rule', action: 'create', request: body }, async () => {
      // Serialise rule changes of one group so two identical rules cannot both pass the check.
      await securityGroupsTable.lockAndCheckRevision(ctx, group.id);
      const duplicate = await this.findDuplicate(ctx, rule);
      if (duplicate) throw SecurityGroupRuleExists({ rule_id: duplicate });
      const id = await insertRule(ctx, group.id, body.project_id!, rule);
      await securityGroupsTable.bumpRevision(ctx, group.id);
      return securityGroupRulesTable.get(ctx, id);
    });
  }

  async deleteRule(ctx: Context, id: string): Promise<void> {
    const original = await securityGroupRulesTable.get(ctx, id);
    await resourceChange(ctx, { resource: 'security_group_rule', action: 'delete', id, original }, async () => {
      await securityGroupRulesTable.delete(ctx, id);
      await securityGroupsTable.bumpRevision(ctx, original.security_group_id);
      return undefined;
    });
  }

  /** Neutron's `_validate_security_group_rule`, in its order; returns the canonical rule. */
  private validateRule(body: SecurityGroupRuleCreate): SecurityGroupRuleCreate {
    let protocol = body.protocol ?? null;
    // Legacy IPv6 ICMP spellings are stored under their canonical name.
    if (body.ethertype === 'IPv6') {
      if (protocol === 'icmp' || protocol === 'icmpv6') protocol = 'ipv6-icmp';
      else if (protocol === '1') protocol = '58';
    }
    const min = body.port_range_min ?? null;
    const max = body.port_range_max ?? null;
    if (min !== null || max !== null) {
      if (protocol === null) throw SecurityGroupProtocolRequiredWithPorts({});
      const number = protocolNumber(protocol);
      const portProtocol = PORT_PROTOCOLS.some((p) => IP_PROTOCOL_MAP[p] === number);
      if (portProtocol) {
        if (min === 0 || max === 0) throw SecurityGroupInvalidPortValue({ port: 0 });
        if (min === null || max === null || min > max) throw SecurityGroupInvalidPortRange({});
      } else if (number === 1 || number === 58) {
        if (min !== null && min > 255) throw SecurityGroupInvalidIcmpValue({ field: 'type', attr: 'port_range_min', value: min });
        if (max !== null && max > 255) throw SecurityGroupInvalidIcmpValue({ field: 'code', attr: 'port_range_max', value: max });
        if (max !== null && min === null) throw SecurityGroupMissingIcmpType({ value: max });
      } else {
        throw SecurityGroupInvalidProtocolForPort({ protocol: number ?? protocol, valid_port_protocols: 'DCCP, SCTP, TCP, UDP, UDPLITE' });
      }
    }
    const prefix = body.remote_ip_prefix ?? null;
    if (prefix !== null) {
      const cidr = parseCidr(prefix)!;
      if (`IPv${cidr.version}` !== body.ethertype) {
        throw SecurityGroupRuleParameterConflict({ ethertype: body.ethertype, cidr: prefix });
      }
    }
    if (protocol !== null && body.ethertype === 'IPv4' && IPV6_ONLY_PROTOCOLS.has(protocol)) {
      throw SecurityGroupEthertypeConflictWithProtocol({ ethertype: body.ethertype, protocol });
    }
    if (prefix !== null && body.remote_group_id) throw SecurityGroupMultipleRemoteEntites({});
    return { ...body, protocol };
  }

  /** The id of an existing rule equal to `rule` (same protocol by number, any-prefixes equal). */
  private async findDuplicate(ctx: Context, rule: SecurityGroupRuleCreate): Promise<string | undefined> {
    const rows = await ctx.db
      .select({
        id: securityGroupRules.id,
        protocol: securityGroupRules.protocol,
        remote_ip_prefix: securityGroupRules.remote_ip_prefix,
        port_range_min: securityGroupRules.port_range_min,
        port_range_max: securityGroupRules.port_range_max,
        remote_group_id: securityGroupRules.remote_group_id,
      })
      .from(securityGroupRules)
      .where(
        and(
          eq(securityGroupRules.security_group_id, rule.security_group_id),
          eq(securityGroupRules.direction, rule.direction),
          eq(securityGroupRules.ethertype, rule.ethertype),
        ),
      );
    const protocol = protocolNumber(rule.protocol ?? null);
    const prefix = rule.remote_ip_prefix ?? null;
    const same = rows.find(
      (r) =>
        protocolNumber(r.protocol) === protocol &&
        r.port_range_min === (rule.port_range_min ?? null) &&
        r.port_range_max === (rule.port_range_max ?? null) &&
        (r.remote_group_id ?? null) === (rule.remote_group_id ?? null) &&
        (isAnyPrefix(r.remote_ip_prefix) && isAnyPrefix(prefix) ? true : r.remote_ip_prefix === prefix),
    );
    return same?.id;
  }
}
