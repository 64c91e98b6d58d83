import { index, integer, pgTable, primaryKey, text, uuid } from 'drizzle-orm/pg-core';

/** Tags of every resource with standard attributes (`standard-attr-tag`). */
export const tags = pgTable(
  'tags',
  {
    resourceId: uuid('resource_id').notNull(),
    resourceType: text('resource_type').notNull(),
    tag: text('tag').notNull(),
  },
  (t) => [primaryKey({ columns: [t.resourceId, t.tag] }), index('tags_tag_idx').on(t.tag)],
);

/** Per-project quota limits that differ from the configured defaults. */
export const quotas = pgTable(
  'quotas',
  {
    projectId: text('project_id').notNull(),
    resource: text('resource').notNull(),
    limit: integer('limit').notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.resource] })],
);
