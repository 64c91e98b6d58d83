/**
 * A REAL Keystone for tests: provisions the projects, roles and users Nucleon's auth tests need
 * through Keystone's v3 REST API (as its bootstrap admin) and hands out project-scoped tokens.
 *
 * Configured by `NUCLEON_TEST_KEYSTONE_URL` (the identity endpoint, `http://127.0.0.1:5000/v3`)
 * and `NUCLEON_TEST_KEYSTONE_ADMIN_PASSWORD` (the bootstrap user `admin`, project `admin`,
 * domain `Default`). Without them {@link keystoneFixture} resolves to `undefined` and tests that
 * need Keystone skip; with `NUCLEON_REQUIRE_KEYSTONE` set, a missing variable fails at import.
 *
 * Provisioning is get-or-create and safe when several test workers run it at once: a `409` on
 * create means another worker created the same name first, and the row is read back.
 */
import { createHash } from 'node:crypto';

/** The Keystone identity endpoint tests run against (`…/v3`), when one is configured. */
export const testKeystoneUrl: string | undefined = process.env.NUCLEON_TEST_KEYSTONE_URL || undefined;

const adminPassword: string | undefined = process.env.NUCLEON_TEST_KEYSTONE_ADMIN_PASSWORD || undefined;

// CI's Keystone run sets NUCLEON_REQUIRE_KEYSTONE so a lost URL cannot silently skip the auth tests.
if (process.env.NUCLEON_REQUIRE_KEYSTONE && (!testKeystoneUrl || !adminPassword)) {
  throw new Error(
    'NUCLEON_REQUIRE_KEYSTONE is set but NUCLEON_TEST_KEYSTONE_URL or NUCLEON_TEST_KEYSTONE_ADMIN_PASSWORD is not: refusing to skip the Keystone tests',
  );
}

/** A project or a user as the fixture knows it. */
export interface KeystoneProject {
  readonly id: string;
  readonly name: string;
}

/** A provisioned user and its password. */
export interface KeystoneUser {
  readonly id: string;
  readonly name: string;
  readonly password: string;
}

/** The users a test can hold a token for. */
export type KeystoneTokenUser = 'alice' | 'bob' | 'admin';

/** What {@link keystoneFixture} provisions. */
export interface KeystoneFixture {
  /** The identity endpoint, ending in `/v3`. */
  readonly url: string;
  /**
   * `a` (`nucleon-a`: alice is member and reader), `b` (`nucleon-b`: bob is member) and `admin`
   * (the bootstrap admin's project).
   */
  readonly projects: { readonly a: KeystoneProject; readonly b: KeystoneProject; readonly admin: KeystoneProject };
  /**
   * The users: `alice`, `bob`, the bootstrap `admin`, and `service` (the user `nucleon`, with
   * roles `admin` and `service` on project `service`, which the server validates tokens as).
   */
  readonly users: Readonly<Record<KeystoneTokenUser | 'service', KeystoneUser>>;
  /**
   * neutron.conf sections for a server validating tokens against this Keystone, with
   * keystonemiddleware's option names:
   * `{ DEFAULT: { auth_strategy: 'keystone' }, keystone_authtoken: { www_authenticate_uri, auth_url, … } }`.
   * A fresh object on each call, so callers may merge into it.
   */
  authConfig(): Record<string, Record<string, string>>;
  /**
   * A project-scoped token for a user: alice on `nucleon-a`, bob on `nucleon-b`, admin on `admin`.
   * Memoised until five minutes before it expires.
   */
  token(user: KeystoneTokenUser): Promise<string>;
}

const DOMAIN = 'Default';
const PROJECTS = { service: 'service', a: 'nucleon-a', b: 'nucleon-b' } as const;
const ROLES = ['admin', 'member', 'reader', 'service'] as const;
const SERVICE_USER = 'nucleon';
/** Tokens are renewed this long before Keystone says they expire. */
const TOKEN_MARGIN_MS = 5 * 60_000;

/** A user's password, derived from the admin password so every worker and every rerun agrees. */
function passwordFor(admin: string, user: string): string {
  return createHash('sha256').update(`${admin}:${user}`).digest('hex');
}

/** The endpoint without its trailing `/v3` (what keystonemiddleware's `*_uri`/`auth_url` name). */
function unversioned(url: string): string {
  return url.replace(/\/+$/, '').replace(/\/v3$/, '');
}

class KeystoneError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

interface Scope {
  readonly project: string;
}

/** The v3 REST calls the fixture needs; every call is retried on connection errors. */
class KeystoneClient {
  private adminToken: { value: string; renewAt: number } | undefined;

  constructor(
    readonly url: string,
    private readonly adminPassword: string,
  ) {}

  private async fetch(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        return await fetch(`${this.url}${path}`, {
          method,
          headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
      } catch (error) {
        // uwsgi's http-socket may close a kept-alive connection under the client: retry.
        lastError = error;
        await new Promise((resolve) => setTimeout(resolve, 100 * (attempt + 1)));
      }
    }
    throw new Error(`Keystone at ${this.url} unreachable (${method} ${path}): ${String(lastError)}`);
  }

  /** Password authentication scoped to a project of the Default domain. */
  async authenticate(user: string, password: string, scope?: Scope): Promise<{ token: string; expiresAt: number; body: any }> {
    const response = await this.fetch('POST', '/auth/tokens', {
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { name: DOMAIN }, password } } },
        ...(scope ? { scope: { project: { name: scope.project, domain: { name: DOMAIN } } } } : {}),
      },
    });
    const text = await response.text();
    if (response.status !== 201)
      throw new KeystoneError(response.status, `Keystone refused a token for ${user}: ${response.status} ${text}`);
    const token = response.headers.get('x-subject-token');
    if (!token) throw new Error(`Keystone issued no X-Subject-Token for ${user}`);
    const body = JSON.parse(text);
    return { token, expiresAt: Date.parse(body.token.expires_at), body };
  }

  private async admin(): Promise<string> {
    if (!this.adminToken || Date.now() >= this.adminToken.renewAt) {
      const { token, expiresAt } = await this.authenticate('admin', this.adminPassword, { project: 'admin' });
      this.adminToken = { value: token, renewAt: expiresAt - TOKEN_MARGIN_MS };
    }
    return this.adminToken.value;
  }

  /** An admin call; returns the parsed body, or throws with Keystone's answer unless the status is accepted. */
  async call(
    method: string,
    path: string,
    body?: unknown,
    accept: readonly number[] = [200, 201, 204],
  ): Promise<{ status: number; body: any }> {
    const response = await this.fetch(method, path, body, { 'x-auth-token': await this.admin() });
    const text = await response.text();
    if (!accept.includes(response.status))
      throw new KeystoneError(response.status, `Keystone ${method} ${path}: ${response.status} ${text}`);
    return { status: response.status, body: text ? JSON.parse(text) : undefined };
  }

  /**
   * Finds a named entity (`GET /v3/<collection>?name=…`), creating it if missing; a `409` on
   * create means another worker won the race, so the row is read back.
   */
  async getOrCreate(
    collection: string,
    key: string,
    query: Record<string, string>,
    create: Record<string, unknown>,
  ): Promise<{ id: string; name: string }> {
    const find = async () => {
      const { body } = await this.call('GET', `/${collection}?${new URLSearchParams(query)}`);
      const found = (body[collection] as Array<{ id: string; name: string }>).find((entity) => entity.name === query.name);
      return found ? { id: found.id, name: found.name } : undefined;
    };
    const existing = await find();
    if (existing) return existing;
    const created = await this.call('POST', `/${collection}`, { [key]: create }, [201, 409]);
    if (created.status === 201) return { id: created.body[key].id, name: created.body[key].name };
    const raced = await find();
    if (!raced) throw new Error(`Keystone answered 409 creating ${key} ${query.name} but does not list it`);
    return raced;
  }
}

async function provision(url: string, admin: string): Promise<KeystoneFixture> {
  const keystone = new KeystoneClient(url.replace(/\/+$/, ''), admin);

  const { id: domainId } = await keystone.getOrCreate('domains', 'domain', { name: DOMAIN }, { name: DOMAIN, enabled: true });

  const project = (name: string) =>
    keystone.getOrCreate('projects', 'project', { name, domain_id: domainId }, { name, domain_id: domainId, enabled: true });
  const [service, a, b, adminProject] = await Promise.all([
    project(PROJECTS.service),
    project(PROJECTS.a),
    project(PROJECTS.b),
    project('admin'),
  ]);

  const roleList = await Promise.all(ROLES.map((name) => keystone.getOrCreate('roles', 'role', { name }, { name })));
  const roles = Object.fromEntries(ROLES.map((name, i) => [name, roleList[i]!.id])) as Record<(typeof ROLES)[number], string>;

  /**
   * A user with its derived password. The password is set only when it does not already work:
   * Keystone revokes a user's tokens when its password changes, which would break tokens other
   * workers (and servers they run) already hold.
   */
  const user = async (name: string): Promise<KeystoneUser> => {
    const password = passwordFor(admin, name);
    const { id } = await keystone.getOrCreate(
      'users',
      'user',
      { name, domain_id: domainId },
      { name, domain_id: domainId, password, enabled: true },
    );
    try {
      await keystone.authenticate(name, password);
    } catch (error) {
      if (!(error instanceof KeystoneError) || error.status !== 401) throw error;
      await keystone.call('PATCH', `/users/${id}`, { user: { password, enabled: true } });
    }
    return { id, name, password };
  };
  const [serviceUser, alice, bob] = await Promise.all([user(SERVICE_USER), user('alice'), user('bob')]);

  const grant = (projectId: string, userId: string, role: keyof typeof roles) =>
    keystone.call('PUT', `/projects/${projectId}/users/${userId}/roles/${roles[role]}`, undefined, [200, 201, 204]);
  await Promise.all([
    grant(service.id, serviceUser.id, 'admin'),
    grant(service.id, serviceUser.id, 'service'),
    grant(a.id, alice.id, 'member'),
    grant(a.id, alice.id, 'reader'),
    grant(b.id, bob.id, 'member'),
  ]);

  // The bootstrap admin: its id from a token of its own (which also proves the password).
  const adminAuth = await keystone.authenticate('admin', admin, { project: 'admin' });
  const adminUser: KeystoneUser = { id: adminAuth.body.token.user.id, name: 'admin', password: admin };

  const users = { alice, bob, admin: adminUser, service: serviceUser } as const;
  const scopes: Record<KeystoneTokenUser, string> = { alice: PROJECTS.a, bob: PROJECTS.b, admin: 'admin' };
  const tokens = new Map<KeystoneTokenUser, Promise<{ token: string; renewAt: number }>>();
  const base = unversioned(keystone.url);

  return {
    url: keystone.url,
    projects: { a, b, admin: adminProject },
    users,
    authConfig() {
      return {
        DEFAULT: { auth_strategy: 'keystone' },
        keystone_authtoken: {
          www_authenticate_uri: base,
          auth_url: base,
          auth_type: 'password',
          username: serviceUser.name,
          password: serviceUser.password,
          project_name: PROJECTS.service,
          user_domain_name: DOMAIN,
          project_domain_name: DOMAIN,
        },
      };
    },
    async token(name) {
      let pending = tokens.get(name);
      if (pending) {
        const held = await pending.catch(() => undefined);
        if (!held || Date.now() >= held.renewAt) pending = undefined;
      }
      if (!pending) {
        const { name: userName, password } = users[name];
        pending = keystone
          .authenticate(userName, password, { project: scopes[name] })
          .then(({ token, expiresAt }) => ({ token, renewAt: expiresAt - TOKEN_MARGIN_MS }));
        tokens.set(name, pending);
      }
      return (await pending).token;
    },
  };
}

let fixture: Promise<KeystoneFixture | undefined> | undefined;

/**
 * The Keystone fixture of this process: provisions on first call (memoised), or `undefined`
 * when no Keystone is configured, so that `describe.skipIf(!fixture)` skips. A configured
 * Keystone that cannot be provisioned rejects rather than skipping.
 */
export function keystoneFixture(): Promise<KeystoneFixture | undefined> {
  if (!testKeystoneUrl || !adminPassword) return Promise.resolve(undefined);
  fixture ??= provision(testKeystoneUrl, adminPassword).catch((error: unknown) => {
    fixture = undefined; // let a later caller retry rather than replay the failure
    throw error;
  });
  return fixture;
}
