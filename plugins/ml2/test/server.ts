import { startTestServer, type TestConfig, type TestServer } from '@nucleon/core/testing';
import ml2 from '../src/index.js';

/** ML2 configured like the reference neutron-server: VXLAN tenant networks, a flat `public`. */
export const ML2_TEST_CONFIG: TestConfig = {
  ml2: { type_drivers: 'local,flat,vlan,vxlan', tenant_network_types: 'vxlan' },
  ml2_type_flat: { flat_networks: 'public' },
  ml2_type_vlan: { network_vlan_ranges: 'physnet1:100:102' },
  ml2_type_vxlan: { vni_ranges: '1001:2000' },
};

/** A fresh ML2 server; `config` sections are merged over {@link ML2_TEST_CONFIG}. */
export function startMl2(config: TestConfig = {}): Promise<TestServer> {
  const merged: Record<string, Record<string, string | number | boolean | readonly string[]>> = {};
  for (const source of [ML2_TEST_CONFIG, config]) {
    for (const [section, values] of Object.entries(source)) merged[section] = { ...merged[section], ...values };
  }
  return startTestServer({ core: ml2, config: merged });
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

/** The NeutronError of a response. */
export function neutronError(response: { body: any }): { type: string; message: string; detail: string } {
  return response.body.NeutronError;
}
