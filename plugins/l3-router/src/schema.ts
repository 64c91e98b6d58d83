/** The L3 plugin's tables, for drizzle-kit and for plugins that extend it. */
export { routers } from './routers/schema.js';
export { floatingips } from './floatingips/schema.js';
