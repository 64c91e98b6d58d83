import { columnsOf } from '@nucleon/core';
import { sql } from 'drizzle-orm';
import { index, pgTable, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { floatingip } from '../definitions.js';

const columns = columnsOf(floatingip);

/**
 * Floating IPs. `floating_port_id` is the hidden external port holding the address. The partial
 * unique index makes "one floating IP per fixed IP and external network" hold under concurrency.
 * `dns_name` and `dns_domain` (`dns-integration`) default to '' so rows written while the
 * extension is not served have them too.
 */
export const floatingips = pgTable(
  'floatingips',
  {
    ...columns,
    dns_name: columns.dns_name.default(''),
    dns_domain: columns.dns_domain.default(''),
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
