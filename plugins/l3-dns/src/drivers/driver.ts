/**
 * What an external DNS driver does for the plugin: make records exist, make them go, and say
 * what a name holds now (for reconciliation). Neutron's `ExternalDNSService` has
 * `create_record_set` / `delete_record_set`; here both are idempotent, because the outbox
 * dispatcher may apply one change more than once (after a crash, or a lost answer).
 */

/** Record types the plugin publishes. */
export type RecordType = 'A' | 'AAAA' | 'PTR';

/** Records of one name and type in one zone. Names are absolute, with the trailing dot. */
export interface RecordSet {
  /** The zone the name lives in (`example.org.`, `113.0.203.in-addr.arpa.`). */
  readonly zone: string;
  /** `www.example.org.` or `10.113.0.203.in-addr.arpa.` */
  readonly name: string;
  readonly type: RecordType;
  /** Addresses for A/AAAA; target names (absolute) for PTR. */
  readonly records: readonly string[];
  readonly ttl: number;
}

/** A driver's failure; `retryable` failures (timeouts, server errors) are tried again with backoff. */
export class DnsDriverError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'DnsDriverError';
  }
}

/** An external DNS service (`[DEFAULT] external_dns_driver`). */
export interface DnsDriver {
  /** Adds `records` to the name (records already there stay; adding twice is harmless). */
  add(set: RecordSet): Promise<void>;
  /** Removes exactly `records` from the name (others stay; removing what is gone is harmless). */
  remove(set: RecordSet): Promise<void>;
  /** The records the name holds now, of that type (empty when none), as the authoritative server answers. */
  lookup(zone: string, name: string, type: RecordType): Promise<string[]>;
  /** Releases sockets and timers. */
  close(): Promise<void>;
}
