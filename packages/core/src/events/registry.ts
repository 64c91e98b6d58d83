import type { Logger } from 'pino';
import { NeutronError } from '../errors/neutron-error.js';
import type { Context } from '../context/context.js';

/** The life-cycle moments a resource change is published at. */
export type EventPhase = 'before' | 'precommit' | 'after' | 'abort';
/** What happened to the resource. */
export type EventAction = 'create' | 'update' | 'delete' | (string & {});
/** `before_create`, `precommit_update`, `after_delete`, … as in neutron-lib. */
export type EventName = `${EventPhase}_${EventAction}`;

/**
 * Resource types by event resource name. Plugins add theirs with declaration merging:
 * `declare module '@nucleon/core' { interface EventResources { floatingip: FloatingIp } }`.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface EventResources {}

/** The state type published for a resource name (a plain record for resources nobody typed). */
export type EventState<R extends string> = R extends keyof EventResources ? EventResources[R] : Record<string, unknown>;

/** What subscribers receive (neutron-lib's `EventPayload`/`DBEventPayload`). */
export interface EventPayload<S = Record<string, unknown>> {
  readonly context: Context;
  readonly resource: string;
  readonly event: EventName;
  readonly resourceId?: string;
  /** States from oldest to newest: `[original, updated]` for updates, `[created]` for creates. */
  readonly states: readonly S[];
  /** The validated request body, when the change came from the API. */
  readonly requestBody?: Readonly<Record<string, unknown>>;
  /** Extra facts a publisher shares (`{ association_event: true }`). */
  readonly metadata: Readonly<Record<string, unknown>>;
}

/** Latest state of a payload, or undefined before anything exists. */
export function latestState<S>(payload: EventPayload<S>): S | undefined {
  return payload.states[payload.states.length - 1];
}

/** A subscriber; may be async. */
export type EventHandler<S = Record<string, unknown>> = (payload: EventPayload<S>) => unknown;

/** Lower runs first, as in neutron-lib; the default is Neutron's `PRIORITY_DEFAULT`. */
export const PRIORITY_DEFAULT = 55_550_000;

interface Subscription {
  readonly handler: EventHandler<never>;
  readonly priority: number;
  readonly name: string;
  readonly seq: number;
}

/**
 * The event registry (neutron-lib's callbacks manager). Semantics per phase:
 * - `before_*`: every subscriber runs; if any throws, `abort_*` is published and the first error
 *   is raised, so a subscriber's `NeutronError` becomes the HTTP answer.
 * - `precommit_*`: runs inside the request's transaction; the first error is raised, which rolls
 *   the transaction back.
 * - `after_*` / `abort_*`: errors are logged and never undo the change.
 */
export class EventRegistry {
  private readonly subscriptions = new Map<string, Subscription[]>();
  private seq = 0;

  constructor(private readonly log: Logger) {}

  /** Subscribes `handler` to `event` on `resource`; returns a function that unsubscribes. */
  subscribe<R extends string>(
    resource: R,
    event: EventName,
    handler: EventHandler<EventState<R>>,
    options: { priority?: number; name?: string } = {},
  ): () => void {
    const key = `${resource}:${event}`;
    const list = this.subscriptions.get(key) ?? [];
    const subscription: Subscription = {
      handler: handler as EventHandler<never>,
      priority: options.priority ?? PRIORITY_DEFAULT,
      name: options.name ?? (handler.name || 'anonymous'),
      seq: this.seq++,
    };
    list.push(subscription);
    list.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    this.subscriptions.set(key, list);
    return () => {
      const current = this.subscriptions.get(key);
      if (current)
        this.subscriptions.set(
          key,
          current.filter((s) => s !== subscription),
        );
    };
  }

  /** True when anybody listens to `event` on `resource` (lets publishers skip building payloads). */
  hasSubscribers(resource: string, event: EventName): boolean {
    return (this.subscriptions.get(`${resource}:${event}`)?.length ?? 0) > 0;
  }

  /** Publishes an event with the semantics of its phase (see the class documentation). */
  async publish(payload: EventPayload<unknown>): Promise<void> {
    const list = this.subscriptions.get(`${payload.resource}:${payload.event}`);
    if (!list || list.length === 0) return;
    const phase = payload.event.slice(0, payload.event.indexOf('_')) as EventPhase;
    const errors: unknown[] = [];
    for (const subscription of list) {
      try {
        await (subscription.handler as EventHandler<unknown>)(payload);
      } catch (error) {
        if (phase === 'precommit') throw error;
        errors.push(error);
        if (phase === 'after' || phase === 'abort') {
          this.log.error(
            { err: error, resource: payload.resource, event: payload.event, subscriber: subscription.name },
            'event subscriber failed; the change stands',
          );
        }
      }
    }
    if (phase === 'before' && errors.length > 0) {
      const action = payload.event.slice('before_'.length);
      await this.publish({ ...payload, event: `abort_${action}` });
      throw pickError(errors);
    }
  }
}

/** Neutron raises the first subscriber's own error so its status code reaches the client. */
function pickError(errors: unknown[]): unknown {
  return errors.find((e) => e instanceof NeutronError) ?? errors[0];
}
