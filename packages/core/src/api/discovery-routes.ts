import type { FastifyInstance } from 'fastify';
import type { ExtensionDefinition } from '../extensions/define-extension.js';
import type { Runtime } from '../runtime.js';
import { baseUrl } from './resource-routes.js';

function extensionBody(extension: ExtensionDefinition) {
  return {
    name: extension.name,
    alias: extension.alias,
    description: extension.description,
    updated: extension.updated,
    links: [],
  };
}

/** `GET /` (versions), `GET /v2.0/` (core resources) and the extensions listing. */
export function registerDiscoveryRoutes(app: FastifyInstance, runtime: Runtime): void {
  app.get('/', async (request) => ({
    versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `${baseUrl(request)}/v2.0/` }] }],
  }));

  app.get('/v2.0/', async (request) => ({
    resources: [...runtime.resources.values()]
      .filter((r) => r.definition.core)
      .map((r) => ({
        name: r.definition.name,
        collection: r.definition.collection,
        links: [{ rel: 'self', href: `${baseUrl(request)}/v2.0/${r.definition.path}` }],
      })),
  }));

  app.get('/v2.0/extensions', async () => ({ extensions: runtime.extensions.enabled().map(extensionBody) }));

  app.get<{ Params: { alias: string } }>('/v2.0/extensions/:alias', async (request, reply) => {
    const extension = runtime.extensions.get(request.params.alias);
    if (extension) return { extension: extensionBody(extension) };
    // Neutron answers this one with webob's plain 404 body rather than a NeutronError.
    return reply.code(404).send({
      message: `The resource could not be found.<br /><br />\nExtension with alias ${request.params.alias} does not exist\n\n`,
      code: '404 Not Found',
      title: 'Not Found',
    });
  });
}
