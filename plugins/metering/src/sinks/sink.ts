import type { UsageEvent } from '../usage/notification.js';

/** Where usage events go. Delivery is at least once: `deliver` may see an event again after a failure or crash. */
export interface BillingSink {
  /** As named in `[billing] sinks`; its outbox topic is `billing.<name>`. */
  readonly name: string;
  /** Resolves once the receiver has the event; throws to have it retried later. */
  deliver(event: UsageEvent): Promise<void>;
  close(): Promise<void>;
}
