import { columnsOf } from '@nucleon/core';
import { sql } from 'drizzle-orm';
import { index, pgTable, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { floatingip } from '../definitions.js';

/**
 * Floating IPs. `floating_port_id` is the hidden external port holding the address. The partial
 * unique index makes "one floating IP per fixed IP and external network" hold under concurrency.
 */
export const floatingips = pgTable(
  'floatingips',
  {
    ...columnsOf(floatingip),
    floatingPortId: uuid('floating_port_id').notNull().unique(),
    lastKnownRouterId: uuid('last_known_router_id'),
  },
  (t) => [
    index('floatingips_project_idx').on(t.project_id),
    index('floatingips_port_idx').on(t.port_id),
    index('floatingips_router_idx').on(t.router_id),
    uniqueIndex('floatingips_fixed_ip_key')
      .on(t.floating_network_id, t.port_id, t.fixed_ip_address)
      .where(sql`${t.port_id} is not null`),
  ],
);
