import { attr } from '../attributes/attribute.js';
import { dnsAttribute, validateDnsDomain } from '../attributes/dns.js';
import { defineResource, NAME_MAX_LEN, type CreateBody, type ResourceOf, type UpdateBody } from '../resources/define-resource.js';
import { STATUSES } from './constants.js';

/** Networks (`/v2.0/networks`), with the attributes of the extensions that extend them. */
export const network = defineResource({
  name: 'network',
  collection: 'networks',
  core: true,
  initialRevision: 1,
  attributes: {
    name: attr.string(NAME_MAX_LEN).post().put().default('').sortable(),
    subnets: attr.json<string[]>().computed(),
    admin_state_up: attr.boolean().post().put().default(true).sortable(),
    status: attr.enum(STATUSES).sortable(),
    shared: attr.boolean().post().put().default(false).filterable().policy(),
    mtu: attr.integer({ min: 0 }).post().put().optional().sortable().policy().ext('net-mtu'),
    'router:external': attr.boolean().post().put().default(false).filterable().policy().ext('external-net'),
    'provider:network_type': attr.string(32).nullable().post().put().optional().filterable().policy().ext('provider'),
    'provider:physical_network': attr.string(64).nullable().post().put().optional().filterable().policy().ext('provider'),
    'provider:segmentation_id': attr.integer().nullable().post().put().optional().filterable().policy().ext('provider'),
    port_security_enabled: attr.boolean().post().put().default(true).policy().ext('port-security'),
    dns_domain: dnsAttribute(validateDnsDomain).post().put().default('').ext('dns-integration'),
    l2_adjacency: attr.boolean().computed().ext('l2_adjacency'),
  },
  policies: {
    create_network: '',
    'create_network:shared': 'rule:admin_only',
    'create_network:router:external': 'rule:admin_only',
    'create_network:provider:network_type': 'rule:admin_only',
    'create_network:provider:physical_network': 'rule:admin_only',
    'create_network:provider:segmentation_id': 'rule:admin_only',
    'create_network:port_security_enabled': 'rule:admin_or_owner',
    get_network: 'rule:admin_or_owner or rule:shared or rule:external or rule:context_is_advsvc',
    'get_network:router:external': '',
    'get_network:provider:network_type': 'rule:admin_only',
    'get_network:provider:physical_network': 'rule:admin_only',
    'get_network:provider:segmentation_id': 'rule:admin_only',
    update_network: 'rule:admin_or_owner',
    'update_network:shared': 'rule:admin_only',
    'update_network:router:external': 'rule:admin_only',
    'update_network:provider:network_type': 'rule:admin_only',
    'update_network:provider:physical_network': 'rule:admin_only',
    'update_network:provider:segmentation_id': 'rule:admin_only',
    'update_network:port_security_enabled': 'rule:admin_or_owner',
    delete_network: 'rule:admin_or_owner',
  },
});

/** A network as the API returns it. */
export type Network = ResourceOf<typeof network>;
/** A validated network POST body. */
export type NetworkCreate = CreateBody<typeof network>;
/** A validated network PUT body. */
export type NetworkUpdate = UpdateBody<typeof network>;

declare module '../events/registry.js' {
  interface EventResources {
    network: Network;
  }
}
