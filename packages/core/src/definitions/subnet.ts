import { attr } from '../attributes/attribute.js';
import {
  canonicalPools,
  noneToEmptyList,
  validateHostRoutes,
  validateIpPools,
  validateNameservers,
  type AllocationPool,
  type HostRoute,
} from '../attributes/validators.js';
import { InvalidInput } from '../errors/neutron-error.js';
import { formatIp, parseCidr } from '../net/ip.js';
import { defineResource, NAME_MAX_LEN, type CreateBody, type ResourceOf, type UpdateBody } from '../resources/define-resource.js';
import { IPV6_MODES } from './constants.js';

/** `convert_cidr_to_canonical_format`: canonical address, prefix kept (`/32` implied). */
function canonicalCidr(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const text = value.includes('/') ? value : `${value}/${value.includes(':') ? 128 : 32}`;
  const cidr = parseCidr(text);
  if (!cidr) throw InvalidInput({ error_message: `${value} is not in a CIDR format` });
  return `${formatIp({ version: cidr.version, value: cidr.address })}/${cidr.prefix}`;
}

/** Subnets (`/v2.0/subnets`). */
export const subnet = defineResource({
  name: 'subnet',
  collection: 'subnets',
  core: true,
  attributes: {
    name: attr.string(NAME_MAX_LEN).post().put().default('').sortable(),
    network_id: attr.uuid().post().sortable(),
    ip_version: attr
      .integer()
      .post()
      .sortable()
      .validate((v) => ([4, 6].includes(v) ? undefined : `${v} is not in valid_values`)),
    subnetpool_id: attr.uuid().nullable().post().optional().sortable(),
    cidr: attr.cidr().post().optional().sortable().convert(canonicalCidr),
    gateway_ip: attr.ip().nullable().post().put().optional().sortable(),
    allocation_pools: attr.json<AllocationPool[]>().post().put().optional().convert(canonicalPools).validate(validateIpPools),
    dns_nameservers: attr.json<string[]>().post().put().optional().convert(noneToEmptyList).validate(validateNameservers),
    host_routes: attr.json<HostRoute[]>().post().put().optional().convert(noneToEmptyList).validate(validateHostRoutes),
    enable_dhcp: attr.boolean().post().put().default(true).sortable(),
    ipv6_ra_mode: attr.enum(IPV6_MODES).nullable().post().optional().sortable(),
    ipv6_address_mode: attr.enum(IPV6_MODES).nullable().post().optional().sortable(),
  },
  policies: {
    create_subnet: 'rule:admin_or_network_owner',
    get_subnet: 'rule:admin_or_owner or rule:shared',
    update_subnet: 'rule:admin_or_network_owner',
    delete_subnet: 'rule:admin_or_network_owner',
  },
});

/** A subnet as the API returns it. */
export type Subnet = ResourceOf<typeof subnet>;
/** A validated subnet POST body. */
export type SubnetCreate = CreateBody<typeof subnet>;
/** A validated subnet PUT body. */
export type SubnetUpdate = UpdateBody<typeof subnet>;

declare module '../events/registry.js' {
  interface EventResources {
    subnet: Subnet;
  }
}
