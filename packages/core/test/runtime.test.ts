import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { definePlugin, NeutronError, StartupError } from '../src/index.js';
import { startTestServer, type TestServer } from '../src/testing/index.js';
import { widgetPlugin } from './fixtures/widgets/plugin.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ core: widgetPlugin({ withShine: true }) });
});
afterAll(() => server?.close());

describe('discovery', () => {
  test('GET / lists the API version; GET /v2.0/ the core resources; GET /v2.0 is a 404', async () => {
    const root = await server.request('GET', '/', undefined, { host: '127.0.0.1:9696' });
    expect(root.body).toEqual({
      versions: [{ id: 'v2.0', status: 'CURRENT', links: [{ rel: 'self', href: 'http://127.0.0.1:9696/v2.0/' }] }],
    });
    const resources = await server.request('GET', '/v2.0/', undefined, { host: '127.0.0.1:9696' });
    expect(resources.body).toEqual({
      resources: [{ name: 'widget', collection: 'widgets', links: [{ rel: 'self', href: 'http://127.0.0.1:9696/v2.0/widgets' }] }],
    });
    const noSlash = await server.request('GET', '/v2.0');
    expect(noSlash.status).toBe(404);
    expect(noSlash.body).toEqual({ NeutronError: { type: 'HTTPNotFound', message: 'The resource could not be found.', detail: '' } });
    expect(noSlash.headers['x-openstack-request-id']).toMatch(/^req-/);
  });

  test('extensions: only those a loaded plugin supports, in Neutron format', async () => {
    const list = await server.request('GET', '/v2.0/extensions');
    const aliases = list.body.extensions.map((e: { alias: string }) => e.alias);
    expect(aliases).toContain('widget-shine');
    expect(aliases).toContain('standard-attr-tag');
    expect(aliases).not.toContain('security-group');
    const shown = await server.request('GET', '/v2.0/extensions/widget-shine');
    expect(shown.body).toEqual({
      extension: {
        name: 'Widget shine',
        alias: 'widget-shine',
        description: 'Adds the shiny attribute to widgets.',
        updated: '2026-01-01T00:00:00-00:00',
        links: [],
      },
    });
    const unknown = await server.request('GET', '/v2.0/extensions/security-group');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({
      message: 'The resource could not be found.<br /><br />\nExtension with alias security-group does not exist\n\n',
      code: '404 Not Found',
      title: 'Not Found',
    });
  });
});

describe('generic resource machinery', () => {
  test('create fills defaults, accepts hidden attributes without showing them, and shows extension attributes', async () => {
    const response = await server.request('POST', '/v2.0/widgets', { widget: { name: 'w1', secret: 's', shiny: 'true' } });
    expect(response.status).toBe(201);
    expect(response.body.widget).toMatchObject({
      name: 'w1',
      size: 1,
      color: null,
      shiny: true,
      description: '',
      revision_number: 0,
      tags: [],
    });
    expect(response.body.widget).not.toHaveProperty('secret');
  });

  test('an attribute of an extension nobody supports is unknown', async () => {
    const plain = await startTestServer({ core: widgetPlugin() });
    try {
      const response = await plain.request('POST', '/v2.0/widgets', { widget: { shiny: true } });
      expect(response.body).toEqual({ NeutronError: { type: 'HTTPBadRequest', message: "Unrecognized attribute(s) 'shiny'", detail: '' } });
      const created = await plain.request('POST', '/v2.0/widgets', { widget: {} });
      expect(created.body.widget).not.toHaveProperty('shiny');
    } finally {
      await plain.close();
    }
  });

  test('validation: ranges, enums, integers', async () => {
    const tooBig = await server.request('POST', '/v2.0/widgets', { widget: { size: 101 } });
    expect(tooBig.body.NeutronError.message).toBe("Invalid input for size. Reason: '101' is too large - must be no larger than '100'.");
    const color = await server.request('POST', '/v2.0/widgets', { widget: { color: 'green' } });
    expect(color.body.NeutronError.message).toBe("Invalid input for color. Reason: 'green' is not in ['red', 'blue'].");
    const notInt = await server.request('POST', '/v2.0/widgets', { widget: { size: '1.5' } });
    expect(notInt.body.NeutronError).toEqual({
      type: 'InvalidInput',
      message: "Invalid input for operation: '1.5' is not an integer.",
      detail: '',
    });
  });

  test('quotas registered by the plugin are enforced', async () => {
    const headers = { 'x-project-id': 'widget-quota' };
    for (let i = 0; i < 3; i++) expect((await server.request('POST', '/v2.0/widgets', { widget: {} }, headers)).status).toBe(201);
    const over = await server.request('POST', '/v2.0/widgets', { widget: {} }, headers);
    expect(over.body.NeutronError.type).toBe('OverQuota');
  });
});

describe('event registry semantics', () => {
  test('before_* subscribers veto with their own error, abort_* follows, nothing is written', async () => {
    const seen: string[] = [];
    const offBefore = server.runtime.events.subscribe('widget', 'before_create', (payload) => {
      seen.push(`before:${String(payload.requestBody?.name)}`);
      if (payload.requestBody?.name === 'forbidden') throw new NeutronError(409, 'WidgetForbidden', 'No forbidden widgets.');
    });
    const offAbort = server.runtime.events.subscribe('widget', 'abort_create', () => {
      seen.push('abort');
    });
    try {
      const vetoed = await server.request('POST', '/v2.0/widgets', { widget: { name: 'forbidden' } });
      expect(vetoed.status).toBe(409);
      expect(vetoed.body.NeutronError).toEqual({ type: 'WidgetForbidden', message: 'No forbidden widgets.', detail: '' });
      expect(seen).toEqual(['before:forbidden', 'abort']);
      expect((await server.request('GET', '/v2.0/widgets?name=forbidden')).body.widgets).toEqual([]);
    } finally {
      offBefore();
      offAbort();
    }
  });

  test('precommit_* runs in the transaction: a failure rolls the change back and is a 500 without details', async () => {
    const off = server.runtime.events.subscribe('widget', 'precommit_create', (payload) => {
      const state = payload.states[payload.states.length - 1] as { name: string };
      if (state.name === 'doomed') throw new Error('disk on fire');
    });
    try {
      const failed = await server.request('POST', '/v2.0/widgets', { widget: { name: 'doomed' } });
      expect(failed.status).toBe(500);
      expect(failed.body).toEqual({
        NeutronError: {
          type: 'HTTPInternalServerError',
          message: 'Request Failed: internal server error while processing your request.',
          detail: '',
        },
      });
      expect(failed.text).not.toContain('disk on fire');
      expect((await server.request('GET', '/v2.0/widgets?name=doomed')).body.widgets).toEqual([]);
    } finally {
      off();
    }
  });

  test('after_* runs after commit with old and new states; its failures never undo the change', async () => {
    const updates: Array<[string, string]> = [];
    const order: string[] = [];
    const offs = [
      server.runtime.events.subscribe(
        'widget',
        'after_update',
        (payload) => {
          const [before, after] = payload.states as Array<{ name: string }>;
          updates.push([before!.name, after!.name]);
          order.push('second');
        },
        { priority: 20 },
      ),
      server.runtime.events.subscribe(
        'widget',
        'after_update',
        () => {
          order.push('first');
          throw new Error('subscriber bug');
        },
        { priority: 10 },
      ),
    ];
    try {
      const created = await server.request('POST', '/v2.0/widgets', { widget: { name: 'old' } });
      const updated = await server.request('PUT', `/v2.0/widgets/${created.body.widget.id}`, { widget: { name: 'new' } });
      expect(updated.status).toBe(200);
      expect(updated.body.widget.revision_number).toBe(1);
      expect(updates).toEqual([['old', 'new']]);
      expect(order).toEqual(['first', 'second']);
    } finally {
      for (const off of offs) off();
    }
  });
});

describe('start-up checks', () => {
  test('a plugin lacking the methods its resources need, or naming an unknown alias, is refused with every problem listed', async () => {
    const broken = definePlugin({
      ...widgetPlugin({ extraAliases: ['no-such-extension'] }),
      create: () => ({}),
    });
    const error = await startTestServer({ core: broken }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StartupError);
    expect((error as StartupError).problems).toEqual([
      "plugin @nucleon/widgets@0.0.0-test declares extension alias 'no-such-extension', which no loaded extension defines",
    ]);
    const methodless = definePlugin({ ...widgetPlugin(), create: () => ({}) });
    const missing = await startTestServer({ core: methodless }).catch((e: unknown) => e);
    expect((missing as StartupError).problems).toEqual([
      'plugin @nucleon/widgets@0.0.0-test serves widgets but has no createWidget() method',
      'plugin @nucleon/widgets@0.0.0-test serves widgets but has no updateWidget() method',
      'plugin @nucleon/widgets@0.0.0-test serves widgets but has no deleteWidget() method',
    ]);
  });

  test('two plugins of one service type and an incompatible core range are refused', async () => {
    const l3 = (name: string) =>
      definePlugin({ name, type: 'L3_ROUTER_NAT', description: name, coreVersion: '^0.1.0', create: () => ({}) });
    const future = definePlugin({
      name: 'future',
      type: 'METERING',
      description: 'needs core 9',
      coreVersion: '^9.0.0',
      create: () => ({}),
    });
    const error = await startTestServer({ core: widgetPlugin(), services: [l3('l3-a'), l3('l3-b'), future] }).catch((e: unknown) => e);
    expect((error as StartupError).problems).toEqual(
      expect.arrayContaining([
        'service plugins @nucleon/l3-a and @nucleon/l3-b both provide service type L3_ROUTER_NAT; only one plugin per service type may be loaded',
        expect.stringMatching(
          /^plugin @nucleon\/future@0\.0\.0-test requires @nucleon\/core \^9\.0\.0, but @nucleon\/core \d+\.\d+\.\d+ is installed$/,
        ),
      ]),
    );
  });
});
