import { attr, type Converter } from '../attributes/attribute.js';
import { pyRepr, pyStr } from '../attributes/python-repr.js';
import { defineError } from '../errors/neutron-error.js';
import { formatIp, parseCidr, parseIp } from '../net/ip.js';
import { defineResource, NAME_MAX_LEN, type CreateBody, type ResourceOf } from '../resources/define-resource.js';
import { IP_PROTOCOL_MAP } from './constants.js';

export const SecurityGroupDefaultAlreadyExists = defineError(
  'SecurityGroupDefaultAlreadyExists',
  409,
  'Default security group already exists.',
);
export const SecurityGroupRuleInvalidProtocol = defineError(
  'SecurityGroupRuleInvalidProtocol',
  400,
  'Security group rule protocol {protocol} not supported. Only protocol values {values} and integer representations [0 to 255] are supported.',
);
export const SecurityGroupInvalidPortValue = defineError('SecurityGroupInvalidPortValue', 400, 'Invalid value for port {port}');
export const SecurityGroupRuleInvalidEtherType = defineError(
  'SecurityGroupRuleInvalidEtherType',
  400,
  "Security group rule for ethertype '{ethertype}' not supported. Allowed values are {values}.",
);
export const InvalidCIDR = defineError('InvalidCIDR', 400, 'Invalid CIDR {input} given as IP prefix.');

/** Protocol names as Neutron lists them in its error message: None, then its protocol map's order (not sorted). */
const PROTOCOL_VALUES: readonly (string | null)[] = [null, ...Object.keys(IP_PROTOCOL_MAP)];

/** `convert_protocol`: a known name (lower-cased) or a number 0..255 (as a string); `any` is none. */
const convertProtocol: Converter = (value) => {
  if (value === null || value === 'any') return null;
  const fail = () => SecurityGroupRuleInvalidProtocol({ protocol: pyStr(value), values: pyRepr(PROTOCOL_VALUES) });
  if (typeof value === 'number' || (typeof value === 'string' && /^\d+$/.test(value))) {
    const n = Number(value);
    if (Number.isInteger(n) && n >= 0 && n <= 255) return String(value);
    throw fail();
  }
  if (typeof value === 'string' && value.toLowerCase() in IP_PROTOCOL_MAP) return value.toLowerCase();
  throw fail();
};

/** `convert_validate_port_value`. */
const convertPort: Converter = (value) => {
  if (value === null) return null;
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw SecurityGroupInvalidPortValue({ port: pyStr(value) });
  return n;
};

/** `convert_ethertype_to_case_insensitive`. */
const convertEthertype: Converter = (value) => {
  if (typeof value === 'string') {
    const lower = value.toLowerCase();
    if (lower === 'ipv4') return 'IPv4';
    if (lower === 'ipv6') return 'IPv6';
  }
  throw SecurityGroupRuleInvalidEtherType({ ethertype: pyStr(value), values: "['IPv4', 'IPv6']" });
};

/** `convert_ip_prefix_to_cidr`: host bits kept, a bare address gets /32 or /128. */
const convertIpPrefix: Converter = (value) => {
  if (value === null || value === '') return null;
  if (typeof value === 'string') {
    const text = value.includes('/') ? value : parseIp(value) ? `${value}/${value.includes(':') ? 128 : 32}` : value;
    const cidr = parseCidr(text);
    if (cidr) return `${formatIp({ version: cidr.version, value: cidr.address })}/${cidr.prefix}`;
  }
  throw InvalidCIDR({ input: pyStr(value) });
};

/** Security group rules (`/v2.0/security-group-rules`): create and delete only. */
export const securityGroupRule = defineResource({
  name: 'security_group_rule',
  collection: 'security_group_rules',
  path: 'security-group-rules',
  label: 'Security group rule',
  notFoundType: 'SecurityGroupRuleNotFound',
  notFoundMessage: 'Security group rule {id} does not exist',
  taggable: false,
  verbs: ['list', 'show', 'create', 'delete'],
  attributes: {
    security_group_id: attr.uuid().post().sortable(),
    remote_group_id: attr.uuid().nullable().post().default(null).sortable(),
    direction: attr.enum(['ingress', 'egress']).post().sortable(),
    protocol: attr.string().nullable().post().default(null).sortable().convert(convertProtocol),
    port_range_min: attr.integer().nullable().post().default(null).sortable().convert(convertPort),
    port_range_max: attr.integer().nullable().post().default(null).sortable().convert(convertPort),
    ethertype: attr.enum(['IPv4', 'IPv6']).post().default('IPv4').sortable().convert(convertEthertype),
    remote_ip_prefix: attr.cidr().nullable().post().default(null).sortable().convert(convertIpPrefix),
    normalized_cidr: attr.cidr().nullable().sortable().ext('security-groups-normalized-cidr'),
  },
  policies: {
    create_security_group_rule: 'rule:admin_or_owner',
    get_security_group_rule: 'rule:admin_or_owner or rule:sg_owner',
    delete_security_group_rule: 'rule:admin_or_owner',
  },
});

/** Security groups (`/v2.0/security-groups`). */
export const securityGroup = defineResource({
  name: 'security_group',
  collection: 'security_groups',
  path: 'security-groups',
  label: 'Security group',
  notFoundType: 'SecurityGroupNotFound',
  notFoundMessage: 'Security group {id} does not exist',
  initialRevision: 1,
  attributes: {
    name: attr
      .string(NAME_MAX_LEN)
      .post()
      .put()
      .default('')
      .sortable()
      .validate((v) => {
        if (v.toLowerCase() === 'default') throw SecurityGroupDefaultAlreadyExists({});
        return undefined;
      }),
    stateful: attr.boolean().post().put().default(true).ext('stateful-security-group'),
    security_group_rules: attr.json<SecurityGroupRule[]>().computed(),
  },
  policies: {
    create_security_group: '',
    get_security_group: 'rule:admin_or_owner',
    update_security_group: 'rule:admin_or_owner',
    delete_security_group: 'rule:admin_or_owner',
  },
});

/** A security group as the API returns it. */
export type SecurityGroup = ResourceOf<typeof securityGroup>;
/** A validated security group POST body. */
export type SecurityGroupCreate = CreateBody<typeof securityGroup>;
/** A security group rule as the API returns it. */
export type SecurityGroupRule = ResourceOf<typeof securityGroupRule>;
/** A validated security group rule POST body. */
export type SecurityGroupRuleCreate = CreateBody<typeof securityGroupRule>;

declare module '../events/registry.js' {
  interface EventResources {
    security_group: SecurityGroup;
    security_group_rule: SecurityGroupRule;
  }
}
