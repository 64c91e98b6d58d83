/**
 * `dns-integration` on floating IPs: `dns_name` and `dns_domain`, set on create only, both or
 * neither. This plugin stores them; a plugin claiming the alias (the DNS plugin; here a stand-in)
 * serves them.
 */
import { definePlugin } from '@nucleon/core';
import type { TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { connectedRouter, create, externalNetwork, failure, ok, privateNetwork, startL3 } from './server.js';

/** Claims `dns-integration`, as the DNS plugin will; the L3 plugin does not. */
const dnsClaimer = definePlugin({
  name: 'dns-test',
  type: 'DNS_TEST',
  description: 'claims dns-integration for tests',
  coreVersion: '^0.1.0',
  supportedExtensionAliases: ['dns-integration'],
  create: () => ({}),
});

describe('with a plugin claiming dns-integration', () => {
  let server: TestServer;
  let ext: { network: Record<string, any>; subnet: Record<string, any> };
  let net: { network: Record<string, any>; subnet: Record<string, any> };
  beforeAll(async () => {
    server = await startL3({ services: [dnsClaimer] });
    ext = await externalNetwork(server, '203.0.113');
    // 10.20.0.58, asked for below, lies outside the pool, so the random IPAM cannot give it to a port made first.
    net = await privateNetwork(server, '10.20.0.0/24', { pool: ['10.20.0.100', '10.20.0.250'] });
    await connectedRouter(server, ext.network.id, net.subnet.id);
  });
  afterAll(() => server?.close());

  const createFip = (body: Record<string, unknown>) =>
    server.request('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: ext.network.id, ...body } });

  test("defaults: both ''", async () => {
    const response = await createFip({});
    expect(response.status).toBe(201);
    expect(response.body.floatingip).toMatchObject({ dns_name: '', dns_domain: '' });
  });

  test('both given: lower-cased, stored, shown and listed, also with an association', async () => {
    const port = await create(server, 'ports', 'port', { network_id: net.network.id, device_owner: 'compute:nova' });
    const response = await createFip({ dns_name: 'WWW', dns_domain: 'Example.ORG.', port_id: port.id });
    expect(response.status).toBe(201);
    const fip = response.body.floatingip;
    expect(fip).toMatchObject({ dns_name: 'www', dns_domain: 'example.org.', port_id: port.id });
    expect((await ok(server, 'GET', `/v2.0/floatingips/${fip.id}`)).floatingip).toMatchObject({
      dns_name: 'www',
      dns_domain: 'example.org.',
    });
    const listed = await ok(server, 'GET', `/v2.0/floatingips?id=${fip.id}&fields=dns_name&fields=dns_domain`);
    expect(listed.floatingips).toEqual([{ dns_name: 'www', dns_domain: 'example.org.' }]);
    // Other updates keep them.
    const updated = await ok(server, 'PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: null } });
    expect(updated.floatingip).toMatchObject({ dns_name: 'www', dns_domain: 'example.org.', port_id: null });
  });

  test('one without the other: 400, as Neutron answers (dns_db._validate_floatingip_dns)', async () => {
    expect(failure(await createFip({ dns_name: 'www' }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: 'Bad floatingip request: dns_name cannot be specified without a dns_domain.',
    });
    expect(failure(await createFip({ dns_domain: 'example.org.' }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: 'Bad floatingip request: dns_domain cannot be specified without a dns_name.',
    });
    expect(failure(await createFip({ dns_name: 'www', dns_domain: '' }))).toMatchObject({ status: 400 });
    // Nothing was left behind: no floating IP, no external port.
    const fips = await ok(server, 'GET', '/v2.0/floatingips?fields=dns_name');
    expect(fips.floatingips.filter((f: Record<string, unknown>) => f.dns_name === 'www')).toHaveLength(1);
  });

  test("validation: Neutron's messages", async () => {
    expect(failure(await createFip({ dns_name: 'www.example.org.', dns_domain: 'example.org.' }))).toEqual({
      status: 400,
      type: 'HTTPBadRequest',
      message: "Invalid input for dns_name. Reason: 'www.example.org.' is a FQDN. It should be a relative domain name.",
    });
    expect(failure(await createFip({ dns_name: 'www', dns_domain: 'example.org' }))).toEqual({
      status: 400,
      type: 'HTTPBadRequest',
      message: "Invalid input for dns_domain. Reason: 'example.org' is not a FQDN.",
    });
    expect(failure(await createFip({ dns_name: 'w_w', dns_domain: 'example.org.' }))).toMatchObject({
      status: 400,
      message:
        "Invalid input for dns_name. Reason: 'w_w' not a valid PQDN or FQDN. Reason: Name 'w_w' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen.",
    });
    expect(failure(await createFip({ dns_name: ['www'], dns_domain: 'example.org.' }))).toEqual({
      status: 400,
      type: 'InvalidInput',
      message: "Invalid input for operation: Input value ['www'] must be string type.",
    });
  });

  test('not updatable', async () => {
    const fip = (await createFip({ dns_name: 'api', dns_domain: 'example.org.' })).body.floatingip;
    for (const [name, value] of [
      ['dns_name', 'web'],
      ['dns_domain', 'example.net.'],
    ]) {
      const response = await server.request('PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { [name!]: value } });
      expect(failure(response)).toEqual({ status: 400, type: 'HTTPBadRequest', message: `Cannot update read-only attribute ${name}` });
    }
    expect((await ok(server, 'GET', `/v2.0/floatingips/${fip.id}`)).floatingip).toMatchObject({
      dns_name: 'api',
      dns_domain: 'example.org.',
    });
  });

  test('ports and networks carry theirs too (stored by ML2)', async () => {
    const port = await create(server, 'ports', 'port', { network_id: net.network.id, fixed_ips: [{ ip_address: '10.20.0.58' }] });
    expect(port.dns_name).toBe('');
    expect(port.dns_assignment).toEqual([
      { ip_address: '10.20.0.58', hostname: 'host-10-20-0-58', fqdn: 'host-10-20-0-58.openstacklocal.' },
    ]);
    expect(net.network.dns_domain).toBe('');
  });
});

describe('without one', () => {
  let server: TestServer;
  let ext: { network: Record<string, any>; subnet: Record<string, any> };
  beforeAll(async () => {
    server = await startL3();
    ext = await externalNetwork(server, '198.51.100');
  });
  afterAll(() => server?.close());

  test('floating IPs have no DNS attributes and refuse them; the L3 plugin does not list the extension', async () => {
    const fip = await create(server, 'floatingips', 'floatingip', { floating_network_id: ext.network.id });
    expect(fip).not.toHaveProperty('dns_name');
    expect(fip).not.toHaveProperty('dns_domain');
    const refused = await server.request('POST', '/v2.0/floatingips', {
      floatingip: { floating_network_id: ext.network.id, dns_name: 'www', dns_domain: 'example.org.' },
    });
    expect(failure(refused)).toMatchObject({ status: 400, message: "Unrecognized attribute(s) 'dns_name, dns_domain'" });
    expect((await server.request('GET', '/v2.0/extensions/dns-integration')).status).toBe(404);
  });
});
