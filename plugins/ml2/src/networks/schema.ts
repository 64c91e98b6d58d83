import { columnsOf, network } from '@nucleon/core';
import { index, integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';

const columns = columnsOf(network);

/**
 * Networks; columns follow the network attribute map. `dns_domain` (`dns-integration`) defaults
 * to '' so rows written while the extension is not served have it too.
 */
export const networks = pgTable('networks', { ...columns, dns_domain: columns.dns_domain.default('') }, (t) => [
  index('networks_project_idx').on(t.project_id),
]);

/**
 * Segmentation ids in use, one row per (type, physical network, id): flat networks use id 0.
 * The primary key is what makes two concurrent creates of the same VLAN or VNI impossible.
 */
export const segmentAllocations = pgTable(
  'ml2_segment_allocations',
  {
    networkType: text('network_type').notNull(),
    physicalNetwork: text('physical_network').notNull().default(''),
    segmentationId: integer('segmentation_id').notNull().default(0),
    networkId: uuid('network_id')
      .notNull()
      .references(() => networks.id, { onDelete: 'cascade' }),
  },
  (t) => [primaryKey({ columns: [t.networkType, t.physicalNetwork, t.segmentationId] }), index('segments_network_idx').on(t.networkId)],
);
