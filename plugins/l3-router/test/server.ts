import { startTestServer, type TestConfig, type TestServer } from '@nucleon/core/testing';
import ml2 from '@nucleon/ml2';
import type { PluginDefinition } from '@nucleon/core';
import l3Router from '../src/index.js';

/** ML2 with a flat `public` physical network and VXLAN tenant networks, plus an L3 plugin. */
export function startL3(options: { l3?: PluginDefinition; config?: TestConfig } = {}): Promise<TestServer> {
  return startTestServer({
    core: ml2,
    services: [options.l3 ?? l3Router],
    config: {
      ml2: { type_drivers: 'local,flat,vlan,vxlan', tenant_network_types: 'vxlan' },
      ml2_type_flat: { flat_networks: 'public' },
      ml2_type_vxlan: { vni_ranges: '1001:2000' },
      ...options.config,
    },
  });
}

/** Creates a resource and returns its body, failing loudly on anything but 201. */
export async function create<T = Record<string, any>>(server: TestServer, collection: string, resource: string, body: object, headers?: Record<string, string>): Promise<T> {
  const response = await server.request('POST', `/v2.0/${collection}`, { [resource]: body }, headers);
  if (response.status !== 201) throw new Error(`POST ${collection} answered ${response.status}: ${response.text}`);
  return response.body[resource] as T;
}

/** The NeutronError of a response. */
export function neutronError(response: { body: any }): { type: string; message: string; detail: string } {
  return response.body.NeutronError;
}

/** An external network (flat on `public`) with a /24 subnet, and an internal network with a subnet. */
export async function topology(server: TestServer, prefix = '203.0.113') {
  const external = await create(server, 'networks', 'network', {
    name: 'public',
    'router:external': true,
    'provider:network_type': 'flat',
    'provider:physical_network': 'public',
  });
  const externalSubnet = await create(server, 'subnets', 'subnet', {
    network_id: external.id,
    ip_version: 4,
    cidr: `${prefix}.0/24`,
    enable_dhcp: false,
    gateway_ip: `${prefix}.1`,
    allocation_pools: [{ start: `${prefix}.10`, end: `${prefix}.250` }],
  });
  const internal = await create(server, 'networks', 'network', { name: 'private' });
  const internalSubnet = await create(server, 'subnets', 'subnet', { network_id: internal.id, ip_version: 4, cidr: '10.20.0.0/24' });
  return { external, externalSubnet, internal, internalSubnet };
}
