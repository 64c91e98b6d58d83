import { DnsDriverError } from '../driver.js';

/** Keystone v3 password authentication scoped to a project (keystoneauth's `password` plugin). */
export interface KeystoneCredentials {
  /** The identity endpoint, with or without the trailing `/v3`. */
  readonly authUrl: string;
  readonly username: string;
  readonly password: string;
  readonly projectName: string;
  readonly userDomainName: string;
  readonly projectDomainName: string;
}

/** How requests leave: per-request timeout, and the driver's close signal. */
export interface HttpSettings {
  readonly timeoutMs: number;
  readonly closing: AbortSignal;
}

/** A Designate answer outside 2xx; `status` and Designate's error `type` let callers tell 404s and 409s apart. */
export class DesignateApiError extends DnsDriverError {
  constructor(
    message: string,
    readonly status: number,
    readonly type: string | undefined,
  ) {
    // Server-side and throttling failures may pass; other 4xx need someone to change something.
    super(message, status >= 500 || status === 408 || status === 429);
    this.name = 'DesignateApiError';
  }
}

/** Renew a token this long before Keystone says it expires (at most half its lifetime). */
const RENEW_MARGIN_MS = 5 * 60_000;

/** The identity endpoint ending in `/v3`. */
export function identityV3(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  return /\/v3$/.test(trimmed) ? trimmed : `${trimmed}/v3`;
}

/** `fetch` with the per-request timeout and the close signal; network failures become retryable driver errors. */
async function send(url: string, init: RequestInit, http: HttpSettings, what: string): Promise<{ status: number; headers: Headers; text: string }> {
  const signal = AbortSignal.any([http.closing, AbortSignal.timeout(http.timeoutMs)]);
  try {
    const response = await fetch(url, { ...init, signal });
    return { status: response.status, headers: response.headers, text: await response.text() };
  } catch (error) {
    if (http.closing.aborted) throw new DnsDriverError(`${what}: the driver is closed`, true);
    if (signal.aborted) throw new DnsDriverError(`${what}: no answer within ${http.timeoutMs} ms`, true);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new DnsDriverError(`${what}: ${new URL(url).host} unreachable (${detail})`, true);
  }
}

/** The message of an OpenStack error body: Designate's `{code, type, message}` or Keystone's `{error: {title, message}}`. */
function explain(text: string): { type?: string; message: string } {
  try {
    const body = JSON.parse(text) as { type?: unknown; message?: unknown; error?: { title?: unknown; message?: unknown } };
    if (body.error && typeof body.error.message === 'string') {
      return { type: typeof body.error.title === 'string' ? body.error.title : undefined, message: body.error.message };
    }
    const type = typeof body.type === 'string' ? body.type : undefined;
    if (typeof body.message === 'string') return { type, message: body.message };
    if (type) return { type, message: type };
  } catch {
    // not JSON: fall through to the raw text
  }
  return { message: text.trim().slice(0, 300) || '(empty body)' };
}

/**
 * A project-scoped Keystone token for the service user (`POST /v3/auth/tokens`), held until
 * shortly before it expires; concurrent callers share one authentication.
 */
export class KeystoneSession {
  private held: { token: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;
  private readonly url: string;

  constructor(
    private readonly credentials: KeystoneCredentials,
    private readonly http: HttpSettings,
  ) {
    this.url = `${identityV3(credentials.authUrl)}/auth/tokens`;
  }

  token(): Promise<string> {
    if (this.held && Date.now() < this.held.renewAt) return Promise.resolve(this.held.token);
    this.pending ??= this.authenticate().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets `token` (Designate refused it), so the next {@link token} call authenticates again. */
  invalidate(token: string): void {
    if (this.held?.token === token) this.held = undefined;
  }

  private async authenticate(): Promise<string> {
    const c = this.credentials;
    const who = `user ${c.username} (domain ${c.userDomainName}) in project ${c.projectName} (domain ${c.projectDomainName})`;
    const what = `Keystone authentication at ${this.url} as ${who}`;
    const body = {
      auth: {
        identity: { methods: ['password'], password: { user: { name: c.username, domain: { name: c.userDomainName }, password: c.password } } },
        scope: { project: { name: c.projectName, domain: { name: c.projectDomainName } } },
      },
    };
    const reply = await send(
      this.url,
      { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body) },
      this.http,
      what,
    );
    if (reply.status !== 201) {
      const { message } = explain(reply.text);
      const hint = reply.status === 401 ? ' (wrong user, password or project?)' : '';
      throw new DnsDriverError(`${what} failed: ${reply.status} ${message}${hint}`, reply.status >= 500 || reply.status === 429);
    }
    const token = reply.headers.get('x-subject-token');
    let expiresAt = Number.NaN;
    let issuedAt = Date.now();
    try {
      const parsed = JSON.parse(reply.text) as { token?: { expires_at?: string; issued_at?: string } };
      expiresAt = Date.parse(parsed.token?.expires_at ?? '');
      issuedAt = Date.parse(parsed.token?.issued_at ?? '') || issuedAt;
    } catch {
      // handled below
    }
    if (!token || Number.isNaN(expiresAt)) throw new DnsDriverError(`${what}: Keystone answered 201 without a token or its expiry`, true);
    const margin = Math.min(RENEW_MARGIN_MS, Math.max(0, (expiresAt - issuedAt) / 2));
    this.held = { token, renewAt: expiresAt - margin };
    return token;
  }
}

/** What a call sends besides the token. */
export interface CallOptions {
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Designate's v2 REST API as the service user; a refused token is renewed once. */
export class DesignateClient {
  private readonly base: string;

  constructor(
    url: string,
    private readonly session: KeystoneSession,
    private readonly http: HttpSettings,
  ) {
    const trimmed = url.replace(/\/+$/, '');
    this.base = /\/v2$/.test(trimmed) ? trimmed : `${trimmed}/v2`;
  }

  /** `path` is relative to the versioned endpoint (`/zones?name=…`), or an absolute `links.next`. */
  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const url = /^https?:\/\//.test(path) ? path : `${this.base}${path}`;
    const what = `Designate ${method} ${new URL(url).pathname}${new URL(url).search}`;
    let token = await this.session.token();
    let reply = await this.send(method, url, token, options, what);
    if (reply.status === 401) {
      this.session.invalidate(token);
      token = await this.session.token();
      reply = await this.send(method, url, token, options, what);
    }
    if (reply.status >= 200 && reply.status < 300) {
      if (reply.text === '') return undefined as T;
      try {
        return JSON.parse(reply.text) as T;
      } catch {
        throw new DnsDriverError(`${what}: Designate answered ${reply.status} with a body that is not JSON`, true);
      }
    }
    const { type, message } = explain(reply.text);
    const requestId = reply.headers.get('x-openstack-request-id');
    throw new DesignateApiError(
      `${what} failed: ${reply.status} ${type ? `${type}: ` : ''}${message}${requestId ? ` (request ${requestId})` : ''}`,
      reply.status,
      type,
    );
  }

  private send(method: string, url: string, token: string, options: CallOptions, what: string) {
    const headers: Record<string, string> = { accept: 'application/json', 'x-auth-token': token, ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    return send(url, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) }, this.http, what);
  }
}
