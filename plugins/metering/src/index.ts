/**
 * metering — the METERING service plugin: Neutron's metering labels and label rules, and billing
 * of networks and floating IPs: usage events (oslo.messaging notifications) delivered through the
 * core's outbox to a signed CloudEvents webhook and/or RabbitMQ, and a usage ledger (see README.md).
 */
import { coreOptions, definePlugin, StartupError, type OptionValues, type Runtime } from '@nucleon/core';
import { meteringExtensions } from './labels/definitions.js';
import { meteringLabelRulesTable, meteringLabelsTable } from './labels/labels.js';
import { billingOptions } from './options.js';
import { MeteringPlugin } from './plugin.js';
import { AmqpSink } from './sinks/amqp.js';
import type { BillingSink } from './sinks/sink.js';
import { WebhookSink } from './sinks/webhook.js';
import { parseTime, usageExtension, usageIntervalsTable, usageTotals } from './usage/ledger.js';
import { topicOf } from './usage/recorder.js';

export { MeteringPlugin } from './plugin.js';
export {
  MeteringLabels,
  MeteringLabelRuleOverlaps,
  InvalidMeteringRule,
  meteringLabelsTable,
  meteringLabelRulesTable,
} from './labels/labels.js';
export * from './labels/definitions.js';
export { billingOptions } from './options.js';
export {
  usageInterval,
  usageIntervalsTable,
  usageExtension,
  usageTotals,
  type UsageInterval,
  type UsageTotal,
  type UsageKind,
} from './usage/ledger.js';
export { SCHEMA_VERSION, osloMessage, billedProject, resourceOf, type UsageEvent } from './usage/notification.js';
export { UsageRecorder } from './usage/recorder.js';
export { WebhookSink, cloudEvent, sign, verifySignature, SIGNATURE_HEADER, type WebhookOptions } from './sinks/webhook.js';
export { AmqpSink, type AmqpOptions } from './sinks/amqp.js';
export type { BillingSink } from './sinks/sink.js';

type BillingConfig = OptionValues<(typeof billingOptions)['sections']>['billing'];

const SINKS = ['webhook', 'amqp'];

/** The sinks `[billing] sinks` names, each checked for the options it needs. */
function billingSinks(runtime: Runtime, billing: BillingConfig, host: string): BillingSink[] {
  const problems = billing.sinks
    .filter((name) => !SINKS.includes(name))
    .map((name) => `[billing] sinks: unknown sink '${name}' (known: ${SINKS.join(', ')})`);
  const needs = (sink: string, option: keyof BillingConfig) =>
    billing.sinks.includes(sink) && billing[option] === '' ? [`[billing] ${option} is required with sinks = ${sink}`] : [];
  problems.push(...needs('webhook', 'webhook_url'), ...needs('webhook', 'webhook_secret'), ...needs('amqp', 'amqp_url'));
  if (billing.webhook_url !== '' && !URL.canParse(billing.webhook_url))
    problems.push(`[billing] webhook_url '${billing.webhook_url}' is not a URL`);
  if (billing.amqp_url !== '' && !/^amqps?:\/\//.test(billing.amqp_url))
    problems.push('[billing] amqp_url must start with amqp:// or amqps://');
  if (problems.length > 0) throw new StartupError(problems);
  return [...new Set(billing.sinks)].map((name) =>
    name === 'webhook'
      ? new WebhookSink({
          url: billing.webhook_url,
          secret: billing.webhook_secret,
          timeoutMs: billing.webhook_timeout_ms,
          source: `/nucleon/${host}`,
        })
      : new AmqpSink(
          {
            url: billing.amqp_url,
            exchange: billing.amqp_exchange,
            topic: billing.amqp_topic,
            durable: billing.amqp_durable_queues,
            timeoutMs: billing.amqp_timeout_ms,
          },
          runtime.log.child({ sink: 'amqp' }),
        ),
  );
}

/** Events waiting for a sink that is no longer configured would wait forever: say so at start. */
function warnAboutOrphans(runtime: Runtime, sinks: readonly BillingSink[]): void {
  const orphaned = SINKS.filter((name) => !sinks.some((sink) => sink.name === name));
  for (const name of orphaned) {
    runtime.outbox
      .pending(topicOf({ name }))
      .then((pending) => {
        if (pending.length > 0)
          runtime.log.warn(
            { sink: name, pending: pending.length },
            `usage events wait for the ${name} sink, which [billing] sinks no longer names`,
          );
      })
      .catch(() => {});
  }
}

/** `service_plugins = metering`. */
export default definePlugin({
  name: 'metering',
  type: 'METERING',
  description: 'Neutron Metering Service Plugin, with billing of networks and floating IPs (usage events and a usage ledger).',
  coreVersion: '^0.1.0',
  requires: ['CORE'],
  extensions: [...meteringExtensions, usageExtension],
  supportedExtensionAliases: ['metering', 'metering_source_and_destination_fields', 'nucleon-metering-usage'],
  resources: [meteringLabelsTable, meteringLabelRulesTable, usageIntervalsTable],
  options: [billingOptions],
  migrations: { owner: '@nucleon/metering', folder: new URL('../drizzle/', import.meta.url) },
  commands: {
    'metering usage': {
      help: 'Usage per project, resource type and kind in a period, from the usage ledger (seconds inside the period).',
      options: {
        start: { help: 'Start of the period, ISO 8601 (2026-11-01T00:00:00Z).', required: true },
        end: { help: 'End of the period, exclusive, ISO 8601.', required: true },
        'project-id': { help: 'Only this project.' },
      },
      run: async (_plugin, runtime, args) => {
        const time = (name: 'start' | 'end') => {
          try {
            return parseTime(name, args[name]!);
          } catch {
            throw new StartupError([`metering usage: --${name} '${args[name]}' is not an ISO 8601 time (e.g. 2026-11-01T00:00:00Z)`]);
          }
        };
        const [start, end] = [time('start'), time('end')];
        if (end <= start) throw new StartupError([`metering usage: --end (${args.end}) must be after --start (${args.start})`]);
        const usage = await usageTotals(runtime.db, start, end, args['project-id']);
        return { start: start.toISOString(), end: end.toISOString(), usage };
      },
    },
  },
  create: (runtime) => {
    const { host } = runtime.config.get(coreOptions).DEFAULT;
    const sinks = billingSinks(runtime, runtime.config.get(billingOptions).billing, host);
    runtime.onClose(async () => {
      await Promise.all(sinks.map((sink) => sink.close()));
    });
    warnAboutOrphans(runtime, sinks);
    return new MeteringPlugin(runtime, sinks, host);
  },
});
