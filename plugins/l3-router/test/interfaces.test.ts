import type { TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { create, externalNetwork, failure, ok, portsOf, privateNetwork, startL3 } from './server.js';

let server: TestServer;
let ext: { network: Record<string, any>; subnet: Record<string, any> };
beforeAll(async () => {
  server = await startL3();
  await ok(server, 'PUT', '/v2.0/quotas/fake_project_id', { quota: { router: -1 } });
  ext = await externalNetwork(server, '203.0.113');
});
afterAll(() => server?.close());

const MISSING = '00000000-0000-4000-8000-000000000000';

/** Counts /24s so every test gets subnets of its own. */
let nextNet = 0;
function freshCidr(): string {
  return `10.${100 + nextNet++}.0.0/24`;
}

function add(routerId: string, body: unknown) {
  return server.request('PUT', `/v2.0/routers/${routerId}/add_router_interface`, body);
}
function remove(routerId: string, body: unknown) {
  return server.request('PUT', `/v2.0/routers/${routerId}/remove_router_interface`, body);
}

describe('add_router_interface by subnet', () => {
  test("creates a port holding the subnet's gateway address and answers the interface info", async () => {
    const router = await create(server, 'routers', 'router', { name: 'by-subnet' });
    const { network, subnet } = await privateNetwork(server, freshCidr());
    const response = await add(router.id, { subnet_id: subnet.id });
    expect(response.status).toBe(200);
    const [port] = await portsOf(server, router.id);
    expect(response.body).toEqual({
      id: router.id,
      tenant_id: 'fake_project_id',
      port_id: port!.id,
      network_id: network.id,
      subnet_id: subnet.id,
      subnet_ids: [subnet.id],
    });
    expect(Object.keys(response.body)).toEqual(['id', 'tenant_id', 'port_id', 'network_id', 'subnet_id', 'subnet_ids']);
    expect(port).toMatchObject({
      device_owner: 'network:router_interface',
      device_id: router.id,
      project_id: 'fake_project_id',
      fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }],
    });
    // The interface is a change of the router.
    expect((await ok(server, 'GET', `/v2.0/routers/${router.id}`)).router.revision_number).toBe(2);
  });

  test('a subnet without a gateway, an unknown subnet, an unknown router', async () => {
    const router = await create(server, 'routers', 'router', {});
    const { subnet } = await privateNetwork(server, freshCidr(), { gateway: null });
    expect(failure(await add(router.id, { subnet_id: subnet.id }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: 'Bad router request: Subnet for router interface must have a gateway IP.',
    });
    expect(failure(await add(router.id, { subnet_id: MISSING }))).toEqual({
      status: 404,
      type: 'SubnetNotFound',
      message: `Subnet ${MISSING} could not be found.`,
    });
    expect(failure(await add(MISSING, { subnet_id: subnet.id }))).toEqual({
      status: 404,
      type: 'RouterNotFound',
      message: `Router ${MISSING} could not be found`,
    });
  });

  test('a subnet whose gateway address another router holds: IpAddressAlreadyAllocated', async () => {
    const { subnet } = await privateNetwork(server, freshCidr());
    const first = await create(server, 'routers', 'router', {});
    await ok(server, 'PUT', `/v2.0/routers/${first.id}/add_router_interface`, { subnet_id: subnet.id });
    const second = await create(server, 'routers', 'router', {});
    expect(failure(await add(second.id, { subnet_id: subnet.id }))).toEqual({
      status: 409,
      type: 'IpAddressAlreadyAllocated',
      message: `IP address ${subnet.gateway_ip} already allocated in subnet ${subnet.id}`,
    });
    expect(await portsOf(server, second.id)).toEqual([]);
  });

  test('the same subnet twice is refused', async () => {
    const router = await create(server, 'routers', 'router', {});
    const { subnet } = await privateNetwork(server, freshCidr());
    await ok(server, 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
    expect(failure(await add(router.id, { subnet_id: subnet.id }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad router request: Router already has a port on subnet ${subnet.id}.`,
    });
    expect(await portsOf(server, router.id)).toHaveLength(1);
  });

  test("overlapping CIDRs on one router are refused, the gateway network's subnets included", async () => {
    const router = await create(server, 'routers', 'router', { external_gateway_info: { network_id: ext.network.id } });
    const cidr = freshCidr();
    const first = await privateNetwork(server, cidr);
    const second = await privateNetwork(server, cidr);
    await ok(server, 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: first.subnet.id });
    expect(failure(await add(router.id, { subnet_id: second.subnet.id }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad router request: Cidr ${cidr} of subnet ${second.subnet.id} overlaps with cidr ${cidr} of subnet ${first.subnet.id}.`,
    });
    const likeExternal = await privateNetwork(server, '203.0.113.128/25');
    expect(failure(await add(router.id, { subnet_id: likeExternal.subnet.id }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad router request: Cidr 203.0.113.128/25 of subnet ${likeExternal.subnet.id} overlaps with cidr 203.0.113.0/24 of subnet ${ext.subnet.id}.`,
    });
    // A router on another router's CIDR is fine: overlap is per router.
    const other = await create(server, 'routers', 'router', {});
    await ok(server, 'PUT', `/v2.0/routers/${other.id}/add_router_interface`, { subnet_id: second.subnet.id });
  });

  test('a gateway whose network overlaps an interface is refused', async () => {
    const router = await create(server, 'routers', 'router', {});
    const inside = await privateNetwork(server, '198.18.0.0/24');
    await ok(server, 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: inside.subnet.id });
    const overlapping = await externalNetwork(server, '198.18.0', {
      cidr: '198.18.0.0/16',
      gateway: '198.18.255.254',
      pool: ['198.18.1.1', '198.18.1.100'],
    });
    const response = await server.request('PUT', `/v2.0/routers/${router.id}`, {
      router: { external_gateway_info: { network_id: overlapping.network.id } },
    });
    expect(failure(response)).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad router request: Cidr 198.18.0.0/16 of subnet ${overlapping.subnet.id} overlaps with cidr 198.18.0.0/24 of subnet ${inside.subnet.id}.`,
    });
    expect((await portsOf(server, router.id)).map((p) => p.device_owner)).toEqual(['network:router_interface']);
  });
});

describe('add_router_interface by port', () => {
  test('takes over an unused port', async () => {
    const router = await create(server, 'routers', 'router', {});
    const { network, subnet } = await privateNetwork(server, freshCidr());
    const port = await create(server, 'ports', 'port', { network_id: network.id, name: 'mine' });
    const response = await add(router.id, { port_id: port.id });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      id: router.id,
      tenant_id: 'fake_project_id',
      port_id: port.id,
      network_id: network.id,
      subnet_id: subnet.id,
      subnet_ids: [subnet.id],
    });
    const shown = (await ok(server, 'GET', `/v2.0/ports/${port.id}`)).port;
    expect(shown).toMatchObject({ device_owner: 'network:router_interface', device_id: router.id, fixed_ips: port.fixed_ips });
  });

  test('a port with a device is PortInUse; a port without addresses is refused; unknown port 404', async () => {
    const router = await create(server, 'routers', 'router', {});
    const { network } = await privateNetwork(server, freshCidr());
    const used = await create(server, 'ports', 'port', { network_id: network.id, device_id: 'vm-1', device_owner: 'compute:nova' });
    expect(failure(await add(router.id, { port_id: used.id }))).toEqual({
      status: 409,
      type: 'PortInUse',
      message: `Unable to complete operation on port ${used.id} for network ${network.id}. Port already has an attached device vm-1.`,
    });
    const bare = await create(server, 'ports', 'port', { network_id: network.id, fixed_ips: [] });
    expect(failure(await add(router.id, { port_id: bare.id }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: 'Bad router request: Router port must have at least one fixed IP.',
    });
    expect(failure(await add(router.id, { port_id: MISSING }))).toMatchObject({ status: 404, type: 'PortNotFound' });
    expect(await portsOf(server, router.id)).toEqual([]);
  });

  test('a port on a subnet the router already has is refused', async () => {
    const router = await create(server, 'routers', 'router', {});
    const { network, subnet } = await privateNetwork(server, freshCidr());
    await ok(server, 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
    const port = await create(server, 'ports', 'port', { network_id: network.id });
    expect(failure(await add(router.id, { port_id: port.id }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad router request: Router already has a port on subnet ${subnet.id}.`,
    });
    expect((await ok(server, 'GET', `/v2.0/ports/${port.id}`)).port).toMatchObject({ device_id: '', device_owner: '' });
  });
});

describe('interface request bodies', () => {
  test('both, neither, or a malformed id are refused', async () => {
    const router = await create(server, 'routers', 'router', {});
    const { subnet } = await privateNetwork(server, freshCidr());
    expect(failure(await add(router.id, { subnet_id: subnet.id, port_id: MISSING }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: 'Bad router request: Cannot specify both subnet-id and port-id.',
    });
    for (const body of [{}, { subnet_id: null }]) {
      for (const send of [add, remove]) {
        expect(failure(await send(router.id, body)), JSON.stringify(body)).toEqual({
          status: 400,
          type: 'BadRequest',
          message: 'Bad router request: Either subnet_id or port_id must be specified.',
        });
      }
    }
    expect(failure(await add(router.id, { subnet_id: 'nope' }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: "Bad router request: 'nope' is not a valid UUID.",
    });
  });
});

describe('remove_router_interface', () => {
  test('by subnet deletes the port and answers the interface info', async () => {
    const router = await create(server, 'routers', 'router', {});
    const { network, subnet } = await privateNetwork(server, freshCidr());
    const added = (await add(router.id, { subnet_id: subnet.id })).body;
    const response = await remove(router.id, { subnet_id: subnet.id });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      id: router.id,
      tenant_id: 'fake_project_id',
      port_id: added.port_id,
      network_id: network.id,
      subnet_id: subnet.id,
      subnet_ids: [subnet.id],
    });
    expect((await server.request('GET', `/v2.0/ports/${added.port_id}`)).status).toBe(404);
    expect(failure(await remove(router.id, { subnet_id: subnet.id }))).toEqual({
      status: 404,
      type: 'RouterInterfaceNotFoundForSubnet',
      message: `Router ${router.id} has no interface on subnet ${subnet.id}`,
    });
  });

  test('by port deletes the port; a port that is not an interface is 404; a wrong subnet is 400', async () => {
    const router = await create(server, 'routers', 'router', {});
    const { network, subnet } = await privateNetwork(server, freshCidr());
    const port = await create(server, 'ports', 'port', { network_id: network.id });
    await ok(server, 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { port_id: port.id });
    const stranger = await create(server, 'ports', 'port', { network_id: network.id });
    expect(failure(await remove(router.id, { port_id: stranger.id }))).toEqual({
      status: 404,
      type: 'RouterInterfaceNotFound',
      message: `Router ${router.id} does not have an interface with id ${stranger.id}`,
    });
    const elsewhere = await privateNetwork(server, freshCidr());
    expect(failure(await remove(router.id, { port_id: port.id, subnet_id: elsewhere.subnet.id }))).toEqual({
      status: 400,
      type: 'SubnetMismatchForPort',
      message: `Subnet on port ${port.id} does not match the requested subnet ${elsewhere.subnet.id}.`,
    });
    const response = await remove(router.id, { port_id: port.id, subnet_id: subnet.id });
    expect(response.body).toEqual({
      id: router.id,
      tenant_id: 'fake_project_id',
      port_id: port.id,
      network_id: network.id,
      subnet_id: subnet.id,
      subnet_ids: [subnet.id],
    });
    expect((await server.request('GET', `/v2.0/ports/${port.id}`)).status).toBe(404);
  });

  test('an interface a floating IP goes through stays (409), and so does one a route goes through', async () => {
    const router = await create(server, 'routers', 'router', { external_gateway_info: { network_id: ext.network.id } });
    const { network, subnet } = await privateNetwork(server, freshCidr());
    await ok(server, 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
    const vm = await create(server, 'ports', 'port', { network_id: network.id });
    const fip = await create(server, 'floatingips', 'floatingip', { floating_network_id: ext.network.id, port_id: vm.id });
    expect(failure(await remove(router.id, { subnet_id: subnet.id }))).toEqual({
      status: 409,
      type: 'RouterInterfaceInUseByFloatingIP',
      message: `Router interface for subnet ${subnet.id} on router ${router.id} cannot be deleted, as it is required by one or more floating IPs.`,
    });
    await ok(server, 'DELETE', `/v2.0/floatingips/${fip.id}`, undefined, 204);
    const nexthop = subnet.cidr.replace('0/24', '9');
    await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { routes: [{ destination: '172.31.0.0/16', nexthop }] } });
    expect(failure(await remove(router.id, { subnet_id: subnet.id }))).toEqual({
      status: 409,
      type: 'RouterInterfaceInUseByRoute',
      message: `Router interface for subnet ${subnet.id} on router ${router.id} cannot be deleted, as it is required by one or more routes.`,
    });
    await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { routes: [] } });
    expect((await remove(router.id, { subnet_id: subnet.id })).status).toBe(200);
  });
});

describe('router ports and the core resources they use', () => {
  let router: Record<string, any>;
  let network: Record<string, any>;
  let subnet: Record<string, any>;
  let bySubnet: string;
  let byPort: string;
  beforeAll(async () => {
    router = await create(server, 'routers', 'router', { name: 'guarded', external_gateway_info: { network_id: ext.network.id } });
    ({ network, subnet } = await privateNetwork(server, freshCidr()));
    const second = await create(server, 'subnets', 'subnet', { network_id: network.id, ip_version: 4, cidr: freshCidr() });
    bySubnet = (await add(router.id, { subnet_id: subnet.id })).body.port_id;
    const port = await create(server, 'ports', 'port', { network_id: network.id, fixed_ips: [{ subnet_id: second.id }] });
    byPort = (await add(router.id, { port_id: port.id })).body.port_id;
  });

  test('a router with interfaces cannot be deleted: RouterInUse lists them', async () => {
    expect(failure(await server.request('DELETE', `/v2.0/routers/${router.id}`))).toEqual({
      status: 409,
      type: 'RouterInUse',
      // Listed in port id order, like Neutron.
      message: `Router ${router.id} has ports still attached: ${[bySubnet, byPort].sort().join(', ')}`,
    });
    expect((await portsOf(server, router.id)).length).toBe(3);
  });

  test('interface ports cannot be deleted through the port API', async () => {
    for (const id of [bySubnet, byPort]) {
      expect(failure(await server.request('DELETE', `/v2.0/ports/${id}`))).toEqual({
        status: 409,
        type: 'ServicePortInUse',
        message: `Port ${id} cannot be deleted directly via the port API: has device owner network:router_interface.`,
      });
    }
  });

  test('their subnet and network cannot be deleted', async () => {
    expect(failure(await server.request('DELETE', `/v2.0/subnets/${subnet.id}`))).toEqual({
      status: 409,
      type: 'SubnetInUse',
      message: `Unable to complete operation on subnet ${subnet.id}: One or more ports have an IP allocation from this subnet.`,
    });
    const networkDelete = failure(await server.request('DELETE', `/v2.0/networks/${network.id}`));
    expect(networkDelete).toMatchObject({ status: 409, type: 'NetworkInUse' });
    expect(networkDelete.message).toMatch(
      new RegExp(
        `^Unable to complete operation on network ${network.id}\\. There are one or more ports still in use on the network, id for these ports is: `,
      ),
    );
    expect(networkDelete.message).toContain(bySubnet);
  });

  test('their IPv4 addresses cannot change through the port API; other attributes can', async () => {
    const refused = await server.request('PUT', `/v2.0/ports/${bySubnet}`, {
      port: { fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.cidr.replace('0/24', '2') }] },
    });
    expect(failure(refused)).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad ports request: IP updates for port ${bySubnet} are not allowed.`,
    });
    const renamed = (await ok(server, 'PUT', `/v2.0/ports/${bySubnet}`, { port: { name: 'renamed' } })).port;
    expect(renamed).toMatchObject({ name: 'renamed', fixed_ips: [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }] });
    // Asking for the addresses it has is no change, whether by address or by subnet.
    for (const fixed of [{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }, { subnet_id: subnet.id }]) {
      const same = (await ok(server, 'PUT', `/v2.0/ports/${bySubnet}`, { port: { fixed_ips: [fixed] } })).port;
      expect(same.fixed_ips).toEqual([{ subnet_id: subnet.id, ip_address: subnet.gateway_ip }]);
    }
  });

  test('their IPv6 addresses may change', async () => {
    const dual = await privateNetwork(server, freshCidr());
    const v6 = await create(server, 'subnets', 'subnet', { network_id: dual.network.id, ip_version: 6, cidr: '2001:db8:77::/64' });
    const edge = await create(server, 'routers', 'router', {});
    const portId = (await add(edge.id, { subnet_id: dual.subnet.id })).body.port_id;
    const v4 = { subnet_id: dual.subnet.id, ip_address: dual.subnet.gateway_ip };
    const widened = (await ok(server, 'PUT', `/v2.0/ports/${portId}`, { port: { fixed_ips: [v4, { subnet_id: v6.id }] } })).port;
    expect(widened.fixed_ips).toHaveLength(2);
    expect(widened.fixed_ips).toContainEqual(v4);
    const narrowed = (await ok(server, 'PUT', `/v2.0/ports/${portId}`, { port: { fixed_ips: [v4] } })).port;
    expect(narrowed.fixed_ips).toEqual([v4]);
    const dropV4 = await server.request('PUT', `/v2.0/ports/${portId}`, { port: { fixed_ips: [{ subnet_id: v6.id }] } });
    expect(failure(dropV4)).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad ports request: IP updates for port ${portId} are not allowed.`,
    });
  });

  test('removing the interfaces, then the router takes its gateway port with it', async () => {
    await ok(server, 'PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: subnet.id });
    await ok(server, 'PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { port_id: byPort });
    const [gateway] = await portsOf(server, router.id);
    expect(gateway!.device_owner).toBe('network:router_gateway');
    expect((await server.request('DELETE', `/v2.0/routers/${router.id}`)).status).toBe(204);
    expect(await portsOf(server, router.id)).toEqual([]);
    expect((await server.request('DELETE', `/v2.0/subnets/${subnet.id}`)).status).toBe(204);
    expect((await server.request('DELETE', `/v2.0/networks/${network.id}`)).status).toBe(204);
  });
});
