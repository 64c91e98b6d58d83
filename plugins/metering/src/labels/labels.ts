import { bindTable, cidrsOverlap, defineError, parseCidr, resourceChange, type Context } from '@nucleon/core';
import {
  meteringLabel,
  meteringLabelRule,
  type MeteringLabel,
  type MeteringLabelCreate,
  type MeteringLabelRule,
  type MeteringLabelRuleCreate,
} from './definitions.js';
import { meteringLabelRules, meteringLabels } from './schema.js';

export const MeteringLabelRuleOverlaps = defineError(
  'MeteringLabelRuleOverlaps',
  409,
  'Metering label rule with remote_ip_prefix {remote_ip_prefix} overlaps another.',
);
/**
 * Neutron raises its unmapped `Invalid` for these, which its API answers with a 500 (capture
 * 120). Nucleon keeps the type and the message and answers 400: the client sent a bad rule.
 */
export const InvalidMeteringRule = defineError('Invalid', 400, '{message}');

export const meteringLabelsTable = bindTable(meteringLabel, meteringLabels);
export const meteringLabelRulesTable = bindTable(meteringLabelRule, meteringLabelRules);

/** Neutron's `validate_metering_label_rule`: remote prefix alone, or source/destination prefixes. */
function validateRule(rule: MeteringLabelRuleCreate): void {
  if (rule.remote_ip_prefix && (rule.source_ip_prefix || rule.destination_ip_prefix)) {
    throw InvalidMeteringRule({
      message: "Cannot use 'remote-ip-prefix' in conjunction with 'source-ip-prefix' or 'destination-ip-prefix'.",
    });
  }
  if (!rule.remote_ip_prefix && !rule.source_ip_prefix && !rule.destination_ip_prefix) {
    throw InvalidMeteringRule({
      message:
        "You must define at least one of the following parameters 'remote_ip_address', or 'source_ip_prefix' or 'destination_ip_prefix'.",
    });
  }
}

/**
 * Metering labels and their rules (Neutron's `MeteringDbMixin`). Labels and rules are the API
 * of traffic metering; Nucleon drives no metering agent, so they are stored and served only.
 */
export class MeteringLabels {
  createLabel(ctx: Context, body: MeteringLabelCreate): Promise<MeteringLabel> {
    return resourceChange(ctx, { resource: 'metering_label', action: 'create', request: body }, async () =>
      meteringLabelsTable.get(ctx, await meteringLabelsTable.insert(ctx, body)),
    );
  }

  async deleteLabel(ctx: Context, id: string): Promise<void> {
    const original = await meteringLabelsTable.get(ctx, id);
    await resourceChange(ctx, { resource: 'metering_label', action: 'delete', id, original }, async () => {
      await meteringLabelsTable.delete(ctx, id);
      return undefined;
    });
  }

  async createRule(ctx: Context, body: MeteringLabelRuleCreate): Promise<MeteringLabelRule> {
    validateRule(body);
    return resourceChange(ctx, { resource: 'metering_label_rule', action: 'create', request: body }, async () => {
      // The label's lock serialises its rule changes, so two overlapping rules cannot both pass.
      await meteringLabelsTable.lockAndCheckRevision(ctx, body.metering_label_id);
      if (body.remote_ip_prefix) await this.checkOverlaps(ctx, body);
      return meteringLabelRulesTable.get(ctx, await meteringLabelRulesTable.insert(ctx, body));
    });
  }

  async deleteRule(ctx: Context, id: string): Promise<void> {
    const original = await meteringLabelRulesTable.get(ctx, id);
    await resourceChange(ctx, { resource: 'metering_label_rule', action: 'delete', id, original }, async () => {
      await meteringLabelRulesTable.delete(ctx, id);
      return undefined;
    });
  }

  /** Rules of one label, direction and `excluded` may not cover the same remote addresses. */
  private async checkOverlaps(ctx: Context, rule: MeteringLabelRuleCreate): Promise<void> {
    const wanted = parseCidr(rule.remote_ip_prefix)!;
    const siblings = await meteringLabelRulesTable.findMany(ctx.elevated(), {
      filters: { metering_label_id: [rule.metering_label_id], direction: [rule.direction], excluded: [String(rule.excluded)] },
      fields: ['remote_ip_prefix'],
    });
    for (const sibling of siblings) {
      const existing = parseCidr(sibling.remote_ip_prefix);
      if (existing && existing.version === wanted.version && cidrsOverlap(existing, wanted)) {
        throw MeteringLabelRuleOverlaps({ remote_ip_prefix: rule.remote_ip_prefix! });
      }
    }
  }
}
