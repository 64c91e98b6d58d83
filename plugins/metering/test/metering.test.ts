/**
 * `@nucleon/metering` in-process: ML2 + the stock L3 plugin + metering. Metering labels and rules
 * with Neutron's validation; usage events through a REAL HTTP receiver that fails deliveries;
 * the usage ledger against the events.
 */
import { eventually, startTestServer, type TestServer } from '@nucleon/core/testing';
import l3Router from '@nucleon/l3-router';
import ml2 from '@nucleon/ml2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import metering, { SCHEMA_VERSION, usageTotals, verifySignature, sign } from '../src/index.js';
import { startWebhookReceiver, type ReceivedEvent, type WebhookReceiver } from '../src/testing/webhook-receiver.js';

const SECRET = 'billing-secret';

function start(config: Record<string, Record<string, string | number | boolean>> = {}): Promise<TestServer> {
  return startTestServer({
    core: ml2,
    services: [l3Router, metering],
    config: {
      ml2: { type_drivers: 'flat,vxlan', tenant_network_types: 'vxlan' },
      ml2_type_flat: { flat_networks: 'public' },
      ml2_type_vxlan: { vni_ranges: '1001:2000' },
      outbox: { poll_interval_ms: 100, retry_min_delay_ms: 20, retry_max_delay_ms: 100 },
      ...config,
    },
  });
}

describe('metering labels and rules', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await start();
  });
  afterAll(() => server?.close());

  const createRule = (body: Record<string, unknown>) =>
    server.request('POST', '/v2.0/metering/metering-label-rules', { metering_label_rule: body });

  it('creates, shows, lists and deletes labels; rules go with their label', async () => {
    const created = await server.request('POST', '/v2.0/metering/metering-labels', {
      metering_label: { name: 'web', description: 'tenant traffic' },
    });
    expect(created.status).toBe(201);
    const label = created.body.metering_label;
    expect(label).toEqual({
      id: label.id,
      name: 'web',
      description: 'tenant traffic',
      shared: false,
      project_id: label.project_id,
      tenant_id: label.project_id,
    });
    expect((await server.request('GET', `/v2.0/metering/metering-labels/${label.id}`)).body.metering_label).toEqual(label);
    expect((await server.request('GET', '/v2.0/metering/metering-labels?name=web')).body.metering_labels).toEqual([label]);

    const rule = await createRule({ metering_label_id: label.id, direction: 'ingress', remote_ip_prefix: '10.20.0.0/24' });
    expect(rule.status).toBe(201);
    expect(rule.body.metering_label_rule).toEqual({
      id: rule.body.metering_label_rule.id,
      metering_label_id: label.id,
      direction: 'ingress',
      remote_ip_prefix: '10.20.0.0/24',
      source_ip_prefix: null,
      destination_ip_prefix: null,
      excluded: false,
    });

    expect((await server.request('DELETE', `/v2.0/metering/metering-labels/${label.id}`)).status).toBe(204);
    expect((await server.request('GET', `/v2.0/metering/metering-label-rules/${rule.body.metering_label_rule.id}`)).status).toBe(404);
    expect((await server.request('GET', `/v2.0/metering/metering-labels/${label.id}`)).body).toEqual({
      NeutronError: { type: 'MeteringLabelNotFound', message: `Metering label ${label.id} does not exist`, detail: '' },
    });
  });

  it("answers Neutron's errors: 400 (where Neutron answers 500), 409 for overlaps, 404 for an unknown label", async () => {
    const label = (await server.request('POST', '/v2.0/metering/metering-labels', { metering_label: { name: 'checks' } })).body
      .metering_label;
    // Neutron raises its unmapped Invalid here and answers 500 (capture 120); this is the client's mistake: 400.
    const both = await createRule({
      metering_label_id: label.id,
      direction: 'ingress',
      remote_ip_prefix: '10.0.0.0/8',
      source_ip_prefix: '10.0.0.0/8',
    });
    expect(both.status).toBe(400);
    expect(both.body.NeutronError).toEqual({
      type: 'Invalid',
      message: "Cannot use 'remote-ip-prefix' in conjunction with 'source-ip-prefix' or 'destination-ip-prefix'.",
      detail: '',
    });
    const none = await createRule({ metering_label_id: label.id, direction: 'ingress' });
    expect(none.status).toBe(400);
    expect(none.body.NeutronError.message).toContain('You must define at least one of the following parameters');
    const hostBits = await createRule({ metering_label_id: label.id, direction: 'egress', source_ip_prefix: '10.0.0.1/24' });
    expect(hostBits.status).toBe(400);
    expect(hostBits.body.NeutronError.message).toBe(
      "Invalid input for source_ip_prefix. Reason: '10.0.0.1/24' isn't a recognized IP subnet cidr, '10.0.0.0/24' is recommended.",
    );
    const direction = await createRule({ metering_label_id: label.id, direction: 'sideways', remote_ip_prefix: '10.0.0.0/8' });
    expect(direction.status).toBe(400);

    expect((await createRule({ metering_label_id: label.id, direction: 'ingress', remote_ip_prefix: '10.0.0.0/8' })).status).toBe(201);
    const overlap = await createRule({ metering_label_id: label.id, direction: 'ingress', remote_ip_prefix: '10.1.0.0/16' });
    expect(overlap.status).toBe(409);
    expect(overlap.body.NeutronError).toEqual({
      type: 'MeteringLabelRuleOverlaps',
      message: 'Metering label rule with remote_ip_prefix 10.1.0.0/16 overlaps another.',
      detail: '',
    });
    // Another direction, or excluded, is another rule set.
    expect((await createRule({ metering_label_id: label.id, direction: 'egress', remote_ip_prefix: '10.1.0.0/16' })).status).toBe(201);
    expect(
      (await createRule({ metering_label_id: label.id, direction: 'ingress', excluded: true, remote_ip_prefix: '10.1.0.0/16' })).status,
    ).toBe(201);

    const unknown = await createRule({
      metering_label_id: '0f0f0f0f-0000-4000-8000-000000000000',
      direction: 'ingress',
      remote_ip_prefix: '192.0.2.0/24',
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body.NeutronError.type).toBe('MeteringLabelNotFound');
    const rules = (await server.request('GET', `/v2.0/metering/metering-label-rules?metering_label_id=${label.id}`)).body
      .metering_label_rules;
    expect(rules).toHaveLength(3);
  });
});

describe('signatures', () => {
  it('verify with the secret, within the tolerance, and not otherwise', () => {
    const now = Date.now();
    const header = sign(SECRET, '{"a":1}', Math.floor(now / 1000));
    expect(verifySignature(SECRET, header, '{"a":1}', 300, now)).toBe(true);
    expect(verifySignature(SECRET, header, '{"a":2}', 300, now)).toBe(false);
    expect(verifySignature('other', header, '{"a":1}', 300, now)).toBe(false);
    expect(verifySignature(SECRET, header, '{"a":1}', 300, now + 301_000)).toBe(false);
    expect(verifySignature(SECRET, undefined, '{"a":1}', 300, now)).toBe(false);
  });
});

describe('billing through a webhook that fails deliveries (real HTTP receiver)', () => {
  let server: TestServer;
  let receiver: WebhookReceiver;
  let external: string;

  beforeAll(async () => {
    receiver = await startWebhookReceiver(SECRET);
    server = await start({ billing: { sinks: 'webhook', webhook_url: receiver.url, webhook_secret: SECRET } });
    const network = await server.request('POST', '/v2.0/networks', {
      network: { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'public' },
    });
    external = network.body.network.id;
    await server.request('POST', '/v2.0/subnets', {
      subnet: { network_id: external, ip_version: 4, cidr: '203.0.113.0/24', enable_dhcp: false },
    });
    await eventually(() => expect(receiver.events()).toHaveLength(1));
  });
  afterAll(async () => {
    await server?.close();
    await receiver?.close();
  });

  it('every change reaches the receiver exactly once after de-duplication, in order per resource; the ledger matches', async () => {
    // Every third attempt fails; every fifth event's answer is lost after it was stored.
    let count = 0;
    receiver.decide((_event, attempt) => (++count % 3 === 0 ? 'fail' : attempt === 1 && count % 5 === 0 ? 'lose-answer' : 'ok'));
    const call = async (
      method: string,
      path: string,
      body?: unknown,
      status = method === 'POST' ? 201 : method === 'DELETE' ? 204 : 200,
    ) => {
      const response = await server.request(method, path, body);
      expect(response.status, response.text).toBe(status);
      return response.body;
    };

    const net = (await call('POST', '/v2.0/networks', { network: { name: 'app' } })).network;
    const subnet = (await call('POST', '/v2.0/subnets', { subnet: { network_id: net.id, ip_version: 4, cidr: '10.0.0.0/24' } })).subnet;
    await call('PUT', `/v2.0/networks/${net.id}`, { network: { name: 'app-renamed' } });
    const router = (await call('POST', '/v2.0/routers', { router: { name: 'r', external_gateway_info: { network_id: external } } })).router;
    await call('PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: subnet.id }, 200);
    const port = (await call('POST', '/v2.0/ports', { port: { network_id: net.id } })).port;
    const port2 = (await call('POST', '/v2.0/ports', { port: { network_id: net.id } })).port;
    const fip = (await call('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: external, port_id: port.id } })).floatingip;
    await call('PUT', `/v2.0/floatingips/${fip.id}`, { floatingip: { port_id: port2.id } });
    // Deleting the port disassociates its floating IP: an update event Neutron's API never notifies.
    await call('DELETE', `/v2.0/ports/${port2.id}`);
    // A refused change leaves no event: the address is taken.
    await call(
      'POST',
      '/v2.0/floatingips',
      { floatingip: { floating_network_id: external, floating_ip_address: fip.floating_ip_address } },
      409,
    );
    await call('DELETE', `/v2.0/floatingips/${fip.id}`);

    const expected = [
      ['network', net.id, 'network.create.end'],
      ['network', net.id, 'network.update.end'],
      ['floatingip', fip.id, 'floatingip.create.end'],
      ['floatingip', fip.id, 'floatingip.update.end'],
      ['floatingip', fip.id, 'floatingip.update.end'],
      ['floatingip', fip.id, 'floatingip.delete.end'],
    ];
    const mine = () => receiver.events().filter((e) => e.subject === `network/${net.id}` || e.subject === `floatingip/${fip.id}`);
    await eventually(() => expect(mine()).toHaveLength(expected.length), 20_000);
    await server.runtime.outbox.drain();
    expect(await server.runtime.outbox.pending()).toEqual([]);
    const events = mine();
    // Per resource, in the order of the changes.
    for (const resource of ['network', 'floatingip']) {
      expect(events.filter((e) => e.subject.startsWith(`${resource}/`)).map((e) => e.type)).toEqual(
        expected.filter(([r]) => r === resource).map(([, , type]) => type),
      );
    }
    expect(receiver.attempts.some((a) => a.verdict === 'fail')).toBe(true);
    expect(receiver.duplicates()).toBeGreaterThan(0);

    // The shape: CloudEvents 1.0 around the oslo.messaging message; payload as Neutron's plus the schema version.
    const fipCreate = events.find((e) => e.type === 'floatingip.create.end')!;
    expect(fipCreate).toMatchObject({
      specversion: '1.0',
      source: expect.stringMatching(/^\/nucleon\//),
      projectid: fip.project_id,
      datacontenttype: 'application/json',
    });
    expect(fipCreate.data).toMatchObject({
      message_id: fipCreate.id,
      event_type: 'floatingip.create.end',
      priority: 'INFO',
      publisher_id: expect.stringMatching(/^network\./),
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/),
      payload: { schema_version: SCHEMA_VERSION, floatingip: { id: fip.id, port_id: port.id, project_id: fip.project_id } },
    });
    const reassociated = events.filter((e) => e.type === 'floatingip.update.end');
    expect(reassociated.map((e) => (e.data.payload.floatingip as { port_id: string | null }).port_id)).toEqual([port2.id, null]);
    const deleted = events.find((e) => e.type === 'floatingip.delete.end')!;
    expect(deleted.data.payload).toMatchObject({
      floatingip_id: fip.id,
      floatingip: { id: fip.id, floating_ip_address: fip.floating_ip_address },
    });

    // The ledger: one existence interval, two association intervals, each bounded by its events.
    const intervals = (
      await call('GET', `/v2.0/metering/usage-intervals?resource_id=${fip.id}&sort_key=started_at&sort_dir=asc&sort_key=kind&sort_dir=desc`)
    ).usage_intervals as Array<Record<string, string | null>>;
    const timeOf = (event: ReceivedEvent) => `${event.data.timestamp.replace(' ', 'T')}Z`;
    const byType = (type: string, nth = 0) => events.filter((e) => e.type === type)[nth]!;
    expect(intervals.map((i) => [i.kind, i.started_at, i.ended_at, i.start_event_id, i.end_event_id])).toEqual([
      ['exists', timeOf(byType('floatingip.create.end')), timeOf(deleted), byType('floatingip.create.end').id, deleted.id],
      [
        'associated',
        timeOf(byType('floatingip.create.end')),
        timeOf(byType('floatingip.update.end')),
        byType('floatingip.create.end').id,
        byType('floatingip.update.end').id,
      ],
      [
        'associated',
        timeOf(byType('floatingip.update.end')),
        timeOf(byType('floatingip.update.end', 1)),
        byType('floatingip.update.end').id,
        byType('floatingip.update.end', 1).id,
      ],
    ]);
    expect(intervals[1]).toMatchObject({ project_id: fip.project_id, resource_type: 'floatingip', details: { port_id: port.id } });
    const network = (await call('GET', `/v2.0/metering/usage-intervals?resource_id=${net.id}`)).usage_intervals;
    expect(network).toEqual([
      expect.objectContaining({
        kind: 'exists',
        started_at: timeOf(byType('network.create.end')),
        ended_at: null,
        details: expect.objectContaining({ name: 'app' }),
      }),
    ]);

    // A time window: the intervals overlapping it, and totals clipped to it.
    const after = new Date(Date.parse(timeOf(deleted)) + 1);
    expect(
      (await call('GET', `/v2.0/metering/usage-intervals?resource_id=${fip.id}&start=${after.toISOString()}`)).usage_intervals,
    ).toEqual([]);
    const startedAt = Date.parse(timeOf(byType('floatingip.create.end')));
    const totals = await usageTotals(server.runtime.db, new Date(startedAt), after, fip.project_id);
    const existed = totals.find((t) => t.resource_type === 'floatingip' && t.kind === 'exists')!;
    expect(existed.seconds).toBeCloseTo((Date.parse(timeOf(deleted)) - startedAt) / 1000, 3);
    const bad = await server.request('GET', '/v2.0/metering/usage-intervals?start=yesterday');
    expect(bad.status).toBe(400);
    expect(bad.body.NeutronError.message).toContain("Invalid input for start. Reason: 'yesterday' is not an ISO 8601 time");
  });
});
