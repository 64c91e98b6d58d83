/** Neutron's constants (neutron_lib.constants) that the API contract uses. */

export const DEVICE_OWNER_NETWORK_PREFIX = 'network:';
export const DEVICE_OWNER_ROUTER_INTF = 'network:router_interface';
export const DEVICE_OWNER_ROUTER_GW = 'network:router_gateway';
export const DEVICE_OWNER_FLOATINGIP = 'network:floatingip';
export const DEVICE_OWNER_DHCP = 'network:dhcp';
/** Ports deleted with their network instead of blocking its deletion. */
export const AUTO_DELETE_PORT_OWNERS: readonly string[] = [DEVICE_OWNER_DHCP, 'network:distributed', 'network:floatingip_agent_gateway'];

export const STATUSES = ['ACTIVE', 'BUILD', 'DOWN', 'ERROR'] as const;
export const IPV6_MODES = ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac'] as const;
export const VNIC_TYPES = [
  'normal',
  'direct',
  'macvtap',
  'baremetal',
  'direct-physical',
  'virtio-forwarder',
  'smart-nic',
  'vdpa',
  'accelerator-direct',
  'accelerator-direct-physical',
  'remote-managed',
] as const;

/** IP protocol names Neutron accepts in security group rules, with their numbers, in neutron-lib's order (error messages list them so). */
export const IP_PROTOCOL_MAP: Readonly<Record<string, number>> = {
  ah: 51,
  dccp: 33,
  egp: 8,
  esp: 50,
  gre: 47,
  hopopt: 0,
  icmp: 1,
  igmp: 2,
  ip: 0,
  ipip: 4,
  'ipv6-encap': 41,
  'ipv6-frag': 44,
  'ipv6-icmp': 58,
  icmpv6: 58,
  'ipv6-nonxt': 59,
  'ipv6-opts': 60,
  'ipv6-route': 43,
  ospf: 89,
  pgm: 113,
  rsvp: 46,
  sctp: 132,
  tcp: 6,
  udp: 17,
  udplite: 136,
  vrrp: 112,
};
/** Protocols whose rules may carry a port range. */
export const PORT_PROTOCOLS: readonly string[] = ['dccp', 'sctp', 'tcp', 'udp', 'udplite'];
