/**
 * The real `openstack` CLI against a real nucleon-server with `auth_strategy = keystone`: the CLI
 * authenticates with a password against the test Keystone (`@nucleon/core/testing`'s fixture)
 * and finds Nucleon in Keystone's catalog, as operators' clients do — the test registers its
 * server as the `network` service's public endpoint, in a region of its own so that concurrent
 * runs on one Keystone never see each other's server. Alice (member of `nucleon-a`) owns the
 * resources of the scenario in `helpers/openstack-cli.ts`, the admin creates the external
 * network; bob's network stays invisible to alice; no token is a 401.
 * Skips without the CLI or a Keystone unless NUCLEON_REQUIRE_OPENSTACK_CLI / NUCLEON_REQUIRE_KEYSTONE.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { keystoneFixture, type KeystoneFixture } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { CLI_PRESENT, OpenStackCli, report, scenario, startMode, SYSTEM_PATH, type CliRun, type Mode } from './helpers/openstack-cli.js';
import { requestJson, stopAll, type ServerProcess } from './helpers/processes.js';

const keystone: KeystoneFixture | undefined = CLI_PRESENT ? await keystoneFixture() : undefined;

if (CLI_PRESENT && !keystone && process.env.NUCLEON_REQUIRE_KEYSTONE) {
  throw new Error(
    'NUCLEON_REQUIRE_KEYSTONE is set but no test Keystone is configured: refusing to skip the keystone mode of the CLI tests',
  );
}

afterAll(stopAll);

describe.skipIf(!CLI_PRESENT || !keystone)('openstack CLI, auth_strategy = keystone (catalog from Keystone)', () => {
  const ks = keystone!;
  const runs: CliRun[] = [];
  let started = 0;
  let env: Awaited<ReturnType<typeof startMode>>;
  let server: ServerProcess;
  const mode = { userIsAdmin: false } as Mode;
  let bobNetwork: any;
  let catalog: Awaited<ReturnType<typeof registerNetworkEndpoint>> | undefined;

  /** The server's REST API with a token (or none). */
  const api = (method: string, path: string, token?: string, body?: unknown) =>
    requestJson(`${env.url}${path}`, method, body, token ? { 'x-auth-token': token } : {});

  beforeAll(async () => {
    started = performance.now();
    const auth = ks.authConfig();
    env = await startMode('keystone', { ...auth, DEFAULT: { ...auth.DEFAULT } });
    server = env.server;
    mode.server = server;
    const registered = await registerNetworkEndpoint(ks, env.url);
    catalog = registered;
    const cli = (user: 'alice' | 'admin', project: { name: string }) =>
      new OpenStackCli(
        user,
        [],
        {
          PATH: SYSTEM_PATH,
          HOME: env.temp.dir,
          LANG: 'C.UTF-8',
          // What an operator's openrc exports.
          OS_AUTH_URL: ks.url,
          OS_IDENTITY_API_VERSION: '3',
          OS_USERNAME: ks.users[user].name,
          OS_PASSWORD: ks.users[user].password,
          OS_PROJECT_NAME: project.name,
          OS_USER_DOMAIN_NAME: 'Default',
          OS_PROJECT_DOMAIN_NAME: 'Default',
          OS_REGION_NAME: registered.region,
          OS_INTERFACE: 'public',
        },
        runs,
      );
    mode.admin = cli('admin', ks.projects.admin);
    mode.user = cli('alice', ks.projects.a);
    mode.adminProject = ks.projects.admin.id;
    mode.userProject = ks.projects.a.id;
  });
  afterAll(async () => {
    await catalog?.remove();
    if (bobNetwork && server) await api('DELETE', `/v2.0/networks/${bobNetwork.id}`, await ks.token('bob'));
    await server?.stop();
    await env?.temp.remove();
    report('keystone', runs, performance.now() - started);
  });

  test('without a token the API answers 401 and the version document stays open', async () => {
    const versions = await api('GET', '/');
    expect(versions.status).toBe(200);
    for (const token of [undefined, 'not-a-token']) {
      const refused = await api('GET', '/v2.0/networks', token);
      expect(refused.status).toBe(401);
      expect(refused.body).toEqual({
        error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
      });
      expect(refused.headers.get('www-authenticate')).toMatch(/^Keystone uri="http:\/\/127\.0\.0\.1:\d+/);
    }
  });

  scenario(mode, [
    [
      "projects are isolated: alice neither lists nor shows bob's network, and may not create an external one",
      async (s) => {
        const created = await api('POST', '/v2.0/networks', await ks.token('bob'), { network: { name: 'bob-net' } });
        expect(created.status).toBe(201);
        bobNetwork = created.body.network;
        expect(bobNetwork.project_id).toBe(ks.projects.b.id);

        const ids = (await mode.user.json(['network', 'list'])).map((n: any) => n.ID).sort();
        expect(ids).toEqual([s.net.id, s.ext.id].sort());
        const hidden = await mode.user.fails(['network', 'show', bobNetwork.id]);
        expect(hidden.stderr).toContain(`No Network found for ${bobNetwork.id}`);

        const forbidden = await mode.user.fails(['network', 'create', 'sneaky', '--external']);
        // openstacksdk has no class of its own for a 403: a plain HttpException, with Neutron's message.
        expect(forbidden.stderr).toContain(
          'HttpException: 403, (rule:create_network and rule:create_network:router:external) is disallowed by policy',
        );
      },
    ],
  ]);
});

/** Regions this test registers its servers in; a region whose server is gone is pruned. */
const REGION_PREFIX = 'nucleon-cli-';

/**
 * Registers `url` in Keystone's catalog as the `network` service's public endpoint, as an
 * operator registers neutron-server: finds (or creates) the service of type `network` named
 * `neutron` and adds a public endpoint in a region of this run's own (`nucleon-cli-…`), which the
 * CLI selects with OS_REGION_NAME. A shared region (RegionOne) would let two test runs on one
 * Keystone (two workspaces, a developer's run next to CI's) point each other's CLI at the wrong
 * server. Endpoints left by runs whose server is gone (connection refused) are removed first.
 * Returns the region and the cleanup for `afterAll`.
 */
async function registerNetworkEndpoint(ks: KeystoneFixture, url: string): Promise<{ region: string; remove: () => Promise<void> }> {
  const token = await ks.token('admin');
  const call = async (method: string, path: string, body?: unknown, accept: readonly number[] = []) => {
    const response = await fetch(`${ks.url}${path}`, {
      method,
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-auth-token': token },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    if (!response.ok && !accept.includes(response.status)) throw new Error(`Keystone ${method} ${path}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };

  const services: Array<{ id: string; name?: string }> = (await call('GET', '/services?type=network')).services;
  const service =
    services.find((candidate) => candidate.name === 'neutron') ??
    (await call('POST', '/services', { service: { type: 'network', name: 'neutron', enabled: true, description: 'OpenStack Networking' } }))
      .service;

  // Prune what runs that died before their afterAll left behind.
  for (const { id: serviceId } of services) {
    const endpoints: Array<{ id: string; url: string; region_id: string }> = (
      await call('GET', `/endpoints?${new URLSearchParams({ service_id: serviceId })}`)
    ).endpoints;
    for (const endpoint of endpoints.filter((e) => e.region_id?.startsWith(REGION_PREFIX))) {
      const refused = await fetch(endpoint.url, { signal: AbortSignal.timeout(5_000) }).then(
        () => false,
        (error: { cause?: { code?: string } }) => error.cause?.code === 'ECONNREFUSED',
      );
      if (!refused) continue;
      await call('DELETE', `/endpoints/${endpoint.id}`, undefined, [404]);
      await call('DELETE', `/regions/${endpoint.region_id}`, undefined, [404, 409]);
    }
  }

  const region = `${REGION_PREFIX}${randomUUID().slice(0, 8)}`;
  await call('POST', '/regions', { region: { id: region, description: 'a nucleon-server of apps/server/test/openstack-cli.test.ts' } });
  const { endpoint } = await call('POST', '/endpoints', {
    endpoint: { service_id: service.id, interface: 'public', region_id: region, url, enabled: true },
  });
  return {
    region,
    remove: async () => {
      await call('DELETE', `/endpoints/${endpoint.id}`, undefined, [404]);
      await call('DELETE', `/regions/${region}`, undefined, [404]);
    },
  };
}
