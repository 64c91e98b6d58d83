/**
 * The RabbitMQ test fixture itself (src/testing/rabbitmq.ts): a real broker that takes messages,
 * and keeps durable ones across `restart()`.
 */
import amqplib, { type ChannelModel } from 'amqplib';
import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { rabbitMqAvailable, startRabbitMq, type RabbitMqServer } from '../src/testing/rabbitmq.js';

describe.skipIf(!rabbitMqAvailable)('RabbitMQ test fixture', { timeout: 120_000 }, () => {
  let rabbit: RabbitMqServer;
  const connections: ChannelModel[] = [];
  const connect = async (): Promise<ChannelModel> => {
    const connection = await amqplib.connect(rabbit.url);
    connections.push(connection);
    return connection;
  };

  beforeAll(async () => {
    rabbit = await startRabbitMq();
  }, 120_000);
  afterEach(async () => {
    // Closing twice rejects; a broker restart may have closed them already.
    await Promise.allSettled(connections.splice(0).map((connection) => connection.close()));
  });
  afterAll(async () => {
    await rabbit?.close();
  }, 120_000);

  it('is on loopback, with its own user and vhost', () => {
    expect(rabbit.host).toBe('127.0.0.1');
    expect(rabbit.url).toBe(`amqp://${rabbit.user}:${rabbit.password}@127.0.0.1:${rabbit.port}/nucleon`);
    expect(rabbit.log()).toContain('Server startup complete');
  });

  it('delivers a published message to a consumer', async () => {
    const channel = await (await connect()).createChannel();
    const queue = `fixture-${randomBytes(4).toString('hex')}`;
    await channel.assertQueue(queue, { durable: false, autoDelete: true });
    const received = new Promise<string>((resolve) => {
      void channel.consume(queue, (message) => {
        if (!message) return;
        channel.ack(message);
        resolve(message.content.toString());
      });
    });
    channel.sendToQueue(queue, Buffer.from('hello'));
    expect(await received).toBe('hello');
  });

  it('keeps its port and durable messages across restart()', async () => {
    const queue = `durable-${randomBytes(4).toString('hex')}`;
    const channel = await (await connect()).createConfirmChannel();
    await channel.assertQueue(queue, { durable: true });
    channel.sendToQueue(queue, Buffer.from('survives'), { persistent: true });
    await channel.waitForConfirms();
    const port = rabbit.port;

    await rabbit.restart();

    expect(rabbit.port).toBe(port);
    const after = await (await connect()).createChannel();
    const message = await after.get(queue, { noAck: true });
    expect(message && message.content.toString()).toBe('survives');
  });
});
