import amqplib, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import type { Logger } from 'pino';
import { osloMessage, type UsageEvent } from '../usage/notification.js';
import type { BillingSink } from './sink.js';

export interface AmqpOptions {
  /** `amqp://user:pass@host:5672/vhost` */
  readonly url: string;
  /** oslo.messaging's control_exchange for Neutron: `neutron`. */
  readonly exchange: string;
  /** Notification topic; events go to `<topic>.info` (`notifications.info`). */
  readonly topic: string;
  /** oslo's `amqp_durable_queues`: exchange and queue survive a broker restart, messages are persistent. */
  readonly durable: boolean;
  readonly timeoutMs: number;
}

/**
 * Publishes each event as oslo.messaging's `messagingv2` driver does — `{"oslo.version": "2.0",
 * "oslo.message": "<JSON>"}` on the topic exchange `neutron`, routing key `notifications.info`,
 * with the `notifications.info` queue declared and bound as oslo declares it — so Ceilometer or
 * CloudKitty listening for Neutron's notifications receive them. A delivery counts once the
 * broker confirms it (publisher confirms); a lost connection is re-opened by the next delivery.
 */
export class AmqpSink implements BillingSink {
  readonly name = 'amqp';
  private channel?: Promise<ConfirmChannel>;
  private model?: ChannelModel;

  constructor(
    private readonly options: AmqpOptions,
    private readonly log: Logger,
  ) {}

  private get queue(): string {
    return `${this.options.topic}.info`;
  }

  private connect(): Promise<ConfirmChannel> {
    this.channel ??= this.open().catch((error: unknown) => {
      void this.reset();
      throw error;
    });
    return this.channel;
  }

  private async open(): Promise<ConfirmChannel> {
    const { exchange, durable, timeoutMs } = this.options;
    const model = await amqplib.connect(this.options.url, { timeout: timeoutMs });
    this.model = model;
    model.on('error', (err: Error) => this.log.warn({ err }, 'AMQP connection error'));
    model.on('close', () => void this.reset(model));
    const channel = await model.createConfirmChannel();
    channel.on('error', (err: Error) => this.log.warn({ err }, 'AMQP channel error'));
    channel.on('close', () => void this.reset(model));
    await channel.assertExchange(exchange, 'topic', { durable, autoDelete: false });
    await channel.assertQueue(this.queue, { durable, autoDelete: false });
    await channel.bindQueue(this.queue, exchange, this.queue);
    return channel;
  }

  /** Forgets a broken connection (of `model`, or whatever is open) so the next delivery reconnects. */
  private async reset(model?: ChannelModel): Promise<void> {
    if (model && model !== this.model) return;
    const old = this.model;
    this.model = undefined;
    this.channel = undefined;
    await old?.close().catch(() => {});
  }

  async deliver(event: UsageEvent): Promise<void> {
    const channel = await this.connect();
    const body = Buffer.from(JSON.stringify({ 'oslo.version': '2.0', 'oslo.message': JSON.stringify(osloMessage(event)) }));
    try {
      await new Promise<void>((resolve, reject) => {
        channel.publish(
          this.options.exchange,
          this.queue,
          body,
          { contentType: 'application/json', contentEncoding: 'utf-8', messageId: event.message_id, persistent: this.options.durable },
          (err) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve()),
        );
      });
    } catch (error) {
      void this.reset();
      throw error;
    }
  }

  close(): Promise<void> {
    return this.reset();
  }
}
