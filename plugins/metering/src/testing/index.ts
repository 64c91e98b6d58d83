/** `@nucleon/metering/testing`: real receivers of usage events for tests — an HTTP webhook receiver and a private RabbitMQ. */
export * from './webhook-receiver.js';
export * from './rabbitmq.js';
