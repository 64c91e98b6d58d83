import { columnsOf } from '@nucleon/core';
import { index, pgTable } from 'drizzle-orm/pg-core';
import { meteringLabel, meteringLabelRule } from './definitions.js';

/** Metering labels. */
export const meteringLabels = pgTable('meteringlabels', columnsOf(meteringLabel), (t) => [
  index('meteringlabels_project_idx').on(t.project_id),
]);

const ruleColumns = columnsOf(meteringLabelRule);

/** Metering label rules; deleting a label deletes its rules, as in Neutron. */
export const meteringLabelRules = pgTable(
  'meteringlabelrules',
  {
    ...ruleColumns,
    metering_label_id: ruleColumns.metering_label_id.references(() => meteringLabels.id, { onDelete: 'cascade' }),
  },
  (t) => [index('meteringlabelrules_label_idx').on(t.metering_label_id)],
);
