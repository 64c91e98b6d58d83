import {
  attr,
  defineExtension,
  defineResource,
  dnsAttribute,
  isUuid,
  NAME_MAX_LEN,
  noneToEmptyList,
  pyRepr,
  pyStr,
  toBoolean,
  validateDnsDomain,
  validateFipDnsName,
  validateFixedIps,
  validateHostRoutes,
  type CreateBody,
  type FixedIp,
  type FixedIpRequest,
  type HostRoute,
  type Port,
  type ResourceOf,
  type UpdateBody,
  type Converter,
  HTTPBadRequest,
} from '@nucleon/core';

/** A router's external gateway as the API shows it. */
export interface ExternalGatewayInfo {
  network_id: string;
  external_fixed_ips: FixedIp[];
  enable_snat: boolean;
}

/** A gateway as a request gives it (`{}` or null clears it). */
export interface ExternalGatewayRequest {
  network_id: string;
  external_fixed_ips?: FixedIpRequest[];
  enable_snat?: boolean;
}

/** The fields of an associated port a floating IP shows (`fip-port-details`), in Neutron's order. */
export const PORT_DETAILS_KEYS = ['name', 'network_id', 'mac_address', 'admin_state_up', 'status', 'device_id', 'device_owner'] as const;

/** The internal port of an associated floating IP (`fip-port-details`). */
export type PortDetails = Pick<Port, (typeof PORT_DETAILS_KEYS)[number]>;

function invalid(reason: string): Error {
  return HTTPBadRequest({ message: `Invalid input for external_gateway_info. Reason: ${reason}.` });
}

/**
 * `type:dict_or_nodata` with the gateway's key specs (`network_id` required, `external_fixed_ips`
 * and ext-gw-mode's `enable_snat` optional). An empty dict or null asks for no gateway.
 */
const checkGatewayInfo: Converter = (value) => {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(`'${pyStr(value)}' is not a dictionary`);
  const info = value as Record<string, unknown>;
  if (Object.keys(info).length === 0) return null;
  const unexpected = Object.keys(info).filter((k) => !['network_id', 'external_fixed_ips', 'enable_snat'].includes(k));
  if (unexpected.length > 0) throw invalid(`Unexpected keys supplied: ${unexpected.join(', ')}`);
  if (!('network_id' in info)) {
    throw invalid(
      `Validation of dictionary's keys failed. Expected keys: {'network_id'} Provided keys: {${Object.keys(info)
        .map((k) => pyRepr(k))
        .join(', ')}}`,
    );
  }
  if (!isUuid(info.network_id)) throw invalid(`'${pyStr(info.network_id)}' is not a valid UUID`);
  const request: ExternalGatewayRequest = { network_id: (info.network_id as string).toLowerCase() };
  if ('external_fixed_ips' in info) {
    const reason = validateFixedIps(info.external_fixed_ips);
    if (reason) throw invalid(reason);
    request.external_fixed_ips = info.external_fixed_ips as FixedIpRequest[];
  }
  if ('enable_snat' in info) request.enable_snat = toBoolean(info.enable_snat);
  return request;
};

/** Routers (`/v2.0/routers`) with the `router`, `ext-gw-mode` and `extraroute` attributes. */
export const router = defineResource({
  name: 'router',
  collection: 'routers',
  notFoundMessage: 'Router {id} could not be found',
  initialRevision: 1,
  attributes: {
    name: attr.string(NAME_MAX_LEN).post().put().default('').sortable(),
    admin_state_up: attr.boolean().post().put().default(true).sortable(),
    status: attr.enum(['ACTIVE', 'ALLOCATING', 'ERROR']).sortable(),
    external_gateway_info: attr
      .json<ExternalGatewayInfo | null>()
      .nullable()
      .post()
      .put()
      .default(null)
      .policy()
      .computed()
      .convert(checkGatewayInfo),
    routes: attr.json<HostRoute[]>().put().optional().convert(noneToEmptyList).validate(validateHostRoutes).ext('extraroute'),
  },
  actions: { add_router_interface: 'PUT', remove_router_interface: 'PUT' },
  // As Neutron's l3 extension resources: no bulk create.
  bulk: false,
  policies: routerPolicies(),
});

/** Neutron's router rules: SNAT and fixed gateway addresses are the operator's to choose. */
function routerPolicies(): Record<string, string> {
  const rules: Record<string, string> = {
    create_router: 'rule:regular_user',
    get_router: 'rule:admin_or_owner',
    update_router: 'rule:admin_or_owner',
    delete_router: 'rule:admin_or_owner',
    add_router_interface: 'rule:admin_or_owner',
    remove_router_interface: 'rule:admin_or_owner',
  };
  for (const verb of ['create_router', 'update_router']) {
    Object.assign(rules, {
      [`${verb}:external_gateway_info`]: 'rule:admin_or_owner',
      [`${verb}:external_gateway_info:network_id`]: 'rule:admin_or_owner',
      [`${verb}:external_gateway_info:enable_snat`]: 'rule:admin_only',
      [`${verb}:external_gateway_info:external_fixed_ips`]: 'rule:admin_only',
    });
  }
  return rules;
}

/** Floating IPs (`/v2.0/floatingips`). */
export const floatingip = defineResource({
  name: 'floatingip',
  collection: 'floatingips',
  label: 'Floating IP',
  notFoundType: 'FloatingIPNotFound',
  notFoundMessage: 'Floating IP {id} could not be found',
  bulk: false,
  attributes: {
    floating_ip_address: attr.ip().nullable().post().default(null).sortable().policy(),
    // Which external subnet to take the address from; accepted on create, never shown.
    subnet_id: attr.uuid().nullable().post().default(null).hidden().computed(),
    floating_network_id: attr.uuid().post().sortable(),
    router_id: attr.uuid().nullable().sortable(),
    port_id: attr.uuid().nullable().post().put().default(null).filterable(),
    fixed_ip_address: attr.ip().nullable().post().put().default(null).sortable(),
    status: attr.enum(['ACTIVE', 'DOWN', 'ERROR']).sortable(),
    port_details: attr.json<PortDetails | null>().nullable().ext('fip-port-details'),
    // `dns-integration` (claimed by a DNS plugin, not by this one): set on create only, both or neither.
    dns_name: dnsAttribute(validateFipDnsName).post().default('').ext('dns-integration'),
    dns_domain: dnsAttribute(validateDnsDomain).post().default('').ext('dns-integration'),
  },
  policies: {
    create_floatingip: 'rule:regular_user',
    'create_floatingip:floating_ip_address': 'rule:admin_only',
    get_floatingip: 'rule:admin_or_owner',
    update_floatingip: 'rule:admin_or_owner',
    delete_floatingip: 'rule:admin_or_owner',
  },
});

/** A router as the API returns it. */
export type Router = ResourceOf<typeof router>;
/** A validated router POST body. */
export type RouterCreate = CreateBody<typeof router>;
/** A validated router PUT body. */
export type RouterUpdate = UpdateBody<typeof router>;
/** A floating IP as the API returns it. */
export type FloatingIp = ResourceOf<typeof floatingip>;
/** A validated floating IP POST body. */
export type FloatingIpCreate = CreateBody<typeof floatingip>;
/** A validated floating IP PUT body. */
export type FloatingIpUpdate = UpdateBody<typeof floatingip>;

/** What `add_router_interface`/`remove_router_interface` answer (and `router_interface` events carry). */
export interface RouterInterfaceInfo {
  id: string;
  tenant_id: string;
  port_id: string;
  network_id: string;
  subnet_id: string;
  subnet_ids: string[];
}

/** The L3 extensions, with Neutron's names and timestamps. */
export const l3Extensions = [
  defineExtension({
    alias: 'router',
    name: 'Neutron L3 Router',
    description:
      'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.',
    updated: '2012-07-20T10:00:00-00:00',
    resources: [router, floatingip],
    requires: ['external-net'],
  }),
  defineExtension({
    alias: 'ext-gw-mode',
    name: 'Neutron L3 Configurable external gateway mode',
    description: 'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway',
    updated: '2013-03-28T10:00:00-00:00',
    requires: ['router'],
  }),
  defineExtension({
    alias: 'extraroute',
    name: 'Neutron Extra Route',
    description: 'Extra routes configuration for L3 router',
    updated: '2013-02-01T10:00:00-00:00',
    requires: ['router'],
  }),
  defineExtension({
    alias: 'fip-port-details',
    name: 'Floating IP Port Details Extension',
    description: 'Add port_details attribute to Floating IP resource',
    updated: '2018-04-09T10:00:00-00:00',
    requires: ['router'],
  }),
  defineExtension({
    alias: 'l3-port-ip-change-not-allowed',
    name: 'Prevent L3 router ports IP address change extension',
    description: 'Prevent change of IP address for some L3 router ports',
    updated: '2018-10-09T10:00:00-00:00',
    requires: ['router'],
  }),
];

declare module '@nucleon/core' {
  interface EventResources {
    router: Router;
    floatingip: FloatingIp;
    router_interface: RouterInterfaceInfo;
    router_gateway: Router;
  }
}
