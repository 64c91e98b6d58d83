import { randomUUID } from 'node:crypto';
import {
  attr,
  bindTable,
  columnsOf,
  defineExtension,
  defineResource,
  HTTPBadRequest,
  queryRows,
  type Context,
  type Database,
  type ResourceOf,
} from '@nucleon/core';
import { and, eq, isNull, sql, type SQL } from 'drizzle-orm';
import { index, pgTable, timestamp, uniqueIndex, type PgColumn } from 'drizzle-orm/pg-core';

/** What a ledger interval measures: a network or floating IP existing, or a floating IP associated. */
export const USAGE_KINDS = ['exists', 'associated'] as const;
export type UsageKind = (typeof USAGE_KINDS)[number];
/** The resources billed. */
export const BILLED_RESOURCES = ['network', 'floatingip'] as const;
export type BilledResource = (typeof BILLED_RESOURCES)[number];

/**
 * One interval of the usage ledger (`/v2.0/metering/usage-intervals`, admins only): from the
 * event that started it to the one that ended it (`ended_at` null while it lasts). Filter with
 * `start`/`end` (ISO 8601) for the intervals that overlap a billing period.
 */
export const usageInterval = defineResource({
  name: 'usage_interval',
  collection: 'usage_intervals',
  pathPrefix: '/metering',
  label: 'Usage interval',
  notFoundType: 'UsageIntervalNotFound',
  standardAttributes: false,
  verbs: ['list', 'show'],
  attributes: {
    resource_type: attr.enum(BILLED_RESOURCES).sortable(),
    resource_id: attr.uuid().sortable(),
    kind: attr.enum(USAGE_KINDS).sortable(),
    // Shown to the microsecond (standard timestamps show seconds), so they equal the events' times.
    started_at: attr.timestamp().sortable().computed(),
    ended_at: attr.timestamp().nullable().sortable().computed(),
    /** `message_id` of the usage event that opened the interval, and of the one that closed it. */
    start_event_id: attr.uuid(),
    end_event_id: attr.uuid().nullable(),
    /** What was billed: a network's name; a floating IP's address; an association's port and fixed IP. */
    details: attr.json<Record<string, unknown>>(),
  },
  policies: { get_usage_interval: 'rule:admin_only' },
});

/** A ledger interval as the API returns it. */
export type UsageInterval = ResourceOf<typeof usageInterval>;

/** `GET /v2.0/metering/usage-intervals`: the usage ledger, served with the metering plugin. */
export const usageExtension = defineExtension({
  alias: 'nucleon-metering-usage',
  name: 'Usage ledger',
  description:
    'Admin view of the intervals each network and floating IP existed and each floating IP was associated, per project, for billing.',
  updated: '2026-11-27T00:00:00-00:00',
  resources: [usageInterval],
  requires: ['metering'],
});

const columns = columnsOf(usageInterval);

/** The ledger; at most one open interval per resource and kind, which the unique index keeps so. */
export const usageIntervals = pgTable(
  'metering_usage_intervals',
  {
    ...columns,
    started_at: timestamp('started_at', { withTimezone: true, mode: 'date' }).notNull(),
    ended_at: timestamp('ended_at', { withTimezone: true, mode: 'date' }),
  },
  (t) => [
    index('metering_usage_project_idx').on(t.project_id, t.started_at),
    index('metering_usage_resource_idx').on(t.resource_id),
    uniqueIndex('metering_usage_open_key')
      .on(t.resource_id, t.kind)
      .where(sql`${t.ended_at} is null`),
  ],
);

/** An ISO 8601 time from a query parameter, or a 400 naming the parameter. */
export function parseTime(name: string, value: string): Date {
  const time = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value) ? new Date(value) : undefined;
  if (!time || Number.isNaN(time.getTime())) {
    throw HTTPBadRequest({ message: `Invalid input for ${name}. Reason: '${value}' is not an ISO 8601 time (e.g. 2026-11-01T00:00:00Z).` });
  }
  return time;
}

/** The latest of several values of a time filter (a repeated `start`), the earliest for `end`. */
const timeOf = (name: string, values: readonly string[], pick: (a: number, b: number) => number) =>
  new Date(values.map((v) => parseTime(name, v).getTime()).reduce(pick)).toISOString();

const microseconds = (column: PgColumn): SQL => sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

export const usageIntervalsTable = bindTable(usageInterval, usageIntervals, {
  computed: { started_at: (t) => microseconds(t.started_at), ended_at: (t) => microseconds(t.ended_at) },
  filters: {
    // Intervals that overlap [start, end): still open or ended after start, and begun before end.
    start: (t, values): SQL => sql`(${t.ended_at} is null or ${t.ended_at} > ${timeOf('start', values, Math.max)}::timestamptz)`,
    end: (t, values): SQL => sql`${t.started_at} < ${timeOf('end', values, Math.min)}::timestamptz`,
  },
});

/** What opening an interval records. */
export interface OpenInterval {
  readonly projectId: string;
  readonly resourceType: BilledResource;
  readonly resourceId: string;
  readonly kind: UsageKind;
  readonly at: Date;
  readonly eventId: string;
  readonly details: Record<string, unknown>;
}

/** Writes the ledger, in the transaction of the change that the interval starts or ends with. */
export const ledger = {
  async open(ctx: Context, interval: OpenInterval): Promise<void> {
    await ctx.db.insert(usageIntervals).values({
      id: randomUUID(),
      project_id: interval.projectId,
      resource_type: interval.resourceType,
      resource_id: interval.resourceId,
      kind: interval.kind,
      started_at: interval.at,
      start_event_id: interval.eventId,
      details: interval.details,
    } as never);
  },

  /** Ends the open interval of a resource and kind, if there is one. */
  async close(ctx: Context, resourceId: string, kind: UsageKind, at: Date, eventId: string): Promise<void> {
    await ctx.db
      .update(usageIntervals)
      .set({ ended_at: at, end_event_id: eventId })
      .where(and(eq(usageIntervals.resource_id, resourceId), eq(usageIntervals.kind, kind), isNull(usageIntervals.ended_at)));
  },
};

/** One line of a usage report: what a project used of one kind of resource in the period. */
export interface UsageTotal {
  readonly project_id: string;
  readonly resource_type: BilledResource;
  readonly kind: UsageKind;
  /** Distinct resources with usage in the period. */
  readonly resources: number;
  /** Seconds of usage inside the period, summed over the resources. */
  readonly seconds: number;
}

/**
 * Usage per project, resource type and kind within [start, end): every interval clipped to the
 * period (an open one counts until `end`, or until now when `end` is in the future).
 */
export async function usageTotals(db: Database, start: Date, end: Date, projectId?: string): Promise<UsageTotal[]> {
  const t = usageIntervals;
  const rows = await queryRows<{
    project_id: string;
    resource_type: BilledResource;
    kind: UsageKind;
    resources: string | number;
    seconds: string | number;
  }>(
    db,
    sql`select ${t.project_id} as project_id, ${t.resource_type} as resource_type, ${t.kind} as kind,
               count(distinct ${t.resource_id}) as resources,
               sum(greatest(extract(epoch from least(coalesce(${t.ended_at}, now()), ${end.toISOString()}::timestamptz)
                                             - greatest(${t.started_at}, ${start.toISOString()}::timestamptz)), 0)) as seconds
          from ${t}
         where ${t.started_at} < ${end.toISOString()}::timestamptz
           and (${t.ended_at} is null or ${t.ended_at} > ${start.toISOString()}::timestamptz)
           ${projectId === undefined ? sql`` : sql`and ${t.project_id} = ${projectId}`}
         group by 1, 2, 3
         order by 1, 2, 3`,
  );
  return rows.map((r) => ({ ...r, resources: Number(r.resources), seconds: Math.round(Number(r.seconds) * 1000) / 1000 }));
}
