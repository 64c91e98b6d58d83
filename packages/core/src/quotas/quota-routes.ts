import type { FastifyInstance } from 'fastify';
import { attr } from '../attributes/attribute.js';
import { parseUpdateItem, unwrapUpdateBody } from '../attributes/request-body.js';
import { HTTPBadRequest, HTTPNotImplemented } from '../errors/neutron-error.js';
import type { Context } from '../context/context.js';
import type { Runtime } from '../runtime.js';

const MAX_LIMIT = 2_147_483_647;

/**
 * The quotas API (`quotas`, `quota_details` extensions): limits per project, defaults, usage,
 * and admin overrides (`PUT`/`DELETE /v2.0/quotas/{project_id}`).
 */
export function registerQuotaRoutes(app: FastifyInstance, runtime: Runtime): void {
  const quotas = runtime.quotas;
  const limitSpec = attr.integer({ min: -1, max: MAX_LIMIT }).put();
  const specs = new Map(quotas.names.map((name) => [name, limitSpec.spec]));
  /** Quota rules are checked against the project the URL names (`get_quota`: admin or that project). */
  const authorize = (ctx: Context, rule: string, projectId?: string) =>
    runtime.policy.authorize(ctx, rule, { resource: 'quota', values: projectId === undefined ? {} : { project_id: projectId } });

  app.get('/v2.0/quotas', async (request) => {
    authorize(request.ctx, 'get_quota');
    const projects = await quotas.projectsWithOverrides(request.ctx);
    return { quotas: projects.map(({ projectId, limits }) => ({ ...limits, project_id: projectId, tenant_id: projectId })) };
  });
  app.post('/v2.0/quotas', async () => {
    throw HTTPNotImplemented({ message: 'POST requests are not supported on this resource.' });
  });
  const own = (projectId: string | undefined) => {
    if (!projectId) throw HTTPBadRequest({ message: 'Tenant-id was missing from quota request.' });
    return projectId;
  };
  app.get('/v2.0/quotas/tenant', async (request) => ({ tenant: { tenant_id: own(request.ctx.projectId) } }));
  app.get('/v2.0/quotas/project', async (request) => ({ project: { project_id: own(request.ctx.projectId) } }));
  app.get<{ Params: { project: string } }>('/v2.0/quotas/:project', async (request) => {
    authorize(request.ctx, 'get_quota', request.params.project);
    return { quota: await quotas.limits(request.ctx, request.params.project) };
  });
  app.get<{ Params: { project: string } }>('/v2.0/quotas/:project/default', async (request) => {
    authorize(request.ctx, 'get_quota', request.params.project);
    return { quota: quotas.defaults() };
  });
  if (runtime.extensions.isEnabled('quota_details')) {
    app.get<{ Params: { project: string } }>('/v2.0/quotas/:project/details', async (request) => {
      const { ctx } = request;
      authorize(ctx, 'get_quota', request.params.project);
      const limits = await quotas.limits(ctx, request.params.project);
      const details: Record<string, { limit: number; used: number; reserved: number }> = {};
      for (const name of quotas.names) {
        details[name] = { limit: limits[name]!, used: await quotas.usage(ctx, request.params.project, name), reserved: 0 };
      }
      return { quota: details };
    });
  }
  app.put<{ Params: { project: string } }>('/v2.0/quotas/:project', async (request) => {
    const { ctx } = request;
    authorize(ctx, 'update_quota', request.params.project);
    const body = { ...(unwrapUpdateBody(request.body, { name: 'quota' }) as Record<string, unknown>) };
    // quota-check-limit's options are not limits.
    delete body.force;
    delete body.check_limit;
    const values = parseUpdateItem(body, specs) as Record<string, number>;
    return ctx.transaction(async () => {
      await quotas.set(ctx, request.params.project, values);
      return { quota: await quotas.limits(ctx, request.params.project) };
    });
  });
  app.delete<{ Params: { project: string } }>('/v2.0/quotas/:project', async (request, reply) => {
    authorize(request.ctx, 'delete_quota', request.params.project);
    await quotas.reset(request.ctx, request.params.project);
    return reply.code(204).send();
  });
}
