import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Identity } from '../context/context.js';
import { KeystoneSession, KeystoneSignInError, type KeystoneCredentials } from './keystone-session.js';
import { identityV3Url } from './keystone-url.js';

export { identityV3Url };

/** `[keystone_authtoken]` as the validator needs it: the service user, and how to cache. */
export interface KeystoneOptions extends KeystoneCredentials {
  /** Seconds a validated token is trusted. */
  readonly cacheSeconds: number;
  readonly cacheSize: number;
  /** Seconds to wait for Keystone. */
  readonly timeoutSeconds: number;
}

/** Keystone could not be asked (down, timing out, refusing our own credentials): answer 503. */
export class KeystoneUnavailable extends Error {
  constructor(reason: string) {
    super(`Keystone is unavailable: ${reason}`);
    this.name = 'KeystoneUnavailable';
  }
}

/** A validated token's identity, minus what policy decides (`isAdmin`). */
export type TokenIdentity = Omit<Identity, 'isAdmin'>;

type CacheEntry = { readonly identity: TokenIdentity } | { readonly invalid: true };

/** How long a token Keystone rejected stays rejected without asking again (bounded: tokens can be revoked, not un-revoked, but clocks drift). */
const INVALID_TOKEN_SECONDS = 5;

interface TokenBody {
  token?: {
    expires_at?: string;
    user?: { id?: string; name?: string };
    project?: { id?: string };
    roles?: Array<{ name?: string }>;
    system?: { all?: boolean };
  };
}

/**
 * Validates user tokens against Keystone v3 as keystonemiddleware does: the server signs in as
 * its service user (`POST /v3/auth/tokens`, project-scoped), keeps that token until shortly
 * before it expires, and checks each user token with `GET /v3/auth/tokens` + `X-Subject-Token`.
 * Valid tokens are cached (bounded, at most `token_cache_time`, never past their expiry);
 * rejected ones only for a few seconds; Keystone errors are never cached.
 */
export class KeystoneValidator {
  private readonly v3: string;
  private readonly session: KeystoneSession;
  private readonly cache: LRUCache<string, CacheEntry>;

  constructor(
    private readonly options: KeystoneOptions,
    private readonly log: Logger,
  ) {
    this.v3 = identityV3Url(options.authUrl);
    this.session = new KeystoneSession(options, { timeoutMs: options.timeoutSeconds * 1000 });
    this.cache = new LRUCache<string, CacheEntry>({
      max: options.cacheSize,
      ttl: Math.max(options.cacheSeconds, 1) * 1000,
      // Concurrent requests with one new token share one validation.
      fetchMethod: async (token, _stale, { options: entry }) => {
        const result = await this.validate(token);
        if ('invalid' in result) entry.ttl = INVALID_TOKEN_SECONDS * 1000;
        else entry.ttl = Math.max(1, Math.min(options.cacheSeconds * 1000, result.expiresAt - Date.now()));
        return 'invalid' in result ? result : { identity: result.identity };
      },
    });
  }

  /** The identity of a token, or undefined when Keystone says it is not valid. Throws {@link KeystoneUnavailable}. */
  async identify(token: string): Promise<TokenIdentity | undefined> {
    if (this.options.cacheSeconds === 0) {
      const result = await this.validate(token);
      return 'invalid' in result ? undefined : result.identity;
    }
    const entry = await this.cache.fetch(token);
    return entry && 'identity' in entry ? entry.identity : undefined;
  }

  private async validate(token: string): Promise<{ identity: TokenIdentity; expiresAt: number } | { invalid: true }> {
    for (let attempt = 1; ; attempt++) {
      const serviceToken = await this.ownToken();
      const response = await this.call(`${this.v3}/auth/tokens`, {
        method: 'GET',
        headers: { 'X-Auth-Token': serviceToken, 'X-Subject-Token': token, Accept: 'application/json' },
      });
      if (response.status === 401 && attempt === 1) {
        // Our own token was revoked or expired early: sign in again once.
        this.session.invalidate(serviceToken);
        continue;
      }
      if (response.status === 404 || response.status === 401) return { invalid: true };
      if (response.status !== 200) throw new KeystoneUnavailable(`token validation answered ${response.status}`);
      const body = (await response.json()) as TokenBody;
      const expiresAt = Date.parse(body.token?.expires_at ?? '');
      if (!body.token?.user?.id || Number.isNaN(expiresAt) || expiresAt <= Date.now()) return { invalid: true };
      return {
        expiresAt,
        identity: {
          userId: body.token.user.id,
          ...(body.token.project?.id ? { projectId: body.token.project.id } : {}),
          roles: (body.token.roles ?? []).map((r) => r.name ?? '').filter((name) => name !== ''),
          ...(body.token.system?.all ? { systemScope: 'all' } : {}),
        },
      };
    }
  }

  /** The server's own token (keystonemiddleware's service token); refused credentials are logged. */
  private async ownToken(): Promise<string> {
    try {
      return await this.session.token();
    } catch (error) {
      if (!(error instanceof KeystoneSignInError)) throw error;
      if (error.status === 401)
        this.log.error(
          { user: this.options.username, project: this.options.projectName },
          'Keystone refused the service credentials in [keystone_authtoken]',
        );
      throw new KeystoneUnavailable(error.message);
    }
  }

  private async call(url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, { ...init, signal: AbortSignal.timeout(this.options.timeoutSeconds * 1000) });
    } catch (error) {
      this.log.warn({ err: error, url }, 'Keystone is unreachable');
      throw new KeystoneUnavailable((error as Error).message);
    }
  }
}
