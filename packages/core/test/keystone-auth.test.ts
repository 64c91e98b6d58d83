/**
 * Token validation against a real Keystone (see `@nucleon/core/testing`'s Keystone fixture):
 * what a token makes of a request, how long a validation is trusted, and what the server answers
 * when Keystone cannot be asked. Skipped without a Keystone (CI always has one).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keystoneFixture, startTestServer, type KeystoneFixture, type TestServer } from '../src/testing/index.js';
import { widgetPlugin } from './fixtures/widgets/plugin.js';

const fixture = await keystoneFixture();

/** A new token for alice (not the fixture's memoised one: these tests revoke theirs). */
async function freshToken(k: KeystoneFixture): Promise<string> {
  const response = await fetch(`${k.url}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'alice', password: k.users.alice.password, domain: { name: 'Default' } } },
        },
        scope: { project: { id: k.projects.a.id } },
      },
    }),
  });
  expect(response.status).toBe(201);
  return response.headers.get('x-subject-token')!;
}

async function revoke(k: KeystoneFixture, token: string): Promise<void> {
  const response = await fetch(`${k.url}/auth/tokens`, {
    method: 'DELETE',
    headers: { 'X-Auth-Token': await k.token('admin'), 'X-Subject-Token': token },
  });
  expect(response.status).toBe(204);
}

describe.skipIf(!fixture)('Keystone token validation', () => {
  const k = fixture!;
  let cached: TestServer;
  let uncached: TestServer;

  beforeAll(async () => {
    const config = (cacheSeconds: number) => {
      const sections = k.authConfig();
      return { ...sections, keystone_authtoken: { ...sections.keystone_authtoken, token_cache_time: cacheSeconds } };
    };
    [cached, uncached] = await Promise.all([
      startTestServer({ core: widgetPlugin(), config: config(2) }),
      startTestServer({ core: widgetPlugin(), config: config(0) }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([cached?.close(), uncached?.close()]);
  });

  it("acts as the token's user in the token's project, whatever identity headers say", async () => {
    const token = await k.token('alice');
    const created = await cached.request(
      'POST',
      '/v2.0/widgets',
      { widget: { name: 'w' } },
      { 'x-auth-token': token, 'x-project-id': k.projects.b.id, 'x-roles': 'admin' },
    );
    expect(created.status).toBe(201);
    expect(created.body.widget.project_id).toBe(k.projects.a.id);
    // Not an admin: another project's widgets stay out of sight.
    const admin = await k.token('admin');
    const other = await cached.request(
      'POST',
      '/v2.0/widgets',
      { widget: { name: 'b', project_id: k.projects.b.id } },
      { 'x-auth-token': admin },
    );
    expect(other.status).toBe(201);
    expect((await cached.request('GET', `/v2.0/widgets/${other.body.widget.id}`, undefined, { 'x-auth-token': token })).status).toBe(404);
    const listed = await cached.request('GET', '/v2.0/widgets', undefined, { 'x-auth-token': token });
    expect(listed.body.widgets.map((w: { project_id: string }) => w.project_id)).not.toContain(k.projects.b.id);
    expect(listed.body.widgets.map((w: { id: string }) => w.id)).toContain(created.body.widget.id);
  });

  it('trusts a validation for token_cache_time, then asks Keystone again', async () => {
    const token = await freshToken(k);
    const headers = { 'x-auth-token': token };
    expect((await cached.request('GET', '/v2.0/widgets', undefined, headers)).status).toBe(200);
    await revoke(k, token);
    // Still cached: keystonemiddleware behaves the same (revocation takes effect within the cache time).
    expect((await cached.request('GET', '/v2.0/widgets', undefined, headers)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 2_200));
    const after = await cached.request('GET', '/v2.0/widgets', undefined, headers);
    expect(after.status).toBe(401);
    expect(after.headers['www-authenticate']).toBe(`Keystone uri="${k.authConfig().keystone_authtoken!.www_authenticate_uri}"`);
  });

  it('with token_cache_time = 0 a revoked token is refused at once', async () => {
    const token = await freshToken(k);
    const headers = { 'x-auth-token': token };
    expect((await uncached.request('GET', '/v2.0/widgets', undefined, headers)).status).toBe(200);
    await revoke(k, token);
    expect((await uncached.request('GET', '/v2.0/widgets', undefined, headers)).status).toBe(401);
  });

  it("applies the operator's policy.yaml over the defaults: rules for verbs and for attributes", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nucleon-policy-'));
    try {
      const policyFile = join(dir, 'policy.yaml');
      await writeFile(
        policyFile,
        [
          '# only admins create widgets; only admins see their colour',
          'create_widget: "rule:admin_only"',
          'get_widget:color: "rule:admin_only"',
          '',
        ].join('\n'),
      );
      const server = await startTestServer({
        core: widgetPlugin(),
        config: { ...k.authConfig(), oslo_policy: { policy_file: policyFile } },
      });
      try {
        const alice = { 'x-auth-token': await k.token('alice') };
        const admin = { 'x-auth-token': await k.token('admin') };
        const refused = await server.request('POST', '/v2.0/widgets', { widget: { name: 'mine' } }, alice);
        expect(refused.status).toBe(403);
        expect(refused.body).toEqual({
          NeutronError: { type: 'PolicyNotAuthorized', message: 'rule:create_widget is disallowed by policy', detail: '' },
        });
        const made = await server.request(
          'POST',
          '/v2.0/widgets',
          { widget: { name: 'for-a', color: 'red', project_id: k.projects.a.id } },
          admin,
        );
        expect(made.status).toBe(201);
        expect(made.body.widget.color).toBe('red');
        const seen = await server.request('GET', `/v2.0/widgets/${made.body.widget.id}`, undefined, alice);
        expect(seen.status).toBe(200);
        expect(seen.body.widget.name).toBe('for-a');
        expect(seen.body.widget).not.toHaveProperty('color');
        const listed = await server.request('GET', '/v2.0/widgets?fields=color&fields=name', undefined, alice);
        expect(listed.body.widgets).toEqual([{ name: 'for-a' }]);
        // Updating stays the owner's (the default rule): alice renames her widget.
        const renamed = await server.request('PUT', `/v2.0/widgets/${made.body.widget.id}`, { widget: { name: 'renamed' } }, alice);
        expect(renamed.status).toBe(200);
        expect(renamed.body.widget).toMatchObject({ name: 'renamed' });
        expect(renamed.body.widget).not.toHaveProperty('color');
      } finally {
        await server.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('when Keystone cannot be asked', () => {
    let silent: Server;
    let port: number;
    const sockets = new Set<Socket>();
    beforeAll(async () => {
      // A port that accepts connections and never answers: Keystone hanging.
      silent = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      port = (silent.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    });

    const unavailable = {
      error: { code: 503, title: 'Service Unavailable', message: 'The server is currently unavailable. Please try again at a later time.' },
    };

    it('answers 503, not 500, when Keystone does not answer in http_connect_timeout', async () => {
      const sections = k.authConfig();
      const server = await startTestServer({
        core: widgetPlugin(),
        config: {
          ...sections,
          keystone_authtoken: { ...sections.keystone_authtoken, auth_url: `http://127.0.0.1:${port}`, http_connect_timeout: 1 },
        },
      });
      try {
        const response = await server.request('GET', '/v2.0/widgets', undefined, { 'x-auth-token': await k.token('alice') });
        expect(response.status).toBe(503);
        expect(response.body).toEqual(unavailable);
        expect((await server.request('GET', '/')).status).toBe(200);
      } finally {
        await server.close();
      }
    });

    it('answers 503 when Keystone refuses the service credentials, and nothing is written', async () => {
      const sections = k.authConfig();
      const server = await startTestServer({
        core: widgetPlugin(),
        config: { ...sections, keystone_authtoken: { ...sections.keystone_authtoken, password: 'not-the-password' } },
      });
      try {
        const token = await k.token('alice');
        const response = await server.request('POST', '/v2.0/widgets', { widget: { name: 'never' } }, { 'x-auth-token': token });
        expect(response.status).toBe(503);
        expect(response.body).toEqual(unavailable);
        const rows = await server.database.db.execute("select count(*)::int as n from widgets where name = 'never'");
        expect((rows as unknown as { rows: Array<{ n: number }> }).rows[0]!.n).toBe(0);
      } finally {
        await server.close();
      }
    });
  });
});
