import type { TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { addressTaken, create, externalNetwork, failure, ok, portsOf, privateNetwork, startL3 } from './server.js';

let server: TestServer;
let ext: { network: Record<string, any>; subnet: Record<string, any> };
beforeAll(async () => {
  server = await startL3();
  // Explicitly requested external addresses (.2-.9) lie outside the pool (.10-.250), so random
  // gateway addresses never take them first. The default project makes many routers here; the
  // quota itself is tested with another project.
  await ok(server, 'PUT', '/v2.0/quotas/fake_project_id', { quota: { router: -1 } });
  ext = await externalNetwork(server, '203.0.113');
});
afterAll(() => server?.close());

const MISSING = '00000000-0000-4000-8000-000000000000';

function ipValue(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

describe('router CRUD', () => {
  test("create answers Neutron's shape: ACTIVE, no gateway, no routes, revision 1", async () => {
    const router = await create(server, 'routers', 'router', { name: 'r1' });
    expect(router).toEqual({
      id: expect.any(String),
      name: 'r1',
      tenant_id: 'fake_project_id',
      project_id: 'fake_project_id',
      admin_state_up: true,
      status: 'ACTIVE',
      external_gateway_info: null,
      routes: [],
      description: '',
      tags: [],
      created_at: expect.any(String),
      updated_at: expect.any(String),
      revision_number: 1,
    });
    expect((await ok(server, 'GET', `/v2.0/routers/${router.id}`)).router).toEqual(router);
    const listed = await ok(server, 'GET', '/v2.0/routers?name=r1');
    expect(listed.routers.map((r: any) => r.id)).toEqual([router.id]);
  });

  test('update changes name, state and description and bumps the revision', async () => {
    const router = await create(server, 'routers', 'router', { name: 'before' });
    const updated = (
      await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { name: 'after', admin_state_up: false, description: 'd' } })
    ).router;
    expect(updated).toMatchObject({ name: 'after', admin_state_up: false, description: 'd', revision_number: 2 });
    const readOnly = await server.request('PUT', `/v2.0/routers/${router.id}`, { router: { status: 'ERROR' } });
    expect(failure(readOnly)).toEqual({ status: 400, type: 'HTTPBadRequest', message: 'Cannot update read-only attribute status' });
  });

  test('delete answers 204, then the router is 404 RouterNotFound', async () => {
    const router = await create(server, 'routers', 'router', {});
    expect((await server.request('DELETE', `/v2.0/routers/${router.id}`)).status).toBe(204);
    for (const method of ['GET', 'DELETE'] as const) {
      expect(failure(await server.request(method, `/v2.0/routers/${router.id}`))).toEqual({
        status: 404,
        type: 'RouterNotFound',
        message: `Router ${router.id} could not be found`,
      });
    }
  });

  test('bulk create is not supported, as in Neutron', async () => {
    const response = await server.request('POST', '/v2.0/routers', { routers: [{ name: 'b1' }, { name: 'b2' }] });
    expect(failure(response)).toEqual({ status: 400, type: 'HTTPBadRequest', message: 'Bulk operation not supported' });
    expect((await ok(server, 'GET', '/v2.0/routers?name=b1')).routers).toEqual([]);
  });

  test('routes cannot be given on create', async () => {
    const response = await server.request('POST', '/v2.0/routers', { router: { routes: [] } });
    expect(failure(response)).toEqual({ status: 400, type: 'HTTPBadRequest', message: "Attribute 'routes' not allowed in POST" });
  });
});

describe('external gateway', () => {
  test('a gateway port takes an address on the external subnet and is hidden from the project', async () => {
    const router = await create(server, 'routers', 'router', { name: 'gw', external_gateway_info: { network_id: ext.network.id } });
    const gateway = router.external_gateway_info;
    expect(gateway).toEqual({
      network_id: ext.network.id,
      external_fixed_ips: [{ subnet_id: ext.subnet.id, ip_address: expect.any(String) }],
      enable_snat: true,
    });
    const ip = ipValue(gateway.external_fixed_ips[0].ip_address);
    expect(ip).toBeGreaterThanOrEqual(ipValue('203.0.113.10'));
    expect(ip).toBeLessThanOrEqual(ipValue('203.0.113.250'));
    const [port] = await portsOf(server, router.id);
    expect(port).toMatchObject({
      device_owner: 'network:router_gateway',
      device_id: router.id,
      project_id: '',
      tenant_id: '',
      network_id: ext.network.id,
      fixed_ips: gateway.external_fixed_ips,
    });
    const projectPorts = (await ok(server, 'GET', '/v2.0/ports?project_id=fake_project_id')).ports;
    expect(projectPorts.map((p: any) => p.id)).not.toContain(port!.id);
  });

  test('the network must exist and be external; a refused create leaves no router', async () => {
    const internal = await privateNetwork(server, '10.1.0.0/24');
    const body = { router: { name: 'refused', external_gateway_info: { network_id: internal.network.id } } };
    expect(failure(await server.request('POST', '/v2.0/routers', body))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad router request: Network ${internal.network.id} is not an external network.`,
    });
    expect(failure(await server.request('POST', '/v2.0/routers', { router: { external_gateway_info: { network_id: MISSING } } }))).toEqual({
      status: 404,
      type: 'NetworkNotFound',
      message: `Network ${MISSING} could not be found.`,
    });
    expect((await ok(server, 'GET', '/v2.0/routers?name=refused')).routers).toEqual([]);
  });

  test('malformed gateway info is refused by validation', async () => {
    const cases: Array<[unknown, string]> = [
      [
        { external_fixed_ips: [] },
        "Invalid input for external_gateway_info. Reason: Validation of dictionary's keys failed. Expected keys: {'network_id'} Provided keys: {'external_fixed_ips'}.",
      ],
      [{ network_id: 'nope' }, "Invalid input for external_gateway_info. Reason: 'nope' is not a valid UUID."],
      ['x', "Invalid input for external_gateway_info. Reason: 'x' is not a dictionary."],
    ];
    for (const [info, message] of cases) {
      const response = await server.request('POST', '/v2.0/routers', { router: { external_gateway_info: info } });
      expect(failure(response), JSON.stringify(info)).toEqual({ status: 400, type: 'HTTPBadRequest', message });
    }
  });

  test('explicit external_fixed_ips: the asked address, never the subnet gateway', async () => {
    const router = await create(server, 'routers', 'router', {
      external_gateway_info: { network_id: ext.network.id, external_fixed_ips: [{ ip_address: '203.0.113.2' }] },
    });
    expect(router.external_gateway_info.external_fixed_ips).toEqual([{ subnet_id: ext.subnet.id, ip_address: '203.0.113.2' }]);
    const onGateway = await server.request('POST', '/v2.0/routers', {
      router: {
        external_gateway_info: {
          network_id: ext.network.id,
          external_fixed_ips: [{ subnet_id: ext.subnet.id, ip_address: '203.0.113.1' }],
        },
      },
    });
    expect(failure(onGateway)).toEqual({
      status: 400,
      type: 'BadRequest',
      message: 'Bad router request: External IP 203.0.113.1 is the same as the gateway IP.',
    });
    const taken = await server.request('POST', '/v2.0/routers', {
      router: { name: 'taken', external_gateway_info: { network_id: ext.network.id, external_fixed_ips: [{ ip_address: '203.0.113.2' }] } },
    });
    expect(failure(taken)).toEqual({
      status: 409,
      type: 'IpAddressAlreadyAllocated',
      message: `IP address 203.0.113.2 already allocated in subnet ${ext.subnet.id}`,
    });
    // The router and its gateway are one transaction: no router is left without its gateway.
    expect((await ok(server, 'GET', '/v2.0/routers?name=taken')).routers).toEqual([]);
  });

  test('an external network without subnets gives a gateway without addresses', async () => {
    const bare = await create(server, 'networks', 'network', { 'router:external': true });
    const router = await create(server, 'routers', 'router', { external_gateway_info: { network_id: bare.id } });
    expect(router.external_gateway_info).toEqual({ network_id: bare.id, external_fixed_ips: [], enable_snat: true });
    expect((await portsOf(server, router.id)).map((p) => p.fixed_ips)).toEqual([[]]);
  });

  test('enable_snat defaults to true and can be set', async () => {
    const router = await create(server, 'routers', 'router', { external_gateway_info: { network_id: ext.network.id, enable_snat: false } });
    expect(router.external_gateway_info.enable_snat).toBe(false);
    const updated = (
      await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { external_gateway_info: { network_id: ext.network.id } } })
    ).router;
    expect(updated.external_gateway_info.enable_snat).toBe(true);
    // Same network: the gateway port stays.
    expect(updated.external_gateway_info.external_fixed_ips).toEqual(router.external_gateway_info.external_fixed_ips);
  });

  test('changing the addresses on the same network keeps the port and frees the old address', async () => {
    const router = await create(server, 'routers', 'router', {
      external_gateway_info: { network_id: ext.network.id, external_fixed_ips: [{ ip_address: '203.0.113.3' }] },
    });
    const [before] = await portsOf(server, router.id);
    const updated = (
      await ok(server, 'PUT', `/v2.0/routers/${router.id}`, {
        router: { external_gateway_info: { network_id: ext.network.id, external_fixed_ips: [{ ip_address: '203.0.113.4' }] } },
      })
    ).router;
    expect(updated.external_gateway_info.external_fixed_ips).toEqual([{ subnet_id: ext.subnet.id, ip_address: '203.0.113.4' }]);
    const [after] = await portsOf(server, router.id);
    expect(after!.id).toBe(before!.id);
    expect(after!.fixed_ips).toEqual([{ subnet_id: ext.subnet.id, ip_address: '203.0.113.4' }]);
    expect(await addressTaken(server, ext.network.id, '203.0.113.3')).toBe(false);
  });

  test('adding a second address on the same network, then dropping one', async () => {
    const router = await create(server, 'routers', 'router', {
      external_gateway_info: { network_id: ext.network.id, external_fixed_ips: [{ ip_address: '203.0.113.5' }] },
    });
    const both = [{ ip_address: '203.0.113.5' }, { ip_address: '203.0.113.6' }];
    const widened = (
      await ok(server, 'PUT', `/v2.0/routers/${router.id}`, {
        router: { external_gateway_info: { network_id: ext.network.id, external_fixed_ips: both } },
      })
    ).router;
    expect(widened.external_gateway_info.external_fixed_ips.map((ip: any) => ip.ip_address)).toEqual(['203.0.113.5', '203.0.113.6']);
    const narrowed = (
      await ok(server, 'PUT', `/v2.0/routers/${router.id}`, {
        router: { external_gateway_info: { network_id: ext.network.id, external_fixed_ips: [{ ip_address: '203.0.113.6' }] } },
      })
    ).router;
    expect(narrowed.external_gateway_info.external_fixed_ips).toEqual([{ subnet_id: ext.subnet.id, ip_address: '203.0.113.6' }]);
    expect(await addressTaken(server, ext.network.id, '203.0.113.5')).toBe(false);
  });

  test('switching networks replaces the gateway port', async () => {
    const other = await externalNetwork(server, '198.51.100');
    const router = await create(server, 'routers', 'router', { external_gateway_info: { network_id: ext.network.id } });
    const [old] = await portsOf(server, router.id);
    const switched = (
      await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { external_gateway_info: { network_id: other.network.id } } })
    ).router;
    expect(switched.external_gateway_info).toMatchObject({
      network_id: other.network.id,
      external_fixed_ips: [{ subnet_id: other.subnet.id }],
    });
    const ports = await portsOf(server, router.id);
    expect(ports).toHaveLength(1);
    expect(ports[0]).toMatchObject({ network_id: other.network.id, device_owner: 'network:router_gateway' });
    expect(failure(await server.request('GET', `/v2.0/ports/${old!.id}`)).type).toBe('PortNotFound');
  });

  test('clearing with {} and with null removes the port', async () => {
    for (const cleared of [{}, null]) {
      const router = await create(server, 'routers', 'router', {
        external_gateway_info: { network_id: ext.network.id, enable_snat: false },
      });
      const address = router.external_gateway_info.external_fixed_ips[0].ip_address;
      const updated = (await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { external_gateway_info: cleared } })).router;
      expect(updated.external_gateway_info, JSON.stringify(cleared)).toBeNull();
      expect(await portsOf(server, router.id)).toEqual([]);
      expect(await addressTaken(server, ext.network.id, address)).toBe(false);
    }
  });

  test('deleting a router deletes its gateway port', async () => {
    const router = await create(server, 'routers', 'router', { external_gateway_info: { network_id: ext.network.id } });
    const [port] = await portsOf(server, router.id);
    expect((await server.request('DELETE', `/v2.0/routers/${router.id}`)).status).toBe(204);
    expect((await server.request('GET', `/v2.0/ports/${port!.id}`)).status).toBe(404);
  });

  test('a gateway port cannot be deleted through the port API', async () => {
    const router = await create(server, 'routers', 'router', { external_gateway_info: { network_id: ext.network.id } });
    const [port] = await portsOf(server, router.id);
    expect(failure(await server.request('DELETE', `/v2.0/ports/${port!.id}`))).toEqual({
      status: 409,
      type: 'ServicePortInUse',
      message: `Port ${port!.id} cannot be deleted directly via the port API: has device owner network:router_gateway.`,
    });
  });

  test('an external network with gateways stays external; without them it may change', async () => {
    const net = await externalNetwork(server, '192.0.2');
    const router = await create(server, 'routers', 'router', { external_gateway_info: { network_id: net.network.id } });
    const refused = await server.request('PUT', `/v2.0/networks/${net.network.id}`, { network: { 'router:external': false } });
    expect(failure(refused)).toEqual({
      status: 409,
      type: 'ExternalNetworkInUse',
      message: `External network ${net.network.id} cannot be updated to be made non-external, since it has existing gateway ports.`,
    });
    // Other changes of such a network are fine.
    await ok(server, 'PUT', `/v2.0/networks/${net.network.id}`, { network: { name: 'renamed', 'router:external': true } });
    await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { external_gateway_info: null } });
    const allowed = (await ok(server, 'PUT', `/v2.0/networks/${net.network.id}`, { network: { 'router:external': false } })).network;
    expect(allowed['router:external']).toBe(false);
  });

  test("updating the gateway port's addresses through the port API shows in the router", async () => {
    const router = await create(server, 'routers', 'router', {
      external_gateway_info: { network_id: ext.network.id, external_fixed_ips: [{ ip_address: '203.0.113.7' }] },
    });
    const [port] = await portsOf(server, router.id);
    await ok(server, 'PUT', `/v2.0/ports/${port!.id}`, { port: { fixed_ips: [{ ip_address: '203.0.113.8' }] } });
    const shown = (await ok(server, 'GET', `/v2.0/routers/${router.id}`)).router;
    expect(shown.external_gateway_info.external_fixed_ips).toEqual([{ subnet_id: ext.subnet.id, ip_address: '203.0.113.8' }]);
  });
});

describe('extra routes', () => {
  let router: Record<string, any>;
  let subnet: Record<string, any>;
  beforeAll(async () => {
    ({ subnet } = await privateNetwork(server, '10.2.0.0/24'));
    router = await create(server, 'routers', 'router', { name: 'routes', external_gateway_info: { network_id: ext.network.id } });
    await ok(server, 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
  });

  test('routes via attached subnets (internal and external) are stored; null clears them', async () => {
    const routes = [
      { destination: '198.51.100.0/24', nexthop: '10.2.0.9' },
      { destination: '0.0.0.0/0', nexthop: '203.0.113.254' },
    ];
    const updated = (await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { routes } })).router;
    expect(updated.routes).toEqual(routes);
    const shown = await server.request('GET', `/v2.0/routers/${router.id}`);
    expect(shown.body.router.routes).toEqual(routes);
    // Key order as Neutron's: destination, then nexthop.
    expect(shown.body.router.routes.map((r: object) => Object.keys(r))).toEqual([
      ['destination', 'nexthop'],
      ['destination', 'nexthop'],
    ]);
    const cleared = (await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { routes: null } })).router;
    expect(cleared.routes).toEqual([]);
  });

  test("a nexthop off the router's subnets, or one of its own addresses, is refused", async () => {
    const offRouter = [{ destination: '10.9.0.0/24', nexthop: '1.2.3.4' }];
    expect(failure(await server.request('PUT', `/v2.0/routers/${router.id}`, { router: { routes: offRouter } }))).toEqual({
      status: 400,
      type: 'InvalidRoutes',
      message:
        "Invalid format for routes: [{'destination': '10.9.0.0/24', 'nexthop': '1.2.3.4'}], the nexthop is not connected with router",
    });
    const own = [{ destination: '10.9.0.0/24', nexthop: '10.2.0.1' }];
    expect(failure(await server.request('PUT', `/v2.0/routers/${router.id}`, { router: { routes: own } }))).toEqual({
      status: 400,
      type: 'InvalidRoutes',
      message: "Invalid format for routes: [{'destination': '10.9.0.0/24', 'nexthop': '10.2.0.1'}], the nexthop is used by router",
    });
    expect((await ok(server, 'GET', `/v2.0/routers/${router.id}`)).router.routes).toEqual([]);
  });

  test('more than max_routes (30) is RoutesExhausted', async () => {
    const routes = Array.from({ length: 31 }, (_, i) => ({ destination: `172.16.${i}.0/24`, nexthop: '10.2.0.9' }));
    expect(failure(await server.request('PUT', `/v2.0/routers/${router.id}`, { router: { routes } }))).toEqual({
      status: 400,
      type: 'RoutesExhausted',
      message: `Unable to complete operation for ${router.id}. The number of routes exceeds the maximum 30.`,
    });
    const thirty = (await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { routes: routes.slice(0, 30) } })).router;
    expect(thirty.routes).toHaveLength(30);
    await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { routes: [] } });
  });

  test('malformed routes are refused by validation', async () => {
    const response = await server.request('PUT', `/v2.0/routers/${router.id}`, { router: { routes: [{ destination: '10.9.0.0/24' }] } });
    expect(failure(response)).toMatchObject({ status: 400, type: 'HTTPBadRequest' });
    expect(failure(response).message).toMatch(/^Invalid input for routes\. Reason: /);
  });

  test('dropping the gateway a route goes through is refused', async () => {
    await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { routes: [{ destination: '0.0.0.0/0', nexthop: '203.0.113.254' }] } });
    const response = await server.request('PUT', `/v2.0/routers/${router.id}`, { router: { external_gateway_info: {} } });
    expect(failure(response)).toEqual({
      status: 400,
      type: 'InvalidRoutes',
      message:
        "Invalid format for routes: [{'destination': '0.0.0.0/0', 'nexthop': '203.0.113.254'}], the nexthop is not connected with router",
    });
    expect((await ok(server, 'GET', `/v2.0/routers/${router.id}`)).router.external_gateway_info).not.toBeNull();
    await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { routes: [] } });
  });
});

describe('quota', () => {
  test('router quota is 10 per project; the 11th is OverQuota', async () => {
    const headers = { 'x-project-id': 'router-quota' };
    for (let i = 0; i < 10; i++) await create(server, 'routers', 'router', { name: `q${i}` }, headers);
    const over = await server.request('POST', '/v2.0/routers', { router: {} }, headers);
    expect(failure(over)).toEqual({ status: 409, type: 'OverQuota', message: "Quota exceeded for resources: ['router']." });
    expect((await ok(server, 'GET', '/v2.0/quotas/router-quota/details')).quota.router).toEqual({ limit: 10, used: 10, reserved: 0 });
  });
});

describe('enable_snat_by_default', () => {
  let snatless: TestServer;
  beforeAll(async () => {
    snatless = await startL3({ config: { DEFAULT: { enable_snat_by_default: false } } });
  });
  afterAll(() => snatless?.close());

  test('sets enable_snat when the gateway info does not', async () => {
    const net = await externalNetwork(snatless, '203.0.113');
    const router = await create(snatless, 'routers', 'router', { external_gateway_info: { network_id: net.network.id } });
    expect(router.external_gateway_info.enable_snat).toBe(false);
    const explicit = await create(snatless, 'routers', 'router', {
      external_gateway_info: { network_id: net.network.id, enable_snat: true },
    });
    expect(explicit.external_gateway_info.enable_snat).toBe(true);
  });
});
