/**
 * Keystone auth and Neutron's default policy (Zed defaults, legacy rules in force), against a
 * REAL Keystone: owner (alice, project nucleon-a), other project (bob, nucleon-b) and admin, for
 * every resource and verb. Skipped when no Keystone is configured (NUCLEON_TEST_KEYSTONE_URL).
 *
 * The world: the admin owns an external network `ext` (flat on `public`) with subnet `extSubnet`,
 * and creates a shared network `shared` FOR project a (so alice owns it); alice owns a private
 * network `netA` with `subA` and `portA`, a subnet `sharedSubnet` on `shared`, a security group
 * `sgA` with rule `ruleA`, a router `routerA` (gateway on `ext`, interface on `subA`) and a
 * floating IP `fipA` from `ext`; bob owns `netB` with `subB`, and a port `bobOnShared` on `shared`.
 * The metering plugin is loaded too: its labels, rules and usage ledger are the admin's alone.
 */
import { keystoneFixture, startTestServer, type KeystoneFixture, type TestResponse, type TestServer } from '@nucleon/core/testing';
import l3Router from '@nucleon/l3-router';
import metering from '@nucleon/metering';
import ml2 from '@nucleon/ml2';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const fixture: KeystoneFixture | undefined = await keystoneFixture();

type Who = 'alice' | 'bob' | 'admin';
type Row = Record<string, any>;

const UNAUTHORIZED = { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } };
const PROJECT_ID_MESSAGE =
  "Specifying 'project_id' or 'tenant_id' other than the authenticated project in request requires admin privileges";

let server: TestServer;
let ks: KeystoneFixture;
let n = 0;
/** A name unique within this run. */
const unique = (prefix: string) => `${prefix}-${++n}`;

/** Sends a request with `who`'s token (or none, for `who` undefined). */
async function as(
  who: Who | undefined,
  method: string,
  url: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  const auth: Record<string, string> = who ? { 'x-auth-token': await ks.token(who) } : {};
  return server.request(method, url, body, { ...auth, ...headers });
}

/** Creates a resource as `who`, failing loudly unless 201. */
async function make(who: Who, collection: string, resource: string, body: Row): Promise<Row> {
  const response = await as(who, 'POST', `/v2.0/${collection}`, { [resource]: body });
  if (response.status !== 201) throw new Error(`${who} POST ${collection} answered ${response.status}: ${response.text}`);
  return response.body[resource];
}

/** Asserts a Neutron error: the status, the NeutronError type, a message, and an empty detail. */
function expectNeutronError(response: TestResponse, status: number, type: string, message?: string | RegExp): void {
  expect({ status: response.status, type: response.body?.NeutronError?.type }, response.text).toEqual({ status, type });
  expect(response.body).toEqual({ NeutronError: { type, message: expect.any(String), detail: '' } });
  if (message !== undefined) expect(response.body.NeutronError.message).toMatch(message);
}

/** Neutron's PolicyNotAuthorized message is oslo.policy's "<rule> is disallowed by policy". */
const DISALLOWED = /is disallowed by policy/;

const ids = (list: Row[]) => list.map((item) => item.id as string);

interface World {
  ext: Row;
  extSubnet: Row;
  shared: Row;
  sharedSubnet: Row;
  netA: Row;
  subA: Row;
  portA: Row;
  aliceOnShared: Row;
  netB: Row;
  subB: Row;
  bobOnShared: Row;
  sgA: Row;
  ruleA: Row;
  routerA: Row;
  fipA: Row;
}
let w: World;

describe.skipIf(!fixture)('Keystone auth and Neutron policy', () => {
  beforeAll(async () => {
    ks = fixture!;
    server = await startTestServer({
      core: ml2,
      services: [l3Router, metering],
      config: {
        ...ks.authConfig(),
        ml2: { type_drivers: 'local,flat,vlan,vxlan', tenant_network_types: 'vxlan' },
        ml2_type_flat: { flat_networks: 'public' },
        ml2_type_vxlan: { vni_ranges: '1001:2000' },
      },
    });
    const a = ks.projects.a.id;
    const ext = await make('admin', 'networks', 'network', {
      name: 'ext',
      'router:external': true,
      'provider:network_type': 'flat',
      'provider:physical_network': 'public',
    });
    const extSubnet = await make('admin', 'subnets', 'subnet', {
      network_id: ext.id,
      ip_version: 4,
      cidr: '203.0.113.0/24',
      enable_dhcp: false,
      gateway_ip: '203.0.113.1',
      // Addresses the tests ask for by value lie outside the pool, so no random allocation takes them first.
      allocation_pools: [{ start: '203.0.113.10', end: '203.0.113.200' }],
    });
    const shared = await make('admin', 'networks', 'network', { name: 'shared', shared: true, project_id: a });
    // Addresses the tests ask for by value lie outside the pool, so no random allocation takes them first.
    const sharedSubnet = await make('alice', 'subnets', 'subnet', {
      network_id: shared.id,
      ip_version: 4,
      cidr: '10.9.0.0/24',
      allocation_pools: [{ start: '10.9.0.2', end: '10.9.0.99' }],
    });
    const netA = await make('alice', 'networks', 'network', { name: 'netA' });
    const subA = await make('alice', 'subnets', 'subnet', { network_id: netA.id, ip_version: 4, cidr: '10.1.0.0/24' });
    const portA = await make('alice', 'ports', 'port', { network_id: netA.id, name: 'portA' });
    const aliceOnShared = await make('alice', 'ports', 'port', { network_id: shared.id, name: 'aliceOnShared' });
    const netB = await make('bob', 'networks', 'network', { name: 'netB' });
    const subB = await make('bob', 'subnets', 'subnet', { network_id: netB.id, ip_version: 4, cidr: '10.2.0.0/24' });
    const bobOnShared = await make('bob', 'ports', 'port', { network_id: shared.id, name: 'bobOnShared' });
    const sgA = await make('alice', 'security-groups', 'security_group', { name: 'sgA' });
    const ruleA = await make('alice', 'security-group-rules', 'security_group_rule', {
      security_group_id: sgA.id,
      direction: 'ingress',
      ethertype: 'IPv4',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
    });
    const routerA = await make('alice', 'routers', 'router', { name: 'routerA', external_gateway_info: { network_id: ext.id } });
    const iface = await as('alice', 'PUT', `/v2.0/routers/${routerA.id}/add_router_interface`, { subnet_id: subA.id });
    if (iface.status !== 200) throw new Error(`add_router_interface answered ${iface.status}: ${iface.text}`);
    const fipA = await make('alice', 'floatingips', 'floatingip', { floating_network_id: ext.id });
    w = { ext, extSubnet, shared, sharedSubnet, netA, subA, portA, aliceOnShared, netB, subB, bobOnShared, sgA, ruleA, routerA, fipA };
  });
  afterAll(() => server?.close());

  describe('authentication (keystonemiddleware)', () => {
    const wwwAuthenticate = () => `Keystone uri="${ks.authConfig().keystone_authtoken!.www_authenticate_uri}"`;
    const requests: Array<[string, string, (w: World) => string, ((w: World) => unknown)?]> = [
      ['GET', '/v2.0/networks', () => '/v2.0/networks'],
      ['POST', '/v2.0/networks', () => '/v2.0/networks', () => ({ network: { name: 'sneaky' } })],
      ['GET', '/v2.0/networks/<netA>', (w) => `/v2.0/networks/${w.netA.id}`],
      ['PUT', '/v2.0/networks/<netA>', (w) => `/v2.0/networks/${w.netA.id}`, () => ({ network: { name: 'sneaky' } })],
      ['DELETE', '/v2.0/networks/<netA>', (w) => `/v2.0/networks/${w.netA.id}`],
      ['GET', '/v2.0/extensions', () => '/v2.0/extensions'],
      ['GET', '/v2.0/', () => '/v2.0/'],
    ];
    for (const [credential, headers] of [
      ['no token', {}],
      ['a garbage token', { 'x-auth-token': 'not-a-token' }],
      ['a well-formed but unknown Fernet token', { 'x-auth-token': `gAAAAAB${'x'.repeat(180)}` }],
      ['no token but identity headers', { 'x-project-id': 'p', 'x-roles': 'admin', 'x-identity-status': 'Confirmed', 'x-user-id': 'u' }],
    ] as const) {
      for (const [method, label, path, body] of requests) {
        test(`${credential}: ${method} ${label} → 401 with Keystone's body and WWW-Authenticate`, async () => {
          const response = await server.request(method, path(w), body?.(w), headers);
          expect(response.status, response.text).toBe(401);
          expect(response.body).toEqual(UNAUTHORIZED);
          expect(response.headers['www-authenticate']).toBe(wwwAuthenticate());
        });
      }
    }

    test('nothing changed after the unauthenticated writes (checked by the admin)', async () => {
      const network = await as('admin', 'GET', `/v2.0/networks/${w.netA.id}`);
      expect(network.status).toBe(200);
      expect(network.body.network.name).toBe('netA');
      const sneaky = await as('admin', 'GET', '/v2.0/networks?name=sneaky');
      expect(sneaky.status).toBe(200);
      expect(sneaky.body.networks).toEqual([]);
    });

    test('GET / (versions) needs no token', async () => {
      const response = await server.request('GET', '/');
      expect(response.status).toBe(200);
      expect(response.body.versions).toEqual(expect.arrayContaining([expect.objectContaining({ id: 'v2.0' })]));
    });

    test('a valid token is accepted and acts in its own project', async () => {
      const response = await as('alice', 'GET', '/v2.0/networks');
      expect(response.status).toBe(200);
      expect(ids(response.body.networks)).toContain(w.netA.id);
    });

    test('client-sent X-Project-Id / X-Roles / X-Tenant-Id with a member token change nothing', async () => {
      const spoof = {
        'x-project-id': ks.projects.b.id,
        'x-tenant-id': ks.projects.b.id,
        'x-project-name': ks.projects.b.name,
        'x-roles': 'admin,member',
        'x-user-id': ks.users.bob.id,
        'x-identity-status': 'Confirmed',
        'x-is-admin-project': 'True',
      };
      const other = await as('alice', 'GET', `/v2.0/networks/${w.netB.id}`, undefined, spoof);
      expectNeutronError(other, 404, 'NetworkNotFound', w.netB.id);
      const listed = await as('alice', 'GET', '/v2.0/networks', undefined, spoof);
      expect(ids(listed.body.networks)).toContain(w.netA.id);
      expect(ids(listed.body.networks)).not.toContain(w.netB.id);
      for (const network of listed.body.networks) expect(network).not.toHaveProperty('provider:network_type');
      const created = await as('alice', 'POST', '/v2.0/networks', { network: { name: unique('spoofed') } }, spoof);
      expect(created.status).toBe(201);
      expect(created.body.network.project_id).toBe(ks.projects.a.id);
      const shared = await as('alice', 'POST', '/v2.0/networks', { network: { name: unique('spoofed'), shared: true } }, spoof);
      expectNeutronError(shared, 403, 'PolicyNotAuthorized', DISALLOWED);
    });
  });

  /**
   * Reads, updates and deletes of existing resources by someone other than the owner.
   * `404 <Type>NotFound` where the caller cannot see the resource, `403 PolicyNotAuthorized`
   * where it can (shared / external networks and their visible subnets).
   */
  interface AccessRow {
    readonly who: Who;
    readonly method: 'GET' | 'PUT' | 'DELETE' | 'POST';
    readonly what: string;
    readonly path: (w: World) => string;
    readonly body?: (w: World) => unknown;
    readonly status: number;
    readonly type?: string;
    /** What the error message must contain (the id, for NotFound). */
    readonly message?: (w: World) => string | RegExp;
  }
  const notFound = (
    who: Who,
    method: AccessRow['method'],
    what: string,
    key: keyof World,
    collection: string,
    resource: string,
    type: string,
    body?: Row,
  ): AccessRow => ({
    who,
    method,
    what,
    path: (w) => `/v2.0/${collection}/${w[key].id}`,
    ...(body ? { body: () => ({ [resource]: body }) } : {}),
    status: 404,
    type,
    message: (w) => w[key].id,
  });
  const forbidden = (
    who: Who,
    method: AccessRow['method'],
    what: string,
    path: (w: World) => string,
    body?: (w: World) => unknown,
  ): AccessRow => ({
    who,
    method,
    what,
    path,
    ...(body ? { body } : {}),
    status: 403,
    type: 'PolicyNotAuthorized',
    message: () => DISALLOWED,
  });
  const accessRows: AccessRow[] = [
    // Another project's private resources: 404 with the resource's NotFound type.
    ...(['GET', 'PUT', 'DELETE'] as const).flatMap((method): AccessRow[] => {
      const body = method === 'PUT' ? { name: 'stolen' } : undefined;
      return [
        notFound('bob', method, "alice's private network", 'netA', 'networks', 'network', 'NetworkNotFound', body),
        notFound('bob', method, "alice's subnet", 'subA', 'subnets', 'subnet', 'SubnetNotFound', body),
        notFound('bob', method, "alice's port", 'portA', 'ports', 'port', 'PortNotFound', body),
        notFound('bob', method, "alice's port on the shared network", 'aliceOnShared', 'ports', 'port', 'PortNotFound', body),
        notFound('bob', method, "alice's security group", 'sgA', 'security-groups', 'security_group', 'SecurityGroupNotFound', body),
        notFound('bob', method, "alice's router", 'routerA', 'routers', 'router', 'RouterNotFound', body),
        notFound(
          'bob',
          method,
          "alice's floating IP",
          'fipA',
          'floatingips',
          'floatingip',
          'FloatingIPNotFound',
          method === 'PUT' ? { description: 'stolen' } : undefined,
        ),
        notFound('alice', method, "bob's private network", 'netB', 'networks', 'network', 'NetworkNotFound', body),
        notFound('alice', method, "bob's subnet", 'subB', 'subnets', 'subnet', 'SubnetNotFound', body),
        // Subnets of a non-shared external network are not visible to other projects.
        notFound(
          'bob',
          method,
          "the admin's subnet of the (non-shared) external network",
          'extSubnet',
          'subnets',
          'subnet',
          'SubnetNotFound',
          body,
        ),
      ];
    }),
    notFound(
      'bob',
      'GET',
      "alice's security group rule",
      'ruleA',
      'security-group-rules',
      'security_group_rule',
      'SecurityGroupRuleNotFound',
    ),
    notFound(
      'bob',
      'DELETE',
      "alice's security group rule",
      'ruleA',
      'security-group-rules',
      'security_group_rule',
      'SecurityGroupRuleNotFound',
    ),
    {
      who: 'bob',
      method: 'PUT',
      what: "add_router_interface on alice's router",
      path: (w) => `/v2.0/routers/${w.routerA.id}/add_router_interface`,
      body: (w) => ({ subnet_id: w.subB.id }),
      status: 404,
      type: 'RouterNotFound',
      message: (w) => w.routerA.id,
    },
    {
      who: 'bob',
      method: 'PUT',
      what: "remove_router_interface on alice's router",
      path: (w) => `/v2.0/routers/${w.routerA.id}/remove_router_interface`,
      body: (w) => ({ subnet_id: w.subA.id }),
      status: 404,
      type: 'RouterNotFound',
      message: (w) => w.routerA.id,
    },
    // Create on someone else's private network: the network is not found.
    {
      who: 'bob',
      method: 'POST',
      what: "a subnet on alice's private network",
      path: () => '/v2.0/subnets',
      body: (w) => ({ subnet: { network_id: w.netA.id, ip_version: 4, cidr: '10.77.0.0/24' } }),
      status: 404,
      type: 'NetworkNotFound',
      message: (w) => w.netA.id,
    },
    {
      who: 'bob',
      method: 'POST',
      what: "a port on alice's private network",
      path: () => '/v2.0/ports',
      body: (w) => ({ port: { network_id: w.netA.id } }),
      status: 404,
      type: 'NetworkNotFound',
      message: (w) => w.netA.id,
    },
    // A port or subnet on a visible network that is neither owned nor shared (the admin's external
    // one): Neutron's OwnershipValidationHook answers 403 HTTPForbidden before policy runs.
    {
      who: 'bob',
      method: 'POST',
      what: "a port on the admin's (non-shared) external network",
      path: () => '/v2.0/ports',
      body: (w) => ({ port: { network_id: w.ext.id } }),
      status: 403,
      type: 'HTTPForbidden',
      message: () => `Tenant ${ks.projects.b.id} not allowed to create port on this network`,
    },
    {
      who: 'bob',
      method: 'POST',
      what: "a subnet on the admin's (non-shared) external network",
      path: () => '/v2.0/subnets',
      body: (w) => ({ subnet: { network_id: w.ext.id, ip_version: 4, cidr: '198.18.0.0/24' } }),
      status: 403,
      type: 'HTTPForbidden',
      message: () => `Tenant ${ks.projects.b.id} not allowed to create subnet on this network`,
    },
    {
      who: 'bob',
      method: 'POST',
      what: "a rule in alice's security group",
      path: () => '/v2.0/security-group-rules',
      body: (w) => ({ security_group_rule: { security_group_id: w.sgA.id, direction: 'ingress', ethertype: 'IPv4' } }),
      status: 404,
      type: 'SecurityGroupNotFound',
      message: (w) => w.sgA.id,
    },
    {
      who: 'alice',
      method: 'PUT',
      what: "add_router_interface with bob's subnet on alice's own router",
      path: (w) => `/v2.0/routers/${w.routerA.id}/add_router_interface`,
      body: (w) => ({ subnet_id: w.subB.id }),
      status: 404,
      type: 'SubnetNotFound',
      message: (w) => w.subB.id,
    },
    // Visible but not owned: 403 PolicyNotAuthorized (update_network / delete_network are admin_or_owner).
    forbidden(
      'bob',
      'PUT',
      "alice's shared network",
      (w) => `/v2.0/networks/${w.shared.id}`,
      () => ({ network: { name: 'stolen' } }),
    ),
    forbidden('bob', 'DELETE', "alice's shared network", (w) => `/v2.0/networks/${w.shared.id}`),
    forbidden(
      'bob',
      'PUT',
      "the admin's external network",
      (w) => `/v2.0/networks/${w.ext.id}`,
      () => ({ network: { name: 'stolen' } }),
    ),
    forbidden('bob', 'DELETE', "the admin's external network", (w) => `/v2.0/networks/${w.ext.id}`),
    forbidden(
      'alice',
      'PUT',
      "the admin's external network",
      (w) => `/v2.0/networks/${w.ext.id}`,
      () => ({ network: { name: 'stolen' } }),
    ),
    forbidden('alice', 'DELETE', "the admin's external network", (w) => `/v2.0/networks/${w.ext.id}`),
    // update_subnet / delete_subnet / create_subnet are admin_or_network_owner; the subnet is visible (rule:shared).
    forbidden(
      'bob',
      'PUT',
      "alice's subnet of the shared network",
      (w) => `/v2.0/subnets/${w.sharedSubnet.id}`,
      () => ({ subnet: { name: 'stolen' } }),
    ),
    forbidden('bob', 'DELETE', "alice's subnet of the shared network", (w) => `/v2.0/subnets/${w.sharedSubnet.id}`),
    forbidden(
      'bob',
      'POST',
      "a subnet on alice's shared network",
      () => '/v2.0/subnets',
      (w) => ({
        subnet: { network_id: w.shared.id, ip_version: 4, cidr: '10.78.0.0/24' },
      }),
    ),
    // A port on someone else's shared network: fixed addresses and MACs are admin_or_network_owner.
    forbidden(
      'bob',
      'POST',
      "a port with a fixed ip_address on alice's shared network",
      () => '/v2.0/ports',
      (w) => ({
        port: { network_id: w.shared.id, fixed_ips: [{ subnet_id: w.sharedSubnet.id, ip_address: '10.9.0.177' }] },
      }),
    ),
    forbidden(
      'bob',
      'POST',
      "a port with a mac_address on alice's shared network",
      () => '/v2.0/ports',
      (w) => ({
        port: { network_id: w.shared.id, mac_address: 'fa:16:3e:00:11:22' },
      }),
    ),
    forbidden(
      'bob',
      'POST',
      "a port with port_security_enabled on alice's shared network",
      () => '/v2.0/ports',
      (w) => ({
        port: { network_id: w.shared.id, port_security_enabled: false },
      }),
    ),
    // update_port is admin_or_owner: the network owner sees bob's port (admin_owner_or_network_owner) but may not update it.
    forbidden(
      'alice',
      'PUT',
      "bob's port on alice's shared network (network owner)",
      (w) => `/v2.0/ports/${w.bobOnShared.id}`,
      () => ({ port: { name: 'stolen' } }),
    ),
    // Admin-only attributes on write.
    forbidden(
      'alice',
      'POST',
      'a network with shared=true',
      () => '/v2.0/networks',
      () => ({ network: { name: unique('n'), shared: true } }),
    ),
    forbidden(
      'alice',
      'POST',
      'a network with router:external=true',
      () => '/v2.0/networks',
      () => ({ network: { name: unique('n'), 'router:external': true } }),
    ),
    forbidden(
      'alice',
      'POST',
      'a network with provider:network_type',
      () => '/v2.0/networks',
      () => ({ network: { name: unique('n'), 'provider:network_type': 'vxlan' } }),
    ),
    forbidden(
      'alice',
      'POST',
      'a network with provider:physical_network',
      () => '/v2.0/networks',
      () => ({
        network: { name: unique('n'), 'provider:network_type': 'flat', 'provider:physical_network': 'public' },
      }),
    ),
    forbidden(
      'alice',
      'PUT',
      'shared=true on her own network',
      (w) => `/v2.0/networks/${w.netA.id}`,
      () => ({ network: { shared: true } }),
    ),
    forbidden(
      'alice',
      'PUT',
      'router:external=true on her own network',
      (w) => `/v2.0/networks/${w.netA.id}`,
      () => ({ network: { 'router:external': true } }),
    ),
    forbidden(
      'alice',
      'PUT',
      'provider:segmentation_id on her own network',
      (w) => `/v2.0/networks/${w.netA.id}`,
      () => ({ network: { 'provider:segmentation_id': 1999 } }),
    ),
    forbidden(
      'alice',
      'POST',
      'a port with binding:host_id',
      () => '/v2.0/ports',
      (w) => ({ port: { network_id: w.netA.id, 'binding:host_id': 'compute-1' } }),
    ),
    forbidden(
      'alice',
      'POST',
      'a port with binding:profile',
      () => '/v2.0/ports',
      (w) => ({ port: { network_id: w.netA.id, 'binding:profile': { foo: 'bar' } } }),
    ),
    forbidden(
      'alice',
      'PUT',
      'binding:host_id on her own port',
      (w) => `/v2.0/ports/${w.portA.id}`,
      () => ({ port: { 'binding:host_id': 'compute-1' } }),
    ),
    forbidden(
      'alice',
      'POST',
      'a router with external_gateway_info.enable_snat',
      () => '/v2.0/routers',
      (w) => ({
        router: { name: unique('r'), external_gateway_info: { network_id: w.ext.id, enable_snat: false } },
      }),
    ),
    forbidden(
      'alice',
      'POST',
      'a router with external_gateway_info.external_fixed_ips',
      () => '/v2.0/routers',
      (w) => ({
        router: { name: unique('r'), external_gateway_info: { network_id: w.ext.id, external_fixed_ips: [{ subnet_id: w.extSubnet.id }] } },
      }),
    ),
    forbidden(
      'alice',
      'PUT',
      'enable_snat on her own router',
      (w) => `/v2.0/routers/${w.routerA.id}`,
      (w) => ({
        router: { external_gateway_info: { network_id: w.ext.id, enable_snat: false } },
      }),
    ),
    forbidden(
      'alice',
      'POST',
      'a floating IP with a fixed floating_ip_address',
      () => '/v2.0/floatingips',
      (w) => ({
        floatingip: { floating_network_id: w.ext.id, floating_ip_address: '203.0.113.222' },
      }),
    ),
    // Members cannot act for another project.
    {
      who: 'alice',
      method: 'POST',
      what: "a network with bob's project_id",
      path: () => '/v2.0/networks',
      body: () => ({ network: { name: unique('n'), project_id: ks.projects.b.id } }),
      status: 400,
      type: 'HTTPBadRequest',
      message: () => PROJECT_ID_MESSAGE,
    },
    {
      who: 'alice',
      method: 'POST',
      what: "a network with bob's tenant_id",
      path: () => '/v2.0/networks',
      body: () => ({ network: { name: unique('n'), tenant_id: ks.projects.b.id } }),
      status: 400,
      type: 'HTTPBadRequest',
      message: () => PROJECT_ID_MESSAGE,
    },
    {
      who: 'alice',
      method: 'POST',
      what: "a security group with bob's project_id",
      path: () => '/v2.0/security-groups',
      body: () => ({ security_group: { name: unique('sg'), project_id: ks.projects.b.id } }),
      status: 400,
      type: 'HTTPBadRequest',
      message: () => PROJECT_ID_MESSAGE,
    },
    {
      who: 'bob',
      method: 'POST',
      what: "a router with alice's project_id",
      path: () => '/v2.0/routers',
      body: () => ({ router: { name: unique('r'), project_id: ks.projects.a.id } }),
      status: 400,
      type: 'HTTPBadRequest',
      message: () => PROJECT_ID_MESSAGE,
    },
    // Quotas: members read their own only; only admins write.
    forbidden('alice', 'GET', "bob's quotas", () => `/v2.0/quotas/${ks.projects.b.id}`),
    forbidden(
      'alice',
      'PUT',
      'her own quotas',
      () => `/v2.0/quotas/${ks.projects.a.id}`,
      () => ({ quota: { network: 1000 } }),
    ),
    forbidden(
      'alice',
      'PUT',
      "bob's quotas",
      () => `/v2.0/quotas/${ks.projects.b.id}`,
      () => ({ quota: { network: 1000 } }),
    ),
    forbidden('alice', 'DELETE', 'her own quotas', () => `/v2.0/quotas/${ks.projects.a.id}`),
  ];

  describe('access matrix (status and NeutronError)', () => {
    for (const row of accessRows) {
      test(`${row.who} ${row.method} ${row.what} → ${row.status} ${row.type ?? ''}`, async () => {
        const response = await as(row.who, row.method, row.path(w), row.body?.(w));
        expectNeutronError(response, row.status, row.type!, row.message?.(w));
      });
    }

    test('none of the refused writes changed anything (checked by the admin)', async () => {
      for (const key of ['netA', 'netB', 'shared', 'ext'] as const) {
        const network = await as('admin', 'GET', `/v2.0/networks/${w[key].id}`);
        expect(network.status, key).toBe(200);
        expect(network.body.network).toMatchObject({
          name: w[key].name,
          shared: w[key].shared,
          'router:external': w[key]['router:external'],
        });
      }
      for (const key of ['subA', 'subB', 'sharedSubnet', 'extSubnet'] as const) {
        const subnet = await as('admin', 'GET', `/v2.0/subnets/${w[key].id}`);
        expect(subnet.status, key).toBe(200);
        expect(subnet.body.subnet.name).toBe(w[key].name);
      }
      for (const [key, collection, resource] of [
        ['portA', 'ports', 'port'],
        ['aliceOnShared', 'ports', 'port'],
        ['bobOnShared', 'ports', 'port'],
        ['sgA', 'security-groups', 'security_group'],
        ['ruleA', 'security-group-rules', 'security_group_rule'],
        ['routerA', 'routers', 'router'],
        ['fipA', 'floatingips', 'floatingip'],
      ] as const) {
        const response = await as('admin', 'GET', `/v2.0/${collection}/${w[key].id}`);
        expect(response.status, key).toBe(200);
        expect(response.body[resource].name ?? response.body[resource].description).toBe(w[key].name ?? w[key].description);
      }
      const port = await as('admin', 'GET', `/v2.0/ports/${w.portA.id}`);
      expect(port.body.port['binding:host_id']).toBe('');
      const router = await as('admin', 'GET', `/v2.0/routers/${w.routerA.id}`);
      expect(router.body.router.external_gateway_info.enable_snat).toBe(true);
      const ports = await as('admin', 'GET', `/v2.0/ports?device_id=${w.routerA.id}&device_owner=network:router_interface`);
      expect(ports.body.ports).toHaveLength(1);
      const networks = await as('admin', 'GET', `/v2.0/networks?project_id=${ks.projects.b.id}`);
      expect(ids(networks.body.networks)).toEqual([w.netB.id]);
      const quotas = await as('admin', 'GET', `/v2.0/quotas/${ks.projects.a.id}`);
      expect(quotas.body.quota.network).not.toBe(1000);
    });
  });

  describe('lists and shows: who sees what', () => {
    /** Per resource: which of the world's resources each user must (and must not) see. */
    const visibility: Array<{
      collection: string;
      resource: string;
      sees: Record<Who, Array<keyof World>>;
      hidden: Record<Who, Array<keyof World>>;
    }> = [
      {
        collection: 'networks',
        resource: 'network',
        sees: { alice: ['netA', 'shared', 'ext'], bob: ['netB', 'shared', 'ext'], admin: ['netA', 'netB', 'shared', 'ext'] },
        hidden: { alice: ['netB'], bob: ['netA'], admin: [] },
      },
      {
        collection: 'subnets',
        resource: 'subnet',
        sees: { alice: ['subA', 'sharedSubnet'], bob: ['subB', 'sharedSubnet'], admin: ['subA', 'subB', 'sharedSubnet', 'extSubnet'] },
        hidden: { alice: ['subB', 'extSubnet'], bob: ['subA', 'extSubnet'], admin: [] },
      },
      {
        collection: 'ports',
        resource: 'port',
        // alice owns the shared network, so she sees bob's port on it (admin_owner_or_network_owner).
        sees: { alice: ['portA', 'aliceOnShared', 'bobOnShared'], bob: ['bobOnShared'], admin: ['portA', 'aliceOnShared', 'bobOnShared'] },
        hidden: { alice: [], bob: ['portA', 'aliceOnShared'], admin: [] },
      },
      {
        collection: 'security-groups',
        resource: 'security_group',
        sees: { alice: ['sgA'], bob: [], admin: ['sgA'] },
        hidden: { alice: [], bob: ['sgA'], admin: [] },
      },
      {
        collection: 'security-group-rules',
        resource: 'security_group_rule',
        sees: { alice: ['ruleA'], bob: [], admin: ['ruleA'] },
        hidden: { alice: [], bob: ['ruleA'], admin: [] },
      },
      {
        collection: 'routers',
        resource: 'router',
        sees: { alice: ['routerA'], bob: [], admin: ['routerA'] },
        hidden: { alice: [], bob: ['routerA'], admin: [] },
      },
      {
        collection: 'floatingips',
        resource: 'floatingip',
        sees: { alice: ['fipA'], bob: [], admin: ['fipA'] },
        hidden: { alice: [], bob: ['fipA'], admin: [] },
      },
    ];
    for (const { collection, resource, sees, hidden } of visibility) {
      for (const who of ['alice', 'bob', 'admin'] as const) {
        test(`${who} lists ${collection}: sees ${sees[who].join(', ') || 'none of the world'}; not ${hidden[who].join(', ') || '-'}`, async () => {
          const response = await as(who, 'GET', `/v2.0/${collection}`);
          expect(response.status).toBe(200);
          const listed = ids(response.body[collection.replace(/-/g, '_')]);
          for (const key of sees[who]) expect(listed, `${who} must list ${key}`).toContain(w[key].id);
          for (const key of hidden[who]) expect(listed, `${who} must not list ${key}`).not.toContain(w[key].id);
        });
        if (sees[who].length > 0) {
          test(`${who} shows each ${resource} it sees`, async () => {
            for (const key of sees[who]) {
              const response = await as(who, 'GET', `/v2.0/${collection}/${w[key].id}`);
              expect(response.status, `${who} GET ${key}: ${response.text}`).toBe(200);
              expect(response.body[resource].id).toBe(w[key].id);
            }
          });
        }
      }
    }

    test("a member's lists hold only its own project's resources, plus shared/external networks and shared networks' subnets", async () => {
      const a = ks.projects.a.id;
      for (const [collection, key] of [
        ['ports', 'ports'],
        ['security-groups', 'security_groups'],
        ['security-group-rules', 'security_group_rules'],
        ['routers', 'routers'],
        ['floatingips', 'floatingips'],
      ] as const) {
        const response = await as('bob', 'GET', `/v2.0/${collection}`);
        for (const item of response.body[key]) expect(item.project_id, `bob's ${collection}`).not.toBe(a);
      }
      const networks = (await as('bob', 'GET', '/v2.0/networks')).body.networks as Row[];
      for (const network of networks) {
        if (network.project_id !== ks.projects.b.id) expect(network.shared || network['router:external'], network.name).toBe(true);
      }
      const subnets = (await as('bob', 'GET', '/v2.0/subnets')).body.subnets as Row[];
      expect(subnets.filter((s) => s.project_id !== ks.projects.b.id).map((s) => s.id)).toEqual([w.sharedSubnet.id]);
    });

    test('a member filtering on another project_id gets nothing of it', async () => {
      const response = await as('bob', 'GET', `/v2.0/networks?project_id=${ks.projects.a.id}`);
      expect(response.status).toBe(200);
      // Only alice's networks that are visible anyway: the shared one.
      expect(ids(response.body.networks)).toEqual([w.shared.id]);
    });

    test("the admin shows every project's private resources", async () => {
      for (const [key, collection, resource] of [
        ['netB', 'networks', 'network'],
        ['subA', 'subnets', 'subnet'],
        ['portA', 'ports', 'port'],
        ['sgA', 'security-groups', 'security_group'],
        ['ruleA', 'security-group-rules', 'security_group_rule'],
        ['routerA', 'routers', 'router'],
        ['fipA', 'floatingips', 'floatingip'],
      ] as const) {
        const response = await as('admin', 'GET', `/v2.0/${collection}/${w[key].id}`);
        expect(response.status, key).toBe(200);
        expect(response.body[resource].project_id).toBe(w[key].project_id);
      }
    });
  });

  describe('attributes hidden from members on read', () => {
    const PROVIDER = ['provider:network_type', 'provider:physical_network', 'provider:segmentation_id'];
    const BINDING_ADMIN = ['binding:host_id', 'binding:profile', 'binding:vif_type', 'binding:vif_details'];

    test('provider:* are absent for members (even the owner) on show and list, present for the admin', async () => {
      for (const [who, key] of [
        ['alice', 'netA'],
        ['alice', 'ext'],
        ['bob', 'ext'],
        ['bob', 'shared'],
      ] as const) {
        const shown = await as(who, 'GET', `/v2.0/networks/${w[key].id}`);
        expect(shown.status).toBe(200);
        for (const name of PROVIDER) expect(shown.body.network, `${who} ${key}`).not.toHaveProperty([name]);
        expect(shown.body.network['router:external']).toBe(key === 'ext');
      }
      for (const network of (await as('alice', 'GET', '/v2.0/networks')).body.networks) {
        for (const name of PROVIDER) expect(network).not.toHaveProperty([name]);
      }
      const admin = await as('admin', 'GET', `/v2.0/networks/${w.ext.id}`);
      expect(admin.body.network).toMatchObject({
        'provider:network_type': 'flat',
        'provider:physical_network': 'public',
        'provider:segmentation_id': null,
      });
      const adminNetA = await as('admin', 'GET', `/v2.0/networks/${w.netA.id}`);
      expect(adminNetA.body.network).toMatchObject({ 'provider:network_type': 'vxlan', 'provider:segmentation_id': expect.any(Number) });
      const adminList = (await as('admin', 'GET', '/v2.0/networks')).body.networks as Row[];
      expect(adminList.find((n) => n.id === w.netA.id)).toHaveProperty(['provider:network_type'], 'vxlan');
    });

    test('provider:* are absent from the create and update answers a member gets', async () => {
      const created = await as('alice', 'POST', '/v2.0/networks', { network: { name: unique('n') } });
      expect(created.status).toBe(201);
      for (const name of PROVIDER) expect(created.body.network).not.toHaveProperty([name]);
      const updated = await as('alice', 'PUT', `/v2.0/networks/${created.body.network.id}`, { network: { description: 'd' } });
      expect(updated.status).toBe(200);
      for (const name of PROVIDER) expect(updated.body.network).not.toHaveProperty([name]);
    });

    test('binding:host_id/profile/vif_type/vif_details are absent for the port owner, binding:vnic_type is not; the admin sees all', async () => {
      const shown = await as('alice', 'GET', `/v2.0/ports/${w.portA.id}`);
      expect(shown.status).toBe(200);
      for (const name of BINDING_ADMIN) expect(shown.body.port).not.toHaveProperty([name]);
      expect(shown.body.port['binding:vnic_type']).toBe('normal');
      for (const port of (await as('alice', 'GET', '/v2.0/ports')).body.ports) {
        for (const name of BINDING_ADMIN) expect(port).not.toHaveProperty([name]);
      }
      const admin = await as('admin', 'GET', `/v2.0/ports/${w.portA.id}`);
      for (const name of BINDING_ADMIN) expect(admin.body.port).toHaveProperty([name]);
      expect(admin.body.port['binding:vnic_type']).toBe('normal');
    });

    test('a member may set binding:vnic_type (create_port:binding:vnic_type is admin_or_owner) and gets no admin-only binding:* back', async () => {
      const created = await as('alice', 'POST', '/v2.0/ports', { port: { network_id: w.netA.id, 'binding:vnic_type': 'direct' } });
      expect(created.status, created.text).toBe(201);
      expect(created.body.port['binding:vnic_type']).toBe('direct');
      for (const name of BINDING_ADMIN) expect(created.body.port).not.toHaveProperty([name]);
    });
  });

  describe('admin-only attributes: the same requests succeed for the admin', () => {
    test('network shared / router:external / provider:*', async () => {
      for (const body of [
        { shared: true },
        { 'router:external': true },
        { 'provider:network_type': 'vxlan' },
        // Outside the tenant range (1001:2000), which random allocation may have used already.
        { 'provider:network_type': 'vxlan', 'provider:segmentation_id': 5999 },
      ]) {
        const response = await as('admin', 'POST', '/v2.0/networks', { network: { name: unique('adm'), ...body } });
        expect(response.status, response.text).toBe(201);
        expect(response.body.network).toMatchObject(body);
      }
      const own = await make('alice', 'networks', 'network', { name: unique('tobeshared') });
      const updated = await as('admin', 'PUT', `/v2.0/networks/${own.id}`, { network: { shared: true } });
      expect(updated.status, updated.text).toBe(200);
      expect(updated.body.network.shared).toBe(true);
      const seen = await as('bob', 'GET', `/v2.0/networks/${own.id}`);
      expect(seen.status).toBe(200);
    });

    test('port binding:host_id and binding:profile', async () => {
      const created = await as('admin', 'POST', '/v2.0/ports', {
        port: { network_id: w.netA.id, 'binding:host_id': 'compute-1', 'binding:profile': { foo: 'bar' } },
      });
      expect(created.status, created.text).toBe(201);
      expect(created.body.port).toMatchObject({ 'binding:host_id': 'compute-1', 'binding:profile': { foo: 'bar' } });
      const updated = await as('admin', 'PUT', `/v2.0/ports/${created.body.port.id}`, { port: { 'binding:host_id': 'compute-2' } });
      expect(updated.status, updated.text).toBe(200);
      expect(updated.body.port['binding:host_id']).toBe('compute-2');
    });

    test('router external_gateway_info with enable_snat and external_fixed_ips', async () => {
      const router = await as('admin', 'POST', '/v2.0/routers', {
        router: {
          name: unique('r'),
          external_gateway_info: {
            network_id: w.ext.id,
            enable_snat: false,
            external_fixed_ips: [{ subnet_id: w.extSubnet.id, ip_address: '203.0.113.230' }],
          },
        },
      });
      expect(router.status, router.text).toBe(201);
      expect(router.body.router.external_gateway_info).toMatchObject({
        network_id: w.ext.id,
        enable_snat: false,
        external_fixed_ips: [{ subnet_id: w.extSubnet.id, ip_address: '203.0.113.230' }],
      });
      const alices = await make('alice', 'routers', 'router', { name: unique('r'), external_gateway_info: { network_id: w.ext.id } });
      const updated = await as('admin', 'PUT', `/v2.0/routers/${alices.id}`, {
        router: { external_gateway_info: { network_id: w.ext.id, enable_snat: false } },
      });
      expect(updated.status, updated.text).toBe(200);
      expect(updated.body.router.external_gateway_info.enable_snat).toBe(false);
    });

    test('floating IP with a fixed floating_ip_address', async () => {
      const fip = await as('admin', 'POST', '/v2.0/floatingips', {
        floatingip: { floating_network_id: w.ext.id, floating_ip_address: '203.0.113.231' },
      });
      expect(fip.status, fip.text).toBe(201);
      expect(fip.body.floatingip.floating_ip_address).toBe('203.0.113.231');
    });

    test('quotas: admin PUT on a member project → 200, and the member reads the new limit', async () => {
      const put = await as('admin', 'PUT', `/v2.0/quotas/${ks.projects.b.id}`, { quota: { network: 77 } });
      expect(put.status, put.text).toBe(200);
      expect(put.body.quota.network).toBe(77);
      const read = await as('bob', 'GET', `/v2.0/quotas/${ks.projects.b.id}`);
      expect(read.status, read.text).toBe(200);
      expect(read.body.quota.network).toBe(77);
      const other = await as('admin', 'GET', `/v2.0/quotas/${ks.projects.a.id}`);
      expect(other.status).toBe(200);
    });
  });

  describe('what members may do', () => {
    test('a member reads its own quotas', async () => {
      const response = await as('alice', 'GET', `/v2.0/quotas/${ks.projects.a.id}`);
      expect(response.status, response.text).toBe(200);
      expect(response.body.quota).toMatchObject({ network: expect.any(Number), port: expect.any(Number) });
    });

    test('shared=false and router:external=false on create are the defaults, not admin-only settings (201)', async () => {
      const response = await as('alice', 'POST', '/v2.0/networks', {
        network: { name: unique('n'), shared: false, 'router:external': false },
      });
      expect(response.status, response.text).toBe(201);
      expect(response.body.network).toMatchObject({ shared: false, 'router:external': false, project_id: ks.projects.a.id });
    });

    test('a member may name its own project_id/tenant_id', async () => {
      for (const key of ['project_id', 'tenant_id']) {
        const response = await as('alice', 'POST', '/v2.0/networks', { network: { name: unique('n'), [key]: ks.projects.a.id } });
        expect(response.status, response.text).toBe(201);
        expect(response.body.network.project_id).toBe(ks.projects.a.id);
      }
    });

    test('a port on a shared network (201), with a subnet_id-only fixed_ips too (rule:shared)', async () => {
      const plain = await as('bob', 'POST', '/v2.0/ports', { port: { network_id: w.shared.id } });
      expect(plain.status, plain.text).toBe(201);
      expect(plain.body.port.project_id).toBe(ks.projects.b.id);
      const bySubnet = await as('bob', 'POST', '/v2.0/ports', {
        port: { network_id: w.shared.id, fixed_ips: [{ subnet_id: w.sharedSubnet.id }] },
      });
      expect(bySubnet.status, bySubnet.text).toBe(201);
      expect(bySubnet.body.port.fixed_ips[0].subnet_id).toBe(w.sharedSubnet.id);
    });

    test('the network owner may set fixed addresses and MACs on its own shared network', async () => {
      const response = await as('alice', 'POST', '/v2.0/ports', {
        port: {
          network_id: w.shared.id,
          mac_address: 'fa:16:3e:00:11:33',
          fixed_ips: [{ subnet_id: w.sharedSubnet.id, ip_address: '10.9.0.178' }],
        },
      });
      expect(response.status, response.text).toBe(201);
      expect(response.body.port).toMatchObject({
        mac_address: 'fa:16:3e:00:11:33',
        fixed_ips: [{ subnet_id: w.sharedSubnet.id, ip_address: '10.9.0.178' }],
      });
    });

    test("a router with a gateway on the admin's external network, and a floating IP from it", async () => {
      const router = await as('bob', 'POST', '/v2.0/routers', {
        router: { name: unique('r'), external_gateway_info: { network_id: w.ext.id } },
      });
      expect(router.status, router.text).toBe(201);
      expect(router.body.router.external_gateway_info).toMatchObject({ network_id: w.ext.id, enable_snat: true });
      expect(router.body.router.external_gateway_info.external_fixed_ips).toHaveLength(1);
      const attached = await as('bob', 'PUT', `/v2.0/routers/${router.body.router.id}/add_router_interface`, { subnet_id: w.subB.id });
      expect(attached.status, attached.text).toBe(200);
      const fip = await as('bob', 'POST', '/v2.0/floatingips', { floatingip: { floating_network_id: w.ext.id } });
      expect(fip.status, fip.text).toBe(201);
      expect(fip.body.floatingip.project_id).toBe(ks.projects.b.id);
      const port = await make('bob', 'ports', 'port', { network_id: w.netB.id });
      const associated = await as('bob', 'PUT', `/v2.0/floatingips/${fip.body.floatingip.id}`, { floatingip: { port_id: port.id } });
      expect(associated.status, associated.text).toBe(200);
      expect(associated.body.floatingip.port_id).toBe(port.id);
      // The gateway port belongs to no project the member sees.
      const ports = await as('bob', 'GET', `/v2.0/ports?device_id=${router.body.router.id}`);
      expect(ports.body.ports.map((p: Row) => p.device_owner)).toEqual(['network:router_interface']);
    });

    test('the owner updates and deletes each of its resources (200 / 204)', async () => {
      const net = await make('alice', 'networks', 'network', { name: unique('own') });
      const sub = await make('alice', 'subnets', 'subnet', { network_id: net.id, ip_version: 4, cidr: '10.50.0.0/24' });
      const port = await make('alice', 'ports', 'port', { network_id: net.id });
      const sg = await make('alice', 'security-groups', 'security_group', { name: unique('sg') });
      const rule = await make('alice', 'security-group-rules', 'security_group_rule', {
        security_group_id: sg.id,
        direction: 'ingress',
        ethertype: 'IPv4',
        protocol: 'udp',
        port_range_min: 53,
        port_range_max: 53,
      });
      const router = await make('alice', 'routers', 'router', { name: unique('r') });
      const fip = await make('alice', 'floatingips', 'floatingip', { floating_network_id: w.ext.id });
      for (const [collection, resource, item, body] of [
        ['networks', 'network', net, { name: 'renamed' }],
        ['subnets', 'subnet', sub, { name: 'renamed' }],
        ['ports', 'port', port, { name: 'renamed' }],
        ['security-groups', 'security_group', sg, { name: 'renamed' }],
        ['routers', 'router', router, { name: 'renamed' }],
        ['floatingips', 'floatingip', fip, { description: 'renamed' }],
      ] as const) {
        const updated = await as('alice', 'PUT', `/v2.0/${collection}/${item.id}`, { [resource]: body });
        expect(updated.status, `${collection}: ${updated.text}`).toBe(200);
        expect(updated.body[resource]).toMatchObject(body);
      }
      for (const [collection, item] of [
        ['floatingips', fip],
        ['routers', router],
        ['security-group-rules', rule],
        ['security-groups', sg],
        ['ports', port],
        ['subnets', sub],
        ['networks', net],
      ] as const) {
        const deleted = await as('alice', 'DELETE', `/v2.0/${collection}/${item.id}`);
        expect(deleted.status, `${collection}: ${deleted.text}`).toBe(204);
        expect((await as('admin', 'GET', `/v2.0/${collection}/${item.id}`)).status, collection).toBe(404);
      }
    });

    test('the network owner sees and may delete a port another project made on its network (admin_owner_or_network_owner)', async () => {
      const port = await make('bob', 'ports', 'port', { network_id: w.shared.id, name: unique('bobs') });
      const shown = await as('alice', 'GET', `/v2.0/ports/${port.id}`);
      expect(shown.status, shown.text).toBe(200);
      expect(shown.body.port.project_id).toBe(ks.projects.b.id);
      const listed = await as('alice', 'GET', `/v2.0/ports?network_id=${w.shared.id}`);
      expect(ids(listed.body.ports)).toContain(port.id);
      const deleted = await as('alice', 'DELETE', `/v2.0/ports/${port.id}`);
      expect(deleted.status, deleted.text).toBe(204);
      expectNeutronError(await as('bob', 'GET', `/v2.0/ports/${port.id}`), 404, 'PortNotFound', port.id);
    });
  });

  describe('the admin acts on other projects', () => {
    test("creates for another project (201); the resource is that project's and its member sees it", async () => {
      const b = ks.projects.b.id;
      const network = await as('admin', 'POST', '/v2.0/networks', { network: { name: unique('forb'), project_id: b } });
      expect(network.status, network.text).toBe(201);
      expect(network.body.network).toMatchObject({ project_id: b, tenant_id: b });
      const viaTenant = await as('admin', 'POST', '/v2.0/security-groups', { security_group: { name: unique('forb'), tenant_id: b } });
      expect(viaTenant.status, viaTenant.text).toBe(201);
      expect(viaTenant.body.security_group.project_id).toBe(b);
      const shown = await as('bob', 'GET', `/v2.0/networks/${network.body.network.id}`);
      expect(shown.status).toBe(200);
      const renamed = await as('bob', 'PUT', `/v2.0/networks/${network.body.network.id}`, { network: { name: 'mine-now' } });
      expect(renamed.status, renamed.text).toBe(200);
      const sgs = await as('bob', 'GET', '/v2.0/security-groups');
      expect(ids(sgs.body.security_groups)).toContain(viaTenant.body.security_group.id);
      expectNeutronError(await as('alice', 'GET', `/v2.0/networks/${network.body.network.id}`), 404, 'NetworkNotFound');
    });

    test("updates and deletes a member's resources", async () => {
      const net = await make('alice', 'networks', 'network', { name: unique('adm-target') });
      const renamed = await as('admin', 'PUT', `/v2.0/networks/${net.id}`, { network: { name: 'by-admin' } });
      expect(renamed.status, renamed.text).toBe(200);
      expect(renamed.body.network).toMatchObject({ name: 'by-admin', project_id: ks.projects.a.id });
      const deleted = await as('admin', 'DELETE', `/v2.0/networks/${net.id}`);
      expect(deleted.status, deleted.text).toBe(204);
      expectNeutronError(await as('alice', 'GET', `/v2.0/networks/${net.id}`), 404, 'NetworkNotFound', net.id);
    });
  });
  describe('metering labels and the usage ledger are for admins only', () => {
    test('members cannot create, see or delete labels and rules; the ledger shows them nothing', async () => {
      const label = await make('admin', 'metering/metering-labels', 'metering_label', { name: unique('label') });
      const rule = await make('admin', 'metering/metering-label-rules', 'metering_label_rule', {
        metering_label_id: label.id,
        direction: 'ingress',
        remote_ip_prefix: '10.0.0.0/8',
      });
      expectNeutronError(
        await as('alice', 'POST', '/v2.0/metering/metering-labels', { metering_label: { name: 'mine' } }),
        403,
        'PolicyNotAuthorized',
      );
      expectNeutronError(
        await as('alice', 'POST', '/v2.0/metering/metering-label-rules', {
          metering_label_rule: { metering_label_id: label.id, direction: 'egress', remote_ip_prefix: '10.0.0.0/8' },
        }),
        403,
        'PolicyNotAuthorized',
      );
      expectNeutronError(await as('alice', 'GET', `/v2.0/metering/metering-labels/${label.id}`), 404, 'MeteringLabelNotFound', label.id);
      expectNeutronError(await as('bob', 'DELETE', `/v2.0/metering/metering-labels/${label.id}`), 404, 'MeteringLabelNotFound', label.id);
      expectNeutronError(
        await as('alice', 'GET', `/v2.0/metering/metering-label-rules/${rule.id}`),
        404,
        'MeteringLabelRuleNotFound',
        rule.id,
      );
      expect((await as('alice', 'GET', '/v2.0/metering/metering-labels')).body).toEqual({ metering_labels: [] });

      // alice's own network is in the ledger under her project, which the admin sees and she does not.
      const ledger = await as('admin', 'GET', `/v2.0/metering/usage-intervals?resource_id=${w.netA.id}`);
      expect(ledger.body.usage_intervals).toEqual([
        expect.objectContaining({ project_id: ks.projects.a.id, resource_type: 'network', kind: 'exists', ended_at: null }),
      ]);
      expect((await as('alice', 'GET', `/v2.0/metering/usage-intervals?resource_id=${w.netA.id}`)).body).toEqual({ usage_intervals: [] });
      expectNeutronError(
        await as('alice', 'GET', `/v2.0/metering/usage-intervals/${ledger.body.usage_intervals[0].id}`),
        404,
        'UsageIntervalNotFound',
      );
      expect((await as('admin', 'DELETE', `/v2.0/metering/metering-labels/${label.id}`)).status).toBe(204);
    });
  });
});
