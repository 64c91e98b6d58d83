import { defineOptions, opt } from '@nucleon/core';

/** ML2's options, with the sections and names of Neutron's `ml2_conf.ini`. */
export const ml2Options = defineOptions({
  ml2: {
    type_drivers: opt.list(['local', 'flat', 'vlan', 'vxlan'], 'Network types this server can create (local, flat, vlan, vxlan).'),
    tenant_network_types: opt.list(['local'], 'Types tried in order for networks created without provider attributes.'),
    mechanism_drivers: opt.list([], 'Accepted for compatibility; Nucleon has no data-plane drivers.'),
    extension_drivers: opt.list([], 'Accepted for compatibility; port security and the other extensions are always on.'),
    path_mtu: opt.int(0, 'MTU of the underlay path for tunnels; 0 means global_physnet_mtu.', { min: 0 }),
    physical_network_mtus: opt.list([], 'Per physical network MTUs, as <physnet>:<mtu>.'),
    overlay_ip_version: opt.choice(['4', '6'], '4', 'IP version of the tunnel underlay (sets the VXLAN header overhead).'),
  },
  ml2_type_flat: {
    flat_networks: opt.list(['*'], "Physical networks flat networks may use; '*' for any, empty to disable."),
  },
  ml2_type_vlan: {
    network_vlan_ranges: opt.list([], 'Physical networks for VLANs, as <physnet> or <physnet>:<min>:<max> (tenant ranges).'),
  },
  ml2_type_vxlan: {
    vni_ranges: opt.list([], 'VNI ranges for tenant VXLAN networks, as <min>:<max>.'),
  },
});
