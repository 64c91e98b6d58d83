/**
 * Usage events to a REAL RabbitMQ (Debian's rabbitmq-server, started privately by the test), read
 * back by a consumer of `notifications.info` as Ceilometer's notification agent reads Neutron's.
 */
import { eventually, startTestServer, type TestServer } from '@nucleon/core/testing';
import l3Router from '@nucleon/l3-router';
import ml2 from '@nucleon/ml2';
import amqplib, { type Channel, type ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import metering, { SCHEMA_VERSION } from '../src/index.js';
import { rabbitMqAvailable, startRabbitMq, type RabbitMqServer } from '../src/testing/rabbitmq.js';

interface OsloMessage {
  message_id: string;
  event_type: string;
  publisher_id: string;
  priority: string;
  timestamp: string;
  payload: Record<string, unknown> & { schema_version: string };
  _context_project_id: string | null;
}

describe.skipIf(!rabbitMqAvailable)('billing to RabbitMQ (real broker, oslo.messaging envelope)', { timeout: 120_000 }, () => {
  let broker: RabbitMqServer;
  let server: TestServer;
  let consumer: ChannelModel;
  let channel: Channel;
  const received: Array<{
    routingKey: string;
    exchange: string;
    messageId: unknown;
    message: OsloMessage;
    envelope: Record<string, unknown>;
  }> = [];

  beforeAll(async () => {
    broker = await startRabbitMq();
    server = await startTestServer({
      core: ml2,
      services: [l3Router, metering],
      config: {
        ml2: { type_drivers: 'flat,vxlan', tenant_network_types: 'vxlan' },
        ml2_type_flat: { flat_networks: 'public' },
        ml2_type_vxlan: { vni_ranges: '1001:2000' },
        DEFAULT: { host: 'net-node-1' },
        outbox: { poll_interval_ms: 100, retry_min_delay_ms: 100, retry_max_delay_ms: 500 },
        // Durable, so what waits in the queue survives the broker restart below.
        billing: { sinks: 'amqp', amqp_url: broker.url, amqp_durable_queues: true, amqp_timeout_ms: 2000 },
      },
    });
  }, 120_000);
  afterAll(async () => {
    await consumer?.close().catch(() => {});
    await server?.close();
    await broker?.close();
  });

  /** Consumes `notifications.info`, which the sink declares and binds on its first delivery, as oslo does. */
  async function consume(): Promise<void> {
    consumer = await amqplib.connect(broker.url);
    consumer.on('error', () => {});
    channel = await consumer.createChannel();
    await channel.consume('notifications.info', (msg) => {
      if (!msg) return;
      const envelope = JSON.parse(msg.content.toString('utf8')) as Record<string, unknown>;
      const message = JSON.parse(envelope['oslo.message'] as string) as OsloMessage;
      // At least once: a message whose ack did not reach the broker before a disconnect comes again.
      if (!received.some((r) => r.message.message_id === message.message_id))
        received.push({
          routingKey: msg.fields.routingKey,
          exchange: msg.fields.exchange,
          messageId: msg.properties.messageId,
          message,
          envelope,
        });
      channel.ack(msg);
    });
  }

  it('publishes every change on the neutron exchange as notifications.info, in order per resource, across a broker restart', async () => {
    const net = (await server.request('POST', '/v2.0/networks', { network: { name: 'billed' } })).body.network;
    await eventually(async () => expect((await server.runtime.outbox.pending()).length).toBe(0), 30_000);
    await consume();
    await eventually(() => expect(received.map((r) => r.message.event_type)).toEqual(['network.create.end']), 30_000);

    const first = received[0]!;
    expect(first).toMatchObject({ exchange: 'neutron', routingKey: 'notifications.info', messageId: first.message.message_id });
    expect(first.envelope['oslo.version']).toBe('2.0');
    expect(first.message).toMatchObject({
      event_type: 'network.create.end',
      publisher_id: 'network.net-node-1',
      priority: 'INFO',
      payload: { schema_version: SCHEMA_VERSION, network: { id: net.id, name: 'billed', project_id: net.project_id } },
      _context_project_id: expect.any(String),
    });
    expect(first.message.timestamp).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/);

    // The broker goes away: changes still commit, their events wait in the outbox and follow once it is back.
    await consumer.close().catch(() => {});
    await broker.stop();
    expect((await server.request('PUT', `/v2.0/networks/${net.id}`, { network: { name: 'billed-2' } })).status).toBe(200);
    expect((await server.request('DELETE', `/v2.0/networks/${net.id}`)).status).toBe(204);
    await eventually(async () => expect((await server.runtime.outbox.pending())[0]?.attempts ?? 0).toBeGreaterThan(0), 30_000);
    await broker.restart();
    await eventually(async () => expect((await server.runtime.outbox.pending()).length).toBe(0), 60_000);
    await consume();
    await eventually(
      () => expect(received.map((r) => r.message.event_type)).toEqual(['network.create.end', 'network.update.end', 'network.delete.end']),
      30_000,
    );
    const [, updated, deleted] = received;
    expect(updated!.message.payload).toMatchObject({ network: { id: net.id, name: 'billed-2' } });
    expect(deleted!.message.payload).toMatchObject({ network_id: net.id, network: { id: net.id, name: 'billed-2' } });
  });
});
