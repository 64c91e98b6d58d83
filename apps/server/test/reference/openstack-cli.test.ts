/**
 * What the `openstack` CLI (python3-openstackclient 6.0.0, openstacksdk) sends besides the
 * requests of the captures, and must get the answers it gets from neutron-server.
 */
import type { TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { REFERENCE_HOST, startReferenceServer } from './server.js';

let server: TestServer;
const cli = (method: string, url: string, body?: unknown) =>
  server.request(method, url, body, { host: REFERENCE_HOST, 'user-agent': 'openstacksdk keystoneauth1' });

beforeAll(async () => {
  server = await startReferenceServer();
});
afterAll(() => server?.close());

describe('the openstack CLI', () => {
  test('discovers the API version with GET / before every command', async () => {
    const response = await cli('GET', '/');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: `http://${REFERENCE_HOST}/v2.0/` }] }],
    });
  });

  test('resolves a name with GET /v2.0/networks/<name> (a 404), then ?name=<name>', async () => {
    const created = await cli('POST', '/v2.0/networks', { network: { name: 'cli net' } });
    expect(created.status).toBe(201);
    const byId = await cli('GET', '/v2.0/networks/cli%20net');
    expect(byId.status).toBe(404);
    expect(byId.body).toEqual({ NeutronError: { type: 'NetworkNotFound', message: 'Network cli net could not be found.', detail: '' } });
    const byName = await cli('GET', '/v2.0/networks?name=cli%20net');
    expect(byName.status).toBe(200);
    expect(byName.body.networks).toHaveLength(1);
    expect(byName.body.networks[0]).toMatchObject({ id: created.body.network.id, name: 'cli net' });
  });

  test('resolves port and security group names the same way', async () => {
    const network = await cli('POST', '/v2.0/networks', { network: { name: 'cli-ports' } });
    await cli('POST', '/v2.0/ports', { port: { network_id: network.body.network.id, name: 'cli-port' } });
    await cli('POST', '/v2.0/security-groups', { security_group: { name: 'cli-sg' } });
    for (const [collection, name] of [
      ['ports', 'cli-port'],
      ['security-groups', 'cli-sg'],
    ] as const) {
      expect((await cli('GET', `/v2.0/${collection}/${name}`)).status).toBe(404);
      const found = await cli('GET', `/v2.0/${collection}?name=${name}`);
      expect(found.status).toBe(200);
      expect(found.body[collection.replace('-', '_')]).toHaveLength(1);
    }
  });

  test('`extension list` first asks GET /extensions, which is a 404, then GET /v2.0/extensions', async () => {
    expect((await cli('GET', '/extensions')).status).toBe(404);
    const listed = await cli('GET', '/v2.0/extensions');
    expect(listed.status).toBe(200);
    expect(listed.body.extensions.map((e: { alias: string }) => e.alias)).toContain('security-group');
  });

  test('`port create` first asks for tag-ports-during-bulk-creation, which is served', async () => {
    const response = await cli('GET', '/v2.0/extensions/tag-ports-during-bulk-creation');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      extension: {
        name: 'Tag Ports During Bulk Creation',
        alias: 'tag-ports-during-bulk-creation',
        description: 'Allow to tag ports during bulk creation',
        updated: '2019-12-29T19:00:00-00:00',
        links: [],
      },
    });
    // With it listed, tags come with the create instead of in a second request.
    const network = await cli('POST', '/v2.0/networks', { network: { name: 'cli-tags' } });
    const port = await cli('POST', '/v2.0/ports', { port: { network_id: network.body.network.id, tags: ['b', 'a'] } });
    expect(port.status).toBe(201);
    expect(port.body.port.tags).toEqual(['a', 'b']);
  });

  test('GET /v2.0 without the slash is a 404; GET /v2.0/ lists the core resources', async () => {
    const bare = await cli('GET', '/v2.0');
    expect(bare.status).toBe(404);
    expect(bare.body).toEqual({ NeutronError: { type: 'HTTPNotFound', message: 'The resource could not be found.', detail: '' } });
    const slash = await cli('GET', '/v2.0/');
    expect(slash.status).toBe(200);
    expect(slash.body.resources.map((r: { collection: string }) => r.collection)).toEqual(['networks', 'subnets', 'ports']);
  });

  test('PUT on a collection is the resource\'s "None" 404, not a 405', async () => {
    const response = await cli('PUT', '/v2.0/networks', { network: {} });
    expect(response.status).toBe(404);
    expect(response.body).toEqual({
      NeutronError: { type: 'NetworkNotFound', message: 'Network None could not be found.', detail: '' },
    });
  });
});
