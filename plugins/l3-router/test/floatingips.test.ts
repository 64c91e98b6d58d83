import type { TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { addressTaken, connectedRouter, create, externalNetwork, failure, ok, portsOf, privateNetwork, startL3 } from './server.js';

// Explicitly requested addresses lie outside the allocation pools (external .10-.250, internal
// .2-.150), so the random addresses other ports get can never take them first.
let server: TestServer;
let ext: { network: Record<string, any>; subnet: Record<string, any> };
let net: { network: Record<string, any>; subnet: Record<string, any> };
let router: Record<string, any>;
beforeAll(async () => {
  server = await startL3();
  // The default project makes many floating IPs here; quotas are tested with another project.
  await ok(server, 'PUT', '/v2.0/quotas/fake_project_id', { quota: { router: -1, floatingip: -1 } });
  ext = await externalNetwork(server, '203.0.113');
  net = await privateNetwork(server, '10.20.0.0/24', { pool: ['10.20.0.2', '10.20.0.150'] });
  router = await connectedRouter(server, ext.network.id, net.subnet.id);
});
afterAll(() => server?.close());

const MISSING = '00000000-0000-4000-8000-000000000000';

function ipValue(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

/** A VM port on the internal network. */
function vmPort(body: Record<string, unknown> = {}) {
  return create(server, 'ports', 'port', { network_id: net.network.id, device_id: 'vm', device_owner: 'compute:nova', ...body });
}

function createFip(body: Record<string, unknown>) {
  return server.request('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: ext.network.id, ...body } });
}

function updateFip(id: string, body: Record<string, unknown>) {
  return server.request('PUT', `/v2.0/floatingips/${id}`, { floatingip: body });
}

/** Neutron's `port_details` of a port. */
function detailsOf(port: Record<string, any>) {
  const { name, network_id, mac_address, admin_state_up, status, device_id, device_owner } = port;
  return { name, network_id, mac_address, admin_state_up, status, device_id, device_owner };
}

describe('floating IP create', () => {
  test('an address from the external pool, DOWN, revision 0, held by a port the project does not see', async () => {
    const response = await createFip({ description: 'fip1' });
    expect(response.status).toBe(201);
    const fip = response.body.floatingip;
    expect(fip).toEqual({
      id: expect.any(String),
      tenant_id: 'fake_project_id',
      project_id: 'fake_project_id',
      floating_ip_address: expect.any(String),
      floating_network_id: ext.network.id,
      router_id: null,
      port_id: null,
      fixed_ip_address: null,
      status: 'DOWN',
      description: 'fip1',
      port_details: null,
      tags: [],
      created_at: expect.any(String),
      updated_at: expect.any(String),
      revision_number: 0,
    });
    expect(ipValue(fip.floating_ip_address)).toBeGreaterThanOrEqual(ipValue('203.0.113.10'));
    expect(ipValue(fip.floating_ip_address)).toBeLessThanOrEqual(ipValue('203.0.113.250'));
    const [port] = await portsOf(server, fip.id);
    expect(port).toMatchObject({
      device_owner: 'network:floatingip',
      device_id: fip.id,
      project_id: '',
      network_id: ext.network.id,
      fixed_ips: [{ subnet_id: ext.subnet.id, ip_address: fip.floating_ip_address }],
    });
    const projectPorts = (await ok(server, 'GET', '/v2.0/ports?project_id=fake_project_id')).ports;
    expect(projectPorts.map((p: any) => p.id)).not.toContain(port!.id);
    expect((await ok(server, 'GET', `/v2.0/floatingips/${fip.id}`)).floatingip).toEqual(fip);
  });

  test('the network must exist, be external and have an IPv4 subnet', async () => {
    expect(failure(await createFip({ floating_network_id: net.network.id }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad floatingip request: Network ${net.network.id} is not a valid external network.`,
    });
    expect(failure(await createFip({ floating_network_id: MISSING }))).toEqual({
      status: 404,
      type: 'NetworkNotFound',
      message: `Network ${MISSING} could not be found.`,
    });
    const v6only = await create(server, 'networks', 'network', { 'router:external': true });
    await create(server, 'subnets', 'subnet', { network_id: v6only.id, ip_version: 6, cidr: '2001:db8:1::/64' });
    expect(failure(await createFip({ floating_network_id: v6only.id }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad floatingip request: Network ${v6only.id} does not contain any IPv4 subnet.`,
    });
    const missing = await server.request('POST', '/v2.0/floatingips', { floatingip: {} });
    expect(failure(missing)).toEqual({
      status: 400,
      type: 'HTTPBadRequest',
      message: "Failed to parse request. Required attribute 'floating_network_id' not specified",
    });
  });

  test('an explicit address: granted when free, IpAddressAlreadyAllocated when taken, refused off the network', async () => {
    const fip = (await createFip({ floating_ip_address: '203.0.113.2' })).body.floatingip;
    expect(fip.floating_ip_address).toBe('203.0.113.2');
    expect(failure(await createFip({ floating_ip_address: '203.0.113.2' }))).toEqual({
      status: 409,
      type: 'IpAddressAlreadyAllocated',
      message: `IP address 203.0.113.2 already allocated in subnet ${ext.subnet.id}`,
    });
    expect(failure(await createFip({ floating_ip_address: '192.0.2.5' }))).toEqual({
      status: 400,
      type: 'InvalidIpForNetwork',
      message: 'IP address 192.0.2.5 is not a valid IP for any of the subnets on the specified network.',
    });
  });

  test('subnet_id chooses the external subnet and is never shown', async () => {
    const two = await externalNetwork(server, '198.51.100');
    // 198.51.101.77, asked for below, lies outside the pool, so the random IPAM cannot give it to the floating IPs made first.
    const second = await create(server, 'subnets', 'subnet', {
      network_id: two.network.id,
      ip_version: 4,
      cidr: '198.51.101.0/24',
      allocation_pools: [{ start: '198.51.101.100', end: '198.51.101.250' }],
    });
    for (let i = 0; i < 3; i++) {
      const fip = (await createFip({ floating_network_id: two.network.id, subnet_id: second.id })).body.floatingip;
      expect(fip.floating_ip_address).toMatch(/^198\.51\.101\./);
      expect(fip).not.toHaveProperty('subnet_id');
    }
    const both = (await createFip({ floating_network_id: two.network.id, subnet_id: second.id, floating_ip_address: '198.51.101.77' })).body
      .floatingip;
    expect(both.floating_ip_address).toBe('198.51.101.77');
    expect(
      failure(await createFip({ floating_network_id: two.network.id, subnet_id: second.id, floating_ip_address: '198.51.100.77' })),
    ).toEqual({
      status: 400,
      type: 'InvalidIpForSubnet',
      message: 'IP address 198.51.100.77 is not a valid IP for the specified subnet.',
    });
  });

  test('without a hint any IPv4 subnet with room serves; a full network is IpAddressGenerationFailure', async () => {
    const two = await externalNetwork(server, '192.0.4', { pool: ['192.0.4.10', '192.0.4.10'] });
    await create(server, 'subnets', 'subnet', {
      network_id: two.network.id,
      ip_version: 4,
      cidr: '192.0.5.0/24',
      allocation_pools: [{ start: '192.0.5.10', end: '192.0.5.10' }],
    });
    const addresses: string[] = [];
    for (let i = 0; i < 2; i++)
      addresses.push((await createFip({ floating_network_id: two.network.id })).body.floatingip.floating_ip_address);
    expect(addresses.sort()).toEqual(['192.0.4.10', '192.0.5.10']);
    expect(failure(await createFip({ floating_network_id: two.network.id }))).toEqual({
      status: 409,
      type: 'IpAddressGenerationFailure',
      message: `No more IP addresses available on network ${two.network.id}.`,
    });
  });

  test('a subnet_id naming an IPv6 subnet gives no IPv4 address: ExternalIpAddressExhausted, nothing kept', async () => {
    const dual = await externalNetwork(server, '192.0.2');
    const v6 = await create(server, 'subnets', 'subnet', { network_id: dual.network.id, ip_version: 6, cidr: '2001:db8:2::/64' });
    const before = (await ok(server, 'GET', `/v2.0/ports?network_id=${dual.network.id}`)).ports.length;
    expect(failure(await createFip({ floating_network_id: dual.network.id, subnet_id: v6.id }))).toEqual({
      status: 400,
      type: 'ExternalIpAddressExhausted',
      message: `Unable to find any IP address on external network ${dual.network.id}.`,
    });
    expect((await ok(server, 'GET', `/v2.0/ports?network_id=${dual.network.id}`)).ports).toHaveLength(before);
  });

  test('on a dual-stack external network the floating IP is its IPv4 address', async () => {
    const dual = await externalNetwork(server, '192.0.3', { cidr: '192.0.3.0/24' });
    await create(server, 'subnets', 'subnet', { network_id: dual.network.id, ip_version: 6, cidr: '2001:db8:3::/64' });
    const fip = (await createFip({ floating_network_id: dual.network.id })).body.floatingip;
    expect(fip.floating_ip_address).toMatch(/^192\.0\.3\./);
  });
});

describe('floating IP attributes', () => {
  test('router_id, status and port_details are read-only; addresses and networks cannot change', async () => {
    const fip = (await createFip({})).body.floatingip;
    expect(failure(await createFip({ router_id: router.id }))).toEqual({
      status: 400,
      type: 'HTTPBadRequest',
      message: "Attribute 'router_id' not allowed in POST",
    });
    for (const attribute of ['router_id', 'status', 'port_details', 'floating_ip_address', 'floating_network_id']) {
      expect(failure(await updateFip(fip.id, { [attribute]: null })), attribute).toEqual({
        status: 400,
        type: 'HTTPBadRequest',
        message: `Cannot update read-only attribute ${attribute}`,
      });
    }
  });

  test('bulk create is not supported, as in Neutron', async () => {
    const response = await server.request('POST', '/v2.0/floatingips', {
      floatingips: [{ floating_network_id: ext.network.id }, { floating_network_id: ext.network.id }],
    });
    expect(failure(response)).toEqual({ status: 400, type: 'HTTPBadRequest', message: 'Bulk operation not supported' });
  });

  test('an admin may create one for another project', async () => {
    const fip = (await createFip({ project_id: 'elsewhere' })).body.floatingip;
    expect(fip).toMatchObject({ project_id: 'elsewhere', tenant_id: 'elsewhere' });
  });
});

describe('association', () => {
  test('at create: router_id, fixed_ip_address and port_details come from the port', async () => {
    const vm = await vmPort({ name: 'vm-a' });
    const fip = (await createFip({ port_id: vm.id })).body.floatingip;
    expect(fip).toMatchObject({
      port_id: vm.id,
      fixed_ip_address: vm.fixed_ips[0].ip_address,
      router_id: router.id,
      status: 'DOWN',
      revision_number: 0,
      port_details: detailsOf(vm),
    });
    expect(Object.keys(fip.port_details)).toEqual([
      'name',
      'network_id',
      'mac_address',
      'admin_state_up',
      'status',
      'device_id',
      'device_owner',
    ]);
  });

  test('by update, then {"port_id": null} disassociates; revisions count the changes', async () => {
    const vm = await vmPort();
    const fip = (await createFip({})).body.floatingip;
    const associated = (await updateFip(fip.id, { port_id: vm.id })).body.floatingip;
    expect(associated).toMatchObject({
      port_id: vm.id,
      fixed_ip_address: vm.fixed_ips[0].ip_address,
      router_id: router.id,
      revision_number: 1,
    });
    const disassociated = (await updateFip(fip.id, { port_id: null })).body.floatingip;
    expect(disassociated).toMatchObject({ port_id: null, fixed_ip_address: null, router_id: null, port_details: null, revision_number: 2 });
    expect(disassociated.floating_ip_address).toBe(fip.floating_ip_address);
  });

  test('an update that does not mention the port keeps the association', async () => {
    const vm = await vmPort();
    const fip = (await createFip({ port_id: vm.id })).body.floatingip;
    const empty = await updateFip(fip.id, {});
    expect(empty.status).toBe(200);
    expect(empty.body.floatingip).toMatchObject({ port_id: vm.id, router_id: router.id, fixed_ip_address: fip.fixed_ip_address });
    const described = (await updateFip(fip.id, { description: 'kept' })).body.floatingip;
    expect(described).toMatchObject({ description: 'kept', port_id: vm.id, router_id: router.id, port_details: fip.port_details });
  });

  test('a port no router joins to the external network: ExternalGatewayForFloatingIPNotFound', async () => {
    const isolated = await privateNetwork(server, '10.30.0.0/24');
    const port = await create(server, 'ports', 'port', { network_id: isolated.network.id });
    const notReachable = {
      status: 404,
      type: 'ExternalGatewayForFloatingIPNotFound',
      message: `External network ${ext.network.id} is not reachable from subnet ${isolated.subnet.id}.  Therefore, cannot associate Port ${port.id} with a Floating IP.`,
    };
    expect(failure(await createFip({ port_id: port.id }))).toEqual(notReachable);
    // An interface alone is not enough: the router needs a gateway on the floating network.
    const gatewayless = await create(server, 'routers', 'router', {});
    await ok(server, 'PUT', `/v2.0/routers/${gatewayless.id}/add_router_interface`, { subnet_id: isolated.subnet.id });
    expect(failure(await createFip({ port_id: port.id }))).toEqual(notReachable);
    const fip = (await createFip({})).body.floatingip;
    expect(failure(await updateFip(fip.id, { port_id: port.id }))).toEqual(notReachable);
    expect((await ok(server, 'GET', `/v2.0/floatingips/${fip.id}`)).floatingip).toMatchObject({ port_id: null, revision_number: 0 });
  });

  test('a create whose association fails takes no address and leaves no port', async () => {
    const isolated = await privateNetwork(server, '10.31.0.0/24');
    const port = await create(server, 'ports', 'port', { network_id: isolated.network.id });
    const before = (await ok(server, 'GET', '/v2.0/ports?device_owner=network:floatingip')).ports.length;
    const refused = await createFip({ port_id: port.id, floating_ip_address: '203.0.113.3' });
    expect(refused.status).toBe(404);
    expect((await ok(server, 'GET', '/v2.0/ports?device_owner=network:floatingip')).ports).toHaveLength(before);
    expect(await addressTaken(server, ext.network.id, '203.0.113.3')).toBe(false);
    expect((await ok(server, 'GET', '/v2.0/floatingips?floating_ip_address=203.0.113.3')).floatingips).toEqual([]);
    const fip = (await createFip({ floating_ip_address: '203.0.113.3' })).body.floatingip;
    expect(fip.floating_ip_address).toBe('203.0.113.3');
  });

  test('one floating IP per fixed IP and external network', async () => {
    const vm = await vmPort();
    const first = (await createFip({ port_id: vm.id })).body.floatingip;
    const second = (await createFip({})).body.floatingip;
    expect(failure(await updateFip(second.id, { port_id: vm.id }))).toEqual({
      status: 409,
      type: 'FloatingIPPortAlreadyAssociated',
      message:
        `Cannot associate floating IP ${second.floating_ip_address} (${second.id}) with port ${vm.id} using fixed IP ${first.fixed_ip_address}, ` +
        `as that fixed IP already has a floating IP on external network ${ext.network.id}.`,
    });
    const atCreate = failure(await createFip({ port_id: vm.id }));
    expect(atCreate).toMatchObject({ status: 409, type: 'FloatingIPPortAlreadyAssociated' });
    // Re-associating a floating IP with the port it already has is no conflict.
    expect((await updateFip(first.id, { port_id: vm.id })).status).toBe(200);
  });

  test('the same fixed IP may have a floating IP on another external network', async () => {
    const other = await externalNetwork(server, '198.18.0', { cidr: '198.18.0.0/24' });
    const vm = await vmPort();
    await createFip({ port_id: vm.id });
    // A second router joins the subnet (through a port, the gateway address being taken) to the other network.
    const routerPort = await create(server, 'ports', 'port', { network_id: net.network.id });
    const second = await create(server, 'routers', 'router', { external_gateway_info: { network_id: other.network.id } });
    await ok(server, 'PUT', `/v2.0/routers/${second.id}/add_router_interface`, { port_id: routerPort.id });
    const fip = (await createFip({ floating_network_id: other.network.id, port_id: vm.id })).body.floatingip;
    expect(fip).toMatchObject({ port_id: vm.id, router_id: second.id, fixed_ip_address: vm.fixed_ips[0].ip_address });
  });

  test('a router whose interface holds the subnet gateway is preferred', async () => {
    // The connected router holds 10.20.0.1; the router of the previous test joins by another address.
    const vm = await vmPort();
    const fip = (await createFip({ port_id: vm.id })).body.floatingip;
    expect(fip.router_id).toBe(router.id);
  });

  test('fixed_ip_address needs a port_id, at create and on update (even when associated)', async () => {
    const expected = {
      status: 400,
      type: 'BadRequest',
      message: 'Bad floatingip request: fixed_ip_address cannot be specified without a port_id.',
    };
    expect(failure(await createFip({ fixed_ip_address: '10.20.0.5' }))).toEqual(expected);
    const vm = await vmPort();
    const fip = (await createFip({ port_id: vm.id })).body.floatingip;
    expect(failure(await updateFip(fip.id, { fixed_ip_address: fip.fixed_ip_address }))).toEqual(expected);
  });

  test('ports with several IPv4 addresses need fixed_ip_address, which must be theirs and IPv4', async () => {
    const vm = await vmPort({ fixed_ips: [{ ip_address: '10.20.0.200' }, { ip_address: '10.20.0.201' }] });
    expect(failure(await createFip({ port_id: vm.id }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad floatingip request: Port ${vm.id} has multiple fixed IPv4 addresses.  Must provide a specific IPv4 address when assigning a floating IP.`,
    });
    expect(failure(await createFip({ port_id: vm.id, fixed_ip_address: '10.20.0.202' }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad floatingip request: Port ${vm.id} does not have fixed ip 10.20.0.202.`,
    });
    expect(failure(await createFip({ port_id: vm.id, fixed_ip_address: '2001:db8::5' }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: 'Bad floatingip request: Cannot process floating IP association with 2001:db8::5, since that is not an IPv4 address.',
    });
    const first = (await createFip({ port_id: vm.id, fixed_ip_address: '10.20.0.201' })).body.floatingip;
    expect(first).toMatchObject({ fixed_ip_address: '10.20.0.201', router_id: router.id });
    // Each of its addresses may have its own floating IP.
    const second = (await createFip({ port_id: vm.id, fixed_ip_address: '10.20.0.200' })).body.floatingip;
    expect(second.fixed_ip_address).toBe('10.20.0.200');
    const listed = (await ok(server, 'GET', `/v2.0/floatingips?port_id=${vm.id}`)).floatingips;
    expect(listed.map((f: any) => f.fixed_ip_address).sort()).toEqual(['10.20.0.200', '10.20.0.201']);
  });

  test('ports without IPv4, network-owned ports and unknown ports are refused', async () => {
    const bare = await vmPort({ fixed_ips: [] });
    expect(failure(await createFip({ port_id: bare.id }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad floatingip request: Cannot add floating IP to port ${bare.id} that has no fixed IPv4 addresses.`,
    });
    const dhcp = await create(server, 'ports', 'port', { network_id: net.network.id, device_owner: 'network:dhcp', device_id: 'dhcp-1' });
    expect(failure(await createFip({ port_id: dhcp.id }))).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad floatingip request: Port ${dhcp.id} is unable to be assigned a floating IP.`,
    });
    const [routerInterface] = (await ok(server, 'GET', `/v2.0/ports?device_id=${router.id}&device_owner=network:router_interface`)).ports;
    expect(failure(await createFip({ port_id: routerInterface.id }))).toMatchObject({ status: 400, type: 'BadRequest' });
    expect(failure(await createFip({ port_id: MISSING }))).toEqual({
      status: 404,
      type: 'PortNotFound',
      message: `Port ${MISSING} could not be found.`,
    });
  });
});

describe('the associated port', () => {
  test('deleting it disassociates the floating IP in the same transaction; the floating IP stays', async () => {
    const vm = await vmPort();
    const fip = (await createFip({ port_id: vm.id })).body.floatingip;
    expect((await server.request('DELETE', `/v2.0/ports/${vm.id}`)).status).toBe(204);
    const shown = (await ok(server, 'GET', `/v2.0/floatingips/${fip.id}`)).floatingip;
    expect(shown).toMatchObject({
      floating_ip_address: fip.floating_ip_address,
      port_id: null,
      fixed_ip_address: null,
      router_id: null,
      port_details: null,
      revision_number: 1,
    });
    // Free again: it can be associated elsewhere.
    const other = await vmPort();
    expect((await updateFip(fip.id, { port_id: other.id })).body.floatingip.port_id).toBe(other.id);
  });

  test('port updates refresh port_details', async () => {
    const vm = await vmPort({ name: 'before' });
    const fip = (await createFip({ port_id: vm.id })).body.floatingip;
    const updated = (await ok(server, 'PUT', `/v2.0/ports/${vm.id}`, { port: { name: 'after', admin_state_up: false, device_id: 'vm-2' } }))
      .port;
    const shown = (await ok(server, 'GET', `/v2.0/floatingips/${fip.id}`)).floatingip;
    expect(shown.port_details).toEqual(detailsOf(updated));
    expect(shown.port_details).toMatchObject({ name: 'after', admin_state_up: false, device_id: 'vm-2' });
  });

  test('its associated fixed IP cannot be changed away; other addresses can be added', async () => {
    const vm = await vmPort({ fixed_ips: [{ ip_address: '10.20.0.210' }] });
    await createFip({ port_id: vm.id });
    const moved = await server.request('PUT', `/v2.0/ports/${vm.id}`, { port: { fixed_ips: [{ ip_address: '10.20.0.211' }] } });
    expect(failure(moved)).toEqual({
      status: 400,
      type: 'BadRequest',
      message: `Bad port request: Cannot update the fixed_ips of the port ${vm.id}, because its original fixed_ip has been associated to a floating ip.`,
    });
    const widened = (
      await ok(server, 'PUT', `/v2.0/ports/${vm.id}`, {
        port: { fixed_ips: [{ ip_address: '10.20.0.210' }, { ip_address: '10.20.0.212' }] },
      })
    ).port;
    expect(widened.fixed_ips.map((ip: any) => ip.ip_address)).toEqual(['10.20.0.210', '10.20.0.212']);
  });

  test("the router's gateway cannot be cleared while floating IPs use it", async () => {
    const own = await privateNetwork(server, '10.40.0.0/24');
    const edge = await connectedRouter(server, ext.network.id, own.subnet.id);
    const vm = await create(server, 'ports', 'port', { network_id: own.network.id });
    const fip = (await createFip({ port_id: vm.id })).body.floatingip;
    const cleared = await server.request('PUT', `/v2.0/routers/${edge.id}`, { router: { external_gateway_info: {} } });
    expect(failure(cleared)).toEqual({
      status: 409,
      type: 'RouterExternalGatewayInUseByFloatingIp',
      message: `Gateway cannot be updated for router ${edge.id}, since a gateway to external network ${ext.network.id} is required by one or more floating IPs.`,
    });
    expect((await ok(server, 'GET', `/v2.0/routers/${edge.id}`)).router.external_gateway_info).not.toBeNull();
    // Moving the gateway to another network is refused the same way; new addresses on the same network are not.
    const elsewhere = await externalNetwork(server, '198.22.0', { cidr: '198.22.0.0/24' });
    const moved = await server.request('PUT', `/v2.0/routers/${edge.id}`, {
      router: { external_gateway_info: { network_id: elsewhere.network.id } },
    });
    expect(failure(moved)).toMatchObject({ status: 409, type: 'RouterExternalGatewayInUseByFloatingIp' });
    const renumbered = await server.request('PUT', `/v2.0/routers/${edge.id}`, {
      router: { external_gateway_info: { network_id: ext.network.id, external_fixed_ips: [{ ip_address: '203.0.113.6' }] } },
    });
    expect(renumbered.body.router.external_gateway_info.external_fixed_ips).toEqual([
      { subnet_id: ext.subnet.id, ip_address: '203.0.113.6' },
    ]);
    await updateFip(fip.id, { port_id: null });
    expect((await server.request('PUT', `/v2.0/routers/${edge.id}`, { router: { external_gateway_info: {} } })).status).toBe(200);
  });

  test("the floating IP's own port cannot be deleted through the port API", async () => {
    const fip = (await createFip({})).body.floatingip;
    const [port] = await portsOf(server, fip.id);
    expect(failure(await server.request('DELETE', `/v2.0/ports/${port!.id}`))).toEqual({
      status: 409,
      type: 'ServicePortInUse',
      message: `Port ${port!.id} cannot be deleted directly via the port API: has device owner network:floatingip.`,
    });
  });
});

describe('floating IP delete', () => {
  test('releases the address and the port; a second delete is FloatingIPNotFound', async () => {
    const vm = await vmPort();
    const fip = (await createFip({ port_id: vm.id, floating_ip_address: '203.0.113.4' })).body.floatingip;
    const [port] = await portsOf(server, fip.id);
    expect((await server.request('DELETE', `/v2.0/floatingips/${fip.id}`)).status).toBe(204);
    expect((await server.request('GET', `/v2.0/ports/${port!.id}`)).status).toBe(404);
    const notFound = { status: 404, type: 'FloatingIPNotFound', message: `Floating IP ${fip.id} could not be found` };
    expect(failure(await server.request('DELETE', `/v2.0/floatingips/${fip.id}`))).toEqual(notFound);
    expect(failure(await server.request('GET', `/v2.0/floatingips/${fip.id}`))).toEqual(notFound);
    const again = (await createFip({ port_id: vm.id, floating_ip_address: '203.0.113.4' })).body.floatingip;
    expect(again).toMatchObject({ floating_ip_address: '203.0.113.4', port_id: vm.id });
  });
});

describe('deleting the external network', () => {
  test('takes its unassociated floating IPs with it', async () => {
    const doomed = await externalNetwork(server, '198.20.0', { cidr: '198.20.0.0/24' });
    const fips = [
      (await createFip({ floating_network_id: doomed.network.id })).body.floatingip,
      (await createFip({ floating_network_id: doomed.network.id })).body.floatingip,
    ];
    expect((await server.request('DELETE', `/v2.0/networks/${doomed.network.id}`)).status).toBe(204);
    for (const fip of fips) expect((await server.request('GET', `/v2.0/floatingips/${fip.id}`)).status).toBe(404);
  });

  test('is refused while a router gateway uses it, and then keeps its floating IPs', async () => {
    const kept = await externalNetwork(server, '198.21.0', { cidr: '198.21.0.0/24' });
    const fip = (await createFip({ floating_network_id: kept.network.id })).body.floatingip;
    const gatewayed = await create(server, 'routers', 'router', { external_gateway_info: { network_id: kept.network.id } });
    const [gatewayPort] = await portsOf(server, gatewayed.id);
    const refused = failure(await server.request('DELETE', `/v2.0/networks/${kept.network.id}`));
    expect(refused).toMatchObject({ status: 409, type: 'NetworkInUse' });
    expect(refused.message).toBe(
      `Unable to complete operation on network ${kept.network.id}. There are one or more ports still in use on the network, id for these ports is: ${gatewayPort!.id}.`,
    );
    expect((await ok(server, 'GET', `/v2.0/floatingips/${fip.id}`)).floatingip.floating_ip_address).toBe(fip.floating_ip_address);
  });
});

describe('floating IP lists', () => {
  test('filter by port_id, router_id, floating_network_id and addresses', async () => {
    const other = await externalNetwork(server, '198.19.0', { cidr: '198.19.0.0/24' });
    const vm = await vmPort();
    const associated = (await createFip({ port_id: vm.id })).body.floatingip;
    const elsewhere = (await createFip({ floating_network_id: other.network.id })).body.floatingip;
    const ids = async (query: string) => (await ok(server, 'GET', `/v2.0/floatingips?${query}`)).floatingips.map((f: any) => f.id);
    expect(await ids(`port_id=${vm.id}`)).toEqual([associated.id]);
    expect(await ids(`router_id=${router.id}`)).toContain(associated.id);
    expect(await ids(`router_id=${router.id}`)).not.toContain(elsewhere.id);
    expect(await ids(`floating_network_id=${other.network.id}`)).toEqual([elsewhere.id]);
    expect(await ids(`floating_ip_address=${elsewhere.floating_ip_address}`)).toEqual([elsewhere.id]);
    expect(await ids(`fixed_ip_address=${associated.fixed_ip_address}`)).toEqual([associated.id]);
    expect(await ids(`port_id=${MISSING}`)).toEqual([]);
  });
});

describe('floating IP quota', () => {
  test('50 per project; the 51st is OverQuota and takes no address', async () => {
    const headers = { 'x-project-id': 'fip-quota' };
    for (let i = 0; i < 50; i++) await create(server, 'floatingips', 'floatingip', { floating_network_id: ext.network.id }, headers);
    const over = await server.request(
      'POST',
      '/v2.0/floatingips',
      { floatingip: { floating_network_id: ext.network.id, floating_ip_address: '203.0.113.5' } },
      headers,
    );
    expect(failure(over)).toEqual({ status: 409, type: 'OverQuota', message: "Quota exceeded for resources: ['floatingip']." });
    expect(await addressTaken(server, ext.network.id, '203.0.113.5')).toBe(false);
    expect((await ok(server, 'GET', '/v2.0/quotas/fip-quota/details')).quota.floatingip).toEqual({ limit: 50, used: 50, reserved: 0 });
  });
});
