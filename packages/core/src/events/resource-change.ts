import type { Context } from '../context/context.js';
import type { EventAction, EventPayload, EventState } from './registry.js';

/** Describes one change of a resource for {@link resourceChange}. */
export interface ChangeSpec<R extends string> {
  /** Event resource name (`network`, `floatingip`, `router_interface`). */
  readonly resource: R;
  readonly action: EventAction;
  readonly id?: string;
  /** The validated request body, when the change comes from the API. */
  readonly request?: Readonly<Record<string, unknown>>;
  /** The state before the change (updates and deletes). */
  readonly original?: EventState<R>;
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/**
 * Runs a change of a resource with Neutron's event semantics:
 * `before_<action>` (subscribers may veto with a NeutronError), then `work` and
 * `precommit_<action>` inside one transaction (a failure rolls both back), then
 * `after_<action>` once the outermost transaction has committed (failures are logged only).
 *
 * `work` returns the new state (undefined for deletes), which subscribers receive as the latest
 * state. Nested calls (a plugin creating a port inside its own change) share the transaction;
 * their `after_*` events wait for the outermost commit.
 */
export async function resourceChange<R extends string, T extends EventState<R> | undefined>(
  ctx: Context,
  spec: ChangeSpec<R>,
  work: () => Promise<T>,
): Promise<T> {
  const events = ctx.runtime.events;
  const payload = (event: EventPayload['event'], states: ReadonlyArray<EventState<R> | undefined>, id?: string) =>
    ({
      context: ctx,
      resource: spec.resource,
      event,
      ...((id ?? spec.id) !== undefined ? { resourceId: id ?? spec.id } : {}),
      states: states.filter((s) => s !== undefined),
      ...(spec.request ? { requestBody: spec.request } : {}),
      metadata: spec.metadata ?? {},
    }) as EventPayload<unknown>;

  return ctx.transaction(async () => {
    await events.publish(payload(`before_${spec.action}`, [spec.original]));
    const result = await work();
    const id = (result as { id?: string } | undefined)?.id;
    const states = [spec.original, result];
    await events.publish(payload(`precommit_${spec.action}`, states, id));
    ctx.afterCommit(() => events.publish(payload(`after_${spec.action}`, states, id)));
    return result;
  });
}
