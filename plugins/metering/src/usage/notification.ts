import { randomUUID } from 'node:crypto';
import type { Context } from '@nucleon/core';
import type { BilledResource } from './ledger.js';

/**
 * The version of the payload shape this package sends (see README.md, "Usage events"). Minor
 * versions only add fields; a change that removes or retypes a field raises the major version.
 */
export const SCHEMA_VERSION = '1.0';

/** `create`, `update` or `delete`: the `<resource>.<action>.end` of Neutron's notifications. */
export type UsageAction = 'create' | 'update' | 'delete';

/**
 * A usage event: a legacy (unversioned) oslo.messaging notification as Neutron sends it for
 * `<resource>.<action>.end`, whose payload also carries {@link SCHEMA_VERSION}.
 */
export interface UsageEvent {
  /** Stable across retries: receivers de-duplicate on it. */
  readonly message_id: string;
  /** `network.<host>`, as Neutron publishes. */
  readonly publisher_id: string;
  /** `network.create.end`, `floatingip.update.end`, … */
  readonly event_type: string;
  readonly priority: 'INFO';
  /** oslo's format: UTC, `YYYY-MM-DD HH:MM:SS.ffffff`. */
  readonly timestamp: string;
  /**
   * `{ schema_version, <resource>: {...} }`; a delete also has `<resource>_id` and carries the
   * resource as it was, so a consumer knows what stopped (Ceilometer once could not).
   */
  readonly payload: Readonly<Record<string, unknown>> & { readonly schema_version: string };
  /** The request's context, as oslo.messaging sends it (`_context_*` on the wire). */
  readonly context: {
    readonly request_id: string;
    readonly user_id: string | null;
    readonly project_id: string | null;
    readonly tenant_id: string | null;
    readonly is_admin: boolean;
    readonly roles: readonly string[];
  };
}

/** oslo's `str(timeutils.utcnow())`: microseconds, no zone. */
export function osloTimestamp(at: Date): string {
  return `${at.toISOString().replace('T', ' ').slice(0, -1)}000`;
}

/** Builds the usage event of one change of a billed resource. */
export function usageEvent(
  ctx: Context,
  spec: { resource: BilledResource; action: UsageAction; state: Readonly<Record<string, unknown>>; host: string; at: Date },
): UsageEvent {
  const { resource, action, state } = spec;
  return {
    message_id: randomUUID(),
    publisher_id: `network.${spec.host}`,
    event_type: `${resource}.${action}.end`,
    priority: 'INFO',
    timestamp: osloTimestamp(spec.at),
    payload: { schema_version: SCHEMA_VERSION, [resource]: state, ...(action === 'delete' ? { [`${resource}_id`]: state.id } : {}) },
    context: {
      request_id: ctx.requestId,
      user_id: ctx.userId ?? null,
      project_id: ctx.projectId ?? null,
      tenant_id: ctx.projectId ?? null,
      is_admin: ctx.isAdmin,
      roles: ctx.roles,
    },
  };
}

/** The resource an event is about, as its payload names it (`floatingip` of `floatingip.update.end`). */
export function resourceOf(event: UsageEvent): { type: string; id: string; projectId: string } {
  const type = event.event_type.slice(0, event.event_type.indexOf('.'));
  const state = event.payload[type] as { id?: unknown; project_id?: unknown } | undefined;
  return { type, id: String(state?.id ?? ''), projectId: String(state?.project_id ?? '') };
}

/** The billed project: the resource's owner (not necessarily the caller, e.g. an admin). */
export function billedProject(event: UsageEvent): string {
  return resourceOf(event).projectId;
}

/** The oslo.messaging message (`messagingv2` driver) as one JSON object: context flattened to `_context_*`. */
export function osloMessage(event: UsageEvent): Record<string, unknown> {
  const { context, ...message } = event;
  return { ...message, ...Object.fromEntries(Object.entries(context).map(([key, value]) => [`_context_${key}`, value])) };
}
