import { Writable } from 'node:stream';
import ml2 from '@nucleon/ml2';
import { startTestServer, type TestServer } from '@nucleon/core/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, test } from 'vitest';
import greee from '../src/index.js';

/** Every structured log line the server writes. */
const lines: Array<Record<string, unknown>> = [];
const sink = new Writable({
  write(chunk: Buffer, _encoding, done) {
    for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});

let server: TestServer;
let networkId: string;
beforeAll(async () => {
  server = await startTestServer({
    core: ml2,
    services: [greee],
    log: pino({ level: 'info' }, sink),
    config: { ml2: { type_drivers: 'flat,vxlan', tenant_network_types: 'vxlan' }, ml2_type_flat: { flat_networks: 'public' } },
  });
  const network = await server.request('POST', '/v2.0/networks', {
    network: { 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'public' },
  });
  networkId = network.body.network.id;
  await server.request('POST', '/v2.0/subnets', { subnet: { network_id: networkId, ip_version: 4, cidr: '203.0.113.0/24' } });
});
afterAll(() => server?.close());

const messages = () => lines.filter((l) => String(l.msg).startsWith('floating IP '));

test('logs an allocation once it committed, and a release before it happens, each with the floating IP', async () => {
  const created = await server.request('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: networkId } });
  expect(created.status).toBe(201);
  const fip = created.body.floatingip;
  expect(messages()).toEqual([
    expect.objectContaining({
      msg: 'floating IP allocated',
      floatingip_id: fip.id,
      floating_ip_address: fip.floating_ip_address,
      floating_network_id: networkId,
      project_id: 'fake_project_id',
      request_id: created.headers['x-openstack-request-id'],
    }),
  ]);
  const deleted = await server.request('DELETE', `/v2.0/floatingips/${fip.id}`);
  expect(deleted.status).toBe(204);
  expect(messages().map((l) => [l.msg, l.floating_ip_address, l.request_id])).toEqual([
    ['floating IP allocated', fip.floating_ip_address, created.headers['x-openstack-request-id']],
    ['floating IP released', fip.floating_ip_address, deleted.headers['x-openstack-request-id']],
  ]);
});

test('a refused allocation is not logged', async () => {
  const before = messages().length;
  const refused = await server.request('POST', '/v2.0/floatingips', {
    floatingip: { floating_network_id: networkId, floating_ip_address: '198.51.100.7' },
  });
  expect(refused.status).toBe(400);
  expect(messages()).toHaveLength(before);
});

test('everything else is the stock L3 plugin', async () => {
  const router = await server.request('POST', '/v2.0/routers', { router: { external_gateway_info: { network_id: networkId } } });
  expect(router.status).toBe(201);
  expect(router.body.router.external_gateway_info.network_id).toBe(networkId);
});
