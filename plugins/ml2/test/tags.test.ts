import type { TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { create, neutronError, startMl2 } from './server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startMl2();
});
afterAll(() => server?.close());

describe('tags sub-resource', () => {
  test('add, replace, show, remove; every change bumps the revision', async () => {
    const network = await create(server, 'networks', 'network', { name: 'tagged' });
    const path = `/v2.0/networks/${network.id}/tags`;
    const added = await server.request('PUT', `${path}/red`);
    expect(added.status).toBe(201);
    expect(added.text).toBe('null');
    expect((await server.request('PUT', `${path}/red`)).status).toBe(201);
    expect((await server.request('GET', `${path}/red`)).status).toBe(204);
    const replaced = await server.request('PUT', path, { tags: ['blue', 'green'] });
    expect(replaced.status).toBe(200);
    expect(replaced.body).toEqual({ tags: ['blue', 'green'] });
    expect((await server.request('GET', path)).body).toEqual({ tags: ['blue', 'green'] });
    const missing = await server.request('GET', `${path}/red`);
    expect(neutronError(missing)).toEqual({ type: 'TagNotFound', message: 'Tag red could not be found.', detail: '' });
    const posted = await server.request('POST', path, { tags: ['yellow'] });
    expect(posted.status).toBe(201);
    expect((await server.request('GET', `/v2.0/networks/${network.id}`)).body.network.tags).toEqual(['blue', 'green', 'yellow']);
    expect((await server.request('DELETE', `${path}/green`)).status).toBe(204);
    expect((await server.request('DELETE', `${path}/green`)).status).toBe(404);
    const revision = (await server.request('GET', `/v2.0/networks/${network.id}`)).body.network.revision_number;
    // Created at 1; four changes (the repeated PUT and the failed DELETE change nothing).
    expect(revision).toBe(5);
    expect((await server.request('DELETE', path)).status).toBe(204);
    expect((await server.request('GET', path)).body).toEqual({ tags: [] });
  });

  test('bad bodies and unknown resources', async () => {
    const network = await create(server, 'networks', 'network', {});
    const path = `/v2.0/networks/${network.id}/tags`;
    expect(neutronError(await server.request('PUT', path, { labels: [] }))).toEqual({
      type: 'InvalidInput',
      message: 'Invalid input for operation: Invalid tags body.',
      detail: '',
    });
    expect(neutronError(await server.request('PUT', path, { tags: ['a', 'a'] })).message).toBe(
      "Invalid input for operation: Duplicate items in the list: 'a'.",
    );
    expect((await server.request('PUT', `${path}/${'x'.repeat(256)}`)).status).toBe(400);
    const unknown = await server.request('GET', '/v2.0/networks/00000000-0000-0000-0000-000000000000/tags');
    expect(neutronError(unknown)).toMatchObject({
      type: 'TagResourceNotFound',
      message: 'Resource networks 00000000-0000-0000-0000-000000000000 could not be found.',
    });
  });

  test('tag filters: tags (all), tags-any, not-tags, not-tags-any', async () => {
    const make = async (tags: string[]) => {
      const network = await create(server, 'networks', 'network', { name: 'filter-me' });
      await server.request('PUT', `/v2.0/networks/${network.id}/tags`, { tags });
      return network.id as string;
    };
    const a = await make(['x', 'y']);
    const b = await make(['x']);
    const c = await make(['z']);
    const ids = async (query: string) =>
      ((await server.request('GET', `/v2.0/networks?name=filter-me&${query}&fields=id`)).body.networks as Array<{ id: string }>)
        .map((n) => n.id)
        .sort();
    expect(await ids('tags=x,y')).toEqual([a]);
    expect(await ids('tags=x&tags=y')).toEqual([a]);
    expect(await ids('tags-any=y,z')).toEqual([a, c].sort());
    expect(await ids('not-tags=x,y')).toEqual([b, c].sort());
    expect(await ids('not-tags-any=x')).toEqual([c]);
    const fields = await server.request('GET', `/v2.0/networks?tags=x&fields=id&fields=tags`);
    expect(fields.body.networks).toContainEqual({ id: a, tags: ['x', 'y'] });
  });

  test('security groups are tagged under their hyphenated path', async () => {
    const group = await create(server, 'security-groups', 'security_group', { name: 'tagged-sg' });
    expect((await server.request('PUT', `/v2.0/security-groups/${group.id}/tags/web`)).status).toBe(201);
    expect((await server.request('GET', `/v2.0/security-groups/${group.id}`)).body.security_group.tags).toEqual(['web']);
  });
});
