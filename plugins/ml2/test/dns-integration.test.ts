/**
 * `dns-integration` on ML2's resources: networks' `dns_domain`, ports' `dns_name` and
 * `dns_assignment`. ML2 stores them; a plugin claiming the alias (here a stand-in) serves them.
 */
import { defineExtension, definePlugin } from '@nucleon/core';
import { startTestServer, type TestConfig, type TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import ml2 from '../src/index.js';
import { create, ML2_TEST_CONFIG, neutronError, startMl2 } from './server.js';

/**
 * Claims `dns-integration` (as the DNS plugin will), and stands in for the L3 plugin's `router`
 * extension, which `dns-integration` requires, so ML2 is tested alone.
 */
const dnsClaimer = definePlugin({
  name: 'dns-test',
  type: 'DNS_TEST',
  description: 'claims dns-integration for tests',
  coreVersion: '^0.1.0',
  supportedExtensionAliases: ['dns-integration', 'router'],
  extensions: [
    defineExtension({ alias: 'router', name: 'router stand-in', description: 'for tests', updated: '2012-07-20T10:00:00-00:00' }),
  ],
  create: () => ({}),
});

function startWithDns(config: TestConfig = {}): Promise<TestServer> {
  const merged: Record<string, Record<string, string | number | boolean | readonly string[]>> = {};
  for (const source of [ML2_TEST_CONFIG, config]) {
    for (const [section, values] of Object.entries(source)) merged[section] = { ...merged[section], ...values };
  }
  return startTestServer({ core: ml2, services: [dnsClaimer], config: merged });
}

async function failure(response: Promise<{ status: number; body: any }>) {
  const answer = await response;
  const error = neutronError(answer);
  return { status: answer.status, type: error?.type, message: error?.message };
}

/** A network with an IPv4 and an IPv6 subnet. */
async function dualStack(server: TestServer, name: string) {
  const network = await create(server, 'networks', 'network', { name });
  await create(server, 'subnets', 'subnet', { network_id: network.id, ip_version: 4, cidr: '10.20.0.0/24' });
  await create(server, 'subnets', 'subnet', { network_id: network.id, ip_version: 6, cidr: '2001:db8:20::/64' });
  return network;
}

describe('under the default [DEFAULT] dns_domain (openstacklocal)', () => {
  let server: TestServer;
  let net: Record<string, any>;
  beforeAll(async () => {
    server = await startWithDns();
    net = await dualStack(server, 'dns-net');
  });
  afterAll(() => server?.close());

  test('the extension is listed as Neutron lists it', async () => {
    const response = await server.request('GET', '/v2.0/extensions/dns-integration');
    expect(response.status).toBe(200);
    expect(response.body.extension).toEqual({
      name: 'DNS Integration',
      alias: 'dns-integration',
      description: 'Provides integration with DNS.',
      updated: '2015-08-15T18:00:00-00:00',
      links: [],
    });
  });

  test('network dns_domain: default, lower-cased on create, updated, cleared, shown', async () => {
    expect(net.dns_domain).toBe('');
    const named = await create(server, 'networks', 'network', { name: 'n', dns_domain: 'Example.ORG.' });
    expect(named.dns_domain).toBe('example.org.');
    const updated = await server.request('PUT', `/v2.0/networks/${named.id}`, { network: { dns_domain: 'other.example.' } });
    expect(updated.status).toBe(200);
    expect(updated.body.network).toMatchObject({ dns_domain: 'other.example.', revision_number: 2 });
    const shown = await server.request('GET', `/v2.0/networks/${named.id}?fields=dns_domain`);
    expect(shown.body).toEqual({ network: { dns_domain: 'other.example.' } });
    const cleared = await server.request('PUT', `/v2.0/networks/${named.id}`, { network: { dns_domain: '' } });
    expect(cleared.body.network.dns_domain).toBe('');
    const other = await server.request('PUT', `/v2.0/networks/${named.id}`, { network: { name: 'renamed' } });
    expect(other.body.network.dns_domain).toBe('');
  });

  test('network dns_domain: Neutron validation messages', async () => {
    const post = (dns_domain: unknown) => failure(server.request('POST', '/v2.0/networks', { network: { dns_domain } }));
    expect(await post('example.org')).toEqual({
      status: 400,
      type: 'HTTPBadRequest',
      message: "Invalid input for dns_domain. Reason: 'example.org' is not a FQDN.",
    });
    expect(await post('a..b.')).toMatchObject({
      status: 400,
      message: "Invalid input for dns_domain. Reason: 'a..b.' not a valid PQDN or FQDN. Reason: Encountered an empty component.",
    });
    expect(await post('bad_label.org.')).toMatchObject({
      message:
        "Invalid input for dns_domain. Reason: 'bad_label.org.' not a valid PQDN or FQDN. Reason: Name 'bad_label' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen.",
    });
    expect(await post(42)).toEqual({
      status: 400,
      type: 'InvalidInput',
      message: 'Invalid input for operation: Input value 42 must be string type.',
    });
    const put = await failure(server.request('PUT', `/v2.0/networks/${net.id}`, { network: { dns_domain: 'example.123.' } }));
    expect(put).toMatchObject({
      status: 400,
      message: "Invalid input for dns_domain. Reason: 'example.123.' not a valid PQDN or FQDN. Reason: TLD '123' must not be all numeric.",
    });
  });

  test('dns_name and dns_domain are not filters (neutron-lib marks neither is_filter)', async () => {
    expect(await failure(server.request('GET', '/v2.0/networks?dns_domain=x.'))).toMatchObject({
      status: 400,
      message: "['dns_domain'] is invalid attribute for filtering",
    });
    expect(await failure(server.request('GET', '/v2.0/ports?dns_name=x'))).toMatchObject({
      status: 400,
      message: "['dns_name'] is invalid attribute for filtering",
    });
  });

  test("port: dns_name '' and a dns_assignment per fixed IP, named after the address", async () => {
    const port = await create(server, 'ports', 'port', {
      network_id: net.id,
      fixed_ips: [{ ip_address: '10.20.0.58' }, { ip_address: '2001:db8:20::5' }],
    });
    expect(port.dns_name).toBe('');
    expect(port.dns_assignment).toEqual([
      { ip_address: '10.20.0.58', hostname: 'host-10-20-0-58', fqdn: 'host-10-20-0-58.openstacklocal.' },
      { ip_address: '2001:db8:20::5', hostname: 'host-2001-db8-20--5', fqdn: 'host-2001-db8-20--5.openstacklocal.' },
    ]);
    const listed = await server.request('GET', `/v2.0/ports?id=${port.id}&fields=dns_assignment&fields=dns_name`);
    expect(listed.body.ports).toEqual([{ dns_name: '', dns_assignment: port.dns_assignment }]);
    const none = await create(server, 'ports', 'port', { network_id: net.id, fixed_ips: [] });
    expect(none.dns_assignment).toEqual([]);
  });

  test('a requested dns_name is ignored, as Neutron ignores it under the default domain', async () => {
    const port = await create(server, 'ports', 'port', { network_id: net.id, dns_name: 'vm1', fixed_ips: [{ ip_address: '10.20.0.59' }] });
    expect(port.dns_name).toBe('');
    expect(port.dns_assignment).toEqual([
      { ip_address: '10.20.0.59', hostname: 'host-10-20-0-59', fqdn: 'host-10-20-0-59.openstacklocal.' },
    ]);
    const updated = await server.request('PUT', `/v2.0/ports/${port.id}`, { port: { dns_name: 'vm2' } });
    expect(updated.status).toBe(200);
    expect(updated.body.port.dns_name).toBe('');
    // The name is still validated.
    expect(await failure(server.request('PUT', `/v2.0/ports/${port.id}`, { port: { dns_name: '-vm' } }))).toEqual({
      status: 400,
      type: 'HTTPBadRequest',
      message:
        "Invalid input for dns_name. Reason: '-vm' not a valid PQDN or FQDN. Reason: Name '-vm' must not start or end with a hyphen.",
    });
  });

  test('port dns_name: validation messages', async () => {
    const post = (dns_name: unknown) => failure(server.request('POST', '/v2.0/ports', { port: { network_id: net.id, dns_name } }));
    expect(await post('a'.repeat(64))).toMatchObject({
      status: 400,
      message: `Invalid input for dns_name. Reason: '${'a'.repeat(64)}' not a valid PQDN or FQDN. Reason: Name '${'a'.repeat(64)}' must be 1-63 characters long, each of which can only be alphanumeric or a hyphen.`,
    });
    const long = `${'a'.repeat(63)}.`.repeat(4) + 'b';
    expect(await post(long)).toMatchObject({
      status: 400,
      message: `Invalid input for dns_name. Reason: '${long}' not a valid PQDN or FQDN. Reason: '${long}' exceeds the 255 character FQDN limit.`,
    });
    expect(await post(null)).toMatchObject({ status: 400, message: 'Invalid input for operation: Input value None must be string type.' });
  });
});

describe('under a [DEFAULT] dns_domain of its own', () => {
  let server: TestServer;
  let net: Record<string, any>;
  beforeAll(async () => {
    server = await startWithDns({ DEFAULT: { dns_domain: 'example.org' } });
    net = await dualStack(server, 'dns-net');
  });
  afterAll(() => server?.close());

  test('ports without a name are named after their addresses under that domain', async () => {
    const port = await create(server, 'ports', 'port', { network_id: net.id, fixed_ips: [{ ip_address: '10.20.0.7' }] });
    expect(port.dns_assignment).toEqual([{ ip_address: '10.20.0.7', hostname: 'host-10-20-0-7', fqdn: 'host-10-20-0-7.example.org.' }]);
  });

  test("a port's dns_name is stored, lower-cased, and names every address; cleared, addresses name it again", async () => {
    const port = await create(server, 'ports', 'port', {
      network_id: net.id,
      dns_name: 'VM1',
      fixed_ips: [{ ip_address: '10.20.0.8' }, { ip_address: '2001:db8:20::8' }],
    });
    expect(port.dns_name).toBe('vm1');
    expect(port.dns_assignment).toEqual([
      { ip_address: '10.20.0.8', hostname: 'vm1', fqdn: 'vm1.example.org.' },
      { ip_address: '2001:db8:20::8', hostname: 'vm1', fqdn: 'vm1.example.org.' },
    ]);
    const fqdn = await server.request('PUT', `/v2.0/ports/${port.id}`, { port: { dns_name: 'vm2.example.org.' } });
    expect(fqdn.body.port).toMatchObject({ dns_name: 'vm2.example.org.', revision_number: 2 });
    expect(fqdn.body.port.dns_assignment[0]).toEqual({ ip_address: '10.20.0.8', hostname: 'vm2.example.org.', fqdn: 'vm2.example.org.' });
    const shown = await server.request('GET', `/v2.0/ports/${port.id}`);
    expect(shown.body.port.dns_name).toBe('vm2.example.org.');
    const other = await server.request('PUT', `/v2.0/ports/${port.id}`, { port: { name: 'renamed' } });
    expect(other.body.port.dns_name).toBe('vm2.example.org.');
    const cleared = await server.request('PUT', `/v2.0/ports/${port.id}`, { port: { dns_name: '' } });
    expect(cleared.body.port.dns_name).toBe('');
    expect(cleared.body.port.dns_assignment[0]).toEqual({
      ip_address: '10.20.0.8',
      hostname: 'host-10-20-0-8',
      fqdn: 'host-10-20-0-8.example.org.',
    });
  });

  test('names must make an FQDN under that domain', async () => {
    const wrongDomain = await failure(server.request('POST', '/v2.0/ports', { port: { network_id: net.id, dns_name: 'vm.other.org.' } }));
    expect(wrongDomain).toEqual({
      status: 400,
      type: 'HTTPBadRequest',
      message:
        "Invalid input for dns_name. Reason: The dns_name passed is a FQDN. Its higher level labels must be equal to the dns_domain option in neutron.conf, that has been set to 'example.org'. It must also include one or more valid DNS labels to the left of 'example.org'.",
    });
    const long = `${'a'.repeat(63)}.`.repeat(3) + 'b'.repeat(60);
    const port = await create(server, 'ports', 'port', { network_id: net.id });
    const tooLong = await failure(server.request('PUT', `/v2.0/ports/${port.id}`, { port: { dns_name: long } }));
    expect(tooLong).toEqual({
      status: 400,
      type: 'HTTPBadRequest',
      message:
        "Invalid input for dns_name. Reason: The dns_name passed is a PQDN and its size is '252'. The dns_domain option in neutron.conf is set to example.org, with a length of '13'. When the two are concatenated to form a FQDN (with a '.' at the end), the resulting length exceeds the maximum size of '255'.",
    });
  });
});

describe('without a plugin claiming dns-integration', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startMl2();
  });
  afterAll(() => server?.close());

  test('networks and ports have none of its attributes and refuse them', async () => {
    const network = await create(server, 'networks', 'network', { name: 'plain' });
    expect(network).not.toHaveProperty('dns_domain');
    const port = await create(server, 'ports', 'port', { network_id: network.id });
    expect(port).not.toHaveProperty('dns_name');
    expect(port).not.toHaveProperty('dns_assignment');
    expect(await failure(server.request('POST', '/v2.0/ports', { port: { network_id: network.id, dns_name: 'vm' } }))).toMatchObject({
      status: 400,
      message: "Unrecognized attribute(s) 'dns_name'",
    });
    expect((await server.request('GET', '/v2.0/extensions/dns-integration')).status).toBe(404);
  });
});
