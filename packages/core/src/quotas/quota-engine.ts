import { and, eq, sql } from 'drizzle-orm';
import type { Config } from '../config/config.js';
import { coreOptions } from '../config/core-options.js';
import { defineOptions, opt, type OptionGroup } from '../config/options.js';
import type { Context } from '../context/context.js';
import { queryRows } from '../db/database.js';
import { quotas as quotasTable } from '../db/schema.js';
import { OverQuota } from '../errors/neutron-error.js';
import type { AnyResourceTable } from '../resources/resource-table.js';

/** A resource counted by quotas, declared by the plugin that stores it. */
export interface QuotaResource {
  /** Quota key, e.g. `network`. */
  readonly name: string;
  /** Neutron's default limit (`quota_network = 100`). */
  readonly default: number;
  /** The table whose rows of a project count as its usage. */
  readonly table: AnyResourceTable;
}

/** The `[quotas] quota_<name>` options of a set of quota resources. */
export function quotaOptions(resources: readonly QuotaResource[]): OptionGroup {
  const options: Record<string, ReturnType<typeof opt.int>> = {};
  for (const resource of resources) {
    options[`quota_${resource.name}`] = opt.int(resource.default, `Default ${resource.name} limit per project; -1 is unlimited.`, {
      min: -1,
    });
  }
  return defineOptions({ quotas: options });
}

/**
 * Quotas per project (Neutron's DB quota driver): defaults from `[quotas]`, per-project
 * overrides in the `quotas` table, usage counted from the resources' tables. Enforcement runs in
 * the creating transaction under a per-project advisory lock, so concurrent creates cannot
 * overshoot a limit.
 */
export class QuotaEngine {
  private readonly resources = new Map<string, QuotaResource>();
  private readonly defaultLimits: Record<string, number> = {};

  constructor(config: Config, resources: readonly QuotaResource[]) {
    const values = config.get(quotaOptions(resources)).quotas as Record<string, number>;
    const fallback = config.get(coreOptions).quotas.default_quota;
    for (const resource of resources) {
      this.resources.set(resource.name, resource);
      this.defaultLimits[resource.name] = values[`quota_${resource.name}`] ?? fallback;
    }
  }

  /** Quota resource names, in registration order. */
  get names(): string[] {
    return [...this.resources.keys()];
  }

  /** The resource counted under a quota name, if any. */
  resource(name: string): QuotaResource | undefined {
    return this.resources.get(name);
  }

  /** Configured default limits. */
  defaults(): Record<string, number> {
    return { ...this.defaultLimits };
  }

  /** Effective limits of a project (its overrides over the defaults). */
  async limits(ctx: Context, projectId: string): Promise<Record<string, number>> {
    const limits = this.defaults();
    const rows = await ctx.db.select().from(quotasTable).where(eq(quotasTable.projectId, projectId));
    for (const row of rows) if (row.resource in limits) limits[row.resource] = row.limit;
    return limits;
  }

  /** Projects with overrides and their effective limits (`GET /v2.0/quotas`). */
  async projectsWithOverrides(ctx: Context): Promise<Array<{ projectId: string; limits: Record<string, number> }>> {
    const rows = await ctx.db.select().from(quotasTable).orderBy(quotasTable.projectId);
    const byProject = new Map<string, Record<string, number>>();
    for (const row of rows) {
      const limits = byProject.get(row.projectId) ?? this.defaults();
      if (row.resource in limits) limits[row.resource] = row.limit;
      byProject.set(row.projectId, limits);
    }
    return [...byProject].map(([projectId, limits]) => ({ projectId, limits }));
  }

  /** Rows of `resource` a project owns. */
  async usage(ctx: Context, projectId: string, resource: string): Promise<number> {
    const table = this.resources.get(resource)!.table;
    const [row] = await queryRows<{ n: number }>(
      ctx.db,
      sql`select count(*)::int as n from ${table.table} where ${table.column('project_id')} = ${projectId}`,
    );
    return row!.n;
  }

  /**
   * Refuses with 409 `OverQuota` when creating `count` more `resource` rows for the project
   * would exceed its limit. Call inside the creating transaction.
   */
  async enforce(ctx: Context, projectId: string, resource: string, count: number): Promise<void> {
    if (!this.resources.has(resource)) return;
    const limits = await this.limits(ctx, projectId);
    const limit = limits[resource]!;
    if (limit < 0) return;
    // Serialise creators of this resource in this project until commit, so the count is exact.
    await ctx.db.execute(sql`select pg_advisory_xact_lock(hashtext(${`quota:${projectId}:${resource}`}))`);
    if ((await this.usage(ctx, projectId, resource)) + count > limit) {
      throw OverQuota({ overs: `['${resource}']` });
    }
  }

  /** Sets per-project limits (values already validated). */
  async set(ctx: Context, projectId: string, values: Record<string, number>): Promise<void> {
    for (const [resource, limit] of Object.entries(values)) {
      await ctx.db
        .insert(quotasTable)
        .values({ projectId, resource, limit })
        .onConflictDoUpdate({ target: [quotasTable.projectId, quotasTable.resource], set: { limit } });
    }
  }

  /** Drops a project's overrides (back to defaults). */
  async reset(ctx: Context, projectId: string): Promise<void> {
    await ctx.db.delete(quotasTable).where(and(eq(quotasTable.projectId, projectId)));
  }
}
