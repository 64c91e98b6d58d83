import type { TestServer } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { create, neutronError, startMl2 } from './server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startMl2({ quotas: { quota_network: 3, quota_security_group: 20 } });
});
afterAll(() => server?.close());

const DEFAULTS = { network: 3, subnet: 100, port: 500, security_group: 20, security_group_rule: 100 };

describe('quotas API', () => {
  test('defaults come from [quotas]', async () => {
    const shown = await server.request('GET', '/v2.0/quotas/some-project');
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual({ quota: DEFAULTS });
    expect((await server.request('GET', '/v2.0/quotas/some-project/default')).body).toEqual({ quota: DEFAULTS });
    expect((await server.request('GET', '/v2.0/quotas/tenant', undefined, { 'x-project-id': 'p1' })).body).toEqual({
      tenant: { tenant_id: 'p1' },
    });
  });

  test('an admin overrides and resets a project; the override list shows it', async () => {
    const updated = await server.request('PUT', '/v2.0/quotas/limited', { quota: { network: 1, port: '7' } });
    expect(updated.status).toBe(200);
    expect(updated.body).toEqual({ quota: { ...DEFAULTS, network: 1, port: 7 } });
    const listed = await server.request('GET', '/v2.0/quotas');
    expect(listed.body.quotas).toContainEqual({ ...DEFAULTS, network: 1, port: 7, project_id: 'limited', tenant_id: 'limited' });
    expect((await server.request('DELETE', '/v2.0/quotas/limited')).status).toBe(204);
    expect((await server.request('GET', '/v2.0/quotas/limited')).body).toEqual({ quota: DEFAULTS });
  });

  test('bad limits and resources are refused', async () => {
    const cases: Array<[object, string, string]> = [
      [{ quota: { bogus: 1 } }, 'HTTPBadRequest', "Unrecognized attribute(s) 'bogus'"],
      [{ quota: { network: -2 } }, 'HTTPBadRequest', "Invalid input for network. Reason: '-2' is too small - must be at least '-1'."],
      [{ quota: { network: 'many' } }, 'InvalidInput', "Invalid input for operation: 'many' is not an integer."],
      [{ limits: {} }, 'HTTPBadRequest', "Unable to find 'quota' in request body"],
    ];
    for (const [body, type, message] of cases) {
      const response = await server.request('PUT', '/v2.0/quotas/x', body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(neutronError(response)).toEqual({ type, message, detail: '' });
    }
    const post = await server.request('POST', '/v2.0/quotas', { quota: {} });
    expect(post.status).toBe(501);
  });
});

describe('enforcement', () => {
  test('creating past the limit is 409 OverQuota; usage shows in details', async () => {
    const headers = { 'x-project-id': 'quota-project' };
    for (let i = 0; i < 3; i++) await create(server, 'networks', 'network', { name: `n${i}` }, headers);
    const over = await server.request('POST', '/v2.0/networks', { network: {} }, headers);
    expect(over.status).toBe(409);
    expect(neutronError(over)).toEqual({ type: 'OverQuota', message: "Quota exceeded for resources: ['network'].", detail: '' });
    const details = await server.request('GET', '/v2.0/quotas/quota-project/details.json');
    expect(details.body.quota.network).toEqual({ limit: 3, used: 3, reserved: 0 });
    expect(details.body.quota.security_group).toEqual({ limit: 20, used: 1, reserved: 0 });
    // A bulk create that would pass the limit creates nothing.
    await server.request('PUT', '/v2.0/quotas/quota-project', { quota: { network: 4 } });
    const bulk = await server.request('POST', '/v2.0/networks', { networks: [{}, {}] }, headers);
    expect(bulk.status).toBe(409);
    expect((await server.request('GET', '/v2.0/networks?project_id=quota-project')).body.networks).toHaveLength(3);
  });

  test('concurrent creates never overshoot a limit', async () => {
    const headers = { 'x-project-id': 'race-project' };
    await server.request('PUT', '/v2.0/quotas/race-project', { quota: { network: 5 } });
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => server.request('POST', '/v2.0/networks', { network: {} }, headers)),
    );
    expect(responses.filter((r) => r.status === 201)).toHaveLength(5);
    expect(responses.filter((r) => r.status === 409)).toHaveLength(15);
  });

  test('-1 means unlimited', async () => {
    const headers = { 'x-project-id': 'free-project' };
    await server.request('PUT', '/v2.0/quotas/free-project', { quota: { network: -1 } });
    for (let i = 0; i < 5; i++) await create(server, 'networks', 'network', {}, headers);
    expect((await server.request('GET', '/v2.0/quotas/free-project/details')).body.quota.network.used).toBe(5);
  });
});
