import { startTestServer, type TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, expect, test } from 'vitest';
import ml2 from '../src/index.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    core: ml2,
    config: { ml2: { tenant_network_types: 'vxlan' }, ml2_type_vxlan: { vni_ranges: '1001:2000' } },
  });
});
afterAll(() => server?.close());

test('smoke', async () => {
  const net = await server.request('POST', '/v2.0/networks', { network: { name: 'n1' } });
  console.log(net.status, net.text);
  const sub = await server.request('POST', '/v2.0/subnets', { subnet: { network_id: net.body.network.id, ip_version: 4, cidr: '10.0.0.0/24' } });
  console.log(sub.status, sub.text);
  const port = await server.request('POST', '/v2.0/ports', { port: { network_id: net.body.network.id } });
  console.log(port.status, port.text);
  const list = await server.request('GET', '/v2.0/ports?limit=1');
  console.log(list.status, list.text);
  expect(port.status).toBe(201);
});
