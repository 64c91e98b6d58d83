import type { TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { create, neutronError, startMl2 } from './server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startMl2();
});
afterAll(() => server?.close());

async function network(): Promise<string> {
  return (await create(server, 'networks', 'network', {})).id;
}

async function subnetError(body: object): Promise<{ status: number; error: { type: string; message: string } }> {
  const response = await server.request('POST', '/v2.0/subnets', { subnet: body });
  return { status: response.status, error: neutronError(response) };
}

describe('subnet create', () => {
  test('IPv4 defaults: first host as gateway, the rest of the CIDR as pool', async () => {
    const net = await network();
    const subnet = await create(server, 'subnets', 'subnet', {
      name: 'sub1',
      network_id: net,
      ip_version: 4,
      cidr: '10.20.0.0/24',
      dns_nameservers: ['192.0.2.53'],
    });
    expect(subnet).toMatchObject({
      name: 'sub1',
      network_id: net,
      ip_version: 4,
      subnetpool_id: null,
      enable_dhcp: true,
      ipv6_ra_mode: null,
      ipv6_address_mode: null,
      gateway_ip: '10.20.0.1',
      cidr: '10.20.0.0/24',
      allocation_pools: [{ start: '10.20.0.2', end: '10.20.0.254' }],
      host_routes: [],
      dns_nameservers: ['192.0.2.53'],
      revision_number: 0,
    });
    const parent = (await server.request('GET', `/v2.0/networks/${net}`)).body.network;
    expect(parent.subnets).toEqual([subnet.id]);
    expect(parent.revision_number).toBe(2);
  });

  test('IPv6 SLAAC: the subnet-router anycast address is the gateway', async () => {
    const subnet = await create(server, 'subnets', 'subnet', {
      network_id: await network(),
      ip_version: 6,
      cidr: '2001:DB8:1::/64',
      ipv6_ra_mode: 'slaac',
      ipv6_address_mode: 'slaac',
    });
    expect(subnet).toMatchObject({
      cidr: '2001:db8:1::/64',
      gateway_ip: '2001:db8:1::',
      allocation_pools: [{ start: '2001:db8:1::1', end: '2001:db8:1:0:ffff:ffff:ffff:ffff' }],
    });
  });

  test('host bits are dropped; an explicit null gateway means none; explicit pools and gateway are kept', async () => {
    const net = await network();
    const a = await create(server, 'subnets', 'subnet', { network_id: net, ip_version: 4, cidr: '10.1.0.7/24', gateway_ip: null });
    expect(a).toMatchObject({ cidr: '10.1.0.0/24', gateway_ip: null, allocation_pools: [{ start: '10.1.0.1', end: '10.1.0.254' }] });
    const b = await create(server, 'subnets', 'subnet', {
      network_id: net,
      ip_version: 4,
      cidr: '10.2.0.0/24',
      gateway_ip: '10.2.0.100',
      allocation_pools: [{ start: '10.2.0.10', end: '10.2.0.20' }],
    });
    expect(b).toMatchObject({ gateway_ip: '10.2.0.100', allocation_pools: [{ start: '10.2.0.10', end: '10.2.0.20' }] });
    const c = await create(server, 'subnets', 'subnet', { network_id: net, ip_version: 4, cidr: '10.3.0.0/24', gateway_ip: '10.3.0.100' });
    expect(c.allocation_pools).toEqual([
      { start: '10.3.0.1', end: '10.3.0.99' },
      { start: '10.3.0.101', end: '10.3.0.254' },
    ]);
  });

  test('errors match the reference server', async () => {
    const net = await network();
    await create(server, 'subnets', 'subnet', { network_id: net, ip_version: 4, cidr: '10.20.0.0/24' });
    expect(await subnetError({ network_id: net, ip_version: 4, cidr: '10.20.0.300/24' })).toEqual({
      status: 400,
      error: { type: 'InvalidInput', message: 'Invalid input for operation: 10.20.0.300/24 is not in a CIDR format.', detail: '' },
    });
    expect(await subnetError({ network_id: net, ip_version: 4, cidr: '10.20.0.128/25' })).toMatchObject({
      status: 400,
      error: {
        type: 'InvalidInput',
        message: `Invalid input for operation: Requested subnet with cidr: 10.20.0.128/25 for network: ${net} overlaps with another subnet.`,
      },
    });
    expect(await subnetError({ network_id: net, ip_version: 6, cidr: '10.30.0.0/24' })).toMatchObject({
      status: 400,
      error: { type: 'InvalidInput', message: "Invalid input for operation: cidr '10.30.0.0/24' does not match the ip_version '6'." },
    });
    expect(await subnetError({ ip_version: 4, cidr: '10.40.0.0/24' })).toMatchObject({
      status: 400,
      error: { type: 'HTTPBadRequest', message: "Failed to parse request. Required attribute 'network_id' not specified" },
    });
    expect(await subnetError({ network_id: '00000000-0000-0000-0000-000000000000', ip_version: 4, cidr: '10.40.0.0/24' })).toMatchObject({
      status: 404,
      error: { type: 'NetworkNotFound' },
    });
    expect(await subnetError({ network_id: net, ip_version: 5, cidr: '10.41.0.0/24' })).toMatchObject({
      status: 400,
      error: { type: 'HTTPBadRequest', message: 'Invalid input for ip_version. Reason: 5 is not in valid_values.' },
    });
    expect(await subnetError({ network_id: net, ip_version: 4 })).toMatchObject({
      status: 400,
      error: { type: 'BadRequest', message: 'Bad subnets request: a subnetpool must be specified in the absence of a cidr.' },
    });
    expect(await subnetError({ network_id: net, ip_version: 4, cidr: '0.0.0.0/0' })).toMatchObject({
      status: 400,
      error: { message: 'Invalid input for operation: 0 is not allowed as CIDR prefix length.' },
    });
    expect(await subnetError({ network_id: net, ip_version: 4, cidr: '10.42.0.0/24', gateway_ip: '10.42.0.255' })).toMatchObject({
      status: 400,
      error: { message: 'Invalid input for operation: Gateway is not valid on subnet.' },
    });
  });

  test('allocation pools are validated', async () => {
    const net = await network();
    const base = { network_id: net, ip_version: 4, cidr: '10.50.0.0/24' };
    expect(await subnetError({ ...base, allocation_pools: [{ start: '10.50.0.20', end: '10.50.0.10' }] })).toMatchObject({
      status: 400,
      error: { type: 'InvalidAllocationPool', message: 'The allocation pool 10.50.0.20-10.50.0.10 is not valid.' },
    });
    expect(await subnetError({ ...base, allocation_pools: [{ start: '10.50.0.2', end: '10.50.1.10' }] })).toMatchObject({
      status: 400,
      error: {
        type: 'OutOfBoundsAllocationPool',
        message: 'The allocation pool 10.50.0.2-10.50.1.10 spans beyond the subnet cidr 10.50.0.0/24.',
      },
    });
    expect(
      await subnetError({
        ...base,
        allocation_pools: [
          { start: '10.50.0.10', end: '10.50.0.30' },
          { start: '10.50.0.20', end: '10.50.0.40' },
        ],
      }),
    ).toMatchObject({ status: 409, error: { type: 'OverlappingAllocationPools' } });
    expect(await subnetError({ ...base, allocation_pools: [{ start: '10.50.0.1', end: '10.50.0.40' }] })).toMatchObject({
      status: 409,
      error: {
        type: 'GatewayConflictWithAllocationPools',
        message: 'Gateway ip 10.50.0.1 conflicts with allocation pool 10.50.0.1-10.50.0.40.',
      },
    });
    expect(await subnetError({ ...base, allocation_pools: [{ start: '10.50.0.2' }] })).toMatchObject({
      status: 400,
      error: { type: 'HTTPBadRequest' },
    });
  });

  test('DNS servers and host routes: limits and versions', async () => {
    const net = await network();
    const base = { network_id: net, ip_version: 4, cidr: '10.60.0.0/24' };
    expect(
      await subnetError({ ...base, dns_nameservers: ['1.1.1.1', '1.1.1.2', '1.1.1.3', '1.1.1.4', '1.1.1.5', '1.1.1.6'] }),
    ).toMatchObject({
      status: 400,
      error: {
        type: 'DNSNameServersExhausted',
        message: 'Unable to complete operation for new subnet. The number of DNS nameservers exceeds the limit 5.',
      },
    });
    expect(await subnetError({ ...base, dns_nameservers: ['1.1.1.1', '1.1.1.1'] })).toMatchObject({
      error: { message: "Invalid input for dns_nameservers. Reason: Duplicate nameserver '1.1.1.1'." },
    });
    expect(await subnetError({ ...base, dns_nameservers: ['2001:db8::1'] })).toMatchObject({
      error: { message: "Invalid input for operation: dns_nameserver '2001:db8::1' does not match the ip_version '4'." },
    });
    expect(await subnetError({ ...base, host_routes: [{ destination: '10.0.0.1/24', nexthop: '10.60.0.9' }] })).toMatchObject({
      error: { message: "Invalid input for host_routes. Reason: '10.0.0.1/24' is not a valid CIDR." },
    });
    const routes = Array.from({ length: 21 }, (_, i) => ({ destination: `192.168.${i}.0/24`, nexthop: '10.60.0.9' }));
    expect(await subnetError({ ...base, host_routes: routes })).toMatchObject({ status: 400, error: { type: 'HostRoutesExhausted' } });
  });

  test('IPv6 address modes', async () => {
    const net = await network();
    expect(await subnetError({ network_id: net, ip_version: 4, cidr: '10.70.0.0/24', ipv6_ra_mode: 'slaac' })).toMatchObject({
      error: { message: 'Invalid input for operation: ipv6_ra_mode is not valid when ip_version is 4.' },
    });
    expect(
      await subnetError({
        network_id: net,
        ip_version: 6,
        cidr: '2001:db8:70::/64',
        ipv6_ra_mode: 'slaac',
        ipv6_address_mode: 'dhcpv6-stateful',
      }),
    ).toMatchObject({ error: { type: 'InvalidInput' } });
    expect(await subnetError({ network_id: net, ip_version: 6, cidr: '2001:db8:71::/80', ipv6_address_mode: 'slaac' })).toMatchObject({
      error: {
        message:
          'Invalid input for operation: Invalid CIDR 2001:db8:71::/80 for IPv6 address mode. OpenStack uses the EUI-64 address format, which requires the prefix to be /64.',
      },
    });
    expect(
      await subnetError({ network_id: net, ip_version: 6, cidr: '2001:db8:72::/64', ipv6_address_mode: 'slaac', enable_dhcp: false }),
    ).toMatchObject({
      error: { message: 'Invalid input for operation: ipv6_ra_mode or ipv6_address_mode cannot be set when enable_dhcp is set to False.' },
    });
  });
});

describe('subnet update and delete', () => {
  test('update replaces nameservers and routes, bumps revisions, keeps read-only attributes', async () => {
    const net = await network();
    const subnet = await create(server, 'subnets', 'subnet', { network_id: net, ip_version: 4, cidr: '10.80.0.0/24' });
    const response = await server.request('PUT', `/v2.0/subnets/${subnet.id}`, {
      subnet: {
        name: 'sub1-upd',
        dns_nameservers: ['192.0.2.54', '192.0.2.55'],
        host_routes: [{ destination: '198.51.100.0/24', nexthop: '10.80.0.254' }],
      },
    });
    expect(response.status).toBe(200);
    expect(response.body.subnet).toMatchObject({
      name: 'sub1-upd',
      dns_nameservers: ['192.0.2.54', '192.0.2.55'],
      host_routes: [{ destination: '198.51.100.0/24', nexthop: '10.80.0.254' }],
      revision_number: 1,
    });
    const readOnly = await server.request('PUT', `/v2.0/subnets/${subnet.id}`, { subnet: { cidr: '10.81.0.0/24' } });
    expect(neutronError(readOnly).message).toBe('Cannot update read-only attribute cidr');
    const gatewayInPool = await server.request('PUT', `/v2.0/subnets/${subnet.id}`, { subnet: { gateway_ip: '10.80.0.50' } });
    expect(gatewayInPool.status).toBe(409);
    const pools = await server.request('PUT', `/v2.0/subnets/${subnet.id}`, {
      subnet: { gateway_ip: '10.80.0.50', allocation_pools: [{ start: '10.80.0.100', end: '10.80.0.200' }] },
    });
    expect(pools.body.subnet).toMatchObject({ gateway_ip: '10.80.0.50', allocation_pools: [{ start: '10.80.0.100', end: '10.80.0.200' }] });
  });

  test('a subnet with ports is in use; without them it goes', async () => {
    const net = await network();
    const subnet = await create(server, 'subnets', 'subnet', { network_id: net, ip_version: 4, cidr: '10.90.0.0/24' });
    const port = await create(server, 'ports', 'port', { network_id: net });
    const inUse = await server.request('DELETE', `/v2.0/subnets/${subnet.id}`);
    expect(inUse.status).toBe(409);
    expect(neutronError(inUse)).toEqual({
      type: 'SubnetInUse',
      message: `Unable to complete operation on subnet ${subnet.id}: One or more ports have an IP allocation from this subnet.`,
      detail: '',
    });
    await server.request('DELETE', `/v2.0/ports/${port.id}`);
    expect((await server.request('DELETE', `/v2.0/subnets/${subnet.id}`)).status).toBe(204);
    expect((await server.request('GET', `/v2.0/subnets/${subnet.id}`)).status).toBe(404);
  });

  test('list filters, sort and fields', async () => {
    const net = await network();
    await create(server, 'subnets', 'subnet', { network_id: net, ip_version: 6, cidr: '2001:db8:99::/64' });
    await create(server, 'subnets', 'subnet', { network_id: net, ip_version: 4, cidr: '10.99.0.0/24' });
    const listed = await server.request(
      'GET',
      `/v2.0/subnets?network_id=${net}&sort_key=ip_version&sort_dir=asc&fields=cidr&fields=ip_version`,
    );
    expect(listed.body.subnets).toEqual([
      { ip_version: 4, cidr: '10.99.0.0/24' },
      { ip_version: 6, cidr: '2001:db8:99::/64' },
    ]);
  });
});
