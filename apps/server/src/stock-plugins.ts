/**
 * Neutron's stock plugin aliases, as operators already write them in neutron.conf, mapped to
 * Nucleon's packages. This is configuration data: the core never branches on a plugin name.
 */
export const STOCK_PLUGINS: Readonly<Record<string, string>> = {
  ml2: '@nucleon/ml2',
  router: '@nucleon/l3-router',
  metering: '@nucleon/metering',
  firewall_v2: '@nucleon/firewall',
  vpnaas: '@nucleon/vpn',
  lbaasv2: '@nucleon/loadbalancer',
};
