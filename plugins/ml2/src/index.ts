import { definePlugin } from '@nucleon/core';
import { networksTable } from './networks/networks.js';
import { ml2Options } from './options.js';
import { Ml2Plugin } from './plugin.js';
import { portsTable } from './ports/ports.js';
import { securityGroupRulesTable, securityGroupsTable } from './security-groups/security-groups.js';
import { subnetsTable } from './subnets/subnets.js';

export { Ml2Plugin } from './plugin.js';
export { networksTable } from './networks/networks.js';
export { subnetsTable } from './subnets/subnets.js';
export { portsTable } from './ports/ports.js';
export { securityGroupsTable, securityGroupRulesTable } from './security-groups/security-groups.js';
export * as schema from './schema.js';
export { ml2Options } from './options.js';

/** Nucleon's core plugin: Neutron's ML2 (`core_plugin = ml2`). */
export default definePlugin({
  name: 'ml2',
  type: 'CORE',
  description: 'Modular Layer 2 core plugin: networks (local, flat, VLAN, VXLAN), subnets with IPAM, ports, security groups',
  coreVersion: '^0.1.0',
  supportedExtensionAliases: [
    'quotas',
    'quota_details',
    'project-id',
    'pagination',
    'sorting',
    'sort-key-validation',
    'filter-validation',
    'empty-string-filtering',
    'standard-attr-description',
    'standard-attr-revisions',
    'standard-attr-timestamp',
    'standard-attr-tag',
    'tag-ports-during-bulk-creation',
    'revision-if-match',
    'external-net',
    'provider',
    'net-mtu',
    'net-mtu-writable',
    'l2_adjacency',
    'port-security',
    'binding',
    'allowed-address-pairs',
    'extra_dhcp_opt',
    'ip_allocation',
    'ip-substring-filtering',
    'port-mac-address-regenerate',
    'security-group',
    'stateful-security-group',
    'security-groups-normalized-cidr',
    'port-security-groups-filtering',
  ],
  resources: [networksTable, subnetsTable, portsTable, securityGroupsTable, securityGroupRulesTable],
  quotas: [
    { name: 'network', default: 100, table: networksTable },
    { name: 'subnet', default: 100, table: subnetsTable },
    { name: 'port', default: 500, table: portsTable },
    { name: 'security_group', default: 10, table: securityGroupsTable },
    { name: 'security_group_rule', default: 100, table: securityGroupRulesTable },
  ],
  options: [ml2Options],
  migrations: { owner: '@nucleon/ml2', folder: new URL('../drizzle/', import.meta.url) },
  create: (runtime) => new Ml2Plugin(runtime),
});
