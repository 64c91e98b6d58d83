import { columnsOf, subnet } from '@nucleon/core';
import { index, pgTable } from 'drizzle-orm/pg-core';
import { networks } from '../networks/schema.js';

const columns = columnsOf(subnet);

/** Subnets; pools, nameservers and routes are JSON columns (always read and written whole). */
export const subnets = pgTable('subnets', { ...columns, network_id: columns.network_id.references(() => networks.id) }, (t) => [
  index('subnets_network_idx').on(t.network_id),
  index('subnets_project_idx').on(t.project_id),
]);
