import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseCreateItem, parseUpdateItem, unwrapCreateBody, unwrapUpdateBody } from '../attributes/request-body.js';
import { coreOptions } from '../config/core-options.js';
import type { Context } from '../context/context.js';
import { BadRequest, HTTPBadRequest, TagNotFound, TagResourceNotFound } from '../errors/neutron-error.js';
import { PolicyEnforcer } from '../policy/enforcer.js';
import type { ListOptions } from '../resources/resource-table.js';
import { addTags, checkTag, listTags, removeAllTags, removeTag, replaceTags, tagsFromBody } from '../resources/tags.js';
import { actionMethod, methodSuffix, type Runtime, type ServedResource } from '../runtime.js';
import { paginationLinks, parseListQuery } from './list-query.js';

type Handler = (ctx: Context, request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
type PluginMethod = (ctx: Context, ...args: unknown[]) => Promise<unknown>;

const JSON_TYPE = 'application/json';

/** The request's base URL as clients reach it (`http://127.0.0.1:9696`). */
export function baseUrl(request: FastifyRequest): string {
  return `${request.protocol}://${request.headers.host ?? `${request.hostname}`}`;
}

/**
 * `If-Match: revision_number=N` (several etags may be listed; only revision ones count),
 * as Neutron's `check_request_for_revision_constraint`.
 */
export function revisionConstraint(request: FastifyRequest, runtime: Runtime): number | undefined {
  const header = request.headers['if-match'];
  if (!header) return undefined;
  const etags = String(header)
    .split(',')
    .map((e) => e.trim().replace(/^W\//, '').replace(/^"|"$/g, ''))
    .filter((e) => e.startsWith('revision_number='));
  if (etags.length === 0) return undefined;
  if (!runtime.extensions.isEnabled('revision-if-match')) {
    throw BadRequest({ resource: 'if-match', msg: 'This server does not support constraining operations based on revision numbers' });
  }
  if (etags.length > 1) throw BadRequest({ resource: 'if-match', msg: 'Multiple revision_number etags are not supported' });
  const value = etags[0]!.slice('revision_number='.length);
  if (!/^\d+$/.test(value)) {
    throw BadRequest({ resource: 'if-match', msg: 'Revision number etag must be in the format of revision_number=<int>' });
  }
  return Number(value);
}

/**
 * Registers the REST routes of one served resource: list, show, create (single and bulk),
 * update, delete, member actions and the tags sub-resource. Every mutating request is one
 * transaction; the owning plugin's `create<Resource>`/`update…`/`delete…` methods do the work.
 */
export function registerResourceRoutes(app: FastifyInstance, runtime: Runtime, served: ServedResource): void {
  const { definition, table } = served;
  const collectionPath = `/v2.0${definition.pathPrefix}/${definition.path}`;
  const memberPath = `${collectionPath}/:id`;
  const suffix = methodSuffix(definition.name);
  const method = (name: string): PluginMethod => {
    const fn = (served.owner as Record<string, PluginMethod>)[name]!;
    return fn.bind(served.owner);
  };
  const options = runtime.config.get(coreOptions).DEFAULT;
  const taggable = definition.taggable && runtime.extensions.isEnabled('standard-attr-tag');
  const route = (verb: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, handler: Handler) =>
    app.route({ method: verb, url, handler: (request, reply) => handler(request.ctx, request, reply) });
  const idOf = (request: FastifyRequest) => (request.params as { id: string }).id;
  const policy = runtime.policy;
  const readable = new ReadableRows(served, policy);
  /** The row a change applies to, once policy allows `action` on it (403, or 404 when it may not see it). */
  const authorized = async (ctx: Context, id: string, action: string, changes?: Record<string, unknown>) => {
    const original = (await table.get(ctx, id)) as Record<string, unknown>;
    await policy.authorizeChange(ctx, served, action, original, changes);
    return original;
  };

  if (definition.verbs.includes('list')) {
    route('GET', collectionPath, async (ctx, request, reply) => {
      const params = new URL(request.url, 'http://localhost').searchParams;
      const query = parseListQuery(params, served, options.pagination_max_limit, taggable);
      const beforeList = table.options.beforeList;
      if (beforeList) await ctx.transaction(() => beforeList(ctx));
      const { page, json } = await readable.list(ctx, query);
      const links = paginationLinks(`${baseUrl(request)}${collectionPath}`, query, page);
      const linksJson = links.length > 0 ? `,"${definition.collection}_links":${JSON.stringify(links)}` : '';
      return reply.type(JSON_TYPE).send(`{"${definition.collection}":${json}${linksJson}}`);
    });
  }

  if (definition.verbs.includes('show')) {
    route('GET', memberPath, async (ctx, request, reply) => {
      const fields = new URL(request.url, 'http://localhost').searchParams.getAll('fields');
      const json = await readable.show(ctx, idOf(request), fields);
      if (json === undefined) throw definition.notFound(idOf(request));
      return reply.type(JSON_TYPE).send(`{"${definition.name}":${json}}`);
    });
  }

  if (definition.verbs.includes('create')) {
    const create = method(`create${suffix}`);
    route('POST', collectionPath, async (ctx, request, reply) => {
      const { bulk, items } = unwrapCreateBody(request.body, definition);
      if (bulk && (!options.allow_bulk || !definition.bulk)) throw HTTPBadRequest({ message: 'Bulk operation not supported' });
      const parsed = items.map((item) => {
        // Bulk items may come wrapped (`{"networks": [{"network": {...}}]}`).
        const raw =
          bulk && typeof item === 'object' && item !== null && definition.name in item
            ? (item as Record<string, unknown>)[definition.name]
            : item;
        policy.checkProjectOf(ctx, raw);
        return { item: parseCreateItem(raw, served.specs, ctx.projectId), explicit: Object.keys(raw as object) };
      });
      for (const { item, explicit } of parsed) await policy.authorizeCreate(ctx, served, item, explicit);
      const created = await ctx.transaction(async () => {
        const perProject = new Map<string, number>();
        for (const { item } of parsed) perProject.set(item.project_id as string, (perProject.get(item.project_id as string) ?? 0) + 1);
        for (const [projectId, count] of perProject) await runtime.quotas.enforce(ctx, projectId, definition.name, count);
        const results: unknown[] = [];
        for (const { item } of parsed) results.push(await create(ctx, item));
        return results;
      });
      await policy.stripAttributes(ctx, served, created as Array<Record<string, unknown>>);
      reply.code(201);
      return bulk ? { [definition.collection]: created } : { [definition.name]: created[0] };
    });
  }

  if (definition.verbs.includes('update')) {
    const update = method(`update${suffix}`);
    route('PUT', memberPath, async (ctx, request) => {
      const id = idOf(request);
      const item = parseUpdateItem(unwrapUpdateBody(request.body, definition), served.specs);
      const expected = revisionConstraint(request, runtime);
      const updated = await ctx.transaction(async () => {
        await authorized(ctx, id, `update_${definition.name}`, item);
        await table.lockAndCheckRevision(ctx, id, expected);
        return update(ctx, id, item);
      });
      await policy.stripAttributes(ctx, served, [updated as Record<string, unknown>]);
      return { [definition.name]: updated };
    });
  }

  if (definition.verbs.includes('delete')) {
    const remove = method(`delete${suffix}`);
    route('DELETE', memberPath, async (ctx, request, reply) => {
      const id = idOf(request);
      const expected = revisionConstraint(request, runtime);
      await ctx.transaction(async () => {
        await authorized(ctx, id, `delete_${definition.name}`);
        await table.lockAndCheckRevision(ctx, id, expected);
        await remove(ctx, id);
      });
      return reply.code(204).send();
    });
  }

  // Neutron answers a PUT or DELETE on the collection with the resource's "None" 404.
  for (const verb of ['PUT', 'DELETE'] as const) {
    route(verb, collectionPath, async () => {
      throw definition.notFound(null);
    });
  }

  for (const [action, verb] of Object.entries(definition.actions)) {
    const act = method(actionMethod(action));
    route(verb, `${memberPath}/${action}`, async (ctx, request) => {
      const id = idOf(request);
      return ctx.transaction(async () => {
        await authorized(ctx, id, action);
        return act(ctx, id, request.body ?? {});
      });
    });
  }

  if (taggable) registerTagRoutes(route, served, idOf, readable, (ctx, id) => authorized(ctx, id, `update_${definition.name}`));
}

/**
 * Reads as the caller may see them: rows rendered by the database, then, when policy depends
 * on the row (members), checked row by row and stripped of attributes the caller may not read.
 */
class ReadableRows {
  private readonly visibleNames: readonly string[];

  constructor(
    private readonly served: ServedResource,
    private readonly policy: PolicyEnforcer,
  ) {
    this.visibleNames = served.attributes.filter((a) => a.spec.visible).map((a) => a.name);
  }

  async list(ctx: Context, query: ListOptions) {
    const plan = this.policy.readPlan(ctx, this.served);
    const table = this.served.table;
    const fields = this.allowed(query.fields, plan.excluded);
    if (PolicyEnforcer.isStatic(plan) && fields.length > 0) {
      const page = await table.list(ctx, plan.excluded.size === 0 ? query : { ...query, fields });
      return { page, json: page.json };
    }
    return this.cached(
      ctx,
      `list|${JSON.stringify(query)}`,
      async () => {
        // Rows are checked whole; `fields` is applied after the check.
        const page = await table.list(ctx, { ...query, fields: [] });
        const rows = await this.policy.filterRows(ctx, this.served, plan, JSON.parse(page.json) as Array<Record<string, unknown>>);
        return { page, json: JSON.stringify(rows.map((row) => this.project(row, query.fields, plan.excluded))) };
      },
      (result) => result.json.length,
    );
  }

  async show(ctx: Context, id: string, requested: readonly string[]): Promise<string | undefined> {
    const plan = this.policy.readPlan(ctx, this.served);
    const table = this.served.table;
    const fields = this.allowed(requested, plan.excluded);
    if (PolicyEnforcer.isStatic(plan) && fields.length > 0) {
      return table.showJson(ctx, id, plan.excluded.size === 0 ? requested : fields);
    }
    return this.cached(
      ctx,
      `show|${id}|${requested.join(',')}`,
      async () => {
        const json = await table.showJson(ctx, id);
        if (json === undefined) return undefined;
        const [row] = await this.policy.filterRows(ctx, this.served, plan, [JSON.parse(json) as Record<string, unknown>]);
        return row ? JSON.stringify(this.project(row, requested, plan.excluded)) : undefined;
      },
      (json) => json?.length ?? 0,
    );
  }

  /**
   * A policy-filtered read through the read cache (PGlite), per caller: the rows and the parents
   * the rules read are data the cache's change counter covers; the rules themselves never change.
   */
  private cached<T>(ctx: Context, key: string, load: () => Promise<T>, size: (value: T) => number): Promise<T> {
    const cache = ctx.inTransaction ? undefined : ctx.runtime.readCache;
    if (!cache) return load();
    return cache.through(`policy|${this.served.definition.name}|${this.policy.credentialsKey(ctx)}|${key}`, load, size);
  }

  /** True when the caller may see the row (`get_<resource>`), e.g. before listing its tags. */
  async visible(ctx: Context, id: string): Promise<boolean> {
    return (await this.show(ctx, id, ['id'])) !== undefined;
  }

  /** The attributes to render: those asked for (all visible ones by default) the caller may read. */
  private allowed(fields: readonly string[] | undefined, excluded: ReadonlySet<string>): string[] {
    return (fields && fields.length > 0 ? fields : this.visibleNames).filter((name) => !excluded.has(name));
  }

  private project(row: Record<string, unknown>, fields: readonly string[] | undefined, excluded: ReadonlySet<string>) {
    const wanted = fields && fields.length > 0 ? new Set(fields) : undefined;
    for (const key of Object.keys(row)) if (excluded.has(key) || (wanted && !wanted.has(key))) delete row[key];
    return row;
  }
}

function registerTagRoutes(
  route: (verb: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, handler: Handler) => unknown,
  served: ServedResource,
  idOf: (request: FastifyRequest) => string,
  readable: ReadableRows,
  authorizeUpdate: (ctx: Context, id: string) => Promise<unknown>,
): void {
  const { definition, table } = served;
  const tagsPath = `/v2.0${definition.pathPrefix}/${definition.path}/:id/tags`;
  const tagOf = (request: FastifyRequest) => decodeURIComponent((request.params as { tag: string }).tag);
  /** Runs `work` on a resource the caller can see, in one transaction; changing tags is updating the resource. */
  const onResource = <T>(ctx: Context, id: string, work: () => Promise<T>, change = true) =>
    ctx.transaction(async () => {
      if (!(await readable.visible(ctx, id))) {
        throw TagResourceNotFound({ resource: definition.collection, resource_id: id });
      }
      if (change) await authorizeUpdate(ctx, id);
      return work();
    });

  route('GET', tagsPath, async (ctx, request) => ({
    tags: await onResource(ctx, idOf(request), () => listTags(ctx, idOf(request)), false),
  }));
  route('GET', `${tagsPath}/:tag`, async (ctx, request, reply) => {
    const tag = tagOf(request);
    const tags = await onResource(ctx, idOf(request), () => listTags(ctx, idOf(request)), false);
    if (!tags.includes(tag)) throw TagNotFound({ tag });
    return reply.code(204).send();
  });
  route('PUT', `${tagsPath}/:tag`, async (ctx, request, reply) => {
    const tag = tagOf(request);
    checkTag(tag);
    await onResource(ctx, idOf(request), () => addTags(ctx, table, idOf(request), [tag]));
    return reply.code(201).type(JSON_TYPE).send('null');
  });
  route('PUT', tagsPath, async (ctx, request) => {
    const tags = tagsFromBody(request.body);
    await onResource(ctx, idOf(request), () => replaceTags(ctx, table, idOf(request), tags));
    return { tags };
  });
  route('POST', tagsPath, async (ctx, request, reply) => {
    const tags = tagsFromBody(request.body);
    await onResource(ctx, idOf(request), () => addTags(ctx, table, idOf(request), tags));
    return reply.code(201).send({ tags });
  });
  route('DELETE', `${tagsPath}/:tag`, async (ctx, request, reply) => {
    await onResource(ctx, idOf(request), () => removeTag(ctx, table, idOf(request), tagOf(request)));
    return reply.code(204).send();
  });
  route('DELETE', tagsPath, async (ctx, request, reply) => {
    await onResource(ctx, idOf(request), () => removeAllTags(ctx, table, idOf(request)));
    return reply.code(204).send();
  });
}
