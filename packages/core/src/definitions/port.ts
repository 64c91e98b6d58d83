import { attr, type Converter } from '../attributes/attribute.js';
import { dnsAttribute, validateDnsName } from '../attributes/dns.js';
import { pyRepr, pyStr } from '../attributes/python-repr.js';
import {
  canonicalFixedIps,
  noneToEmptyList,
  validateDictOrNone,
  validateFixedIps,
  validateUniqueStrings,
  validateUuidList,
  type FixedIpRequest,
} from '../attributes/validators.js';
import { defineError, HTTPBadRequest, InvalidInput } from '../errors/neutron-error.js';
import { canonicalIp, parseCidr } from '../net/ip.js';
import { canonicalMac } from '../net/mac.js';
import { defineResource, NAME_MAX_LEN, type CreateBody, type ResourceOf, type UpdateBody } from '../resources/define-resource.js';
import { STATUSES, VNIC_TYPES } from './constants.js';

/** One allowed address pair of a port. */
export interface AddressPair {
  ip_address: string;
  mac_address: string;
}
/** One extra DHCP option of a port. */
export interface ExtraDhcpOpt {
  opt_name: string;
  opt_value: string | null;
  ip_version?: 4 | 6;
}
/** One entry of a port's `dns_assignment` (`dns-integration`): a name per fixed IP. */
export interface DnsAssignment {
  ip_address: string;
  hostname: string;
  fqdn: string;
}
/** One fixed IP of a port as the API shows it. */
export interface FixedIp {
  subnet_id: string;
  ip_address: string;
}

export const AllowedAddressPairsMissingIP = defineError('AllowedAddressPairsMissingIP', 400, 'AllowedAddressPair must contain ip_address');
export const DuplicateAddressPairInRequest = defineError(
  'DuplicateAddressPairInRequest',
  400,
  'Request contains duplicate address pair: mac_address {mac_address} ip_address {ip_address}.',
);

/** neutron-lib's `_validate_allowed_address_pairs` (which raises rather than returns). */
const checkAddressPairs: Converter = (value) => {
  if (value === null) return [];
  if (!Array.isArray(value)) throw HTTPBadRequest({ message: 'Allowed address pairs must be a list.' });
  const seen = new Set<string>();
  return value.map((pair: unknown) => {
    if (typeof pair !== 'object' || pair === null || Array.isArray(pair)) {
      throw HTTPBadRequest({ message: `Invalid input for allowed_address_pairs. Reason: '${pyStr(pair)}' is not a dictionary.` });
    }
    const entry = pair as Record<string, unknown>;
    let mac: string | undefined;
    if ('mac_address' in entry) {
      mac = canonicalMac(entry.mac_address);
      if (!mac) throw HTTPBadRequest({ message: `'${pyStr(entry.mac_address)}' is not a valid MAC address` });
    }
    if (!('ip_address' in entry)) throw AllowedAddressPairsMissingIP({});
    const key = `${mac ?? ''}|${String(entry.ip_address)}`;
    if (seen.has(key)) {
      throw DuplicateAddressPairInRequest({ mac_address: mac ?? 'None', ip_address: pyStr(entry.ip_address) });
    }
    seen.add(key);
    const extra = Object.keys(entry).filter((k) => k !== 'ip_address' && k !== 'mac_address');
    if (extra.length > 0) throw HTTPBadRequest({ message: `Unrecognized attribute(s) '${extra.join(', ')}'` });
    const ip = entry.ip_address;
    let address: string | undefined;
    if (typeof ip === 'string' && ip.includes('/')) {
      const cidr = parseCidr(ip);
      if (!cidr) throw HTTPBadRequest({ message: `'${ip}' is not a valid IP subnet` });
      address = ip;
    } else {
      address = canonicalIp(ip);
      if (!address) throw HTTPBadRequest({ message: `'${pyStr(ip)}' is not a valid IP address` });
    }
    return mac ? { ip_address: address, mac_address: mac } : { ip_address: address };
  });
};

/** `type:list_of_any_key_specs_or_none` with the extra DHCP option key specs. */
const checkExtraDhcpOpts: Converter = (value) => {
  if (value === null) return [];
  if (!Array.isArray(value)) throw InvalidInput({ error_message: `'${pyStr(value)}' is not a list` });
  return value.map((opt: unknown) => {
    const entry = opt as Record<string, unknown> | null;
    const valid =
      typeof entry === 'object' &&
      entry !== null &&
      typeof entry.opt_name === 'string' &&
      entry.opt_name.trim() !== '' &&
      entry.opt_name.length <= 64 &&
      (entry.opt_value === null || (typeof entry.opt_value === 'string' && entry.opt_value.length <= 255)) &&
      Object.keys(entry).every((k) => ['opt_name', 'opt_value', 'ip_version'].includes(k)) &&
      (entry.ip_version === undefined || [4, 6, '4', '6'].includes(entry.ip_version as never));
    if (!valid) throw InvalidInput({ error_message: `No valid key specs matched for: ${pyRepr(opt)}` });
    return { ...entry, ...(entry!.ip_version !== undefined ? { ip_version: Number(entry!.ip_version) } : {}) };
  });
};

/** Ports (`/v2.0/ports`), with the attributes of the extensions that extend them. */
export const port = defineResource({
  name: 'port',
  collection: 'ports',
  core: true,
  initialRevision: 1,
  attributes: {
    name: attr.string(NAME_MAX_LEN).post().put().default('').sortable(),
    network_id: attr.uuid().post().sortable(),
    mac_address: attr.mac().nullable().post().put().optional().sortable().policy(),
    admin_state_up: attr.boolean().post().put().default(true).sortable(),
    status: attr.enum([...STATUSES, 'N/A']).sortable(),
    device_id: attr.string(255).post().put().default('').sortable(),
    device_owner: attr.string(255).post().put().default('').sortable().policy(),
    fixed_ips: attr
      .json<FixedIp[]>()
      .computed()
      .post()
      .put()
      .optional()
      .filterable()
      .policy()
      .convert(canonicalFixedIps)
      .validate(validateFixedIps),
    allowed_address_pairs: attr
      .json<AddressPair[]>()
      .post()
      .put()
      .optional()
      .policy()
      .convert(checkAddressPairs)
      .ext('allowed-address-pairs'),
    extra_dhcp_opts: attr.json<ExtraDhcpOpt[]>().post().put().default([]).convert(checkExtraDhcpOpts).ext('extra_dhcp_opt'),
    security_groups: attr
      .json<string[]>()
      .post()
      .put()
      .optional()
      .filterable()
      .convert(noneToEmptyList)
      .validate(validateUuidList)
      .ext('security-group'),
    port_security_enabled: attr.boolean().post().put().optional().policy().ext('port-security'),
    'binding:host_id': attr.string(255).post().put().default('').filterable().policy().ext('binding'),
    'binding:profile': attr
      .json<Record<string, unknown>>()
      .nullable()
      .post()
      .put()
      .optional()
      .policy()
      .validate(validateDictOrNone)
      .ext('binding'),
    'binding:vnic_type': attr.enum(VNIC_TYPES).post().put().default('normal').policy().ext('binding'),
    'binding:vif_type': attr.string().policy().ext('binding'),
    'binding:vif_details': attr.json<Record<string, unknown>>().policy().ext('binding'),
    dns_name: dnsAttribute(validateDnsName).post().put().default('').ext('dns-integration'),
    dns_assignment: attr.json<DnsAssignment[]>().computed().ext('dns-integration'),
    ip_allocation: attr.enum(['immediate', 'deferred', 'none']).sortable().ext('ip_allocation'),
    tags: attr.json<string[]>().computed().post().optional().validate(validateUniqueStrings(255)).ext('standard-attr-tag'),
  },
  policies: portPolicies(),
});

/** Neutron's port rules: what a port's owner, its network's owner and admins may set or see. */
function portPolicies(): Record<string, string> {
  const rules: Record<string, string> = {
    create_port: '',
    get_port: 'rule:context_is_advsvc or rule:admin_owner_or_network_owner',
    'get_port:binding:vif_type': 'rule:admin_only',
    'get_port:binding:vif_details': 'rule:admin_only',
    'get_port:binding:host_id': 'rule:admin_only',
    'get_port:binding:profile': 'rule:admin_only',
    update_port: 'rule:admin_or_owner or rule:context_is_advsvc',
    'update_port:mac_address': 'rule:admin_only or rule:context_is_advsvc',
    delete_port: 'rule:context_is_advsvc or rule:admin_owner_or_network_owner',
  };
  // Both verbs: addresses and security on someone else's (shared) network are its owner's call.
  for (const verb of ['create_port', 'update_port']) {
    Object.assign(rules, {
      [`${verb}:device_owner`]: 'not rule:network_device or rule:context_is_advsvc or rule:admin_or_network_owner',
      [`${verb}:fixed_ips`]: 'rule:context_is_advsvc or rule:admin_or_network_owner or rule:shared',
      [`${verb}:fixed_ips:ip_address`]: 'rule:context_is_advsvc or rule:admin_or_network_owner',
      [`${verb}:fixed_ips:subnet_id`]: 'rule:context_is_advsvc or rule:admin_or_network_owner or rule:shared',
      [`${verb}:port_security_enabled`]: 'rule:context_is_advsvc or rule:admin_or_network_owner',
      [`${verb}:binding:host_id`]: 'rule:admin_only',
      [`${verb}:binding:profile`]: 'rule:admin_only',
      [`${verb}:binding:vnic_type`]: 'rule:admin_or_owner',
      [`${verb}:allowed_address_pairs`]: 'rule:admin_or_network_owner',
      [`${verb}:allowed_address_pairs:mac_address`]: 'rule:admin_or_network_owner',
      [`${verb}:allowed_address_pairs:ip_address`]: 'rule:admin_or_network_owner',
    });
  }
  rules['create_port:mac_address'] = 'rule:context_is_advsvc or rule:admin_or_network_owner';
  return rules;
}

/** A port as the API returns it. */
export type Port = ResourceOf<typeof port>;
/** A validated port POST body. */
export type PortCreate = CreateBody<typeof port>;
/** A validated port PUT body. */
export type PortUpdate = UpdateBody<typeof port>;
/** A `fixed_ips` entry of a request. */
export type { FixedIpRequest };

declare module '../events/registry.js' {
  interface EventResources {
    port: Port;
  }
}
