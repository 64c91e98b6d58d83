import { columnsOf } from '@nucleon/core';
import { boolean, index, jsonb, pgTable, uuid } from 'drizzle-orm/pg-core';
import type { FixedIp } from '@nucleon/core';
import { router } from '../definitions.js';

/**
 * Routers. The gateway is kept on the router row (its port, network and addresses, copied when
 * the router sets its gateway), so a router renders without reaching into the core plugin's tables.
 */
export const routers = pgTable(
  'routers',
  {
    ...columnsOf(router),
    gwPortId: uuid('gw_port_id'),
    gwNetworkId: uuid('gw_network_id'),
    gwFixedIps: jsonb('gw_fixed_ips').$type<FixedIp[]>().notNull().default([]),
    enableSnat: boolean('enable_snat').notNull().default(true),
  },
  (t) => [index('routers_project_idx').on(t.project_id), index('routers_gw_network_idx').on(t.gwNetworkId)],
);
