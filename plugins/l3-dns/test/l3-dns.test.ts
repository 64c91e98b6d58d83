/**
 * `@nucleon/l3-dns` end to end: ML2 + the DNS L3 plugin in-process, a REAL BIND 9 (see
 * @nucleon/l3-dns/testing), records checked with real DNS queries (`dig`).
 */
import { eventually, startTestServer, type TestServer } from '@nucleon/core/testing';
import ml2 from '@nucleon/ml2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import l3Dns, { type DnsPlugin } from '../src/index.js';
import { bindAvailable, startBind, type BindServer } from '../src/testing/bind.js';

async function start(bind: BindServer, secret = bind.secret): Promise<TestServer> {
  return startTestServer({
    core: ml2,
    services: [l3Dns],
    config: {
      // Ports keep a requested dns_name only when the internal domain is not Neutron's default.
      DEFAULT: { dns_domain: 'internal.example.' },
      ml2: { type_drivers: 'flat,vxlan', tenant_network_types: 'vxlan' },
      ml2_type_flat: { flat_networks: 'public' },
      ml2_type_vxlan: { vni_ranges: '1001:2000' },
      rfc2136: {
        server: bind.host,
        port: bind.port,
        tsig_key_name: bind.keyName,
        tsig_algorithm: bind.algorithm,
        tsig_secret: secret,
        ttl: 300,
        timeout_ms: 1000,
      },
      outbox: { poll_interval_ms: 100, retry_min_delay_ms: 50, retry_max_delay_ms: 200 },
      dns: { reconcile_interval: 0 },
    },
  });
}

async function externalNetwork(server: TestServer): Promise<string> {
  const network = await server.request('POST', '/v2.0/networks', {
    network: { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'public' },
  });
  expect(network.status).toBe(201);
  const subnet = await server.request('POST', '/v2.0/subnets', {
    subnet: { network_id: network.body.network.id, ip_version: 4, cidr: '203.0.113.0/24', enable_dhcp: false },
  });
  expect(subnet.status).toBe(201);
  return network.body.network.id as string;
}

describe.skipIf(!bindAvailable)('floating IPs in DNS (real BIND 9)', () => {
  let bind: BindServer;
  let server: TestServer;
  let external: string;

  beforeAll(async () => {
    bind = await startBind();
    server = await start(bind);
    external = await externalNetwork(server);
  });
  afterAll(async () => {
    await server?.close();
    await bind?.close();
  });

  const createFip = (body: Record<string, unknown>) =>
    server.request('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: external, ...body } });
  const publication = async (id: string) => (await server.request('GET', `/v2.0/dns_publications/${id}`)).body.dns_publication;

  it('allocate: the A record and the PTR resolve; release: both are gone', async () => {
    const created = await createFip({ dns_name: 'www', dns_domain: 'example.org.' });
    expect(created.status).toBe(201);
    const fip = created.body.floatingip;
    expect(fip).toMatchObject({ dns_name: 'www', dns_domain: 'example.org.' });
    const address = fip.floating_ip_address as string;
    const ptr = `${address.split('.').reverse().join('.')}.in-addr.arpa.`;
    await eventually(async () => {
      expect(await bind.query('www.example.org.', 'A')).toEqual([address]);
      expect(await bind.query(ptr, 'PTR')).toEqual(['www.example.org.']);
    });
    await eventually(async () =>
      expect(await publication(fip.id)).toMatchObject({ status: 'ACTIVE', fqdn: 'www.example.org.', last_error: null }),
    );

    expect((await server.request('DELETE', `/v2.0/floatingips/${fip.id}`)).status).toBe(204);
    await eventually(async () => {
      expect(await bind.query('www.example.org.', 'A')).toEqual([]);
      expect(await bind.query(ptr, 'PTR')).toEqual([]);
    });
    expect((await server.request('GET', `/v2.0/dns_publications/${fip.id}`)).status).toBe(404);
  });

  it('a floating IP without a name publishes nothing', async () => {
    const created = await createFip({});
    expect(created.status).toBe(201);
    expect(created.body.floatingip).toMatchObject({ dns_name: '', dns_domain: '' });
    expect((await server.request('GET', `/v2.0/dns_publications/${created.body.floatingip.id}`)).status).toBe(404);
  });

  it('with the DNS server down the API still answers; the records appear once it is back', async () => {
    await bind.stop();
    try {
      const created = await createFip({ dns_name: 'later', dns_domain: 'example.org.' });
      expect(created.status).toBe(201);
      const fip = created.body.floatingip;
      await eventually(async () =>
        expect(await publication(fip.id)).toMatchObject({ status: 'ERROR', last_error: expect.stringContaining('later.example.org.') }),
      );
      await bind.restart();
      await eventually(async () => expect(await bind.query('later.example.org.', 'A')).toEqual([fip.floating_ip_address]));
      await eventually(async () => expect(await publication(fip.id)).toMatchObject({ status: 'ACTIVE', last_error: null }));
    } finally {
      await bind.restart();
    }
  });

  it('reconcile puts back records that vanished from the zone', async () => {
    const created = await createFip({ dns_name: 'drift', dns_domain: 'example.org.' });
    const fip = created.body.floatingip;
    await eventually(async () => expect(await bind.query('drift.example.org.', 'A')).toEqual([fip.floating_ip_address]));
    // Someone removes the record behind Nucleon's back.
    const { Rfc2136Driver } = await import('../src/index.js');
    const driver = new Rfc2136Driver(bind.driverOptions());
    await driver.remove({ zone: 'example.org.', name: 'drift.example.org.', type: 'A', records: [fip.floating_ip_address], ttl: 300 });
    await driver.close();
    expect(await bind.query('drift.example.org.', 'A')).toEqual([]);
    const plugin = server.runtime.plugins.get<DnsPlugin>('L3_ROUTER_NAT')!;
    const report = await plugin.dns.reconcile();
    expect(report.repaired).toBe(1);
    await eventually(async () => expect(await bind.query('drift.example.org.', 'A')).toEqual([fip.floating_ip_address]));
  });

  it("an associated floating IP takes its port's name; renaming the port moves the records; disassociating removes them", async () => {
    const call = async (method: string, url: string, body?: unknown, status = method === 'POST' ? 201 : 200) => {
      const response = await server.request(method, url, body);
      expect(response.status, response.text).toBe(status);
      return response.body;
    };
    const { network } = await call('POST', '/v2.0/networks', { network: { name: 'tenant', dns_domain: 'example.org.' } });
    const { subnet } = await call('POST', '/v2.0/subnets', { subnet: { network_id: network.id, ip_version: 4, cidr: '10.30.0.0/24' } });
    const { router } = await call('POST', '/v2.0/routers', { router: { name: 'r', external_gateway_info: { network_id: external } } });
    await call('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id });
    const { port } = await call('POST', '/v2.0/ports', { port: { network_id: network.id, dns_name: 'vm1' } });
    const { floatingip: fip } = await call('POST', '/v2.0/floatingips', {
      floatingip: { floating_network_id: external, port_id: port.id },
    });
    const address = fip.floating_ip_address as string;
    const ptr = `${address.split('.').reverse().join('.')}.in-addr.arpa.`;
    await eventually(async () => {
      expect(await bind.query('vm1.example.org.', 'A')).toEqual([address]);
      expect(await bind.query(ptr, 'PTR')).toEqual(['vm1.example.org.']);
    });

    await call('PUT', `/v2.0/ports/${port.id}`, { port: { dns_name: 'vm2' } });
    await eventually(async () => {
      expect(await bind.query('vm1.example.org.', 'A')).toEqual([]);
      expect(await bind.query('vm2.example.org.', 'A')).toEqual([address]);
      expect(await bind.query(ptr, 'PTR')).toEqual(['vm2.example.org.']);
    });

    await call('PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: null } });
    await eventually(async () => {
      expect(await bind.query('vm2.example.org.', 'A')).toEqual([]);
      expect(await bind.query(ptr, 'PTR')).toEqual([]);
    });
    expect((await server.request('GET', `/v2.0/dns_publications/${fip.id}`)).status).toBe(404);

    // Associated again, then the port is deleted: its name goes with it.
    await call('PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: port.id } });
    await eventually(async () => expect(await bind.query('vm2.example.org.', 'A')).toEqual([address]));
    await call('DELETE', `/v2.0/ports/${port.id}`, undefined, 204);
    await eventually(async () => expect(await bind.query('vm2.example.org.', 'A')).toEqual([]));
  });

  it('only admins see publications', async () => {
    const created = await createFip({ dns_name: 'mine', dns_domain: 'example.org.' });
    expect(created.status).toBe(201);
    const list = await server.request('GET', '/v2.0/dns_publications?fields=fqdn&fields=status');
    expect(list.status).toBe(200);
    expect(list.body.dns_publications).toEqual(
      expect.arrayContaining([{ fqdn: 'mine.example.org.', status: expect.stringMatching(/^(PENDING|ACTIVE)$/) }]),
    );
  });
});

describe.skipIf(!bindAvailable)('a wrong TSIG key', () => {
  it('is a clear error on the publication, and nothing is lost: the change waits in the outbox', async () => {
    const bind = await startBind();
    const server = await start(bind, Buffer.from('not the key at all, not at all!').toString('base64'));
    try {
      const external = await externalNetwork(server);
      const created = await server.request('POST', '/v2.0/floatingips', {
        floatingip: { floating_network_id: external, dns_name: 'denied', dns_domain: 'example.org.' },
      });
      expect(created.status).toBe(201);
      const id = created.body.floatingip.id as string;
      await eventually(async () => {
        const { body } = await server.request('GET', `/v2.0/dns_publications/${id}`);
        expect(body.dns_publication).toMatchObject({ status: 'ERROR', last_error: expect.stringMatching(/BADSIG/) });
      });
      expect(await bind.query('denied.example.org.', 'A')).toEqual([]);
      const waiting = await server.runtime.outbox.pending('dns');
      expect(waiting.filter((entry) => entry.key === id).length).toBeGreaterThan(0);
      expect(waiting.find((entry) => entry.key === id)!.lastError).toMatch(/BADSIG/);
    } finally {
      await server.close();
      await bind.close();
    }
  });
});
