import { startTestServer, type TestConfig, type TestResponse, type TestServer } from '@nucleon/core/testing';
import ml2 from '@nucleon/ml2';
import type { PluginDefinition } from '@nucleon/core';
import l3Router from '../src/index.js';

/** ML2's settings for these tests: a flat `public` physical network and VXLAN tenant networks. */
const ML2_CONFIG: TestConfig = {
  ml2: { type_drivers: 'local,flat,vlan,vxlan', tenant_network_types: 'vxlan' },
  ml2_type_flat: { flat_networks: 'public' },
  ml2_type_vxlan: { vni_ranges: '1001:2000' },
};

/**
 * ML2 plus an L3 plugin (the stock one unless `l3` says otherwise) and any other service
 * plugins; `config` sections are merged over the ML2 settings key by key.
 */
export function startL3(
  options: { l3?: PluginDefinition; services?: readonly PluginDefinition[]; config?: TestConfig } = {},
): Promise<TestServer> {
  const config: Record<string, Record<string, string | number | boolean | readonly string[]>> = {};
  for (const source of [ML2_CONFIG, options.config ?? {}]) {
    for (const [section, values] of Object.entries(source)) config[section] = { ...config[section], ...values };
  }
  return startTestServer({ core: ml2, services: [options.l3 ?? l3Router, ...(options.services ?? [])], config });
}

/** Creates a resource and returns its body, failing loudly on anything but 201. */
export async function create<T = Record<string, any>>(
  server: TestServer,
  collection: string,
  resource: string,
  body: object,
  headers?: Record<string, string>,
): Promise<T> {
  const response = await server.request('POST', `/v2.0/${collection}`, { [resource]: body }, headers);
  if (response.status !== 201) throw new Error(`POST ${collection} answered ${response.status}: ${response.text}`);
  return response.body[resource] as T;
}

/** Sends a request and returns its body, failing loudly unless the status is the expected one. */
export async function ok<T = Record<string, any>>(
  server: TestServer,
  method: string,
  url: string,
  body?: unknown,
  status = 200,
): Promise<T> {
  const response = await server.request(method, url, body);
  if (response.status !== status) throw new Error(`${method} ${url} answered ${response.status}: ${response.text}`);
  return response.body as T;
}

/** The NeutronError of a response. */
export function neutronError(response: { body: any }): { type: string; message: string; detail: string } {
  return response.body.NeutronError;
}

/** Asserts-friendly view of an error response: its status and its NeutronError. */
export function failure(response: TestResponse): { status: number; type: string; message: string } {
  const error = neutronError(response);
  return { status: response.status, type: error?.type, message: error?.message };
}

/** An external network (VXLAN, so a server may have many) with one IPv4 subnet. */
export async function externalNetwork(
  server: TestServer,
  prefix: string,
  options: { pool?: [string, string]; cidr?: string; gateway?: string | null; name?: string } = {},
) {
  const network = await create(server, 'networks', 'network', { name: options.name ?? `ext-${prefix}`, 'router:external': true });
  const subnet = await create(server, 'subnets', 'subnet', {
    network_id: network.id,
    ip_version: 4,
    cidr: options.cidr ?? `${prefix}.0/24`,
    enable_dhcp: false,
    gateway_ip: options.gateway === undefined ? `${prefix}.1` : options.gateway,
    allocation_pools: [{ start: options.pool?.[0] ?? `${prefix}.10`, end: options.pool?.[1] ?? `${prefix}.250` }],
  });
  return { network, subnet };
}

/**
 * A project network with one IPv4 subnet (gateway at .1 unless `gateway` says otherwise; the
 * whole subnet as the pool unless `pool` narrows it, leaving addresses for explicit requests).
 */
export async function privateNetwork(
  server: TestServer,
  cidr: string,
  options: { gateway?: string | null; pool?: [string, string]; headers?: Record<string, string> } = {},
) {
  const network = await create(server, 'networks', 'network', { name: `net-${cidr}` }, options.headers);
  const subnet = await create(
    server,
    'subnets',
    'subnet',
    {
      network_id: network.id,
      ip_version: 4,
      cidr,
      ...(options.gateway !== undefined ? { gateway_ip: options.gateway } : {}),
      ...(options.pool ? { allocation_pools: [{ start: options.pool[0], end: options.pool[1] }] } : {}),
    },
    options.headers,
  );
  return { network, subnet };
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

/**
 * A router with a gateway on `externalId` and an interface on `subnetId`: what a floating IP on
 * that external network needs to reach ports of that subnet.
 */
export async function connectedRouter(server: TestServer, externalId: string, subnetId: string, headers?: Record<string, string>) {
  const router = await create(server, 'routers', 'router', { name: 'edge', external_gateway_info: { network_id: externalId } }, headers);
  await ok(server, 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnetId });
  return router;
}

/** The ports a device (router, floating IP) owns, as an admin sees them. */
export async function portsOf(server: TestServer, deviceId: string): Promise<Array<Record<string, any>>> {
  return (await ok(server, 'GET', `/v2.0/ports?device_id=${deviceId}`)).ports;
}

/** Whether an address on a network is held by some port. */
export async function addressTaken(server: TestServer, networkId: string, ip: string): Promise<boolean> {
  const { ports } = await ok(server, 'GET', `/v2.0/ports?network_id=${networkId}&fixed_ips=ip_address%3D${ip}`);
  return ports.length > 0;
}
