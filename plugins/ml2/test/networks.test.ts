import type { TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { create, neutronError, startMl2 } from './server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startMl2();
});
afterAll(() => server?.close());

describe('network create', () => {
  test('a tenant network gets a VXLAN segment from vni_ranges and its MTU', async () => {
    const response = await server.request('POST', '/v2.0/networks', { network: { name: 'net1', description: 'tenant net' } });
    expect(response.status).toBe(201);
    expect(response.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
    const network = response.body.network;
    expect(network).toMatchObject({
      name: 'net1',
      description: 'tenant net',
      admin_state_up: true,
      status: 'ACTIVE',
      shared: false,
      mtu: 1450,
      subnets: [],
      'router:external': false,
      'provider:network_type': 'vxlan',
      'provider:physical_network': null,
      port_security_enabled: true,
      l2_adjacency: true,
      tags: [],
      revision_number: 1,
      project_id: 'fake_project_id',
      tenant_id: 'fake_project_id',
    });
    expect(network['provider:segmentation_id']).toBeGreaterThanOrEqual(1001);
    expect(network['provider:segmentation_id']).toBeLessThanOrEqual(2000);
    expect(network.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  test('an admin creates a flat external network on physical network public, once', async () => {
    const body = { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'public' };
    const network = await create(server, 'networks', 'network', body);
    expect(network).toMatchObject({ mtu: 1500, 'router:external': true, 'provider:segmentation_id': null });
    const again = await server.request('POST', '/v2.0/networks', { network: body });
    expect(again.status).toBe(409);
    expect(neutronError(again)).toEqual({
      type: 'FlatNetworkInUse',
      message: 'Unable to create the flat network. Physical network public is in use.',
      detail: '',
    });
  });

  test('provider attributes are validated as ML2 does', async () => {
    const cases: Array<[object, number, string, string]> = [
      [{ 'provider:network_type': 'gre' }, 400, 'InvalidInput', "Invalid input for operation: network_type value 'gre' not supported."],
      [{ 'provider:physical_network': 'public' }, 400, 'InvalidInput', 'Invalid input for operation: network_type required.'],
      [
        { 'provider:network_type': 'flat', 'provider:physical_network': 'other' },
        400,
        'InvalidInput',
        "Invalid input for operation: physical_network 'other' unknown for flat provider network.",
      ],
      [
        { 'provider:network_type': 'flat' },
        400,
        'InvalidInput',
        'Invalid input for operation: physical_network required for flat provider network.',
      ],
      [
        { 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 5000 },
        400,
        'InvalidInput',
        'Invalid input for operation: segmentation_id out of range (1 through 4094).',
      ],
      [
        { 'provider:network_type': 'vxlan', 'provider:physical_network': 'physnet1' },
        400,
        'InvalidInput',
        'Invalid input for operation: provider:physical_network specified for vxlan network.',
      ],
    ];
    for (const [body, status, type, message] of cases) {
      const response = await server.request('POST', '/v2.0/networks', { network: body });
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(neutronError(response)).toMatchObject({ type, message });
    }
  });

  test('VLAN segments: allocated from the range, explicit ids refused when taken, 503 when the range is used up', async () => {
    const explicit = await create(server, 'networks', 'network', {
      'provider:network_type': 'vlan',
      'provider:physical_network': 'physnet1',
      'provider:segmentation_id': 100,
    });
    expect(explicit['provider:segmentation_id']).toBe(100);
    const taken = await server.request('POST', '/v2.0/networks', {
      network: { 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1', 'provider:segmentation_id': 100 },
    });
    expect(taken.status).toBe(409);
    expect(neutronError(taken).type).toBe('VlanIdInUse');
    const allocated = [];
    for (let i = 0; i < 2; i++) {
      allocated.push(
        await create(server, 'networks', 'network', { 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1' }),
      );
    }
    expect(allocated.map((n) => n['provider:segmentation_id']).sort()).toEqual([101, 102]);
    const full = await server.request('POST', '/v2.0/networks', {
      network: { 'provider:network_type': 'vlan', 'provider:physical_network': 'physnet1' },
    });
    expect(full.status).toBe(503);
    expect(neutronError(full)).toMatchObject({
      type: 'NoNetworkAvailable',
      message: 'Unable to create the network. No tenant network is available for allocation.',
    });
    // Deleting a network gives its VLAN back.
    expect((await server.request('DELETE', `/v2.0/networks/${allocated[0]!.id}`)).status).toBe(204);
    const reused = await create(server, 'networks', 'network', {
      'provider:network_type': 'vlan',
      'provider:physical_network': 'physnet1',
    });
    expect(reused['provider:segmentation_id']).toBe(allocated[0]!['provider:segmentation_id']);
  });

  test('explicit VNIs may lie outside the tenant range but are unique', async () => {
    const network = await create(server, 'networks', 'network', { 'provider:network_type': 'vxlan', 'provider:segmentation_id': 77 });
    expect(network['provider:segmentation_id']).toBe(77);
    const again = await server.request('POST', '/v2.0/networks', {
      network: { 'provider:network_type': 'vxlan', 'provider:segmentation_id': 77 },
    });
    expect(neutronError(again)).toMatchObject({
      type: 'TunnelIdInUse',
      message: 'Unable to create the network. The tunnel ID 77 is in use.',
    });
  });

  test('MTU: at most what the segment allows', async () => {
    const small = await create(server, 'networks', 'network', { mtu: 1400 });
    expect(small.mtu).toBe(1400);
    const big = await server.request('POST', '/v2.0/networks', { network: { mtu: 9000 } });
    expect(big.status).toBe(400);
    expect(neutronError(big).message).toBe('Invalid input for operation: Requested MTU is too big, maximum is 1450.');
  });

  test('request bodies are checked like Neutron checks them', async () => {
    const cases: Array<[unknown, string, string]> = [
      [{ network: { name: 'x', bogus_attr: 1 } }, 'HTTPBadRequest', "Unrecognized attribute(s) 'bogus_attr'"],
      ['{"network": {"name": "x",', 'HTTPBadRequest', 'Body contains invalid data'],
      [{ name: 'x' }, 'HTTPBadRequest', "Unable to find 'network' in request body"],
      [{ network: { admin_state_up: 'maybe' } }, 'InvalidInput', "Invalid input for operation: 'maybe' cannot be converted to boolean."],
      [{ network: { status: 'ACTIVE' } }, 'HTTPBadRequest', "Attribute 'status' not allowed in POST"],
      [
        { network: { name: 'x'.repeat(256) } },
        'HTTPBadRequest',
        `Invalid input for name. Reason: '${'x'.repeat(256)}' exceeds maximum length of 255.`,
      ],
      [{ network: { name: null } }, 'HTTPBadRequest', "Invalid input for name. Reason: 'None' is not a valid string."],
      [{ network: { project_id: 'a', tenant_id: 'b' } }, 'HTTPBadRequest', "'project_id' and 'tenant_id' do not match"],
      [{ networks: [] }, 'HTTPBadRequest', 'Resources required'],
    ];
    for (const [body, type, message] of cases) {
      const response = await server.request('POST', '/v2.0/networks', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(neutronError(response)).toEqual({ type, message, detail: '' });
    }
  });

  test('bulk create is all or nothing', async () => {
    const ok = await server.request('POST', '/v2.0/networks', { networks: [{ name: 'bulk1' }, { name: 'bulk2', admin_state_up: false }] });
    expect(ok.status).toBe(201);
    expect(ok.body.networks.map((n: any) => [n.name, n.admin_state_up])).toEqual([
      ['bulk1', true],
      ['bulk2', false],
    ]);
    const bad = await server.request('POST', '/v2.0/networks', {
      networks: [{ name: 'half-1' }, { name: 'half-2', mtu: 99999 }],
    });
    expect(bad.status).toBe(400);
    const listed = await server.request('GET', '/v2.0/networks?name=half-1');
    expect(listed.body.networks).toEqual([]);
  });

  test('a project sets its own project; an admin may name another', async () => {
    const mine = await create(server, 'networks', 'network', {}, { 'x-project-id': 'project-a' });
    expect(mine.project_id).toBe('project-a');
    const theirs = await create(server, 'networks', 'network', { tenant_id: 'project-b' });
    expect([theirs.project_id, theirs.tenant_id]).toEqual(['project-b', 'project-b']);
  });
});

describe('network show, update, delete', () => {
  test('update bumps the revision; If-Match guards it', async () => {
    const network = await create(server, 'networks', 'network', { name: 'rev' });
    const updated = await server.request('PUT', `/v2.0/networks/${network.id}`, { network: { name: 'rev2', description: 'updated' } });
    expect(updated.status).toBe(200);
    expect(updated.body.network).toMatchObject({ name: 'rev2', description: 'updated', revision_number: 2 });
    const stale = await server.request(
      'PUT',
      `/v2.0/networks/${network.id}`,
      { network: { description: 'stale' } },
      { 'if-match': 'revision_number=1' },
    );
    expect(stale.status).toBe(412);
    expect(neutronError(stale)).toEqual({
      type: 'RevisionNumberConstraintFailed',
      message: 'Constrained to 1, but current revision is 2',
      detail: '',
    });
    const fresh = await server.request(
      'PUT',
      `/v2.0/networks/${network.id}`,
      { network: { description: 'fresh' } },
      { 'if-match': '"revision_number=2"' },
    );
    expect(fresh.body.network.revision_number).toBe(3);
    const malformed = await server.request('PUT', `/v2.0/networks/${network.id}`, { network: {} }, { 'if-match': 'revision_number=abc' });
    expect(malformed.status).toBe(400);
    expect(neutronError(malformed).message).toBe(
      'Bad if-match request: Revision number etag must be in the format of revision_number=<int>.',
    );
    const deleteStale = await server.request('DELETE', `/v2.0/networks/${network.id}`, undefined, { 'if-match': 'revision_number=1' });
    expect(deleteStale.status).toBe(412);
  });

  test('read-only and provider attributes cannot be changed', async () => {
    const network = await create(server, 'networks', 'network', {});
    const readOnly = await server.request('PUT', `/v2.0/networks/${network.id}`, { network: { status: 'DOWN' } });
    expect(neutronError(readOnly)).toMatchObject({ type: 'HTTPBadRequest', message: 'Cannot update read-only attribute status' });
    const provider = await server.request('PUT', `/v2.0/networks/${network.id}`, { network: { 'provider:network_type': 'vlan' } });
    expect(neutronError(provider).message).toBe(
      'Invalid input for operation: Plugin does not support updating the following provider network attributes: provider:network_type.',
    );
  });

  test('unknown ids and the collection PUT are 404s with Neutron bodies', async () => {
    const missing = await server.request('GET', '/v2.0/networks/00000000-0000-0000-0000-000000000000');
    expect(missing.status).toBe(404);
    expect(neutronError(missing)).toEqual({
      type: 'NetworkNotFound',
      message: 'Network 00000000-0000-0000-0000-000000000000 could not be found.',
      detail: '',
    });
    const notUuid = await server.request('GET', '/v2.0/networks/not-a-uuid');
    expect(neutronError(notUuid).type).toBe('NetworkNotFound');
    const collectionPut = await server.request('PUT', '/v2.0/networks', { network: {} });
    expect(neutronError(collectionPut)).toMatchObject({ type: 'NetworkNotFound', message: 'Network None could not be found.' });
    const unknown = await server.request('GET', '/v2.0/foobars');
    expect(neutronError(unknown)).toEqual({ type: 'HTTPNotFound', message: 'The resource could not be found.', detail: '' });
  });

  test('delete: 204, then 404; a network with ports is in use', async () => {
    const network = await create(server, 'networks', 'network', {});
    await create(server, 'subnets', 'subnet', { network_id: network.id, ip_version: 4, cidr: '10.9.0.0/24' });
    const port = await create(server, 'ports', 'port', { network_id: network.id });
    const inUse = await server.request('DELETE', `/v2.0/networks/${network.id}`);
    expect(inUse.status).toBe(409);
    expect(neutronError(inUse)).toMatchObject({
      type: 'NetworkInUse',
      message: `Unable to complete operation on network ${network.id}. There are one or more ports still in use on the network, id for these ports is: ${port.id}.`,
    });
    expect((await server.request('DELETE', `/v2.0/ports/${port.id}`)).status).toBe(204);
    const deleted = await server.request('DELETE', `/v2.0/networks/${network.id}`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await server.request('DELETE', `/v2.0/networks/${network.id}`)).status).toBe(404);
    // Its subnets went with it.
    expect((await server.request('GET', `/v2.0/subnets?network_id=${network.id}`)).body.subnets).toEqual([]);
  });

  test('a network other projects use cannot stop being shared', async () => {
    const network = await create(server, 'networks', 'network', { shared: true });
    await create(server, 'subnets', 'subnet', { network_id: network.id, ip_version: 4, cidr: '10.8.0.0/24' });
    await create(server, 'ports', 'port', { network_id: network.id }, { 'x-project-id': 'someone-else' });
    const response = await server.request('PUT', `/v2.0/networks/${network.id}`, { network: { shared: false } });
    expect(response.status).toBe(409);
    expect(neutronError(response).type).toBe('InvalidSharedSetting');
  });
});

describe('oversized and malformed requests', () => {
  test('a body over max_request_body_size is a 413', async () => {
    const response = await server.request('POST', '/v2.0/networks', { network: { description: 'x'.repeat(200_000) } });
    expect(response.status).toBe(413);
    expect(neutronError(response).type).toBe('HTTPRequestEntityTooLarge');
  });

  test('.json suffixes are accepted', async () => {
    const response = await server.request('GET', '/v2.0/networks.json?fields=id');
    expect(response.status).toBe(200);
    expect(Array.isArray(response.body.networks)).toBe(true);
  });
});
