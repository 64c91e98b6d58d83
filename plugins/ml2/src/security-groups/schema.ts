import { columnsOf, securityGroup, securityGroupRule } from '@nucleon/core';
import { index, pgTable, text, uuid } from 'drizzle-orm/pg-core';

/** Security groups. */
export const securityGroups = pgTable('securitygroups', columnsOf(securityGroup), (t) => [
  index('securitygroups_project_idx').on(t.project_id),
]);

const ruleColumns = columnsOf(securityGroupRule);

/** Security group rules; deleting a group deletes its rules and rules that refer to it. */
export const securityGroupRules = pgTable(
  'securitygrouprules',
  {
    ...ruleColumns,
    security_group_id: ruleColumns.security_group_id.references(() => securityGroups.id, { onDelete: 'cascade' }),
    remote_group_id: ruleColumns.remote_group_id.references(() => securityGroups.id, { onDelete: 'cascade' }),
  },
  (t) => [index('securitygrouprules_group_idx').on(t.security_group_id)],
);

/**
 * One row per project: its default group, created exactly once even under concurrency. The row
 * is claimed before the group exists, so it has no foreign key; deleting the group removes it.
 */
export const defaultSecurityGroups = pgTable('default_security_group', {
  projectId: text('project_id').primaryKey(),
  securityGroupId: uuid('security_group_id').notNull(),
});
