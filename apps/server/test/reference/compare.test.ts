/** The comparison helper finds what it must find, so a passing replay means something. */
import { describe, expect, test } from 'vitest';
import { BodyComparer, Substitutions, type Json } from './compare.js';

const options = { unorderedLists: false, requestedIps: new Set<string>() };
const CAPTURE_ID = '876b23c8-d69c-407f-a6b1-184c291d6828';
const OUR_ID = '11111111-2222-4333-8444-555555555555';

function network(overrides: Record<string, Json> = {}): Record<string, Json> {
  return {
    id: CAPTURE_ID,
    name: 'n',
    mtu: 1450,
    revision_number: 1,
    'provider:network_type': 'vxlan',
    'provider:segmentation_id': 1254,
    created_at: '2026-11-27T13:28:13Z',
    ...overrides,
  };
}

describe('BodyComparer', () => {
  test('learns ids, accepts random segmentation ids and timestamps, skips what is documented as not served', () => {
    const comparer = new BodyComparer(new Substitutions());
    const expected = { network: network({ dns_domain: '', qos_policy_id: null }) };
    const actual = { network: network({ id: OUR_ID, 'provider:segmentation_id': 1999, created_at: '2030-01-01T00:00:00Z' }) };
    expect(comparer.compare(expected, actual, options)).toEqual([]);
    expect(comparer.subs.get(CAPTURE_ID)).toBe(OUR_ID);
    expect(comparer.subs.text(`Network ${CAPTURE_ID} could not be found.`)).toBe(`Network ${OUR_ID} could not be found.`);
  });

  test('reports computed values, types, missing and extra keys', () => {
    const comparer = new BodyComparer(new Substitutions());
    const expected = { network: network() };
    const actual = { network: { ...network({ mtu: 1500, revision_number: '1', bogus: true }), name: undefined } as unknown as Json };
    delete (actual.network as Record<string, Json>).name;
    expect(comparer.compare(expected, actual, options)).toEqual([
      '.network.name: missing',
      '.network.bogus: not in the reference',
      '.network.mtu: 1500 differs from the reference 1450',
      '.network.revision_number: string "1", reference has number 1',
    ]);
  });

  test('reports an attribute documented as not served that is served after all', () => {
    const comparer = new BodyComparer(new Substitutions());
    expect(comparer.compare({ subnet: { segment_id: null } }, { subnet: { segment_id: null } }, options)).toEqual([
      '.subnet.segment_id: served, though documented as not served (routed networks (segments) are not served: a network is one segment)',
    ]);
  });

  test('an id stands for one id only', () => {
    const comparer = new BodyComparer(new Substitutions());
    comparer.compare({ network: network() }, { network: network({ id: OUR_ID }) }, options);
    const other = '99999999-2222-4333-8444-555555555555';
    expect(comparer.compare({ port: { network_id: CAPTURE_ID } }, { port: { network_id: other } }, options)).toEqual([
      `.port.network_id: "${other}" differs from the reference "${OUR_ID}"`,
    ]);
  });

  test('top-level lists compare in order unless unordered; random addresses must lie in their pools', () => {
    const subnetId = 'a09ea13f-865a-48f1-bc61-67cc14587bf4';
    const withSubnet = () => {
      const comparer = new BodyComparer(new Substitutions());
      const subnet = { id: subnetId, allocation_pools: [{ start: '10.20.0.2', end: '10.20.0.254' }] };
      comparer.compare({ subnet }, { subnet }, options);
      return comparer;
    };
    const port = (name: string, ip: string): Json => ({ name, fixed_ips: [{ subnet_id: subnetId, ip_address: ip }] });
    const expected = { ports: [port('p1', '10.20.0.58'), port('p2', '10.20.0.50')] };
    const requestedIps = new Set(['10.20.0.50']);
    expect(
      withSubnet().compare(expected, { ports: [port('p1', '10.20.0.7'), port('p2', '10.20.0.50')] }, { ...options, requestedIps }),
    ).toEqual([]);
    expect(
      withSubnet().compare(expected, { ports: [port('p2', '10.20.0.50'), port('p1', '10.20.0.7')] }, { ...options, requestedIps }),
    ).toContain('.ports[0].name: "p2" differs from the reference "p1"');
    expect(
      withSubnet().compare(
        expected,
        { ports: [port('p2', '10.20.0.50'), port('p1', '10.30.0.9')] },
        { unorderedLists: true, requestedIps },
      ),
    ).toEqual([`.ports[0].fixed_ips[0].ip_address: "10.30.0.9" is not in the pools of subnet ${subnetId}`]);
  });

  test("a subnet's gateway address is compared as it is; learned ids pair up unordered items", () => {
    const subnets = ['a09ea13f-865a-48f1-bc61-67cc14587bf4', '98ed3582-c491-4113-82e3-f8d2a806652e'];
    const comparer = new BodyComparer(new Substitutions());
    for (const [id, prefix] of [
      [subnets[0]!, '10.20.0'],
      [subnets[1]!, '10.21.0'],
    ] as const) {
      const subnet = { id, gateway_ip: `${prefix}.1`, allocation_pools: [{ start: `${prefix}.2`, end: `${prefix}.254` }] };
      comparer.compare({ subnet }, { subnet }, options);
    }
    const routerPort = (subnet: string, ip: string): Json => ({
      device_owner: 'network:router_interface',
      fixed_ips: [{ subnet_id: subnet, ip_address: ip }],
    });
    const expected = { ports: [routerPort(subnets[1]!, '10.21.0.1'), routerPort(subnets[0]!, '10.20.0.1')] };
    const unordered = { unorderedLists: true, requestedIps: new Set<string>() };
    expect(
      comparer.compare(expected, { ports: [routerPort(subnets[0]!, '10.20.0.1'), routerPort(subnets[1]!, '10.21.0.1')] }, unordered),
    ).toEqual([]);
    // Differences name items in the order both sides share (here by subnet id).
    expect(
      comparer.compare(expected, { ports: [routerPort(subnets[0]!, '10.20.0.1'), routerPort(subnets[1]!, '10.21.0.9')] }, unordered),
    ).toEqual(['.ports[0].fixed_ips[0].ip_address: "10.21.0.9" differs from the reference "10.21.0.1"']);
  });

  test('random floating IPs lie in the pools of their network, are learned, and replaced in messages', () => {
    const networkId = 'eb77b6ae-1bfd-4774-8113-aa4040eac263';
    const subnet = {
      id: '9bb6c75f-cead-408c-b9b9-88a6f392de0b',
      network_id: networkId,
      allocation_pools: [{ start: '203.0.113.10', end: '203.0.113.250' }],
    };
    const comparer = new BodyComparer(new Substitutions());
    comparer.compare({ subnet }, { subnet }, options);
    const fip = (address: string): Json => ({ floatingip: { floating_ip_address: address, floating_network_id: networkId } });
    expect(comparer.compare(fip('203.0.113.184'), fip('203.0.113.196'), options)).toEqual([]);
    expect(comparer.subs.text('Cannot associate floating IP 203.0.113.184 (x) using fixed IP 10.20.0.50')).toBe(
      'Cannot associate floating IP 203.0.113.196 (x) using fixed IP 10.20.0.50',
    );
    expect(comparer.compare(fip('203.0.113.185'), fip('203.0.113.5'), options)).toEqual([
      `.floatingip.floating_ip_address: "203.0.113.5" is not in the pools of network ${networkId}`,
    ]);
  });

  test('a value documented as answered differently is accepted only as documented', () => {
    const comparer = new BodyComparer(new Substitutions());
    expect(comparer.compare({ router: { revision_number: 3 } }, { router: { revision_number: 2 } }, options)).toEqual([]);
    expect(comparer.compare({ router: { revision_number: 3 } }, { router: { revision_number: 4 } }, options)).toEqual([
      '.router.revision_number: 4 differs from the reference 3',
    ]);
    expect(comparer.compare({ network: { revision_number: 3 } }, { network: { revision_number: 2 } }, options)).toEqual([
      '.network.revision_number: 2 differs from the reference 3',
    ]);
  });
});
