/**
 * Comparing Nucleon's answers with Neutron's (the reference captures): ids, MACs and random
 * addresses are learned as they appear and substituted afterwards; bodies are compared by shape
 * (same keys, same JSON types) and computed values exactly.
 */
import { parseIp, type AllocationPool } from '@nucleon/core';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/**
 * Attributes Neutron Zed answers and Nucleon does not serve, by resource, each with the reason.
 * Nothing else may be missing, and Nucleon may not answer anything the reference lacks.
 */
export const NOT_SERVED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  network: {
    dns_domain: 'dns-integration comes with the DNS plugin (l3-dns), not with ML2',
    qos_policy_id: 'QoS is not served',
    is_default: 'auto-allocated-topology is not served',
    availability_zone_hints: 'availability zones need agents and schedulers; Nucleon drives no data plane',
    availability_zones: 'availability zones need agents and schedulers; Nucleon drives no data plane',
    ipv4_address_scope: 'address scopes (and subnet pools) are not served',
    ipv6_address_scope: 'address scopes (and subnet pools) are not served',
  },
  subnet: {
    service_types: 'subnet-service-types is not served',
    segment_id: 'routed networks (segments) are not served: a network is one segment',
  },
  port: {
    dns_name: 'dns-integration comes with the DNS plugin (l3-dns), not with ML2',
    dns_assignment: 'dns-integration comes with the DNS plugin (l3-dns), not with ML2',
    qos_policy_id: 'QoS is not served',
    qos_network_policy_id: 'QoS is not served',
    resource_request: 'QoS (port-resource-request, placement) is not served',
  },
  security_group: {
    shared: 'rbac-security-groups: RBAC is not served',
  },
  security_group_rule: {
    remote_address_group_id: 'address groups are not served',
  },
  // Neutron renders rules inside a group with two more keys than the rule resource has (capture
  // 107 shows a rule without them); Nucleon embeds rules exactly as the rule resource shows them.
  'security_group_rule in a security_group': {
    remote_address_group_id: 'address groups are not served',
    standard_attr_id: 'an internal database id Neutron leaks into embedded rules only',
    tags: 'rules are not taggable (no tags on the rule resource either)',
  },
  quota: {
    subnetpool: 'subnet pools are not served',
    rbac_policy: 'RBAC is not served',
  },
  router: {
    distributed: 'DVR (dvr) is not served: Nucleon drives no L3 agents, distributed or not',
    ha: 'L3 HA (l3-ha) is not served: Nucleon drives no L3 agents to fail over between',
    availability_zones: 'availability zones need agents and schedulers; Nucleon drives no data plane',
    availability_zone_hints: 'availability zones need agents and schedulers; Nucleon drives no data plane',
    flavor_id: 'router flavors (l3-flavors, the flavors service plugin) are not served',
  },
  floatingip: {
    qos_policy_id: 'QoS (qos-fip) is not served',
    dns_name: 'dns-integration comes with the DNS plugin (l3-dns), not with the L3 router plugin',
    dns_domain: 'dns-integration comes with the DNS plugin (l3-dns), not with the L3 router plugin',
  },
};

/**
 * A value Nucleon answers differently on purpose: where, the pairs of Neutron's value and ours
 * (exactly these; any other value must agree), and why.
 */
export interface Difference {
  readonly resources: readonly string[];
  readonly attribute: string;
  readonly values: ReadonlyArray<readonly [reference: Json, ours: Json]>;
  readonly why: string;
}

export const ANSWERED_DIFFERENTLY: readonly Difference[] = [
  {
    resources: ['security_group_rule', 'security_group_rule in a security_group'],
    attribute: 'description',
    values: [[null, '']],
    why:
      "Neutron leaves the description of the rules it creates itself (a group's default rules) null and " +
      "answers '' for rules created through the API (capture 102); Nucleon's descriptions are always strings",
  },
  {
    resources: ['router'],
    attribute: 'revision_number',
    // Both start at 1 (066). Neutron then: 3 after setting the gateway (067), 5 after two
    // interfaces (068, 072), 7 after name and routes (076), 9 after clearing the routes (130), 14
    // after removing both interfaces and the gateway (131, 132, 135). Nucleon: 2, 4, 5, 6, 9.
    values: [
      [3, 2],
      [5, 4],
      [7, 5],
      [9, 6],
      [14, 9],
    ],
    why:
      'Neutron bumps a router more than once in some requests, for each write to the router and its ports: ' +
      '+2 for setting a gateway (067) or routes (076, 130), +5 for removing two interfaces and the gateway (131, 132, 135); ' +
      'Nucleon bumps it once per request that changes the router, the rule every other resource follows: ' +
      'clients compare revisions (If-Match, change detection), they do not count them',
  },
];

/** Body keys that name a resource (singular or plural), so nested objects are checked as that resource. */
const RESOURCE_KEYS: Readonly<Record<string, string>> = {
  network: 'network',
  networks: 'network',
  subnet: 'subnet',
  subnets: 'subnet',
  port: 'port',
  ports: 'port',
  security_group: 'security_group',
  security_groups: 'security_group',
  security_group_rule: 'security_group_rule',
  security_group_rules: 'security_group_rule',
  quota: 'quota',
  router: 'router',
  routers: 'router',
  floatingip: 'floatingip',
  floatingips: 'floatingip',
};

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const MAC = /fa:16:3e(?::[0-9a-f]{2}){3}/g;
const IPV4 = /\b\d{1,3}(?:\.\d{1,3}){3}\b/g;
const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const VNI_MAX = 2 ** 24 - 1;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

/** Values that differ between two runs by nature: checked for their form, ignored when pairing unordered items. */
const VOLATILE = new Set(['created_at', 'updated_at', 'mac_address', 'provider:segmentation_id', 'ip_address']);

function typeOf(value: Json | undefined): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function isObject(value: Json | undefined): value is JsonObject {
  return typeOf(value) === 'object';
}

/**
 * What the capture run's values are in this run: ids (and MACs) wherever they appear in a
 * string, randomly allocated addresses as whole values. Learned one to one.
 */
export class Substitutions {
  private readonly ours = new Map<string, string>();
  private readonly theirs = new Map<string, string>();

  /** Records that the capture's `capture` is our `ours`; a conflicting record is a difference. */
  learn(capture: string, ours: string): string | undefined {
    const known = this.ours.get(capture);
    if (known !== undefined) return known === ours ? undefined : `${capture} is ${known} here, not ${ours}`;
    const other = this.theirs.get(ours);
    if (other !== undefined) return `${ours} already stands for ${other}, not ${capture}`;
    this.ours.set(capture, ours);
    this.theirs.set(ours, capture);
    return undefined;
  }

  /** Our value for a capture value, if learned. */
  get(capture: string): string | undefined {
    return this.ours.get(capture);
  }

  /** Whether one of our values stands for a capture value. */
  isLearned(ours: string): boolean {
    return this.theirs.has(ours);
  }

  /**
   * A capture string (path, message, value) in our terms. Addresses are replaced only where
   * learned (random ones): error messages name them, e.g. a floating IP's (capture 087).
   */
  text(value: string): string {
    const whole = this.ours.get(value);
    if (whole !== undefined) return whole;
    const known = (found: string) => this.ours.get(found) ?? found;
    return value.replace(UUID, known).replace(MAC, known).replace(IPV4, known);
  }

  /** A capture JSON value (request body, expected body) in our terms. */
  json<T extends Json>(value: T): T {
    if (typeof value === 'string') return this.text(value) as T;
    if (Array.isArray(value)) return value.map((v) => this.json(v)) as T;
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.json(v)])) as T;
    return value;
  }
}

/** How one answer is compared. */
export interface CompareOptions {
  /** Top-level lists without `sort_key`: Neutron orders them by id, and ids differ between runs. */
  readonly unorderedLists: boolean;
  /** Addresses the request asked for: they must come back as they are. */
  readonly requestedIps: ReadonlySet<string>;
}

/**
 * Compares a captured success body with ours and returns every difference (empty when they
 * agree). Learns ids, MACs and random addresses as it goes.
 */
export class BodyComparer {
  /** Our subnets by our subnet id, to check randomly allocated addresses. */
  private readonly subnets = new Map<string, SeenSubnet>();

  constructor(readonly subs: Substitutions) {}

  compare(expected: Json, actual: Json, options: CompareOptions): string[] {
    const differences: string[] = [];
    this.walk(expected, actual, '', undefined, options, differences);
    return differences;
  }

  private walk(
    expected: Json,
    actual: Json,
    path: string,
    resource: string | undefined,
    options: CompareOptions,
    out: string[],
    parent?: JsonObject,
  ): void {
    const key = path.slice(path.lastIndexOf('.') + 1).replace(/\[\d+\]$/, '');
    const documented = ANSWERED_DIFFERENTLY.some(
      (d) =>
        d.resources.includes(resource ?? '') &&
        d.attribute === key &&
        d.values.some(([reference, ours]) => reference === expected && ours === actual),
    );
    if (documented) return;
    if (typeOf(expected) !== typeOf(actual)) {
      out.push(`${path}: ${typeOf(actual)} ${JSON.stringify(actual)}, reference has ${typeOf(expected)} ${JSON.stringify(expected)}`);
      return;
    }
    if (Array.isArray(expected) && Array.isArray(actual)) {
      if (expected.length !== actual.length) {
        out.push(`${path}: ${actual.length} items ${JSON.stringify(actual)}, reference has ${expected.length}`);
        return;
      }
      // Neutron keeps a group's rules in its database's order, Nucleon in creation order: neither is a contract.
      const unordered = (path.split('.').length === 2 && options.unorderedLists) || key === 'security_group_rules';
      const [exp, act] = unordered ? [this.sorted(expected, true), this.sorted(actual, false)] : [expected, actual];
      exp.forEach((item, i) => this.walk(item, act[i]!, `${path}[${i}]`, resource, options, out));
      return;
    }
    if (isObject(expected) && isObject(actual)) {
      const notServed = NOT_SERVED[resource ?? ''] ?? {};
      for (const name of Object.keys(expected)) {
        if (!(name in notServed) && !(name in actual)) out.push(`${path}.${name}: missing`);
      }
      for (const name of Object.keys(actual)) {
        if (name in notServed) out.push(`${path}.${name}: served, though documented as not served (${notServed[name]})`);
        else if (!(name in expected)) out.push(`${path}.${name}: not in the reference`);
      }
      for (const name of Object.keys(expected)) {
        if (name in notServed || !(name in actual)) continue;
        const embedded = resource === 'security_group' && name === 'security_group_rules';
        const child = embedded ? 'security_group_rule in a security_group' : (RESOURCE_KEYS[name] ?? resource);
        this.walk(expected[name]!, actual[name]!, `${path}.${name}`, child, options, out, actual);
      }
      if (resource === 'subnet' && typeof actual.id === 'string' && Array.isArray(actual.allocation_pools)) {
        this.subnets.set(actual.id, {
          networkId: String(actual.network_id),
          gatewayIp: typeof actual.gateway_ip === 'string' ? actual.gateway_ip : null,
          pools: actual.allocation_pools as unknown as AllocationPool[],
        });
      }
      return;
    }
    this.leaf(expected, actual, path, key, options, out, parent);
  }

  private leaf(expected: Json, actual: Json, path: string, key: string, options: CompareOptions, out: string[], parent?: JsonObject): void {
    const differ = (why: string) => out.push(`${path}: ${JSON.stringify(actual)} ${why}`);
    if (typeof expected === 'string' && typeof actual === 'string') {
      if (key === 'created_at' || key === 'updated_at') {
        if (!TIMESTAMP.test(actual)) differ('is not a timestamp like the reference');
        return;
      }
      if (key === 'mac_address') {
        if (!new RegExp(`^${MAC.source}$`).test(actual)) differ('is not a MAC from base_mac fa:16:3e');
        else this.learned(expected, actual, path, out);
        return;
      }
      const subnet = this.subnets.get(String(parent?.subnet_id));
      // A subnet's gateway address is no draw: router interfaces take it (068) or ask for it (071).
      const deterministic = options.requestedIps.has(expected) || this.subs.get(expected) !== undefined || subnet?.gatewayIp === expected;
      if (key === 'ip_address' && !deterministic) {
        // A random address: it must lie in the pools of its subnet.
        if (!subnet?.pools.some((pool) => within(actual, pool))) differ(`is not in the pools of subnet ${String(parent?.subnet_id)}`);
        this.learned(expected, actual, path, out);
        return;
      }
      if (key === 'floating_ip_address' && !options.requestedIps.has(expected) && this.subs.get(expected) === undefined) {
        // A random floating IP: it must lie in the pools of a subnet of its external network.
        const network = String(parent?.floating_network_id);
        const pools = [...this.subnets.values()].filter((s) => s.networkId === network).flatMap((s) => s.pools);
        if (!pools.some((pool) => within(actual, pool))) differ(`is not in the pools of network ${network}`);
        this.learned(expected, actual, path, out);
        return;
      }
      if (ID.test(expected) && ID.test(actual) && this.subs.get(expected) === undefined) {
        this.learned(expected, actual, path, out);
        return;
      }
    }
    if (key === 'provider:segmentation_id' && parent?.['provider:network_type'] === 'vxlan') {
      // Tenant VNIs are drawn at random from the configured range.
      if (typeof actual !== 'number' || !Number.isInteger(actual) || actual < 1 || actual > VNI_MAX) differ('is not a VNI');
      return;
    }
    const wanted = typeof expected === 'string' ? this.subs.text(expected) : expected;
    if (wanted !== actual) differ(`differs from the reference ${JSON.stringify(wanted)}`);
  }

  private learned(capture: string, ours: string, path: string, out: string[]): void {
    const conflict = this.subs.learn(capture, ours);
    if (conflict) out.push(`${path}: ${conflict}`);
  }

  /**
   * Items in an order both sides share: by their content without random values and new ids. Ids
   * already learned stay (the capture's in our terms), so items alike but for them pair up
   * rightly, e.g. two router interfaces on different subnets (077).
   */
  private sorted(items: Json[], fromCapture: boolean): Json[] {
    const mask = (value: Json, key = ''): Json => {
      if (VOLATILE.has(key) || ANSWERED_DIFFERENTLY.some((d) => d.attribute === key)) return '*';
      if (typeof value === 'string') return value.replace(UUID, (id) => (this.subs.isLearned(id) ? id : '<id>'));
      if (Array.isArray(value)) return value.map((v) => mask(v));
      if (isObject(value)) {
        const served = Object.entries(value).filter(([k]) => !Object.values(NOT_SERVED).some((attrs) => k in attrs));
        return Object.fromEntries(served.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, mask(v, k)]));
      }
      return value;
    };
    const keyed = items.map((item) => ({ item, key: JSON.stringify(mask(fromCapture ? this.subs.json(item) : item)) }));
    return keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((k) => k.item);
  }
}

/** What an answered subnet tells about the addresses of its ports. */
interface SeenSubnet {
  readonly networkId: string;
  readonly gatewayIp: string | null;
  readonly pools: AllocationPool[];
}

function within(ip: string, pool: AllocationPool): boolean {
  const value = parseIp(ip);
  const start = parseIp(pool.start);
  const end = parseIp(pool.end);
  return !!value && !!start && !!end && value.version === start.version && value.value >= start.value && value.value <= end.value;
}
