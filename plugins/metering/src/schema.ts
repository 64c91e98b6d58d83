/** The metering plugin's tables (drizzle-kit reads this file to generate the migrations). */
export { meteringLabelRules, meteringLabels } from './labels/schema.js';
export { usageIntervals } from './usage/ledger.js';
