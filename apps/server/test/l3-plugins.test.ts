import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import greeePackage from '@nucleon/l3-greee/package.json' with { type: 'json' };
import {
  freePort,
  refusal,
  requestJson,
  runServer,
  startServer,
  stopAll,
  tempDir,
  writeConf,
  type ServerProcess,
} from './helpers/processes.js';

const greeeVersion = greeePackage.version;

/** One server process per L3 plugin configuration, each on its own PGlite folder. */
async function serverWith(servicePlugins: string) {
  const { dir, remove } = await tempDir('l3');
  const port = await freePort();
  const conf = await writeConf(dir, 'neutron.conf', {
    DEFAULT: { bind_host: '127.0.0.1', bind_port: port, core_plugin: 'ml2', service_plugins: servicePlugins },
    database: { connection: `pglite://${dir}/data` },
    ml2: { type_drivers: 'flat,vxlan', tenant_network_types: 'vxlan' },
    ml2_type_flat: { flat_networks: 'public' },
    ml2_type_vxlan: { vni_ranges: '1001:2000' },
  });
  const base = `http://127.0.0.1:${port}`;
  const call = (method: string, path: string, body?: unknown) => requestJson(`${base}${path}`, method, body);
  return { dir, remove, conf, call };
}

/** An external network with a subnet; returns the network id. */
async function externalNetwork(call: Awaited<ReturnType<typeof serverWith>>['call']): Promise<string> {
  const network = await call('POST', '/v2.0/networks', {
    network: { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'public' },
  });
  await call('POST', '/v2.0/subnets', {
    subnet: { network_id: network.body.network.id, ip_version: 4, cidr: '198.51.100.0/24', enable_dhcp: false },
  });
  return network.body.network.id as string;
}

afterAll(stopAll);

describe('service_plugins = l3-greee', () => {
  let server: ServerProcess;
  let env: Awaited<ReturnType<typeof serverWith>>;
  beforeAll(async () => {
    env = await serverWith('l3-greee');
    server = await startServer(['--config-file', env.conf]).ready();
  });
  afterAll(async () => {
    await server?.stop();
    await env?.remove();
  });

  test('logs the plugin it loaded, then an allocation and a release, in that order, with the address', async () => {
    const loaded = server.logs.find((l) => l.msg === 'plugin loaded' && l.package === '@nucleon/l3-greee');
    expect(loaded).toMatchObject({ type: 'L3_ROUTER_NAT', version: greeeVersion });
    const networkId = await externalNetwork(env.call);
    const created = await env.call('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: networkId } });
    expect(created.status).toBe(201);
    const fip = created.body.floatingip;
    const deleted = await env.call('DELETE', `/v2.0/floatingips/${fip.id}`);
    expect(deleted.status).toBe(204);
    const released = await server.waitForLog((l) => l.msg === 'floating IP released');
    const lines = server.logs.filter((l) => l.msg === 'floating IP allocated' || l.msg === 'floating IP released');
    expect(lines.map((l) => l.msg)).toEqual(['floating IP allocated', 'floating IP released']);
    for (const [line, requestId] of [
      [lines[0]!, created.headers.get('x-openstack-request-id')],
      [released, deleted.headers.get('x-openstack-request-id')],
    ] as const) {
      expect(line).toMatchObject({
        floatingip_id: fip.id,
        floating_ip_address: fip.floating_ip_address,
        floating_network_id: networkId,
        project_id: 'fake_project_id',
        request_id: requestId,
      });
    }
  });

  test('serves the whole L3 API, inherited from the stock plugin', async () => {
    const extension = await env.call('GET', '/v2.0/extensions/router');
    expect(extension.status).toBe(200);
    const router = await env.call('POST', '/v2.0/routers', { router: { name: 'r1' } });
    expect(router.status).toBe(201);
    expect((await env.call('GET', `/v2.0/routers/${router.body.router.id}`)).body.router.name).toBe('r1');
  });
});

describe('service_plugins = router', () => {
  test('the stock alias loads @nucleon/l3-router and serves the same API', async () => {
    const env = await serverWith('router');
    const server = await startServer(['--config-file', env.conf]).ready();
    try {
      expect(server.logs.find((l) => l.msg === 'plugin loaded' && l.package === '@nucleon/l3-router')).toBeDefined();
      const networkId = await externalNetwork(env.call);
      const created = await env.call('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: networkId } });
      expect(created.status).toBe(201);
      expect(server.logs.some((l) => l.msg === 'floating IP allocated')).toBe(false);
      expect((await env.call('GET', '/v2.0/routers')).body).toEqual({ routers: [] });
    } finally {
      await server.stop();
      await env.remove();
    }
  });
});

describe('two L3 plugins', () => {
  test('naming both is refused at start, naming the two packages and the service type', async () => {
    const env = await serverWith('router, l3-greee');
    try {
      const { exit, server } = await runServer(['--config-file', env.conf]);
      expect(exit.code).not.toBe(0);
      const { message, hasStack } = refusal(server);
      expect(hasStack).toBe(false);
      expect(message).toContain(
        'service plugins @nucleon/l3-router and @nucleon/l3-greee both provide service type L3_ROUTER_NAT; only one plugin per service type may be loaded',
      );
    } finally {
      await env.remove();
    }
  });
});
