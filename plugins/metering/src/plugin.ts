import type { Context, Runtime } from '@nucleon/core';
import type { MeteringLabel, MeteringLabelCreate, MeteringLabelRule, MeteringLabelRuleCreate } from './labels/definitions.js';
import { MeteringLabels } from './labels/labels.js';
import type { BillingSink } from './sinks/sink.js';
import { UsageRecorder } from './usage/recorder.js';

/**
 * The METERING service plugin: Neutron's metering labels and rules, and billing — every
 * network and floating IP change recorded as a usage event (to the configured sinks) and in the
 * usage ledger. It subscribes to the core's events; it does not extend or import the L3 plugin.
 */
export class MeteringPlugin {
  private readonly labels = new MeteringLabels();
  readonly usage: UsageRecorder;

  constructor(runtime: Runtime, sinks: readonly BillingSink[], host: string) {
    this.usage = new UsageRecorder(runtime, sinks, host);
  }

  createMeteringLabel(ctx: Context, body: MeteringLabelCreate): Promise<MeteringLabel> {
    return this.labels.createLabel(ctx, body);
  }

  deleteMeteringLabel(ctx: Context, id: string): Promise<void> {
    return this.labels.deleteLabel(ctx, id);
  }

  createMeteringLabelRule(ctx: Context, body: MeteringLabelRuleCreate): Promise<MeteringLabelRule> {
    return this.labels.createRule(ctx, body);
  }

  deleteMeteringLabelRule(ctx: Context, id: string): Promise<void> {
    return this.labels.deleteRule(ctx, id);
  }
}
