import type { TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { create, neutronError, startMl2 } from './server.js';

let server: TestServer;
let net: string;
let subnet: string;
beforeAll(async () => {
  server = await startMl2();
  net = (await create(server, 'networks', 'network', { name: 'ports-net' })).id;
  // Random allocation stays at .100 and above, so the addresses tests ask for by name (below .100) are never taken by chance.
  subnet = (
    await create(server, 'subnets', 'subnet', {
      network_id: net,
      ip_version: 4,
      cidr: '10.20.0.0/24',
      allocation_pools: [{ start: '10.20.0.100', end: '10.20.0.254' }],
    })
  ).id;
});
afterAll(() => server?.close());

function ipValue(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

describe('port create', () => {
  test('defaults: a MAC from base_mac, an address from the pool, the default security group', async () => {
    const port = await create(server, 'ports', 'port', { network_id: net, name: 'p1' });
    expect(port).toMatchObject({
      name: 'p1',
      network_id: net,
      admin_state_up: true,
      status: 'DOWN',
      device_id: '',
      device_owner: '',
      allowed_address_pairs: [],
      extra_dhcp_opts: [],
      port_security_enabled: true,
      'binding:vnic_type': 'normal',
      'binding:profile': {},
      'binding:host_id': '',
      'binding:vif_type': 'unbound',
      'binding:vif_details': {},
      ip_allocation: 'immediate',
      tags: [],
      revision_number: 1,
    });
    expect(port.mac_address).toMatch(/^fa:16:3e(:[0-9a-f]{2}){3}$/);
    expect(port.fixed_ips).toHaveLength(1);
    expect(port.fixed_ips[0].subnet_id).toBe(subnet);
    const ip = ipValue(port.fixed_ips[0].ip_address);
    expect(ip).toBeGreaterThanOrEqual(ipValue('10.20.0.100'));
    expect(ip).toBeLessThanOrEqual(ipValue('10.20.0.254'));
    const groups = (await server.request('GET', '/v2.0/security-groups?name=default')).body.security_groups;
    expect(groups).toHaveLength(1);
    expect(port.security_groups).toEqual([groups[0].id]);
  });

  test('explicit addresses: taken 409, outside the subnet 400, not on the network 400', async () => {
    const port = await create(server, 'ports', 'port', { network_id: net, fixed_ips: [{ subnet_id: subnet, ip_address: '10.20.0.50' }] });
    expect(port.fixed_ips).toEqual([{ subnet_id: subnet, ip_address: '10.20.0.50' }]);
    const taken = await server.request('POST', '/v2.0/ports', { port: { network_id: net, fixed_ips: [{ ip_address: '10.20.0.50' }] } });
    expect(taken.status).toBe(409);
    expect(neutronError(taken)).toEqual({
      type: 'IpAddressAlreadyAllocated',
      message: `IP address 10.20.0.50 already allocated in subnet ${subnet}`,
      detail: '',
    });
    const outside = await server.request('POST', '/v2.0/ports', {
      port: { network_id: net, fixed_ips: [{ subnet_id: subnet, ip_address: '10.99.0.5' }] },
    });
    expect(neutronError(outside)).toEqual({
      type: 'InvalidIpForSubnet',
      message: 'IP address 10.99.0.5 is not a valid IP for the specified subnet.',
      detail: '',
    });
    const noSubnet = await server.request('POST', '/v2.0/ports', { port: { network_id: net, fixed_ips: [{ ip_address: '10.99.0.5' }] } });
    expect(neutronError(noSubnet).type).toBe('InvalidIpForNetwork');
    const broadcast = await server.request('POST', '/v2.0/ports', {
      port: { network_id: net, fixed_ips: [{ ip_address: '10.20.0.255' }] },
    });
    expect(neutronError(broadcast).type).toBe('InvalidIpForNetwork');
    // Outside the pools but inside the subnet is allowed when asked for (the gateway address, say).
    const gateway = await create(server, 'ports', 'port', { network_id: net, fixed_ips: [{ ip_address: '10.20.0.1' }] });
    expect(gateway.fixed_ips[0].ip_address).toBe('10.20.0.1');
    // A failed create leaves nothing behind: the address is still free.
    const retry = await create(server, 'ports', 'port', { network_id: net, fixed_ips: [{ ip_address: '10.20.0.60' }] });
    expect(retry.fixed_ips[0].ip_address).toBe('10.20.0.60');
  });

  test('MACs: explicit ones are unique per network, malformed ones refused', async () => {
    const port = await create(server, 'ports', 'port', { network_id: net });
    const taken = await server.request('POST', '/v2.0/ports', { port: { network_id: net, mac_address: port.mac_address } });
    expect(neutronError(taken)).toEqual({
      type: 'MacAddressInUse',
      message: `Unable to complete operation for network ${net}. The mac address ${port.mac_address} is in use.`,
      detail: '',
    });
    const bad = await server.request('POST', '/v2.0/ports', { port: { network_id: net, mac_address: 'zz:zz' } });
    expect(neutronError(bad)).toEqual({
      type: 'HTTPBadRequest',
      message: "Invalid input for mac_address. Reason: 'zz:zz' is not a valid MAC address.",
      detail: '',
    });
    const other = await create(server, 'networks', 'network', {});
    const sameMacElsewhere = await create(server, 'ports', 'port', { network_id: other.id, mac_address: port.mac_address.toUpperCase() });
    expect(sameMacElsewhere.mac_address).toBe(port.mac_address);
  });

  test('unknown network 404, unknown attribute 400, read-only attribute 400', async () => {
    const unknownNet = await server.request('POST', '/v2.0/ports', { port: { network_id: '00000000-0000-0000-0000-000000000000' } });
    expect(neutronError(unknownNet)).toMatchObject({ type: 'NetworkNotFound' });
    const unknownAttr = await server.request('POST', '/v2.0/ports', { port: { network_id: net, colour: 'red' } });
    expect(neutronError(unknownAttr).message).toBe("Unrecognized attribute(s) 'colour'");
    const port = await create(server, 'ports', 'port', { network_id: net });
    const readOnly = await server.request('PUT', `/v2.0/ports/${port.id}`, { port: { status: 'ACTIVE' } });
    expect(neutronError(readOnly)).toEqual({ type: 'HTTPBadRequest', message: 'Cannot update read-only attribute status', detail: '' });
  });

  test('fixed_ips: [] gives no address; dual stack gives one IPv4 and a SLAAC address from the MAC', async () => {
    const none = await create(server, 'ports', 'port', { network_id: net, fixed_ips: [] });
    expect(none).toMatchObject({ fixed_ips: [], ip_allocation: 'none' });
    const dual = (await create(server, 'networks', 'network', {})).id;
    await create(server, 'subnets', 'subnet', { network_id: dual, ip_version: 4, cidr: '10.30.0.0/24' });
    const v6 = await create(server, 'subnets', 'subnet', {
      network_id: dual,
      ip_version: 6,
      cidr: '2001:db8:30::/64',
      ipv6_ra_mode: 'slaac',
      ipv6_address_mode: 'slaac',
    });
    const port = await create(server, 'ports', 'port', { network_id: dual, mac_address: 'fa:16:3e:12:34:56' });
    expect(port.fixed_ips).toHaveLength(2);
    expect(port.fixed_ips).toContainEqual({ subnet_id: v6.id, ip_address: '2001:db8:30:0:f816:3eff:fe12:3456' });
    const direct = await server.request('POST', '/v2.0/ports', {
      port: { network_id: dual, fixed_ips: [{ ip_address: '2001:db8:30::5' }] },
    });
    expect(neutronError(direct).type).toBe('AllocationOnAutoAddressSubnet');
  });

  test('a full pool answers 409 IpAddressGenerationFailure', async () => {
    const small = (await create(server, 'networks', 'network', {})).id;
    await create(server, 'subnets', 'subnet', { network_id: small, ip_version: 4, cidr: '10.40.0.0/29' });
    for (let i = 0; i < 5; i++) await create(server, 'ports', 'port', { network_id: small });
    const full = await server.request('POST', '/v2.0/ports', { port: { network_id: small } });
    expect(full.status).toBe(409);
    expect(neutronError(full)).toEqual({
      type: 'IpAddressGenerationFailure',
      message: `No more IP addresses available on network ${small}.`,
      detail: '',
    });
  });

  test('port security: address pairs need it, security groups need it', async () => {
    const pairs = await server.request('POST', '/v2.0/ports', {
      port: { network_id: net, port_security_enabled: false, allowed_address_pairs: [{ ip_address: '10.20.0.200' }] },
    });
    expect(neutronError(pairs).type).toBe('AddressPairAndPortSecurityRequired');
    const groups = (await server.request('GET', '/v2.0/security-groups?name=default')).body.security_groups;
    const withGroups = await server.request('POST', '/v2.0/ports', {
      port: { network_id: net, port_security_enabled: false, security_groups: [groups[0].id] },
    });
    expect(neutronError(withGroups).type).toBe('PortSecurityAndIPRequiredForSecurityGroups');
    const open = await create(server, 'ports', 'port', { network_id: net, port_security_enabled: false });
    expect(open.security_groups).toEqual([]);
    const withPairs = await create(server, 'ports', 'port', {
      network_id: net,
      allowed_address_pairs: [{ ip_address: '10.20.0.0/28' }, { ip_address: '10.20.0.201', mac_address: 'FA:16:3E:00:00:01' }],
    });
    expect(withPairs.allowed_address_pairs).toEqual([
      { ip_address: '10.20.0.0/28' },
      { ip_address: '10.20.0.201', mac_address: 'fa:16:3e:00:00:01' },
    ]);
    const unknownGroup = await server.request('POST', '/v2.0/ports', {
      port: { network_id: net, security_groups: ['00000000-0000-0000-0000-000000000001'] },
    });
    expect(neutronError(unknownGroup)).toMatchObject({
      type: 'SecurityGroupNotFound',
      message: 'Security group 00000000-0000-0000-0000-000000000001 does not exist',
    });
  });

  test('tags on create (tag-ports-during-bulk-creation) and bulk create', async () => {
    const response = await server.request('POST', '/v2.0/ports', {
      ports: [
        { network_id: net, name: 'b1', tags: ['red', 'blue'] },
        { network_id: net, name: 'b2' },
      ],
    });
    expect(response.status).toBe(201);
    expect(response.body.ports.map((p: any) => [p.name, p.tags])).toEqual([
      ['b1', ['blue', 'red']],
      ['b2', []],
    ]);
  });
});

describe('port update and delete', () => {
  test('update bumps the revision; fixed_ips, MAC and security groups change', async () => {
    const port = await create(server, 'ports', 'port', { network_id: net, name: 'u1' });
    const renamed = await server.request('PUT', `/v2.0/ports/${port.id}`, {
      port: { name: 'u1-renamed', admin_state_up: false, description: 'updated port' },
    });
    expect(renamed.body.port).toMatchObject({ name: 'u1-renamed', admin_state_up: false, description: 'updated port', revision_number: 2 });
    const moved = await server.request('PUT', `/v2.0/ports/${port.id}`, { port: { fixed_ips: [{ ip_address: '10.20.0.77' }] } });
    expect(moved.body.port.fixed_ips).toEqual([{ subnet_id: subnet, ip_address: '10.20.0.77' }]);
    // The old address is free again.
    const reuse = await create(server, 'ports', 'port', { network_id: net, fixed_ips: [{ ip_address: port.fixed_ips[0].ip_address }] });
    expect(reuse.fixed_ips[0].ip_address).toBe(port.fixed_ips[0].ip_address);
    const regenerated = await server.request('PUT', `/v2.0/ports/${port.id}`, { port: { mac_address: null } });
    expect(regenerated.body.port.mac_address).toMatch(/^fa:16:3e:/);
    expect(regenerated.body.port.mac_address).not.toBe(port.mac_address);
    const cleared = await server.request('PUT', `/v2.0/ports/${port.id}`, { port: { security_groups: [] } });
    expect(cleared.body.port.security_groups).toEqual([]);
    const unsecured = await server.request('PUT', `/v2.0/ports/${port.id}`, { port: { port_security_enabled: false } });
    expect(unsecured.body.port.port_security_enabled).toBe(false);
    const bound = await server.request('PUT', `/v2.0/ports/${port.id}`, { port: { 'binding:host_id': 'compute-1' } });
    expect(bound.body.port).toMatchObject({ 'binding:host_id': 'compute-1', 'binding:vif_type': 'binding_failed' });
  });

  test('disabling port security while groups remain is refused', async () => {
    const port = await create(server, 'ports', 'port', { network_id: net });
    const response = await server.request('PUT', `/v2.0/ports/${port.id}`, { port: { port_security_enabled: false } });
    expect(response.status).toBe(409);
    expect(neutronError(response).type).toBe('PortSecurityPortHasSecurityGroup');
  });

  test('delete releases the address', async () => {
    const port = await create(server, 'ports', 'port', { network_id: net, fixed_ips: [{ ip_address: '10.20.0.99' }] });
    expect((await server.request('DELETE', `/v2.0/ports/${port.id}`)).status).toBe(204);
    expect((await server.request('GET', `/v2.0/ports/${port.id}`)).status).toBe(404);
    const again = await create(server, 'ports', 'port', { network_id: net, fixed_ips: [{ ip_address: '10.20.0.99' }] });
    expect(again.fixed_ips[0].ip_address).toBe('10.20.0.99');
  });
});

describe('port lists', () => {
  let listNet: string;
  const ids: string[] = [];
  beforeAll(async () => {
    listNet = (await create(server, 'networks', 'network', {})).id;
    await create(server, 'subnets', 'subnet', { network_id: listNet, ip_version: 4, cidr: '10.60.0.0/24' });
    for (const [name, ip, owner] of [
      ['p1', '10.60.0.11', ''],
      ['p2', '10.60.0.12', 'compute:nova'],
      ['p3', '10.60.0.13', ''],
    ] as const) {
      ids.push(
        (await create(server, 'ports', 'port', { network_id: listNet, name, device_owner: owner, fixed_ips: [{ ip_address: ip }] })).id,
      );
    }
  });

  test('filters: exact, repeated (OR), fixed_ips, empty string, unknown → 400', async () => {
    const byNetwork = await server.request('GET', `/v2.0/ports?network_id=${listNet}&fields=name`);
    expect(byNetwork.body.ports.map((p: any) => p.name).sort()).toEqual(['p1', 'p2', 'p3']);
    const either = await server.request('GET', `/v2.0/ports?network_id=${listNet}&name=p1&name=p3&fields=name`);
    expect(either.body.ports.map((p: any) => p.name).sort()).toEqual(['p1', 'p3']);
    const byIp = await server.request('GET', '/v2.0/ports?fixed_ips=ip_address%3D10.60.0.12&fields=name');
    expect(byIp.body.ports).toEqual([{ name: 'p2' }]);
    const bySubstring = await server.request('GET', `/v2.0/ports?network_id=${listNet}&fixed_ips=ip_address_substr%3D0.1&fields=name`);
    expect(bySubstring.body.ports).toHaveLength(3);
    const emptyOwner = await server.request('GET', `/v2.0/ports?network_id=${listNet}&device_owner=&fields=name`);
    expect(emptyOwner.body.ports.map((p: any) => p.name).sort()).toEqual(['p1', 'p3']);
    const unknown = await server.request('GET', '/v2.0/ports?bogus_filter=1');
    expect(neutronError(unknown)).toEqual({
      type: 'HTTPBadRequest',
      message: "['bogus_filter'] is invalid attribute for filtering",
      detail: '',
    });
  });

  test('sorting and its errors', async () => {
    const sorted = await server.request('GET', `/v2.0/ports?network_id=${listNet}&sort_key=name&sort_dir=desc&fields=name`);
    expect(sorted.body.ports).toEqual([{ name: 'p3' }, { name: 'p2' }, { name: 'p1' }]);
    const cases: Array<[string, string]> = [
      ['sort_key=bogus', 'The number of sort_keys and sort_dirs must be same'],
      ['sort_key=bogus&sort_dir=asc', "['bogus'] is invalid attribute for sort_keys"],
      ['sort_key=name&sort_dir=up', "['up'] is invalid value for sort_dirs, valid value is 'asc' and 'desc'"],
    ];
    for (const [query, message] of cases) {
      const response = await server.request('GET', `/v2.0/ports?${query}`);
      expect(response.status).toBe(400);
      expect(neutronError(response)).toEqual({ type: 'HTTPBadRequest', message, detail: '' });
    }
    const badLimit = await server.request('GET', '/v2.0/ports?limit=abc');
    expect(neutronError(badLimit)).toEqual({
      type: 'BadRequest',
      message: "Bad limit request: Limit must be an integer 0 or greater and not 'abc'.",
      detail: '',
    });
  });

  test('pagination: links as Neutron builds them, pages in both directions', async () => {
    const base = `/v2.0/ports?network_id=${listNet}&limit=2&sort_key=name&sort_dir=asc&fields=id&fields=name`;
    const first = await server.request('GET', base, undefined, { host: '127.0.0.1:9696' });
    expect(first.body.ports.map((p: any) => p.name)).toEqual(['p1', 'p2']);
    expect(first.body.ports_links).toEqual([
      { rel: 'next', href: `http://127.0.0.1:9696${base}&marker=${ids[1]}` },
      { rel: 'previous', href: `http://127.0.0.1:9696${base}&marker=${ids[0]}&page_reverse=True` },
    ]);
    const last = await server.request('GET', `${base}&marker=${ids[1]}`);
    expect(last.body.ports.map((p: any) => p.name)).toEqual(['p3']);
    expect(last.body.ports_links.map((l: any) => l.rel)).toEqual(['previous']);
    const back = await server.request('GET', `${base}&marker=${ids[1]}&page_reverse=True`);
    expect(back.body.ports.map((p: any) => p.name)).toEqual(['p1']);
    expect(back.body.ports_links.map((l: any) => l.rel)).toEqual(['next']);
    const unpaged = await server.request('GET', `/v2.0/ports?network_id=${listNet}`);
    expect(unpaged.body.ports_links).toBeUndefined();
  });

  test('show with fields', async () => {
    const shown = await server.request('GET', `/v2.0/ports/${ids[0]}?fields=id&fields=fixed_ips`);
    expect(shown.body).toEqual({ port: { id: ids[0], fixed_ips: [expect.objectContaining({ ip_address: '10.60.0.11' })] } });
  });
});

describe('concurrency', () => {
  test('200 concurrent creates on one /24 get distinct addresses, or 409 once the pool is exhausted', async () => {
    const busy = (await create(server, 'networks', 'network', {})).id;
    await create(server, 'subnets', 'subnet', {
      network_id: busy,
      ip_version: 4,
      cidr: '10.70.0.0/24',
      allocation_pools: [{ start: '10.70.0.10', end: '10.70.0.159' }],
    });
    const responses = await Promise.all(
      Array.from({ length: 200 }, () => server.request('POST', '/v2.0/ports', { port: { network_id: busy } })),
    );
    const created = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status !== 201);
    expect(created).toHaveLength(150);
    expect(refused.every((r) => r.status === 409 && neutronError(r).type === 'IpAddressGenerationFailure')).toBe(true);
    const addresses = created.map((r) => r.body.port.fixed_ips[0].ip_address);
    expect(new Set(addresses).size).toBe(150);
    const macs = created.map((r) => r.body.port.mac_address);
    expect(new Set(macs).size).toBe(150);
  });
});
