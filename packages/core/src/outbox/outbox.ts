import { and, count, eq, ne, sql } from 'drizzle-orm';
import type { Logger } from 'pino';
import type { Context } from '../context/context.js';
import type { Database } from '../db/database.js';
import { queryRows } from '../db/database.js';
import { outbox as outboxTable } from '../db/schema.js';

/** One side effect waiting to be applied. */
export interface OutboxEntry<P = unknown> {
  readonly id: number;
  readonly topic: string;
  readonly key: string;
  readonly payload: P;
  /** This attempt's number (1 for the first). */
  readonly attempts: number;
  readonly createdAt: Date;
}

/** Applies an entry; throwing leaves it for a later attempt (with backoff). Must be idempotent. */
export type OutboxHandler<P = unknown> = (entry: OutboxEntry<P>) => Promise<void>;

/** How the dispatcher paces itself (`[outbox]` options). */
export interface OutboxTiming {
  readonly pollMs: number;
  readonly retryMinMs: number;
  readonly retryMaxMs: number;
  readonly leaseMs: number;
}

/** What the dispatcher did since start (for logs and the admin view). */
export interface OutboxStats {
  applied: number;
  failed: number;
}

/** Entries claimed at a time; entries of different keys are applied concurrently. */
const BATCH = 16;

interface ClaimedRow {
  id: number;
  topic: string;
  key: string;
  payload: unknown;
  attempts: number;
  created_at: Date | string;
}

/**
 * The outbox (`nucleon_outbox`): a plugin records a side effect in the transaction of the change
 * that causes it ({@link enqueue}), so a committed change always has its effect recorded and a
 * rolled-back one never does; the dispatcher then applies entries with the topic's handler.
 *
 * - At least once: an entry leaves the table only after its handler succeeded. A dispatcher
 *   claims entries with a lease; if its process dies, the lease runs out and any dispatcher
 *   (this process after a restart, or another worker) applies the entry again.
 * - In order per key: only the oldest entry of a key is ever claimed, and a failed one holds
 *   back the key's later entries until it succeeds.
 * - Retries with exponential backoff (with jitter) between `retry_min_delay_ms` and
 *   `retry_max_delay_ms`; the last error stays on the row for operators.
 * - Several processes (PostgreSQL with `api_workers`) share the table; a claim is one UPDATE
 *   whose lease condition PostgreSQL re-checks under the row lock, so two dispatchers never hold
 *   one entry.
 */
export class Outbox {
  private readonly handlers = new Map<string, OutboxHandler>();
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private again = false;
  private started = false;
  readonly stats: OutboxStats = { applied: 0, failed: 0 };

  constructor(
    private readonly db: () => Database,
    private readonly log: Logger,
    private readonly timing: OutboxTiming,
  ) {}

  /** Registers the handler of a topic (one per topic, e.g. `dns`). */
  handle<P>(topic: string, handler: OutboxHandler<P>): void {
    if (this.handlers.has(topic)) throw new Error(`outbox topic ${topic} already has a handler`);
    this.handlers.set(topic, handler as OutboxHandler);
  }

  /**
   * Records a side effect in the context's open transaction (it must have one: the effect
   * belongs to the change). The dispatcher is woken once the transaction commits.
   */
  async enqueue(ctx: Context, topic: string, key: string, payload: unknown): Promise<void> {
    if (!ctx.inTransaction) throw new Error('outbox entries are written in the transaction of the change that causes them');
    await ctx.db.insert(outboxTable).values({ topic, key, payload });
    ctx.afterCommit(() => this.wake());
  }

  /** Starts applying entries: now, on every {@link wake}, and every `poll_interval_ms`. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.wake();
  }

  /**
   * Stops the dispatcher, letting the entries in progress finish — for at most their lease:
   * one that hangs longer is another dispatcher's to retry anyway.
   */
  async stop(): Promise<void> {
    this.started = false;
    clearTimeout(this.timer);
    if (!this.running) return;
    let timeout: NodeJS.Timeout | undefined;
    await Promise.race([this.running, new Promise((resolve) => (timeout = setTimeout(resolve, this.timing.leaseMs)))]);
    clearTimeout(timeout);
  }

  /** Applies what is due soon (coalesces: one pass at a time, another after it if woken meanwhile). */
  wake(): void {
    if (!this.started) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.pass()
      .catch((err: unknown) => this.log.error({ err }, 'outbox pass failed'))
      .finally(() => {
        this.running = undefined;
        if (!this.started) return;
        if (this.again) {
          this.again = false;
          this.wake();
        } else {
          this.timer = setTimeout(() => this.wake(), this.timing.pollMs);
          this.timer.unref();
        }
      });
  }

  /**
   * Applies every entry that is due, until none is (entries that fail stay for later). For
   * tests and commands that want the effects now; the dispatcher does the same on its own.
   */
  async drain(): Promise<void> {
    while (this.running) await this.running;
    await this.pass();
  }

  /** How many entries of a key wait to be applied, not counting `besides` (the one being applied). */
  async waiting(topic: string, key: string, besides?: number): Promise<number> {
    const [row] = await this.db()
      .select({ n: count() })
      .from(outboxTable)
      .where(and(eq(outboxTable.topic, topic), eq(outboxTable.key, key), besides === undefined ? undefined : ne(outboxTable.id, besides)));
    return row!.n;
  }

  /** Entries not applied yet, oldest first (for admin views): topic, key, attempts, last error. */
  async pending(
    topic?: string,
  ): Promise<Array<{ id: number; topic: string; key: string; attempts: number; lastError: string | null; notBefore: Date }>> {
    const rows = await this.db()
      .select()
      .from(outboxTable)
      .where(topic === undefined ? undefined : eq(outboxTable.topic, topic))
      .orderBy(outboxTable.id);
    return rows.map((r) => ({
      id: r.id,
      topic: r.topic,
      key: r.key,
      attempts: r.attempts,
      lastError: r.lastError,
      notBefore: r.notBefore,
    }));
  }

  private async pass(): Promise<void> {
    const topics = [...this.handlers.keys()];
    if (topics.length === 0) return;
    for (;;) {
      const claimed = await this.claim(topics);
      if (claimed.length === 0) return;
      await Promise.all(claimed.map((row) => this.apply(row)));
    }
  }

  /** Leases the oldest entry of up to {@link BATCH} keys that are due and not leased. */
  private async claim(topics: readonly string[]): Promise<ClaimedRow[]> {
    const topicList = sql.join(
      topics.map((t) => sql`${t}`),
      sql`, `,
    );
    return queryRows<ClaimedRow>(
      this.db(),
      sql`update ${outboxTable} o
             set leased_until = now() + ${`${this.timing.leaseMs} milliseconds`}::interval, attempts = o.attempts + 1
           where o.id in (select h.id from (select distinct on (topic, key) id, not_before, leased_until
                                               from ${outboxTable} where topic in (${topicList})
                                              order by topic, key, id) h
                           where h.not_before <= now() and (h.leased_until is null or h.leased_until < now())
                           order by h.id limit ${BATCH})
             and (o.leased_until is null or o.leased_until < now())
         returning o.id, o.topic, o.key, o.payload, o.attempts, o.created_at`,
    );
  }

  private async apply(row: ClaimedRow): Promise<void> {
    const handler = this.handlers.get(row.topic)!;
    const entry: OutboxEntry = {
      id: Number(row.id),
      topic: row.topic,
      key: row.key,
      payload: row.payload,
      attempts: row.attempts,
      createdAt: new Date(row.created_at),
    };
    let timeout: NodeJS.Timeout | undefined;
    try {
      // A handler that outlives its lease may be running elsewhere again already: give up on it here.
      await Promise.race([
        handler(entry),
        new Promise((_, reject) => {
          timeout = setTimeout(() => reject(new Error(`not applied within the lease (${this.timing.leaseMs} ms)`)), this.timing.leaseMs);
        }),
      ]);
      clearTimeout(timeout);
      await this.db().delete(outboxTable).where(eq(outboxTable.id, entry.id));
      this.stats.applied++;
    } catch (error) {
      clearTimeout(timeout);
      this.stats.failed++;
      const delay = this.backoff(entry.attempts);
      const message = error instanceof Error ? error.message : String(error);
      this.log.warn(
        { topic: entry.topic, key: entry.key, attempts: entry.attempts, retryInMs: delay, err: error },
        'outbox entry failed; will retry',
      );
      await this.db()
        .update(outboxTable)
        .set({ leasedUntil: null, lastError: message, notBefore: sql`now() + ${`${delay} milliseconds`}::interval` })
        .where(eq(outboxTable.id, entry.id));
      // Come back when it is due, not only at the next poll.
      if (this.started && delay < this.timing.pollMs) setTimeout(() => this.wake(), delay).unref();
    }
  }

  /** `retry_min_delay_ms` doubled per failed attempt, at most `retry_max_delay_ms`, ±25 % jitter. */
  private backoff(attempts: number): number {
    const base = Math.min(this.timing.retryMaxMs, this.timing.retryMinMs * 2 ** Math.max(0, attempts - 1));
    return Math.round(base * (0.75 + Math.random() * 0.5));
  }
}
