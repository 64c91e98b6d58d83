import type { FastifyRequest } from 'fastify';
import type { Identity } from '../context/context.js';

/**
 * The project noauth requests act in when they name none: neutron-server in noauth mode answers
 * with this project (see the reference captures), so clients written against it see the same.
 */
export const NOAUTH_PROJECT_ID = 'fake_project_id';

/**
 * Who a request is with `auth_strategy = noauth` (development): always an admin, as in Neutron,
 * acting in the project named by `X-Project-Id` (as oslo.context reads it), or the default one.
 */
export function noauthIdentity(request: FastifyRequest): Identity {
  const header = request.headers['x-project-id'] ?? request.headers['x-tenant-id'];
  const projectId = typeof header === 'string' && header !== '' ? header : NOAUTH_PROJECT_ID;
  const user = request.headers['x-user-id'];
  return {
    projectId,
    ...(typeof user === 'string' ? { userId: user } : {}),
    roles: ['admin'],
    isAdmin: true,
  };
}
