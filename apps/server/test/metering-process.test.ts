/**
 * `service_plugins = router,metering` as operators run it: a real nucleon-server process billing
 * to a real HTTP receiver. A server killed with SIGKILL after changes committed, while their
 * usage events were on the wire, delivers them when it starts again; the receiver sees each
 * event once after de-duplication; `nucleon-server metering usage` reports the ledger.
 */
import { eventually as within } from '@nucleon/core/testing';
import { startWebhookReceiver, type WebhookReceiver } from '@nucleon/metering/testing';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, requestJson, runServer, SERVER_DIR, startServer, stopAll, tempDir, writeConf } from './helpers/processes.js';

afterAll(stopAll);

/** Real processes restart and retry: allow them longer than in-process tests. */
const eventually = (check: () => Promise<void> | void) => within(check, 30_000, 100);

const SECRET = 'a-shared-billing-secret';

describe('service_plugins = metering with a webhook', () => {
  let receiver: WebhookReceiver;
  let env: { dir: string; remove: () => Promise<void> };
  let files: string[];
  let base: string;

  beforeAll(async () => {
    receiver = await startWebhookReceiver(SECRET);
    env = await tempDir('metering');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    // The shipped sample, with this test's receiver and timings layered over it.
    const conf = await writeConf(env.dir, 'neutron.conf', {
      DEFAULT: { bind_host: '127.0.0.1', bind_port: port, core_plugin: 'ml2' },
      database: { connection: `pglite://${env.dir}/data` },
      ml2: { type_drivers: 'flat,vxlan', tenant_network_types: 'vxlan' },
      ml2_type_vxlan: { vni_ranges: '1001:2000' },
      billing: { sinks: 'webhook', webhook_url: receiver.url, webhook_secret: SECRET, webhook_timeout_ms: 60_000 },
      // A short lease: what the killed server was delivering at that moment is retried soon after.
      outbox: { poll_interval_ms: 200, retry_min_delay_ms: 100, retry_max_delay_ms: 500, lease_ms: 2000 },
    });
    files = ['--config-file', join(SERVER_DIR, 'etc', 'billing.conf'), '--config-file', conf];
  });
  afterAll(async () => {
    await receiver?.close();
    await env?.remove();
  });

  const call = (method: string, path: string, body?: unknown) => requestJson(`${base}${path}`, method, body);

  test('a SIGKILLed server delivers, after restart, the events it had committed but not delivered', async () => {
    const startedAt = new Date();
    let server = await startServer(files).ready();
    // The receiver takes the requests and never answers: the events are in flight when the server dies.
    receiver.decide(() => 'hang');
    const a = (await call('POST', '/v2.0/networks', { network: { name: 'billed-a' } })).body.network;
    const b = (await call('POST', '/v2.0/networks', { network: { name: 'billed-b' } })).body.network;
    await eventually(() => expect(new Set(receiver.attempts.map((x) => x.id)).size).toBe(2));
    // A third change commits while b's event is still in flight; it waits behind it.
    expect((await call('PUT', `/v2.0/networks/${b.id}`, { network: { name: 'billed-b2' } })).status).toBe(200);
    expect((await server.stop('SIGKILL')).signal).toBe('SIGKILL');
    expect(receiver.events()).toEqual([]);

    receiver.decide(() => 'ok');
    server = await startServer(files).ready();
    await eventually(() => expect(receiver.events().map((e) => [e.subject, e.type])).toHaveLength(3));
    const events = receiver.events();
    expect(events.filter((e) => e.subject === `network/${a.id}`).map((e) => e.type)).toEqual(['network.create.end']);
    expect(events.filter((e) => e.subject === `network/${b.id}`).map((e) => e.type)).toEqual(['network.create.end', 'network.update.end']);
    // Both creates were attempted before the kill and again after it: the same ids, so de-duplication works.
    for (const network of [a, b]) {
      const id = events.find((e) => e.subject === `network/${network.id}` && e.type === 'network.create.end')!.id;
      expect(receiver.attempts.filter((x) => x.id === id).length).toBeGreaterThanOrEqual(2);
    }
    expect(receiver.attempts.filter((x) => x.verdict === 'bad-signature')).toEqual([]);

    // The ledger over the API, then from the command line (PGlite: one process at a time).
    const intervals = (await call('GET', `/v2.0/metering/usage-intervals?resource_type=network&project_id=${a.project_id}`)).body
      .usage_intervals;
    expect(intervals.map((i: { resource_id: string }) => i.resource_id).sort()).toEqual([a.id, b.id].sort());
    expect((await call('DELETE', `/v2.0/networks/${a.id}`)).status).toBe(204);
    await eventually(() => expect(receiver.events()).toHaveLength(4));
    await server.stop();

    const end = new Date(Date.now() + 60_000);
    const { exit, server: command } = await runServer([
      'metering',
      'usage',
      '--start',
      startedAt.toISOString(),
      '--end',
      end.toISOString(),
      '--project-id',
      a.project_id,
      ...files,
    ]);
    expect(exit.code, command.stderr).toBe(0);
    const report = JSON.parse(command.stdout) as { start: string; end: string; usage: Array<Record<string, unknown>> };
    expect(report.start).toBe(startedAt.toISOString());
    expect(report.usage).toEqual([
      { project_id: a.project_id, resource_type: 'network', kind: 'exists', resources: 2, seconds: expect.any(Number) },
    ]);
    expect(report.usage[0]!.seconds).toBeGreaterThan(0);

    const refused = await runServer(['metering', 'usage', '--start', 'yesterday', '--end', end.toISOString(), ...files]);
    expect(refused.exit.code).toBe(1);
    expect(refused.server.stderr).toContain("metering usage: --start 'yesterday' is not an ISO 8601 time");
    const missing = await runServer(['metering', 'usage', ...files]);
    expect(missing.exit.code).toBe(1);
    expect(missing.server.stderr).toContain('metering usage: --start, --end required');
  });
});
