import { defineOptions, opt } from '@nucleon/core';

/** `[billing]`: where usage events go. */
export const billingOptions = defineOptions({
  billing: {
    sinks: opt.list([], 'Where usage events go: webhook, amqp, or both (empty: the ledger only).'),
    webhook_url: opt.string('', 'URL the webhook sink POSTs CloudEvents to.'),
    webhook_secret: opt.string('', 'Shared secret of the HMAC-SHA256 signature (X-Nucleon-Signature).'),
    webhook_timeout_ms: opt.int(10000, 'How long to wait for the webhook per delivery.', { min: 100 }),
    amqp_url: opt.string('', 'RabbitMQ URL: amqp://user:pass@host:5672/vhost (amqps:// for TLS).'),
    amqp_exchange: opt.string('neutron', "The exchange notifications are published to (Neutron's control_exchange)."),
    amqp_topic: opt.string('notifications', 'Notification topic; events are routed to <topic>.info.'),
    amqp_durable_queues: opt.bool(false, "oslo.messaging's amqp_durable_queues: durable exchange and queue, persistent messages."),
    amqp_timeout_ms: opt.int(10000, 'How long to wait for RabbitMQ when connecting.', { min: 100 }),
  },
});
