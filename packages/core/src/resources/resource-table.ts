import { randomUUID } from 'node:crypto';
import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import { PgDialect, type PgColumn, type PgTable } from 'drizzle-orm/pg-core';
import type { AttributeSpec } from '../attributes/attribute.js';
import { isUuid, toBoolean, toInteger } from '../attributes/attribute.js';
import type { Context } from '../context/context.js';
import { queryRows } from '../db/database.js';
import type { ReadCache } from '../db/read-cache.js';
import type { Runtime } from '../runtime.js';
import { tags as tagsTable } from '../db/schema.js';
import { HTTPBadRequest, RevisionNumberConstraintFailed } from '../errors/neutron-error.js';
import { canonicalIp } from '../net/ip.js';
import { canonicalMac } from '../net/mac.js';
import type { ResourceDefinition, ResourceOf } from './define-resource.js';

/** One sort key of a list request. */
export interface SortKey {
  readonly key: string;
  readonly direction: 'asc' | 'desc';
}

/** A list request after parsing (see the API's query parser). */
export interface ListOptions {
  /** Attribute name → accepted values (OR); different attributes AND. Values are raw strings. */
  readonly filters?: Readonly<Record<string, readonly string[]>>;
  /** Extra SQL conditions for internal callers. */
  readonly where?: readonly SQL[];
  /** Attributes to return; all visible ones when absent. */
  readonly fields?: readonly string[];
  readonly sorts?: readonly SortKey[];
  readonly limit?: number;
  readonly marker?: string;
  readonly pageReverse?: boolean;
}

/** A page of results as JSON text, ready to send, plus what pagination links need. */
export interface ListPage {
  readonly json: string;
  readonly count: number;
  readonly firstId?: string;
  readonly lastId?: string;
}

/** An attribute as one runtime serves it: its spec and the SQL that renders it. */
export interface ServedAttribute {
  readonly name: string;
  readonly spec: AttributeSpec;
  readonly select: SQL;
}

/** How a plugin binds a resource to its table: SQL for what is not a column, custom filters. */
export interface TableBindingOptions<T extends PgTable> {
  /**
   * SQL for attributes marked `.computed()` (e.g. a network's `subnets`). `runtime` is the server
   * rendering it, for SQL that follows configuration; it is absent when a row is embedded in
   * another resource's response independently of any runtime ({@link ResourceTable.jsonOf}).
   */
  readonly computed?: Readonly<Record<string, (table: T, runtime?: Runtime) => SQL>>;
  /**
   * Filters on attributes that are not plain columns (`fixed_ips=ip_address=…`), or query
   * parameters of the resource's own that are no attribute (a time window's `start` and `end`).
   * A filter throws a NeutronError (400) for values it cannot use.
   */
  readonly filters?: Readonly<Record<string, (table: T, values: readonly string[]) => SQL>>;
  /**
   * Rows of other projects a non-admin may still see, as Neutron's query hooks decide: shared and
   * external networks, subnets of shared networks, ports on the caller's networks. Policy
   * (`get_<resource>`) then checks each row; this keeps lists and pages to candidate rows.
   */
  readonly visibleWhen?: (table: T, ctx: Context) => SQL;
  /** Runs before an API list, in a transaction (Neutron creates a project's default security group there). */
  readonly beforeList?: (ctx: Context) => Promise<void>;
}

const TIMESTAMP_FORMAT = `'YYYY-MM-DD"T"HH24:MI:SS"Z"'`;
/** Renders SQL fragments to text as the databases' drizzle sessions do (see `jsonSelect`). */
const RENDERER = new PgDialect();
const TAG_FILTERS = ['tags', 'tags-any', 'not-tags', 'not-tags-any'] as const;

function literal(text: string): SQL {
  return sql.raw(`'${text.replace(/'/g, "''")}'`);
}

/** `json_build_object` takes at most 100 arguments; wider objects are merged as jsonb. */
function jsonObject(entries: ReadonlyArray<readonly [string, SQL]>): SQL {
  const chunks: SQL[] = [];
  for (let i = 0; i < entries.length; i += 50) {
    const parts = entries.slice(i, i + 50).flatMap(([key, value]) => [literal(key), value]);
    chunks.push(sql`json_build_object(${sql.join(parts, sql`, `)})`);
  }
  if (chunks.length === 0) return sql`json_build_object()`;
  if (chunks.length === 1) return chunks[0]!;
  return sql`(${sql.join(
    chunks.map((c) => sql`${c}::jsonb`),
    sql` || `,
  )})::json`;
}

/**
 * A resource bound to the plugin table that stores it. The core's generic machinery lives here:
 * responses rendered as JSON by the database (cost follows the page, not the table), filters,
 * sorting, keyset pagination, standard attributes, revision numbers and tags.
 */
export class ResourceTable<R extends ResourceDefinition = ResourceDefinition, T extends PgTable = PgTable> {
  constructor(
    readonly resource: R,
    readonly table: T,
    readonly options: TableBindingOptions<T> = {},
  ) {}

  /** The drizzle column of an attribute. */
  column(name: string): PgColumn {
    const column = (this.table as unknown as Record<string, PgColumn>)[name === 'tenant_id' ? 'project_id' : name];
    if (!column) throw new Error(`${this.resource.name} has no column for ${name}`);
    return column;
  }

  private get id(): PgColumn {
    return this.column('id');
  }

  /** The SQL rendering one attribute in responses (for `runtime` when given). */
  selectFor(name: string, spec: AttributeSpec, runtime?: Runtime): SQL {
    // Hidden attributes are accepted in requests but never rendered (they may have no column).
    if (!spec.visible) return sql`null`;
    if (name === 'tags') {
      return sql`coalesce((select json_agg(tg.tag order by tg.tag) from ${tagsTable} tg where tg.resource_id = ${this.id}), '[]'::json)`;
    }
    const computed = this.options.computed?.[name];
    if (computed) return computed(this.table, runtime);
    if (!spec.stored && name !== 'tenant_id') throw new Error(`${this.resource.name}.${name} is computed but has no SQL`);
    const column = this.column(name);
    if (spec.kind === 'timestamp') return sql`to_char(${column} at time zone 'UTC', ${sql.raw(TIMESTAMP_FORMAT)})`;
    return sql`${column}`;
  }

  /** Attributes this runtime serves for the resource, in response order. */
  served(ctx: Context): readonly ServedAttribute[] {
    return ctx.runtime.served(this);
  }

  /**
   * The JSON of a row with the given attributes (all visible ones by default), independent of
   * which extensions a runtime serves: for embedding rows in another resource's response.
   */
  jsonOf(names?: readonly string[]): SQL {
    const entries = Object.entries(this.resource.attributes)
      .filter(([name, { spec }]) => spec.visible && (!names || names.includes(name)))
      .map(([name, { spec }]) => [name, this.selectFor(name, spec)] as const);
    return jsonObject(entries);
  }

  /**
   * JSON selects rendered to SQL text, per runtime and `fields`: building one with drizzle costs
   * about 0.1 ms, more than the database takes to run a show. Bounded: `fields` come from clients.
   */
  private readonly renderedSelects = new WeakMap<object, Map<string, SQL>>();

  private jsonSelect(ctx: Context, fields?: readonly string[]): SQL {
    const key = fields && fields.length > 0 ? fields.join(',') : '';
    let rendered = this.renderedSelects.get(ctx.runtime);
    if (!rendered) this.renderedSelects.set(ctx.runtime, (rendered = new Map()));
    const cached = rendered.get(key);
    if (cached) return cached;
    let attributes = this.served(ctx).filter((a) => a.spec.visible);
    if (fields && fields.length > 0) {
      const wanted = new Set(fields);
      attributes = attributes.filter((a) => wanted.has(a.name));
    }
    const select = jsonObject(attributes.map((a) => [a.name, a.select] as const));
    const query = RENDERER.sqlToQuery(select);
    // Only parameter-free SQL (columns, literals, subqueries) can stand as raw text.
    const result = query.params.length === 0 ? sql.raw(query.sql) : select;
    if (rendered.size < 256) rendered.set(key, result);
    return result;
  }

  /** Rows a context may see: its own project's, shared ones, everything for admins. */
  private scope(ctx: Context): SQL | undefined {
    if (ctx.isAdmin) return undefined;
    const own = eq(this.column('project_id'), ctx.projectId ?? '');
    const shared = this.options.visibleWhen?.(this.table, ctx);
    return shared ? sql`(${own} or ${shared})` : own;
  }

  private filterCondition(ctx: Context, name: string, values: readonly string[]): SQL {
    if ((TAG_FILTERS as readonly string[]).includes(name)) return this.tagFilter(name, values);
    const custom = this.options.filters?.[name];
    if (custom) return custom(this.table, values);
    const served = this.served(ctx).find((a) => a.name === name);
    if (!served || !served.spec.filter) throw HTTPBadRequest({ message: `['${name}'] is invalid attribute for filtering` });
    const column = this.column(name);
    const spec = served.spec;
    const converted: unknown[] = [];
    for (const raw of values) {
      switch (spec.kind) {
        case 'boolean':
          converted.push(toBoolean(raw));
          break;
        case 'integer':
          converted.push(toInteger(raw));
          break;
        case 'uuid':
          // A malformed id matches nothing rather than reaching the database as a type error.
          if (isUuid(raw)) converted.push(raw.toLowerCase());
          break;
        case 'ip':
          converted.push(canonicalIp(raw) ?? raw);
          break;
        case 'mac':
          converted.push(canonicalMac(raw) ?? raw);
          break;
        default:
          converted.push(raw);
      }
    }
    if (converted.length === 0) return sql`false`;
    return converted.length === 1 ? eq(column, converted[0]) : inArray(column, converted);
  }

  private tagFilter(name: string, values: readonly string[]): SQL {
    const wanted = [...new Set(values.flatMap((v) => v.split(',')).filter((v) => v !== ''))];
    if (wanted.length === 0) return sql`true`;
    const matching = sql`(select count(*) from ${tagsTable} tg where tg.resource_id = ${this.id} and tg.tag in (${sql.join(
      wanted.map((w) => sql`${w}`),
      sql`, `,
    )}))`;
    switch (name) {
      case 'tags':
        return sql`${matching} = ${wanted.length}`;
      case 'tags-any':
        return sql`${matching} > 0`;
      case 'not-tags':
        return sql`${matching} < ${wanted.length}`;
      default:
        return sql`${matching} = 0`;
    }
  }

  private conditions(ctx: Context, options: ListOptions): SQL[] {
    const conditions: SQL[] = [];
    const scope = this.scope(ctx);
    if (scope) conditions.push(scope);
    for (const [name, values] of Object.entries(options.filters ?? {})) {
      conditions.push(this.filterCondition(ctx, name, values));
    }
    conditions.push(...(options.where ?? []));
    return conditions;
  }

  /** Lists rows as one JSON array built by the database, with keyset pagination. */
  async list(ctx: Context, options: ListOptions = {}): Promise<ListPage> {
    const cache = this.cacheFor(ctx, options.where);
    if (!cache) return this.render(ctx, options);
    return cache.through(
      `${this.cacheScope(ctx)}|list|${JSON.stringify(options)}`,
      () => this.render(ctx, options),
      (page) => page.json.length,
    );
  }

  /**
   * The read cache, for reads outside a transaction (inside one, the caller may see its own
   * uncommitted writes) and without caller-built SQL conditions (which have no cache key).
   */
  private cacheFor(ctx: Context, where?: readonly SQL[]): ReadCache | undefined {
    return ctx.inTransaction || (where && where.length > 0) ? undefined : ctx.runtime.readCache;
  }

  /** What decides what a caller sees: resource and visibility scope. */
  private cacheScope(ctx: Context): string {
    return `${this.resource.name}|${ctx.isAdmin ? 'admin' : `${ctx.projectId ?? ''}|${ctx.roles.join(',')}`}`;
  }

  private async render(ctx: Context, options: ListOptions): Promise<ListPage> {
    const sorts: SortKey[] = [...(options.sorts ?? [])];
    if (!sorts.some((s) => s.key === 'id')) sorts.push({ key: 'id', direction: sorts[0]?.direction ?? 'asc' });
    const reverse = options.pageReverse === true;
    const conditions = this.conditions(ctx, options);
    if (options.marker !== undefined) conditions.push(await this.afterMarker(ctx, options.marker, sorts, reverse));
    const orderBy = sql.join(
      sorts.map((s) => {
        const ascending = (s.direction === 'asc') !== reverse;
        const column = this.column(s.key);
        // NULLs sort first ascending. A NOT NULL column gets the plain order, which means the
        // same and matches its btree index: pages are then read off the index, not sorted.
        const direction = column.notNull ? (ascending ? 'asc' : 'desc') : ascending ? 'asc nulls first' : 'desc nulls last';
        return sql`${column} ${sql.raw(direction)}`;
      }),
      sql`, `,
    );
    const where = conditions.length > 0 ? sql`where ${and(...conditions)}` : sql``;
    const limit = options.limit !== undefined && options.limit > 0 ? sql`limit ${options.limit}` : sql``;
    const order = reverse ? sql.raw('desc') : sql.raw('asc');
    const [row] = await queryRows<{ body: string; count: number; first: string | null; last: string | null }>(
      ctx.db,
      sql`select coalesce(json_agg(page.j order by page.rn ${order}), '[]'::json)::text as body,
                 count(*)::int as count,
                 (array_agg(page.id order by page.rn ${order}))[1]::text as first,
                 (array_agg(page.id order by page.rn ${order}))[count(*)::int]::text as last
          from (select ${this.jsonSelect(ctx, options.fields)} as j, ${this.id} as id,
                       row_number() over (order by ${orderBy}) as rn
                from ${this.table} ${where} order by ${orderBy} ${limit}) page`,
    );
    return {
      json: row!.body,
      count: row!.count,
      ...(row!.first ? { firstId: row!.first } : {}),
      ...(row!.last ? { lastId: row!.last } : {}),
    };
  }

  /** The keyset condition "after the marker row" for the given sort order. */
  private async afterMarker(ctx: Context, marker: string, sorts: readonly SortKey[], reverse: boolean): Promise<SQL> {
    if (!isUuid(marker)) throw this.resource.notFound(marker);
    const columns = sorts.map((s) => sql`${this.column(s.key)}`);
    const [values] = await queryRows<Record<string, unknown>>(
      ctx.db,
      sql`select ${sql.join(
        columns.map((c, i) => sql`${c} as ${sql.identifier(`k${i}`)}`),
        sql`, `,
      )} from ${this.table} where ${this.id} = ${marker.toLowerCase()}`,
    );
    if (!values) throw this.resource.notFound(marker);
    // (k1 > m1) or (k1 = m1 and k2 > m2) or …, with NULLs ordered first.
    const alternatives: SQL[] = sorts.map((sort, i) => {
      const equalBefore = sorts.slice(0, i).map((_, j) => {
        const value = values[`k${j}`];
        return value === null ? sql`${columns[j]} is null` : sql`${columns[j]} = ${value}`;
      });
      const ascending = (sort.direction === 'asc') !== reverse;
      const value = values[`k${i}`];
      let beyond: SQL;
      if (value === null) beyond = ascending ? sql`${columns[i]} is not null` : sql`false`;
      else if (ascending) beyond = sql`${columns[i]} > ${value}`;
      else beyond = sql`(${columns[i]} < ${value} or ${columns[i]} is null)`;
      return and(...equalBefore, beyond)!;
    });
    return sql`(${sql.join(alternatives, sql` or `)})`;
  }

  /** One row as JSON text (what `GET /collection/{id}` sends), or undefined when not visible. */
  async showJson(ctx: Context, id: string, fields?: readonly string[]): Promise<string | undefined> {
    const cache = this.cacheFor(ctx);
    if (!cache) return this.renderOne(ctx, id, fields);
    return cache.through(
      `${this.cacheScope(ctx)}|show|${id}|${fields?.join(',') ?? ''}`,
      () => this.renderOne(ctx, id, fields),
      (json) => json?.length ?? 0,
    );
  }

  private async renderOne(ctx: Context, id: string, fields?: readonly string[]): Promise<string | undefined> {
    if (!isUuid(id)) return undefined;
    const conditions = [eq(this.id, id.toLowerCase())];
    const scope = this.scope(ctx);
    if (scope) conditions.push(scope);
    const [row] = await queryRows<{ j: string }>(
      ctx.db,
      sql`select ${this.jsonSelect(ctx, fields)}::text as j from ${this.table} where ${and(...conditions)}`,
    );
    return row?.j;
  }

  /** One row as an object, or undefined when it does not exist or is not visible. */
  async find(ctx: Context, id: string): Promise<ResourceOf<R> | undefined> {
    const json = await this.showJson(ctx, id);
    return json === undefined ? undefined : (JSON.parse(json) as ResourceOf<R>);
  }

  /** One row as an object; the resource's NotFound error when it is missing or not visible. */
  async get(ctx: Context, id: string): Promise<ResourceOf<R>> {
    const found = await this.find(ctx, id);
    if (!found) throw this.resource.notFound(id);
    return found;
  }

  /** Rows matching filters and conditions, as objects (for plugins' internal reads). */
  async findMany(ctx: Context, options: ListOptions = {}): Promise<Array<ResourceOf<R>>> {
    const page = await this.list(ctx, options);
    return JSON.parse(page.json) as Array<ResourceOf<R>>;
  }

  /**
   * Inserts a row with its standard attributes filled in (id, timestamps, initial revision)
   * and returns its id. `values` are column values keyed by attribute name.
   */
  async insert(ctx: Context, values: Record<string, unknown>): Promise<string> {
    const id = typeof values.id === 'string' ? values.id : randomUUID();
    const row: Record<string, unknown> = { ...values, id };
    delete row.tenant_id;
    if (this.resource.hasStandardAttributes) row.revision_number = this.resource.initialRevision;
    await ctx.db.insert(this.table).values(row as never);
    ctx.markOnce(`${this.resource.name}:${id}`);
    return id;
  }

  /**
   * Updates columns of a row and, once per transaction, bumps its revision number and
   * `updated_at` (Neutron bumps once per committing transaction). Returns false when the row is gone.
   */
  async update(ctx: Context, id: string, values: Record<string, unknown>): Promise<boolean> {
    const set: Record<string, unknown> = { ...values };
    delete set.tenant_id;
    if (this.resource.hasStandardAttributes) {
      set.updated_at = sql`now()`;
      if (ctx.markOnce(`${this.resource.name}:${id}`)) set.revision_number = sql`${this.column('revision_number')} + 1`;
    }
    if (Object.keys(set).length === 0) return true;
    const updated = await ctx.db
      .update(this.table)
      .set(set as never)
      .where(eq(this.id, id))
      .returning({ id: this.id });
    return updated.length > 0;
  }

  /** Bumps the revision number once per transaction (a child changed: a tag, a rule, a binding). */
  async bumpRevision(ctx: Context, id: string): Promise<void> {
    if (!this.resource.hasStandardAttributes) return;
    await this.update(ctx, id, {});
  }

  /**
   * Locks the row for the rest of the transaction and checks `If-Match: revision_number=N`.
   * Raises the resource's NotFound when it is missing, 412 when the revision differs.
   */
  async lockAndCheckRevision(ctx: Context, id: string, expected?: number): Promise<void> {
    const [row] = await queryRows<{ revision: number | null }>(
      ctx.db,
      sql`select ${this.resource.hasStandardAttributes ? sql`${this.column('revision_number')}` : sql`null`} as revision
          from ${this.table} where ${this.id} = ${id} for update`,
    );
    if (!row) throw this.resource.notFound(id);
    if (expected !== undefined && row.revision !== expected) {
      throw RevisionNumberConstraintFailed({ expected, current: row.revision ?? 0 });
    }
  }

  /** Deletes a row and its tags; returns false when it was already gone. */
  async delete(ctx: Context, id: string): Promise<boolean> {
    if (this.resource.hasStandardAttributes) await ctx.db.delete(tagsTable).where(eq(tagsTable.resourceId, id));
    const deleted = await ctx.db.delete(this.table).where(eq(this.id, id)).returning({ id: this.id });
    return deleted.length > 0;
  }
}

/** A resource table of any resource and table type (for registries). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyResourceTable = ResourceTable<ResourceDefinition, any>;

/** Binds a resource to the table that stores it (see {@link ResourceTable}). */
export function bindTable<R extends ResourceDefinition, T extends PgTable>(
  resource: R,
  table: T,
  options: TableBindingOptions<T> = {},
): ResourceTable<R, T> {
  return new ResourceTable(resource, table, options);
}
