import { defineError } from '@nucleon/core';

// neutron_lib.exceptions.l3 and .extraroute, with Neutron's messages.
export const RouterInUse = defineError('RouterInUse', 409, 'Router {router_id} {reason}');
export const RouterInterfaceNotFound = defineError(
  'RouterInterfaceNotFound',
  404,
  'Router {router_id} does not have an interface with id {port_id}',
);
export const RouterInterfaceNotFoundForSubnet = defineError(
  'RouterInterfaceNotFoundForSubnet',
  404,
  'Router {router_id} has no interface on subnet {subnet_id}',
);
export const RouterInterfaceInUseByFloatingIP = defineError(
  'RouterInterfaceInUseByFloatingIP',
  409,
  'Router interface for subnet {subnet_id} on router {router_id} cannot be deleted, as it is required by one or more floating IPs.',
);
export const RouterInterfaceInUseByRoute = defineError(
  'RouterInterfaceInUseByRoute',
  409,
  'Router interface for subnet {subnet_id} on router {router_id} cannot be deleted, as it is required by one or more routes.',
);
export const ExternalGatewayForFloatingIPNotFound = defineError(
  'ExternalGatewayForFloatingIPNotFound',
  404,
  'External network {external_network_id} is not reachable from subnet {subnet_id}.  Therefore, cannot associate Port {port_id} with a Floating IP.',
);
export const FloatingIPPortAlreadyAssociated = defineError(
  'FloatingIPPortAlreadyAssociated',
  409,
  'Cannot associate floating IP {floating_ip_address} ({fip_id}) with port {port_id} using fixed IP {fixed_ip}, as that fixed IP already has a floating IP on external network {net_id}.',
);
export const RouterExternalGatewayInUseByFloatingIp = defineError(
  'RouterExternalGatewayInUseByFloatingIp',
  409,
  'Gateway cannot be updated for router {router_id}, since a gateway to external network {net_id} is required by one or more floating IPs.',
);
export const RoutesExhausted = defineError(
  'RoutesExhausted',
  400,
  'Unable to complete operation for {router_id}. The number of routes exceeds the maximum {quota}.',
);
export const InvalidRoutes = defineError('InvalidRoutes', 400, 'Invalid format for routes: {routes}, {reason}');
export const ServicePortInUse = defineError(
  'ServicePortInUse',
  409,
  'Port {port_id} cannot be deleted directly via the port API: {reason}.',
);
export const PortInUse = defineError(
  'PortInUse',
  409,
  'Unable to complete operation on port {port_id} for network {net_id}. Port already has an attached device {device_id}.',
);
export const SubnetMismatchForPort = defineError(
  'SubnetMismatchForPort',
  400,
  'Subnet on port {port_id} does not match the requested subnet {subnet_id}.',
);
export const ExternalIpAddressExhausted = defineError(
  'ExternalIpAddressExhausted',
  400,
  'Unable to find any IP address on external network {net_id}.',
);
export const ExternalNetworkInUse = defineError(
  'ExternalNetworkInUse',
  409,
  'External network {net_id} cannot be updated to be made non-external, since it has existing gateway ports.',
);
