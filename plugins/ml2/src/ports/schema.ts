import { columnsOf, port } from '@nucleon/core';
import { index, pgTable, primaryKey, text, unique, uuid } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { networks } from '../networks/schema.js';
import { subnets } from '../subnets/schema.js';

const columns = columnsOf(port);

/**
 * Ports. `security_groups` is a JSON list of ids, indexed for the "group in use" check.
 * `dns_name` (`dns-integration`) defaults to '' so rows written while the extension is not
 * served have it too.
 */
export const ports = pgTable(
  'ports',
  { ...columns, network_id: columns.network_id.references(() => networks.id), dns_name: columns.dns_name.default('') },
  (t) => [
    unique('ports_network_mac_key').on(t.network_id, t.mac_address),
    // Also serves lookups by network and device owner (a network's router interfaces).
    index('ports_network_owner_idx').on(t.network_id, t.device_owner),
    index('ports_device_idx').on(t.device_id),
    index('ports_project_idx').on(t.project_id),
    index('ports_security_groups_idx').using('gin', sql`${t.security_groups} jsonb_path_ops`),
  ],
);

/**
 * IP addresses given out, one row each. The primary key (subnet, address) is what keeps two
 * concurrent requests from getting the same address.
 */
export const ipAllocations = pgTable(
  'ipallocations',
  {
    portId: uuid('port_id')
      .notNull()
      .references(() => ports.id, { onDelete: 'cascade' }),
    subnetId: uuid('subnet_id')
      .notNull()
      .references(() => subnets.id),
    networkId: uuid('network_id').notNull(),
    ipAddress: text('ip_address').notNull(),
  },
  (t) => [primaryKey({ columns: [t.subnetId, t.ipAddress] }), index('ipallocations_port_idx').on(t.portId)],
);
