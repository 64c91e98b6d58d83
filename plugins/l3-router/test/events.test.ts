import type { TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import fipAudit, { type FipAudit } from './fixtures/fip-audit.js';
import { addressTaken, connectedRouter, create, externalNetwork, failure, ok, privateNetwork, startL3 } from './server.js';

let server: TestServer;
let audit: FipAudit;
let ext: { network: Record<string, any>; subnet: Record<string, any> };
let net: { network: Record<string, any>; subnet: Record<string, any> };
let router: Record<string, any>;
beforeAll(async () => {
  server = await startL3({ services: [fipAudit] });
  audit = server.runtime.plugins.get<FipAudit>('METERING')!;
  ext = await externalNetwork(server, '203.0.113');
  net = await privateNetwork(server, '10.20.0.0/24');
  router = await connectedRouter(server, ext.network.id, net.subnet.id);
});
afterAll(() => server?.close());
beforeEach(() => {
  audit.records.length = 0;
});

function vmPort() {
  return create(server, 'ports', 'port', { network_id: net.network.id, device_id: 'vm', device_owner: 'compute:nova' });
}

describe('floating IP events seen by another plugin', () => {
  test('create: before (request only), precommit in the transaction, after once committed', async () => {
    const vm = await vmPort();
    audit.records.length = 0;
    const fip = await create(server, 'floatingips', 'floatingip', { floating_network_id: ext.network.id, port_id: vm.id });
    expect(audit.events()).toEqual(['before_create', 'precommit_create', 'after_create']);
    const before = audit.only('before_create');
    expect(before.states).toEqual([]);
    expect(before.requestBody).toMatchObject({ floating_network_id: ext.network.id, port_id: vm.id });
    expect(before.inTransaction).toBe(true);
    const precommit = audit.only('precommit_create');
    expect(precommit).toMatchObject({ resourceId: fip.id, inTransaction: true, metadata: { association_event: true } });
    expect(precommit.states).toEqual([fip]);
    const after = audit.only('after_create');
    expect(after).toMatchObject({ resourceId: fip.id, inTransaction: false, metadata: { association_event: true } });
    expect(after.states).toEqual([fip]);
  });

  test('a create without a port is no association event', async () => {
    await create(server, 'floatingips', 'floatingip', { floating_network_id: ext.network.id });
    expect(audit.only('after_create').metadata).toEqual({ association_event: null });
  });

  test('update: old and new states, association_event true / false / null', async () => {
    const vm = await vmPort();
    const fip = await create(server, 'floatingips', 'floatingip', { floating_network_id: ext.network.id });
    audit.records.length = 0;
    const associated = (await ok(server, 'PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: vm.id } })).floatingip;
    expect(audit.events()).toEqual(['before_update', 'precommit_update', 'after_update']);
    expect(audit.only('before_update').states).toEqual([fip]);
    expect(audit.only('precommit_update').states).toEqual([fip, associated]);
    const after = audit.only('after_update');
    expect(after).toMatchObject({
      resourceId: fip.id,
      inTransaction: false,
      metadata: { association_event: true },
      requestBody: { port_id: vm.id },
    });
    expect(after.states).toEqual([fip, associated]);
    expect(after.states[1]).toMatchObject({ port_id: vm.id, router_id: router.id });

    audit.records.length = 0;
    const described = (await ok(server, 'PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { description: 'same port' } })).floatingip;
    expect(audit.only('after_update').metadata).toEqual({ association_event: null });
    expect(audit.only('after_update').states).toEqual([associated, described]);

    audit.records.length = 0;
    const disassociated = (await ok(server, 'PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: null } })).floatingip;
    expect(audit.only('after_update').metadata).toEqual({ association_event: false });
    expect(audit.only('after_update').states).toEqual([described, disassociated]);
  });

  test('deleting the associated port publishes a disassociating update', async () => {
    const vm = await vmPort();
    const fip = await create(server, 'floatingips', 'floatingip', { floating_network_id: ext.network.id, port_id: vm.id });
    audit.records.length = 0;
    await ok(server, 'DELETE', `/v2.0/ports/${vm.id}`, undefined, 204);
    expect(audit.events()).toEqual(['before_update', 'precommit_update', 'after_update']);
    const after = audit.only('after_update');
    expect(after.metadata).toEqual({ association_event: false });
    expect(after.states[0]).toEqual(fip);
    expect(after.states[1]).toMatchObject({ id: fip.id, port_id: null, router_id: null, fixed_ip_address: null, port_details: null });
  });

  test('delete: the old state in before, precommit and after', async () => {
    const fip = await create(server, 'floatingips', 'floatingip', { floating_network_id: ext.network.id });
    audit.records.length = 0;
    await ok(server, 'DELETE', `/v2.0/floatingips/${fip.id}`, undefined, 204);
    expect(audit.events()).toEqual(['before_delete', 'precommit_delete', 'after_delete']);
    for (const event of ['before_delete', 'precommit_delete', 'after_delete'] as const) {
      expect(audit.only(event)).toMatchObject({ resourceId: fip.id, states: [fip] });
    }
    expect(audit.only('precommit_delete').inTransaction).toBe(true);
    expect(audit.only('after_delete').inTransaction).toBe(false);
  });
});

describe('vetoes', () => {
  test("a before_create veto answers with the subscriber's own error and writes nothing", async () => {
    const vm = await vmPort();
    const fipPorts = async () => (await ok(server, 'GET', '/v2.0/ports?device_owner=network:floatingip')).ports.length;
    const portsBefore = await fipPorts();
    audit.records.length = 0;
    const response = await server.request('POST', '/v2.0/floatingips', {
      floatingip: { floating_network_id: ext.network.id, floating_ip_address: '203.0.113.2', port_id: vm.id, description: 'veto-me' },
    });
    expect(failure(response)).toEqual({
      status: 403,
      type: 'FloatingIpAuditRefused',
      message: 'Floating IPs described as veto-me are refused by the audit.',
    });
    expect(audit.events()).toEqual(['before_create', 'abort_create']);
    expect((await ok(server, 'GET', '/v2.0/floatingips?description=veto-me')).floatingips).toEqual([]);
    expect(await fipPorts()).toBe(portsBefore);
    expect(await addressTaken(server, ext.network.id, '203.0.113.2')).toBe(false);
  });

  test("the veto comes before the plugin's own checks, as in Neutron", async () => {
    const response = await server.request('POST', '/v2.0/floatingips', {
      floatingip: { floating_network_id: net.network.id, description: 'veto-me' },
    });
    expect(failure(response).type).toBe('FloatingIpAuditRefused');
  });

  test('a precommit failure rolls the whole create back', async () => {
    const response = await server.request('POST', '/v2.0/floatingips', {
      floatingip: { floating_network_id: ext.network.id, floating_ip_address: '203.0.113.3', description: 'fail-in-precommit' },
    });
    expect(failure(response)).toEqual({
      status: 403,
      type: 'FloatingIpAuditRefused',
      message: 'Floating IPs described as fail-in-precommit are refused by the audit.',
    });
    expect(audit.events()).toEqual(['before_create', 'precommit_create']);
    expect(await addressTaken(server, ext.network.id, '203.0.113.3')).toBe(false);
    expect((await ok(server, 'GET', '/v2.0/floatingips?description=fail-in-precommit')).floatingips).toEqual([]);
    const quota = (await ok(server, 'GET', '/v2.0/quotas/fake_project_id/details')).quota.floatingip;
    const listed = (await ok(server, 'GET', '/v2.0/floatingips?project_id=fake_project_id')).floatingips.length;
    expect(quota.used).toBe(listed);
  });
});
