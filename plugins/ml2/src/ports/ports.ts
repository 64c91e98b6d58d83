import { randomUUID } from 'node:crypto';
import { and, eq, sql, type SQL } from 'drizzle-orm';
import {
  addTags,
  bindTable,
  canonicalIp,
  coreOptions,
  defineError,
  DEVICE_OWNER_NETWORK_PREFIX,
  DNS_DOMAIN_DEFAULT,
  dnsNameReason,
  dottedDnsDomain,
  HTTPBadRequest,
  isUuid,
  port,
  portDnsNamesUsed,
  randomMac,
  resourceChange,
  type AddressPair,
  type Context,
  type FixedIpRequest,
  type Network,
  type Port,
  type PortChangeOptions,
  type PortCreate,
  type PortUpdate,
  type Runtime,
  type Subnet,
} from '@nucleon/core';
import { networksTable } from '../networks/networks.js';
import { networks } from '../networks/schema.js';
import type { SecurityGroupService } from '../security-groups/security-groups.js';
import type { SubnetService } from '../subnets/subnets.js';
import { Ipam, type PortFacts } from './ipam.js';
import { ipAllocations, ports } from './schema.js';

export const MacAddressInUse = defineError(
  'MacAddressInUse',
  409,
  'Unable to complete operation for network {net_id}. The mac address {mac} is in use.',
);
const NetworkMacAddressGenerationFailure = defineError(
  'NetworkMacAddressGenerationFailure',
  503,
  'Unable to generate unique mac on network {net_id}.',
);
const PortBound = defineError(
  'PortBound',
  409,
  'Unable to complete operation on port {port_id}, port is already bound, port type: {vif_type}, old_mac {old_mac}, new_mac {new_mac}.',
);
const UnsupportedPortDeviceOwner = defineError(
  'UnsupportedPortDeviceOwner',
  409,
  'Operation {op} is not supported for device_owner {device_owner} on port {port_id}.',
);
const AllowedAddressPairExhausted = defineError(
  'AllowedAddressPairExhausted',
  400,
  'The number of allowed address pair exceeds the maximum {quota}.',
);
const AddressPairAndPortSecurityRequired = defineError(
  'AddressPairAndPortSecurityRequired',
  409,
  'Port Security must be enabled in order to have allowed address pairs on a port.',
);
const PortSecurityAndIPRequiredForSecurityGroups = defineError(
  'PortSecurityAndIPRequiredForSecurityGroups',
  400,
  'Port security must be enabled and port must have an IP address in order to use security groups.',
);
const PortSecurityPortHasSecurityGroup = defineError(
  'PortSecurityPortHasSecurityGroup',
  409,
  'Port has security group associated. Cannot disable port security or IP address until security group is removed.',
);

/** How often a colliding random MAC is drawn again before giving up. */
const MAC_ATTEMPTS = 16;

/** `fixed_ips=ip_address=…&fixed_ips=subnet_id=…&fixed_ips=ip_address_substr=…`: one address matching all. */
function fixedIpsFilter(table: typeof ports, values: readonly string[]): SQL {
  const wanted = new Map<string, string[]>();
  for (const value of values) {
    const eq = value.indexOf('=');
    const key = eq < 0 ? value : value.slice(0, eq);
    wanted.set(key, [...(wanted.get(key) ?? []), eq < 0 ? '' : value.slice(eq + 1)]);
  }
  const conditions: SQL[] = [];
  for (const [key, list] of wanted) {
    if (key === 'ip_address')
      conditions.push(
        sql`a.ip_address in (${sql.join(
          list.map((ip) => sql`${canonicalIp(ip) ?? ip}`),
          sql`, `,
        )})`,
      );
    else if (key === 'subnet_id') {
      const ids = list.filter(isUuid);
      conditions.push(
        ids.length > 0
          ? sql`a.subnet_id in (${sql.join(
              ids.map((id) => sql`${id}`),
              sql`, `,
            )})`
          : sql`false`,
      );
    } else if (key === 'ip_address_substr') {
      conditions.push(
        sql`(${sql.join(
          list.map((s) => sql`a.ip_address like ${`%${s.replace(/[\\%_]/g, '\\$&')}%`}`),
          sql` or `,
        )})`,
      );
    } else conditions.push(sql`false`);
  }
  return sql`exists (select 1 from ${ipAllocations} a where a.port_id = ${table.id} and ${sql.join(conditions, sql` and `)})`;
}

/** `[DEFAULT] dns_domain` of a runtime (its default for rows rendered outside one). */
function configuredDnsDomain(runtime: Runtime | undefined): string {
  return runtime ? runtime.config.get(coreOptions).DEFAULT.dns_domain : DNS_DOMAIN_DEFAULT;
}

/** A SQL string literal (keeps a select parameter-free, so it can be cached as text). */
function textLiteral(text: string): SQL {
  return sql.raw(`'${text.replace(/'/g, "''")}'`);
}

/**
 * `dns_assignment` (`dns-integration`): per fixed IP, in `fixed_ips` order, a host name and FQDN
 * as Neutron's DNS extension driver derives them (`_get_dns_names_for_port`): `host-<address>`
 * with '.' and ':' made '-', under `[DEFAULT] dns_domain`; the port's `dns_name` instead when that
 * domain is not the default (only then are names stored).
 */
function dnsAssignment(t: typeof ports, runtime: Runtime | undefined): SQL {
  const configured = configuredDnsDomain(runtime);
  const domain = dottedDnsDomain(configured);
  const fromIp = sql`('host-' || translate(a.ip_address, '.:', '--'))`;
  const qualified = (host: SQL) => (domain ? sql`(${host} || ${textLiteral(`.${domain}`)})` : host);
  let hostname = fromIp;
  let fqdn = qualified(fromIp);
  if (portDnsNamesUsed(configured)) {
    hostname = sql`(case when ${t.dns_name} <> '' then ${t.dns_name} else ${fromIp} end)`;
    fqdn = sql`(case when ${t.dns_name} = '' then ${fqdn} when right(${t.dns_name}, 1) = '.' then ${t.dns_name} else ${qualified(sql`${t.dns_name}`)} end)`;
  }
  return sql`coalesce((select json_agg(json_build_object('ip_address', a.ip_address, 'hostname', ${hostname}, 'fqdn', ${fqdn}) order by a.ip_address::inet)
                       from ${ipAllocations} a where a.port_id = ${t.id}), '[]'::json)`;
}

/** Ports as the API shows them; `fixed_ips` (and `dns_assignment`) come from the allocation table. */
export const portsTable = bindTable(port, ports, {
  computed: {
    fixed_ips: (t) =>
      sql`coalesce((select json_agg(json_build_object('subnet_id', a.subnet_id, 'ip_address', a.ip_address) order by a.ip_address::inet)
                    from ${ipAllocations} a where a.port_id = ${t.id}), '[]'::json)`,
    dns_assignment: dnsAssignment,
  },
  filters: {
    fixed_ips: fixedIpsFilter,
    security_groups: (t, values) =>
      sql`(${sql.join(
        values.map((id) => sql`${t.security_groups} @> ${JSON.stringify([id])}::jsonb`),
        sql` or `,
      )})`,
  },
  // A network's owner sees every port on it (`admin_owner_or_network_owner`).
  visibleWhen: (t, ctx) => sql`${t.network_id} in (select n.id from ${networks} n where n.project_id = ${ctx.projectId ?? ''})`,
});

function isNetworkOwned(deviceOwner: string): boolean {
  return deviceOwner.startsWith(DEVICE_OWNER_NETWORK_PREFIX);
}

/** Ports: MACs, addresses (through IPAM), port security, security groups, bindings. */
export class PortService {
  readonly ipam = new Ipam();

  constructor(
    private readonly runtime: Runtime,
    private readonly subnets: SubnetService,
    private readonly securityGroups: SecurityGroupService,
  ) {}

  private get baseMac(): string {
    return this.runtime.config.get(coreOptions).DEFAULT.base_mac;
  }

  /**
   * The `dns_name` to store (`dns-integration`), if any: none while `[DEFAULT] dns_domain` is the
   * default, where Neutron ignores requested names (the port shows ''); otherwise the name, which
   * must make a valid FQDN with that domain (the rest of `validate_dns_name` ran with the attribute).
   */
  private dnsNameToStore(requested: string | undefined): string | undefined {
    if (requested === undefined) return undefined;
    const configured = configuredDnsDomain(this.runtime);
    if (!portDnsNamesUsed(configured)) return undefined;
    const reason = dnsNameReason(requested, configured);
    if (reason) throw HTTPBadRequest({ message: `Invalid input for dns_name. Reason: ${reason}.` });
    return requested;
  }

  private checkAddressPairs(pairs: readonly AddressPair[] | undefined, portSecurity: boolean): void {
    if (!pairs || pairs.length === 0) return;
    const max = this.runtime.config.get(coreOptions).DEFAULT.max_allowed_address_pair;
    if (pairs.length > max) throw AllowedAddressPairExhausted({ quota: max });
    if (!portSecurity) throw AddressPairAndPortSecurityRequired({});
  }

  async create(ctx: Context, body: PortCreate): Promise<Port> {
    const network = await networksTable.get(ctx, body.network_id);
    const projectId = body.project_id!;
    const portSecurity = body.port_security_enabled ?? network.port_security_enabled;
    const dnsName = this.dnsNameToStore(body.dns_name);
    this.checkAddressPairs(body.allowed_address_pairs, portSecurity);
    let groups: readonly string[];
    if (body.security_groups !== undefined) {
      if (!portSecurity && body.security_groups.length > 0) throw PortSecurityAndIPRequiredForSecurityGroups({});
      groups = body.security_groups;
    } else if (portSecurity && !isNetworkOwned(body.device_owner)) {
      groups = [await this.securityGroups.ensureDefault(ctx, projectId)];
    } else groups = [];
    return resourceChange(ctx, { resource: 'port', action: 'create', request: body }, async () => {
      await this.securityGroups.checkUsable(ctx, groups);
      const hostId = body['binding:host_id'];
      const { id, mac } = await this.insertWithMac(ctx, network, body.mac_address ?? undefined, {
        project_id: projectId,
        name: body.name,
        description: body.description,
        network_id: network.id,
        admin_state_up: body.admin_state_up,
        status: 'DOWN',
        device_id: body.device_id,
        device_owner: body.device_owner,
        allowed_address_pairs: body.allowed_address_pairs ?? [],
        extra_dhcp_opts: body.extra_dhcp_opts ?? [],
        security_groups: groups,
        port_security_enabled: portSecurity,
        'binding:host_id': hostId,
        'binding:profile': body['binding:profile'] ?? {},
        'binding:vnic_type': body['binding:vnic_type'],
        'binding:vif_type': this.vifType(hostId),
        'binding:vif_details': {},
        ip_allocation: body.fixed_ips !== undefined && body.fixed_ips.length === 0 ? 'none' : 'immediate',
        dns_name: dnsName ?? '',
      });
      // What IPAM needs is what was just inserted: no need to read the row back.
      const facts: PortFacts = { id, networkId: network.id, macAddress: mac, deviceOwner: body.device_owner };
      await this.ipam.allocate(ctx, facts, await this.subnets.ofNetwork(ctx, network.id), body.fixed_ips as FixedIpRequest[] | undefined);
      if (body.tags && body.tags.length > 0) await addTags(ctx, portsTable, id, body.tags);
      return portsTable.get(ctx, id);
    });
  }

  /**
   * Nucleon drives no data plane: a port asked to bind to a host is reported as Neutron reports
   * a port no mechanism driver could bind.
   */
  private vifType(hostId: string | undefined): string {
    return hostId ? 'binding_failed' : 'unbound';
  }

  /** Inserts the port row with the requested MAC (409 when taken) or a fresh random one; returns its id and MAC. */
  private async insertWithMac(
    ctx: Context,
    network: Network,
    mac: string | undefined,
    values: Record<string, unknown>,
  ): Promise<{ id: string; mac: string }> {
    for (let attempt = 0; attempt < (mac ? 1 : MAC_ATTEMPTS); attempt++) {
      const candidate = mac ?? randomMac(this.baseMac);
      const id = randomUUID();
      const inserted = await ctx.db
        .insert(ports)
        .values({ ...values, id, mac_address: candidate, revision_number: port.initialRevision } as never)
        .onConflictDoNothing({ target: [ports.network_id, ports.mac_address] })
        .returning({ id: ports.id });
      if (inserted.length > 0) {
        ctx.markOnce(`port:${id}`);
        return { id, mac: candidate };
      }
      if (mac) throw MacAddressInUse({ net_id: network.id, mac });
    }
    throw NetworkMacAddressGenerationFailure({ net_id: network.id });
  }

  private async facts(ctx: Context, id: string): Promise<PortFacts> {
    const [row] = await ctx.db
      .select({ id: ports.id, networkId: ports.network_id, macAddress: ports.mac_address, deviceOwner: ports.device_owner })
      .from(ports)
      .where(eq(ports.id, id));
    // The column accepts null only because PUT mac_address=null asks for a new MAC.
    return { ...row!, macAddress: row!.macAddress! };
  }

  async update(ctx: Context, id: string, body: PortUpdate, options: PortChangeOptions = {}): Promise<Port> {
    const original = await portsTable.get(ctx, id);
    const metadata = { port_check: options.portCheck ?? true };
    const dnsName = this.dnsNameToStore(body.dns_name);
    return resourceChange(ctx, { resource: 'port', action: 'update', id, request: body, original, metadata }, async () => {
      const values: Record<string, unknown> = { ...body };
      delete values.fixed_ips;
      delete values.mac_address;
      if (dnsName === undefined) delete values.dns_name;
      else values.dns_name = dnsName;
      const portSecurity = body.port_security_enabled ?? original.port_security_enabled;
      this.checkPortSecurityUpdate(original, body, portSecurity);
      if (body.security_groups !== undefined) await this.securityGroups.checkUsable(ctx, body.security_groups);
      if ('binding:host_id' in body) values['binding:vif_type'] = this.vifType(body['binding:host_id']);
      if ('binding:profile' in body) values['binding:profile'] = body['binding:profile'] ?? {};
      await portsTable.update(ctx, id, values);
      const subnets = await this.subnets.ofNetwork(ctx, original.network_id);
      if ('mac_address' in body) await this.changeMac(ctx, original, body.mac_address ?? null, subnets);
      if (body.fixed_ips !== undefined) {
        await this.ipam.reallocate(ctx, await this.facts(ctx, id), subnets, original.fixed_ips, body.fixed_ips as FixedIpRequest[]);
      }
      return portsTable.get(ctx, id);
    });
  }

  private checkPortSecurityUpdate(original: Port, body: PortUpdate, portSecurity: boolean): void {
    const pairs = body.allowed_address_pairs ?? original.allowed_address_pairs;
    this.checkAddressPairs(body.allowed_address_pairs, portSecurity);
    if (!portSecurity) {
      if (pairs.length > 0) throw AddressPairAndPortSecurityRequired({});
      if (body.security_groups !== undefined && body.security_groups.length > 0) throw PortSecurityAndIPRequiredForSecurityGroups({});
      if (body.security_groups === undefined && original.security_groups.length > 0) throw PortSecurityPortHasSecurityGroup({});
    }
  }

  /** `mac_address` on PUT: a new MAC (null draws one) for an unbound, project-owned port. */
  private async changeMac(ctx: Context, original: Port, mac: string | null, subnets: readonly Subnet[]): Promise<void> {
    if (mac === original.mac_address) return;
    if (isNetworkOwned(original.device_owner)) {
      throw UnsupportedPortDeviceOwner({ op: 'mac address update', device_owner: original.device_owner, port_id: original.id });
    }
    const vifType = original['binding:vif_type'];
    if (vifType !== 'unbound' && vifType !== 'binding_failed') {
      throw PortBound({ port_id: original.id, vif_type: vifType, old_mac: original.mac_address ?? 'None', new_mac: mac ?? 'None' });
    }
    for (let attempt = 0; attempt < (mac ? 1 : MAC_ATTEMPTS); attempt++) {
      const candidate = mac ?? randomMac(this.baseMac);
      const [taken] = await ctx.db
        .select({ id: ports.id })
        .from(ports)
        .where(and(eq(ports.network_id, original.network_id), eq(ports.mac_address, candidate)));
      if (!taken) {
        await ctx.db.update(ports).set({ mac_address: candidate }).where(eq(ports.id, original.id));
        await this.ipam.renumberEui64(ctx, await this.facts(ctx, original.id), subnets);
        return;
      }
      if (mac) throw MacAddressInUse({ net_id: original.network_id, mac });
    }
    throw NetworkMacAddressGenerationFailure({ net_id: original.network_id });
  }

  async delete(ctx: Context, id: string, options: PortChangeOptions = {}): Promise<void> {
    const original = await portsTable.get(ctx, id);
    const metadata = { port_check: options.portCheck ?? true };
    await resourceChange(ctx, { resource: 'port', action: 'delete', id, original, metadata }, async () => {
      await portsTable.delete(ctx, id);
      return undefined;
    });
  }
}
