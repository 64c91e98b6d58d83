/**
 * The outbox on the real database of a test server: effects recorded in the transaction of their
 * change, applied after commit, retried with backoff, in order per key, and taken over by another
 * dispatcher when the one holding them stops answering.
 */
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Context, Outbox, type OutboxEntry } from '../src/index.js';
import { startTestServer, type TestServer } from '../src/testing/index.js';
import { widgetPlugin } from './fixtures/widgets/plugin.js';

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({
    core: widgetPlugin(),
    config: { outbox: { poll_interval_ms: 50, retry_min_delay_ms: 20, retry_max_delay_ms: 80, lease_ms: 300 } },
  });
});
afterAll(() => server?.close());

const admin = () => Context.admin(server.runtime);
const until = async (condition: () => boolean | Promise<boolean>, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('the outbox', () => {
  it('records effects in the transaction of their change: rolled back, nothing; committed, applied once', async () => {
    const seen: string[] = [];
    server.runtime.outbox.handle<{ n: string }>('t-commit', async (entry) => {
      seen.push(entry.payload.n);
    });
    const ctx = admin();
    await expect(
      ctx.transaction(async () => {
        await server.runtime.outbox.enqueue(ctx, 't-commit', 'k', { n: 'rolled back' });
        throw new Error('the change fails');
      }),
    ).rejects.toThrow('the change fails');
    await ctx.transaction(() => server.runtime.outbox.enqueue(ctx, 't-commit', 'k', { n: 'committed' }));
    await until(() => seen.length > 0);
    await server.runtime.outbox.drain();
    expect(seen).toEqual(['committed']);
    expect(await server.runtime.outbox.pending('t-commit')).toEqual([]);
    await expect(server.runtime.outbox.enqueue(admin(), 't-commit', 'k', {})).rejects.toThrow(/transaction/);
  });

  it('retries a failing entry with backoff, keeps its error for operators, and holds back only its key', async () => {
    const applied: string[] = [];
    let failures = 0;
    server.runtime.outbox.handle<{ n: string }>('t-retry', async (entry) => {
      if (entry.payload.n === 'a1' && failures < 3) {
        failures++;
        throw new Error(`DNS server said no (${failures})`);
      }
      applied.push(entry.payload.n);
    });
    const ctx = admin();
    await ctx.transaction(async () => {
      await server.runtime.outbox.enqueue(ctx, 't-retry', 'a', { n: 'a1' });
      await server.runtime.outbox.enqueue(ctx, 't-retry', 'a', { n: 'a2' });
      await server.runtime.outbox.enqueue(ctx, 't-retry', 'b', { n: 'b1' });
    });
    // Key b goes ahead; key a waits for a1.
    await until(() => applied.includes('b1'));
    expect(applied).not.toContain('a2');
    await until(async () => (await server.runtime.outbox.pending('t-retry')).some((p) => p.lastError !== null));
    const [waiting] = await server.runtime.outbox.pending('t-retry');
    expect(waiting).toMatchObject({ key: 'a', lastError: expect.stringMatching(/^DNS server said no/) });
    await until(() => applied.includes('a2'));
    expect(applied).toEqual(['b1', 'a1', 'a2']);
    expect(failures).toBe(3);
    expect(await server.runtime.outbox.pending('t-retry')).toEqual([]);
  });

  it('another dispatcher applies what a stalled one claimed once its lease runs out', async () => {
    // The first dispatcher's handler never answers; it gives up after the lease and retries,
    // while a second dispatcher (another process) competes for the entry.
    const stalled: Array<OutboxEntry<{ n: string }>> = [];
    server.runtime.outbox.handle<{ n: string }>('t-lease', (entry) => {
      stalled.push(entry);
      return new Promise(() => {}); // this process "died" while applying it
    });
    const ctx = admin();
    await ctx.transaction(() => server.runtime.outbox.enqueue(ctx, 't-lease', 'k', { n: 'x' }));
    await until(() => stalled.length === 1);

    const applied: Array<OutboxEntry<{ n: string }>> = [];
    const other = new Outbox(() => server.runtime.db, pino({ level: 'silent' }), {
      pollMs: 50,
      retryMinMs: 20,
      retryMaxMs: 80,
      leaseMs: 300,
    });
    other.handle<{ n: string }>('t-lease', async (entry) => {
      applied.push(entry);
    });
    other.start();
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(applied).toEqual([]); // still leased by the first dispatcher
      await until(() => applied.length === 1);
      expect(applied[0]).toMatchObject({ key: 'k', payload: { n: 'x' } });
      expect(applied[0]!.attempts).toBeGreaterThanOrEqual(2);
      expect(await server.runtime.outbox.pending('t-lease')).toEqual([]);
    } finally {
      await other.stop();
    }
  });
});
