import { createHmac, timingSafeEqual } from 'node:crypto';
import { osloMessage, resourceOf, type UsageEvent } from '../usage/notification.js';
import type { BillingSink } from './sink.js';

/** The header carrying the signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'x-nucleon-signature';

export interface WebhookOptions {
  readonly url: string;
  readonly secret: string;
  readonly timeoutMs: number;
  /** The CloudEvents `source` (`/nucleon/<host>`). */
  readonly source: string;
}

/**
 * A usage event as a CloudEvents 1.0 structured-mode JSON event. `data` is the oslo.messaging
 * message (what RabbitMQ consumers get too); `projectid` is the billed project.
 */
export function cloudEvent(event: UsageEvent, source: string): Record<string, unknown> {
  const resource = resourceOf(event);
  return {
    specversion: '1.0',
    id: event.message_id,
    source,
    type: event.event_type,
    subject: `${resource.type}/${resource.id}`,
    time: `${event.timestamp.replace(' ', 'T')}Z`,
    datacontenttype: 'application/json',
    projectid: resource.projectId,
    data: osloMessage(event),
  };
}

/** The signature header's value for a body sent at `seconds` (Unix time). */
export function sign(secret: string, body: string, seconds: number): string {
  return `t=${seconds},v1=${createHmac('sha256', secret).update(`${seconds}.${body}`).digest('hex')}`;
}

/**
 * Checks a signature header against the body as received: the HMAC must match and its time be
 * within `toleranceSeconds` of now (so a captured request cannot be replayed much later).
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  body: string,
  toleranceSeconds = 300,
  now = Date.now(),
): boolean {
  const fields = new Map((header ?? '').split(',').map((part) => part.split('=', 2) as [string, string]));
  const seconds = Number(fields.get('t'));
  const given = Buffer.from(fields.get('v1') ?? '', 'hex');
  if (!Number.isInteger(seconds) || Math.abs(now / 1000 - seconds) > toleranceSeconds) return false;
  const expected = createHmac('sha256', secret).update(`${seconds}.${body}`).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** POSTs each event as a signed CloudEvent; any answer but a 2xx is a failed delivery (retried). */
export class WebhookSink implements BillingSink {
  readonly name = 'webhook';

  constructor(private readonly options: WebhookOptions) {}

  async deliver(event: UsageEvent): Promise<void> {
    const body = JSON.stringify(cloudEvent(event, this.options.source));
    const response = await fetch(this.options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/cloudevents+json; charset=utf-8',
        [SIGNATURE_HEADER]: sign(this.options.secret, body, Math.floor(Date.now() / 1000)),
      },
      body,
      signal: AbortSignal.timeout(this.options.timeoutMs),
    }).catch((error: unknown) => {
      const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw new Error(`webhook ${this.options.url} unreachable (${error instanceof Error ? error.message : String(error)}${cause})`);
    });
    const text = await response.text().catch(() => '');
    if (!response.ok) throw new Error(`webhook ${this.options.url} answered ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`);
  }

  async close(): Promise<void> {}
}
