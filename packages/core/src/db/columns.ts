import type { $Type, HasDefault, IsPrimaryKey, NotNull } from 'drizzle-orm';
import {
  boolean,
  integer,
  jsonb,
  text,
  timestamp,
  uuid,
  type PgBooleanBuilderInitial,
  type PgIntegerBuilderInitial,
  type PgJsonbBuilderInitial,
  type PgTextBuilderInitial,
  type PgTimestampBuilderInitial,
  type PgUUIDBuilderInitial,
} from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import type { AttributeMap, AttributeSpec, AttrType, FlagsOf, KindOf } from '../attributes/attribute.js';
import type { ResourceDefinition } from '../resources/define-resource.js';

type BuilderOf<K> = K extends 'boolean'
  ? PgBooleanBuilderInitial<''>
  : K extends 'integer'
    ? PgIntegerBuilderInitial<''>
    : K extends 'json'
      ? PgJsonbBuilderInitial<''>
      : K extends 'uuid'
        ? PgUUIDBuilderInitial<''>
        : PgTextBuilderInitial<'', [string, ...string[]]>;

type ColumnOf<Name, A> = Name extends 'id'
  ? IsPrimaryKey<NotNull<$Type<PgUUIDBuilderInitial<''>, string>>>
  : KindOf<A> extends 'timestamp'
    ? HasDefault<NotNull<PgTimestampBuilderInitial<''>>>
    : null extends AttrType<A>
      ? $Type<BuilderOf<KindOf<A>>, AttrType<A>>
      : NotNull<$Type<BuilderOf<KindOf<A>>, AttrType<A>>>;

/** The drizzle columns of a resource's stored attributes, keyed by attribute name. */
export type ColumnsOf<M extends AttributeMap> = {
  -readonly [K in keyof M as FlagsOf<M[K]>['stored'] extends true ? K : never]: ColumnOf<K, M[K]>;
};

/** The column name of an attribute: its own name with `:` made SQL-friendly (`router_external`). */
export function columnName(name: string, attribute: Pick<AttributeSpec, 'column'>): string {
  return attribute.column ?? name.replace(/:/g, '_');
}

function columnFor(name: string, attribute: AttributeSpec) {
  const column = columnName(name, attribute);
  if (name === 'id') return uuid(column).primaryKey();
  let builder;
  switch (attribute.kind) {
    case 'boolean':
      builder = boolean(column);
      break;
    case 'integer':
      builder = integer(column);
      break;
    case 'json':
      builder = jsonb(column);
      break;
    case 'uuid':
      builder = uuid(column);
      break;
    case 'timestamp':
      return timestamp(column, { withTimezone: true, mode: 'date' })
        .notNull()
        .default(sql`now()`);
    default:
      builder = text(column);
  }
  return attribute.nullable ? builder : builder.notNull();
}

/**
 * Derives the drizzle columns of a resource from its attribute map, so the table a plugin owns
 * cannot drift from the API it serves. Spread the result into `pgTable()` and add the plugin's
 * internal columns beside it.
 */
export function columnsOf<M extends AttributeMap>(resource: ResourceDefinition<M>): ColumnsOf<M> {
  const columns: Record<string, unknown> = {};
  for (const [name, attribute] of Object.entries(resource.attributes)) {
    if (attribute.spec.stored) columns[name] = columnFor(name, attribute.spec);
  }
  return columns as ColumnsOf<M>;
}
