import { type Context, type EventPayload, type Runtime } from '@nucleon/core';
import type { BillingSink } from '../sinks/sink.js';
import { ledger, type BilledResource } from './ledger.js';
import { usageEvent, type UsageAction, type UsageEvent } from './notification.js';

/** The parts of a floating IP that billing reads (the metering plugin does not import the L3 plugin). */
interface FloatingIpState {
  id: string;
  project_id: string;
  floating_ip_address: string | null;
  floating_network_id: string;
  port_id: string | null;
  fixed_ip_address: string | null;
  router_id: string | null;
}

/** The outbox topic of a sink. */
export const topicOf = (sink: Pick<BillingSink, 'name'>): string => `billing.${sink.name}`;

/**
 * Turns every committed change of a network or floating IP into a usage event and ledger
 * entries, in the change's own transaction (`precommit_*`): a change that rolls back leaves
 * neither, one that commits has both. Each configured sink gets the event through the outbox,
 * keyed by resource so a resource's events arrive in order.
 */
export class UsageRecorder {
  constructor(
    private readonly runtime: Runtime,
    private readonly sinks: readonly BillingSink[],
    private readonly host: string,
  ) {
    for (const sink of sinks) runtime.outbox.handle<UsageEvent>(topicOf(sink), (entry) => sink.deliver(entry.payload));
    for (const resource of ['network', 'floatingip'] as const) {
      for (const action of ['create', 'update', 'delete'] as const) {
        runtime.events.subscribe(
          resource,
          `precommit_${action}`,
          (payload) => this.record(resource, action, payload as EventPayload<never>),
          {
            name: `metering.usage.${resource}.${action}`,
          },
        );
      }
    }
  }

  private async record(resource: BilledResource, action: UsageAction, payload: EventPayload<Record<string, unknown>>): Promise<void> {
    const ctx = payload.context;
    const [first, second] = payload.states;
    const before = action === 'create' ? undefined : first;
    const after = action === 'create' ? first : action === 'update' ? second : undefined;
    const state = (after ?? before)!;
    const at = new Date();
    const event = usageEvent(ctx, { resource, action, state, host: this.host, at });
    if (resource === 'network') await this.networkLedger(ctx, action, state, at, event.message_id);
    else
      await this.floatingipLedger(ctx, before as FloatingIpState | undefined, after as FloatingIpState | undefined, at, event.message_id);
    for (const sink of this.sinks) await this.runtime.outbox.enqueue(ctx, topicOf(sink), `${resource}:${String(state.id)}`, event);
  }

  private async networkLedger(
    ctx: Context,
    action: UsageAction,
    network: Record<string, unknown>,
    at: Date,
    eventId: string,
  ): Promise<void> {
    const id = String(network.id);
    if (action === 'create') {
      await ledger.open(ctx, {
        projectId: String(network.project_id),
        resourceType: 'network',
        resourceId: id,
        kind: 'exists',
        at,
        eventId,
        details: { name: network.name, 'router:external': network['router:external'] ?? false, shared: network.shared },
      });
    } else if (action === 'delete') {
      await ledger.close(ctx, id, 'exists', at, eventId);
    }
  }

  /** Existence from create to delete; association from the port set until it is cleared or changed. */
  private async floatingipLedger(
    ctx: Context,
    before: FloatingIpState | undefined,
    after: FloatingIpState | undefined,
    at: Date,
    eventId: string,
  ): Promise<void> {
    const fip = (after ?? before)!;
    const associated = (state?: FloatingIpState) => (state?.port_id ? `${state.port_id}|${state.fixed_ip_address}` : undefined);
    const wasAssociated = associated(before);
    const isAssociated = associated(after);
    if (!before) {
      await ledger.open(ctx, {
        projectId: fip.project_id,
        resourceType: 'floatingip',
        resourceId: fip.id,
        kind: 'exists',
        at,
        eventId,
        details: { floating_ip_address: fip.floating_ip_address, floating_network_id: fip.floating_network_id },
      });
    }
    if (wasAssociated !== isAssociated) {
      if (wasAssociated) await ledger.close(ctx, fip.id, 'associated', at, eventId);
      if (isAssociated) {
        await ledger.open(ctx, {
          projectId: fip.project_id,
          resourceType: 'floatingip',
          resourceId: fip.id,
          kind: 'associated',
          at,
          eventId,
          details: {
            floating_ip_address: fip.floating_ip_address,
            port_id: after!.port_id,
            fixed_ip_address: after!.fixed_ip_address,
            router_id: after!.router_id,
          },
        });
      }
    }
    if (!after) await ledger.close(ctx, fip.id, 'exists', at, eventId);
  }
}
