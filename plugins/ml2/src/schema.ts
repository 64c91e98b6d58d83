/** ML2's tables, for drizzle-kit and for plugins that join against them. */
export { networks, segmentAllocations } from './networks/schema.js';
export { subnets } from './subnets/schema.js';
export { ports, ipAllocations } from './ports/schema.js';
export { securityGroups, securityGroupRules, defaultSecurityGroups } from './security-groups/schema.js';
