import { defineExtension, type ExtensionDefinition } from '../extensions/define-extension.js';
import { securityGroup, securityGroupRule } from './security-group.js';

/**
 * Extensions the core defines (neutron-lib's API definitions). Each is served only when a loaded
 * plugin lists its alias; names, descriptions and timestamps are Neutron's, since clients read them.
 */
export const coreExtensions: readonly ExtensionDefinition[] = [
  // Mechanisms the core implements for every plugin that enables them.
  defineExtension({
    alias: 'quotas',
    name: 'Quota management support',
    description: 'Expose functions for quotas management per project',
    updated: '2012-07-29T10:00:00-00:00',
  }),
  defineExtension({
    alias: 'quota_details',
    name: 'Quota details management support',
    description: 'Expose functions for quotas usage statistics per project',
    updated: '2017-02-10T10:00:00-00:00',
    requires: ['quotas'],
  }),
  defineExtension({
    alias: 'standard-attr-description',
    name: 'standard-attr-description',
    description: 'Extension to add descriptions to standard attributes',
    updated: '2016-02-10T10:00:00-00:00',
  }),
  defineExtension({
    alias: 'standard-attr-revisions',
    name: 'Resource revision numbers',
    description: 'This extension will display the revision number of neutron resources.',
    updated: '2016-04-11T10:00:00-00:00',
  }),
  defineExtension({
    alias: 'standard-attr-timestamp',
    name: 'Resource timestamps',
    description: 'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.',
    updated: '2016-09-12T10:00:00-00:00',
  }),
  defineExtension({
    alias: 'standard-attr-tag',
    name: 'Tag support for resources with standard attribute: port, subnet, network, security_group, router, floatingip',
    description: 'Enables to set tag on resources with standard attribute.',
    updated: '2017-01-01T00:00:00-00:00',
  }),
  defineExtension({
    alias: 'tag-ports-during-bulk-creation',
    name: 'Tag Ports During Bulk Creation',
    description: 'Allow to tag ports during bulk creation',
    updated: '2019-12-29T19:00:00-00:00',
    requires: ['standard-attr-tag'],
  }),
  defineExtension({
    alias: 'project-id',
    name: 'project_id field enabled',
    description: 'Extension that indicates that project_id field is enabled.',
    updated: '2016-09-09T09:09:09-09:09',
  }),
  defineExtension({
    alias: 'pagination',
    name: 'Pagination support',
    description: 'Extension that indicates that pagination is enabled.',
    updated: '2016-06-12T00:00:00-00:00',
  }),
  defineExtension({
    alias: 'sorting',
    name: 'Sorting support',
    description: 'Extension that indicates that sorting is enabled.',
    updated: '2016-06-12T00:00:00-00:00',
  }),
  defineExtension({
    alias: 'sort-key-validation',
    name: 'Sort keys validation',
    description: 'Provides validation on sort keys.',
    updated: '2018-07-04T10:00:00-00:00',
    requires: ['sorting'],
  }),
  defineExtension({
    alias: 'filter-validation',
    name: 'Filter parameters validation',
    description: 'Provides validation on filter parameters.',
    updated: '2018-07-04T10:00:00-00:00',
  }),
  defineExtension({
    alias: 'empty-string-filtering',
    name: 'Empty String Filtering Extension',
    description: 'Allow filtering by attributes with empty string value',
    updated: '2018-05-01T10:00:00-00:00',
  }),
  defineExtension({
    alias: 'revision-if-match',
    name: 'If-Match constraints based on revision_number',
    description: 'Extension indicating that If-Match based on revision_number is supported.',
    updated: '2016-12-11T00:00:00-00:00',
    requires: ['standard-attr-revisions'],
  }),

  // The core API's shared extensions, implemented by the core plugin.
  defineExtension({
    alias: 'external-net',
    name: 'Neutron external network',
    description: 'Adds external network attribute to network resource.',
    updated: '2013-01-14T10:00:00-00:00',
  }),
  defineExtension({
    alias: 'provider',
    name: 'Provider Network',
    description: 'Expose mapping of virtual networks to physical networks',
    updated: '2012-09-07T10:00:00-00:00',
  }),
  defineExtension({
    alias: 'net-mtu',
    name: 'Network MTU',
    description: 'Provides MTU attribute for a network resource.',
    updated: '2015-03-25T10:00:00-00:00',
  }),
  defineExtension({
    alias: 'net-mtu-writable',
    name: 'Network MTU (writable)',
    description: 'Provides a writable MTU attribute for a network resource.',
    updated: '2017-07-12T00:00:00-00:00',
    requires: ['net-mtu'],
  }),
  defineExtension({
    alias: 'l2_adjacency',
    name: 'L2 Adjacency',
    description: 'Display L2 Adjacency for Neutron Networks.',
    updated: '2016-04-12T16:00:00-00:00',
  }),
  defineExtension({
    alias: 'port-security',
    name: 'Port Security',
    description: 'Provides port security',
    updated: '2012-07-23T10:00:00-00:00',
  }),
  defineExtension({
    alias: 'binding',
    name: 'Port Binding',
    description: 'Expose port bindings of a virtual port to external application',
    updated: '2014-02-03T10:00:00-00:00',
  }),
  defineExtension({
    alias: 'allowed-address-pairs',
    name: 'Allowed Address Pairs',
    description: 'Provides allowed address pairs',
    updated: '2013-07-23T10:00:00-00:00',
  }),
  defineExtension({
    alias: 'extra_dhcp_opt',
    name: 'Neutron Extra DHCP options',
    description:
      'Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)',
    updated: '2013-03-17T12:00:00-00:00',
  }),
  defineExtension({
    alias: 'ip_allocation',
    name: 'IP Allocation',
    description: 'IP allocation extension.',
    updated: '2016-06-10T23:00:00-00:00',
  }),
  defineExtension({
    alias: 'ip-substring-filtering',
    name: 'IP address substring filtering',
    description: 'Provides IP address substring filtering when listing ports',
    updated: '2017-11-28T09:00:00-00:00',
  }),
  defineExtension({
    alias: 'port-mac-address-regenerate',
    name: 'Neutron Port MAC address regenerate',
    description: 'Network port MAC address regenerate',
    updated: '2018-05-03T10:00:00-00:00',
  }),
  defineExtension({
    alias: 'security-group',
    name: 'security-group',
    description: 'The security groups extension.',
    updated: '2012-10-05T10:00:00-00:00',
    resources: [securityGroup, securityGroupRule],
    requires: ['standard-attr-description'],
  }),
  defineExtension({
    alias: 'stateful-security-group',
    name: 'Stateful security group',
    description: 'Indicates if the security group is stateful or not',
    updated: '2019-11-26T09:00:00-00:00',
    requires: ['security-group'],
  }),
  defineExtension({
    alias: 'security-groups-normalized-cidr',
    name: 'Normalized CIDR field for security group rules',
    description: 'Add new field with normalized remote_ip_prefix cidr in SG rule',
    updated: '2020-07-28T10:00:00-00:00',
    requires: ['security-group'],
  }),
  defineExtension({
    alias: 'dns-integration',
    name: 'DNS Integration',
    description: 'Provides integration with DNS.',
    updated: '2015-08-15T18:00:00-00:00',
    // Networks and ports carry it (their owner stores it); floating IPs too, hence `router`.
    requires: ['router'],
  }),
  defineExtension({
    alias: 'port-security-groups-filtering',
    name: 'Port filtering on security groups',
    description: 'Provides security groups filtering when listing ports',
    updated: '2018-01-09T09:00:00-00:00',
  }),
];
