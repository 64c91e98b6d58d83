import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { coreOptions } from '../config/core-options.js';
import { Context } from '../context/context.js';
import { HTTPBadRequest, HTTPNotFound, HTTPRequestEntityTooLarge, InternalServerError, NeutronError } from '../errors/neutron-error.js';
import { registerQuotaRoutes } from '../quotas/quota-routes.js';
import type { Runtime } from '../runtime.js';
import { createAuthenticator } from '../auth/authenticate.js';
import { registerDiscoveryRoutes } from './discovery-routes.js';
import { registerResourceRoutes } from './resource-routes.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request context: identity, request id, unit of work. */
    ctx: Context;
  }
}

/** Neutron accepts `.json` after any path (`/v2.0/networks.json`); it means nothing more. */
function stripJsonSuffix(url: string): string {
  const query = url.indexOf('?');
  const path = query < 0 ? url : url.slice(0, query);
  if (!path.endsWith('.json')) return url;
  return path.slice(0, -'.json'.length) + (query < 0 ? '' : url.slice(query));
}

/** Maps anything thrown to Neutron's error answer: a NeutronError or a 500 without details. */
function toNeutronError(error: unknown): NeutronError {
  if (error instanceof NeutronError) return error;
  const fastifyError = error as FastifyError;
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return HTTPRequestEntityTooLarge({});
  if (fastifyError.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || fastifyError.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return HTTPBadRequest({ message: 'Body contains invalid data' });
  }
  if (typeof fastifyError.statusCode === 'number' && fastifyError.statusCode === 404) return HTTPNotFound({});
  return InternalServerError({});
}

/**
 * Builds the Neutron v2.0 API of a runtime: discovery, extensions, quotas and every served
 * resource's routes, with Neutron's error bodies and an `X-Openstack-Request-Id` on every answer.
 */
export async function buildApp(runtime: Runtime): Promise<FastifyInstance> {
  const options = runtime.config.get(coreOptions);
  const app: FastifyInstance = Fastify({
    loggerInstance: runtime.log,
    // One line per request is written by the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.oslo_middleware.max_request_body_size,
    genReqId: () => `req-${randomUUID()}`,
    requestIdHeader: false,
    rewriteUrl: (request) => stripJsonSuffix(request.url ?? '/'),
    return503OnClosing: true,
    routerOptions: { maxParamLength: 500 },
  }) as unknown as FastifyInstance;

  // Clients send JSON with any content type (or none); Neutron ignores the header.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
    const text = body as string;
    if (text.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(HTTPBadRequest({ message: 'Body contains invalid data' }), undefined);
    }
  });

  const authenticate = createAuthenticator(runtime);
  app.decorateRequest('ctx', null as unknown as Context);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-openstack-request-id', request.id);
    // Version discovery (`GET /`) is open, as in Neutron's paste pipeline; everything else is not.
    if (request.url === '/' || request.url.startsWith('/?')) {
      request.ctx = Context.anonymous(runtime, { requestId: request.id, log: request.log as Logger });
      return;
    }
    const identity = await authenticate(request, reply);
    if (!identity) return reply;
    request.ctx = new Context(runtime, identity, { requestId: request.id, log: request.log as Logger });
  });
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      { method: request.method, url: request.url, status: reply.statusCode, ms: Math.round(reply.elapsedTime * 10) / 10 },
      'request',
    );
  });

  app.setErrorHandler(async (error, request, reply) => {
    const neutronError = toNeutronError(error);
    if (neutronError.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.debug({ type: neutronError.type, message: neutronError.message }, 'request refused');
    return reply.code(neutronError.status).send(neutronError.toJSON());
  });
  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send(HTTPNotFound({}).toJSON()));

  registerDiscoveryRoutes(app, runtime);
  if (runtime.extensions.isEnabled('quotas')) registerQuotaRoutes(app, runtime);
  for (const served of runtime.resources.values()) registerResourceRoutes(app, runtime, served);
  return app;
}
