import type { TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectedRouter, create, externalNetwork, failure, ok, privateNetwork, startL3 } from './server.js';

let server: TestServer;
beforeAll(async () => {
  // The floatingip quota (50) would cut the races short; these tests are about addresses.
  server = await startL3({ config: { quotas: { quota_floatingip: -1 } } });
});
afterAll(() => server?.close());

function createFip(networkId: string, body: Record<string, unknown> = {}) {
  return server.request('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: networkId, ...body } });
}

describe('concurrent floating IP creates', () => {
  test('100 at once on one /24 get 100 distinct addresses', async () => {
    const ext = await externalNetwork(server, '203.0.113');
    const responses = await Promise.all(Array.from({ length: 100 }, () => createFip(ext.network.id)));
    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(201));
    const addresses = responses.map((r) => r.body.floatingip.floating_ip_address as string);
    expect(new Set(addresses).size).toBe(100);
    for (const address of addresses) expect(address).toMatch(/^203\.0\.113\.\d+$/);
    // Every floating IP holds exactly its own external port and address.
    const ports = (await ok(server, 'GET', `/v2.0/ports?network_id=${ext.network.id}&device_owner=network:floatingip`)).ports;
    expect(ports).toHaveLength(100);
    expect(new Set(ports.map((p: any) => p.fixed_ips[0].ip_address))).toEqual(new Set(addresses));
  });

  test('on a pool of 8, exactly 8 of 30 succeed and the rest are IpAddressGenerationFailure', async () => {
    const small = await externalNetwork(server, '198.51.100', { pool: ['198.51.100.10', '198.51.100.17'] });
    const responses = await Promise.all(Array.from({ length: 30 }, () => createFip(small.network.id)));
    const created = responses.filter((r) => r.status === 201);
    expect(created).toHaveLength(8);
    expect(new Set(created.map((r) => r.body.floatingip.floating_ip_address)).size).toBe(8);
    const refused = responses.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(22);
    for (const response of refused) {
      expect(failure(response)).toEqual({
        status: 409,
        type: 'IpAddressGenerationFailure',
        message: `No more IP addresses available on network ${small.network.id}.`,
      });
    }
    // The refused creates left nothing behind.
    expect((await ok(server, 'GET', `/v2.0/floatingips?floating_network_id=${small.network.id}`)).floatingips).toHaveLength(8);
    expect((await ok(server, 'GET', `/v2.0/ports?network_id=${small.network.id}`)).ports).toHaveLength(8);
  });

  test('racing to associate one fixed IP: exactly one floating IP wins', async () => {
    const ext = await externalNetwork(server, '192.0.2');
    const net = await privateNetwork(server, '10.20.0.0/24');
    await connectedRouter(server, ext.network.id, net.subnet.id);
    const vm = await create(server, 'ports', 'port', { network_id: net.network.id });
    const fips = await Promise.all(Array.from({ length: 10 }, async () => (await createFip(ext.network.id)).body.floatingip));
    const responses = await Promise.all(
      fips.map((fip) => server.request('PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: vm.id } })),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    for (const response of responses.filter((r) => r.status !== 200)) {
      expect(failure(response)).toMatchObject({ status: 409, type: 'FloatingIPPortAlreadyAssociated' });
    }
    expect((await ok(server, 'GET', `/v2.0/floatingips?port_id=${vm.id}`)).floatingips).toHaveLength(1);
  });
});

describe('concurrent router changes', () => {
  test('overlapping subnets added at once: exactly one becomes an interface', async () => {
    const router = await create(server, 'routers', 'router', {});
    const nets = await Promise.all(Array.from({ length: 8 }, () => privateNetwork(server, '10.50.0.0/24')));
    const responses = await Promise.all(
      nets.map(({ subnet }) => server.request('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id })),
    );
    expect(responses.filter((r) => r.status === 200)).toHaveLength(1);
    for (const response of responses.filter((r) => r.status !== 200)) {
      expect(failure(response)).toMatchObject({ status: 400, type: 'BadRequest' });
      expect(failure(response).message).toMatch(
        /^Bad router request: Cidr 10\.50\.0\.0\/24 of subnet \S+ overlaps with cidr 10\.50\.0\.0\/24 of subnet \S+\.$/,
      );
    }
    expect((await ok(server, 'GET', `/v2.0/ports?device_id=${router.id}`)).ports).toHaveLength(1);
  });

  test('removing an interface while a floating IP associates through it: never both', async () => {
    const ext = await externalNetwork(server, '192.0.4');
    const net = await privateNetwork(server, '10.60.0.0/24');
    const router = await connectedRouter(server, ext.network.id, net.subnet.id);
    const vm = await create(server, 'ports', 'port', { network_id: net.network.id });
    const fip = (await createFip(ext.network.id)).body.floatingip;
    for (let round = 0; round < 15; round++) {
      const [removed, associated] = await Promise.all([
        server.request('PUT', `/v2.0/routers/${router.id}/remove_router_interface`, { subnet_id: net.subnet.id }),
        server.request('PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: vm.id } }),
      ]);
      // Exactly one wins: an associated floating IP keeps the interface (409), a removed
      // interface leaves the port unreachable (404).
      expect(
        [removed.status, associated.status].filter((s) => s === 200),
        `round ${round}`,
      ).toHaveLength(1);
      await server.request('PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: null } });
      if (removed.status === 200) await ok(server, 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: net.subnet.id });
    }
  });

  test('clearing a gateway while a floating IP associates through it: never both', async () => {
    const ext = await externalNetwork(server, '192.0.5');
    const net = await privateNetwork(server, '10.61.0.0/24');
    const router = await connectedRouter(server, ext.network.id, net.subnet.id);
    const vm = await create(server, 'ports', 'port', { network_id: net.network.id });
    const fip = (await createFip(ext.network.id)).body.floatingip;
    for (let round = 0; round < 15; round++) {
      const [cleared, associated] = await Promise.all([
        server.request('PUT', `/v2.0/routers/${router.id}`, { router: { external_gateway_info: null } }),
        server.request('PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: vm.id } }),
      ]);
      expect(
        [cleared.status, associated.status].filter((s) => s === 200),
        `round ${round}`,
      ).toHaveLength(1);
      await server.request('PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: null } });
      if (cleared.status === 200)
        await ok(server, 'PUT', `/v2.0/routers/${router.id}`, { router: { external_gateway_info: { network_id: ext.network.id } } });
    }
  });
});
