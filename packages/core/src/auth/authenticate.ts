import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/config.js';
import { coreOptions } from '../config/core-options.js';
import type { Identity } from '../context/context.js';
import type { Runtime } from '../runtime.js';
import { identityV3Url, KeystoneUnavailable, KeystoneValidator } from './keystone.js';
import { noauthIdentity } from './noauth.js';

/** Who a request is, or a reply already sent (401/503) when it is nobody. */
export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<Identity | undefined>;

/** Problems with the `[keystone_authtoken]` options when `auth_strategy = keystone`. */
export function checkAuthOptions(config: Config): string[] {
  const options = config.get(coreOptions);
  if (options.DEFAULT.auth_strategy !== 'keystone') return [];
  const k = options.keystone_authtoken;
  const problems: string[] = [];
  for (const name of ['auth_url', 'username', 'password'] as const) {
    if (k[name] === '') problems.push(`[keystone_authtoken] ${name} is required with auth_strategy = keystone`);
  }
  for (const name of ['auth_url', 'www_authenticate_uri'] as const) {
    if (k[name] !== '' && !URL.canParse(k[name])) problems.push(`[keystone_authtoken] ${name} '${k[name]}' is not a URL`);
  }
  return problems;
}

/** keystonemiddleware's answers, which clients (keystoneauth) recognise. */
const UNAUTHORIZED = { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } };
const UNAVAILABLE = {
  error: { code: 503, title: 'Service Unavailable', message: 'The server is currently unavailable. Please try again at a later time.' },
};

/**
 * The request authenticator of `[DEFAULT] auth_strategy`: `keystone` validates `X-Auth-Token`
 * against Keystone (401 with `WWW-Authenticate` when missing or invalid, 503 when Keystone cannot
 * be asked); `noauth` makes every request an admin. Identity headers a client sends are never
 * trusted in keystone mode: the identity comes from the token alone.
 */
export function createAuthenticator(runtime: Runtime): Authenticate {
  const options = runtime.config.get(coreOptions);
  if (options.DEFAULT.auth_strategy === 'noauth') return async (request) => noauthIdentity(request);

  const k = options.keystone_authtoken;
  const validator = new KeystoneValidator(
    {
      authUrl: k.auth_url,
      username: k.username,
      password: k.password,
      projectName: k.project_name,
      userDomainName: k.user_domain_name,
      projectDomainName: k.project_domain_name,
      cacheSeconds: k.token_cache_time,
      cacheSize: k.token_cache_size,
      timeoutSeconds: k.http_connect_timeout,
    },
    runtime.log.child({ component: 'keystone' }),
  );
  const publicUri = k.www_authenticate_uri || identityV3Url(k.auth_url).replace(/\/v3$/, '');
  const challenge = `Keystone uri="${publicUri}"`;

  return async (request, reply) => {
    const token = request.headers['x-auth-token'];
    let identity;
    try {
      identity = typeof token === 'string' && token !== '' ? await validator.identify(token) : undefined;
    } catch (error) {
      if (!(error instanceof KeystoneUnavailable)) throw error;
      await reply.code(503).send(UNAVAILABLE);
      return undefined;
    }
    if (!identity) {
      await reply.code(401).header('www-authenticate', challenge).send(UNAUTHORIZED);
      return undefined;
    }
    return { ...identity, isAdmin: runtime.policy.isAdmin(identity) };
  };
}
