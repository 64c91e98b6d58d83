import { bigserial, index, integer, jsonb, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

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

/**
 * The outbox: side effects (DNS records, billing events) written in the transaction of the change
 * that causes them, then applied by the dispatcher (`outbox/dispatcher.ts`). Rows of one `key`
 * are applied in `id` order; a row leaves the table once applied.
 */
export const outbox = pgTable(
  'nucleon_outbox',
  {
    id: bigserial('id', { mode: 'number' }).primaryKey(),
    /** Which handler applies it (`dns`, `billing`). */
    topic: text('topic').notNull(),
    /** Rows with the same key are applied one at a time, oldest first (a floating IP, a record name). */
    key: text('key').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    attempts: integer('attempts').notNull().default(0),
    /** Not before this time (backoff after a failure). */
    notBefore: timestamp('not_before', { withTimezone: true }).notNull().defaultNow(),
    /** A dispatcher holds it until then (a crashed one's claim expires). */
    leasedUntil: timestamp('leased_until', { withTimezone: true }),
    lastError: text('last_error'),
  },
  (t) => [index('nucleon_outbox_topic_key_idx').on(t.topic, t.key, t.id), index('nucleon_outbox_not_before_idx').on(t.notBefore)],
);
