import { identityV3Url } from './keystone-url.js';

/** A Keystone v3 password sign-in scoped to a project (keystoneauth's `password` plugin). */
export interface KeystoneCredentials {
  /** The identity endpoint, with or without the trailing `/v3`. */
  readonly authUrl: string;
  readonly username: string;
  readonly password: string;
  readonly projectName: string;
  readonly userDomainName: string;
  readonly projectDomainName: string;
}

/**
 * A sign-in that did not give a token: `status` is Keystone's answer (401: wrong user, password
 * or project), undefined when Keystone could not be reached or did not answer in time.
 */
export class KeystoneSignInError extends Error {
  constructor(
    message: string,
    readonly status: number | undefined,
  ) {
    super(message);
    this.name = 'KeystoneSignInError';
  }

  /** Whether trying again later may work (Keystone down or overloaded, not refused credentials). */
  get retryable(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 429;
  }
}

/** Renew a token this long before Keystone says it expires (at most half its lifetime). */
const RENEW_MARGIN_MS = 5 * 60_000;

/**
 * A service user's project-scoped Keystone token (`POST /v3/auth/tokens`), held until shortly
 * before it expires; concurrent callers share one sign-in. Used to validate users' tokens
 * (keystonemiddleware's service token) and by plugins calling other OpenStack services.
 */
export class KeystoneSession {
  private held: { token: string; renewAt: number } | undefined;
  private pending: Promise<string> | undefined;
  private readonly url: string;

  constructor(
    readonly credentials: KeystoneCredentials,
    private readonly options: { readonly timeoutMs: number; readonly signal?: AbortSignal },
  ) {
    this.url = `${identityV3Url(credentials.authUrl)}/auth/tokens`;
  }

  /** A valid token; signs in when none is held. Throws {@link KeystoneSignInError}. */
  token(): Promise<string> {
    if (this.held && Date.now() < this.held.renewAt) return Promise.resolve(this.held.token);
    this.pending ??= this.signIn().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Forgets `token` (a service refused it), so the next {@link token} signs in again. */
  invalidate(token: string): void {
    if (this.held?.token === token) this.held = undefined;
  }

  /** Who signs in, for messages. */
  describe(): string {
    const c = this.credentials;
    return `user ${c.username} (domain ${c.userDomainName}) in project ${c.projectName} (domain ${c.projectDomainName})`;
  }

  private async signIn(): Promise<string> {
    const c = this.credentials;
    const what = `Keystone sign-in at ${this.url} as ${this.describe()}`;
    const signals = [AbortSignal.timeout(this.options.timeoutMs), ...(this.options.signal ? [this.options.signal] : [])];
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({
          auth: {
            identity: {
              methods: ['password'],
              password: { user: { name: c.username, domain: { name: c.userDomainName }, password: c.password } },
            },
            scope: { project: { name: c.projectName, domain: { name: c.projectDomainName } } },
          },
        }),
        signal: AbortSignal.any(signals),
      });
      text = await response.text();
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause?.code;
      throw new KeystoneSignInError(`${what}: Keystone unreachable (${cause ?? (error as Error).message})`, undefined);
    }
    const token = response.headers.get('x-subject-token');
    if (response.status !== 201 || !token) {
      const hint = response.status === 401 ? ' (wrong user, password or project?)' : '';
      throw new KeystoneSignInError(`${what} failed: ${response.status}${hint}`, response.status === 201 ? 502 : response.status);
    }
    let expiresAt = Number.NaN;
    let issuedAt = Date.now();
    try {
      const parsed = JSON.parse(text) as { token?: { expires_at?: string; issued_at?: string } };
      expiresAt = Date.parse(parsed.token?.expires_at ?? '');
      issuedAt = Date.parse(parsed.token?.issued_at ?? '') || issuedAt;
    } catch {
      // handled below
    }
    if (Number.isNaN(expiresAt)) expiresAt = Date.now() + 3_600_000;
    const margin = Math.min(RENEW_MARGIN_MS, Math.max(0, (expiresAt - issuedAt) / 2));
    this.held = { token, renewAt: expiresAt - margin };
    return token;
  }
}
