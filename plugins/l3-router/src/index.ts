import { definePlugin } from '@nucleon/core';
import { l3Extensions } from './definitions.js';
import { floatingipsTable } from './floatingips/floatingips.js';
import { l3Options } from './options.js';
import { L3RouterPlugin } from './plugin.js';
import { routersTable } from './routers/routers.js';

export { L3RouterPlugin } from './plugin.js';
export * from './definitions.js';
export * from './errors.js';
export { routersTable } from './routers/routers.js';
export { floatingipsTable } from './floatingips/floatingips.js';
export * as schema from './schema.js';
export { l3Options } from './options.js';

/**
 * The stock L3 plugin (`service_plugins = router`). Plugins that extend it spread this descriptor
 * and replace `name`, `description` and `create` (see `@nucleon/l3-greee`).
 */
export default definePlugin({
  name: 'l3-router',
  type: 'L3_ROUTER_NAT',
  description:
    'L3 Router Service Plugin for basic L3 forwarding between (L2) Neutron networks and access to external networks via a NAT gateway.',
  coreVersion: '^0.1.0',
  requires: ['CORE'],
  extensions: l3Extensions,
  supportedExtensionAliases: ['router', 'ext-gw-mode', 'extraroute', 'fip-port-details', 'l3-port-ip-change-not-allowed'],
  resources: [routersTable, floatingipsTable],
  quotas: [
    { name: 'router', default: 10, table: routersTable },
    { name: 'floatingip', default: 50, table: floatingipsTable },
  ],
  options: [l3Options],
  migrations: { owner: '@nucleon/l3-router', folder: new URL('../drizzle/', import.meta.url) },
  create: (runtime) => new L3RouterPlugin(runtime),
});
