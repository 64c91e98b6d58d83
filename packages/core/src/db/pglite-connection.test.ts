import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pgError } from './errors.js';
import { PgliteConnection } from './pglite-connection.js';
import { ReadCache } from './read-cache.js';

let connection: PgliteConnection;
beforeAll(async () => {
  connection = new PgliteConnection(await PGlite.create());
  await connection.query('create table t (id int primary key, doc jsonb, note text)');
});
afterAll(() => connection?.close());

describe('PgliteConnection', () => {
  test('prepared statements run again with new parameters, nulls and JSON', async () => {
    for (let i = 1; i <= 3; i++) {
      await connection.query('insert into t (id, doc, note) values ($1, $2, $3)', [i, JSON.stringify({ n: i }), i === 2 ? null : `n${i}`]);
    }
    const rows = await connection.query<{ id: number; doc: { n: number }; note: string | null }>(
      'select id, doc, note from t where id >= $1 order by id',
      [2],
    );
    expect(rows.rows).toEqual([
      { id: 2, doc: { n: 2 }, note: null },
      { id: 3, doc: { n: 3 }, note: 'n3' },
    ]);
    const again = await connection.query<{ id: number }>('select id, doc, note from t where id >= $1 order by id', [3]);
    expect(again.rows.map((r) => r.id)).toEqual([3]);
  });

  test('errors carry the PostgreSQL code and leave the session usable', async () => {
    const error = await connection.query('insert into t (id) values ($1)', [1]).catch((e: unknown) => e);
    expect(pgError(error)?.code).toBe('23505');
    expect((await connection.query('select count(*)::int as n from t')).rows).toEqual([{ n: 3 }]);
  });

  test('a failing transaction rolls back; the change counter moves only on writes', async () => {
    const before = connection.generation;
    await connection.transaction(async (tx) => tx.query('select * from t where id = $1', [1]));
    expect(connection.generation).toBe(before);
    const failed = connection.transaction(async (tx) => {
      await tx.query('insert into t (id) values ($1)', [10]);
      await tx.query('insert into t (id) values ($1)', [1]);
    });
    await expect(failed).rejects.toMatchObject({ code: '23505' });
    expect((await connection.query<{ n: number }>('select count(*)::int as n from t where id = $1', [10])).rows[0]!.n).toBe(0);
    expect(connection.generation).toBeGreaterThan(before);
  });

  test('statements and transactions never interleave', async () => {
    const order: string[] = [];
    const slow = connection.transaction(async (tx) => {
      await tx.query('insert into t (id) values ($1)', [20]);
      order.push('tx-insert');
      await new Promise((r) => setTimeout(r, 20));
      await tx.query('delete from t where id = $1', [20]);
      order.push('tx-delete');
    });
    const read = connection.query<{ n: number }>('select count(*)::int as n from t where id = $1', [20]).then((r) => {
      order.push('read');
      return r.rows[0]!.n;
    });
    await slow;
    expect(await read).toBe(0);
    expect(order).toEqual(['tx-insert', 'tx-delete', 'read']);
  });
});

describe('ReadCache', () => {
  test('keeps a value until the counter moves; a change during the load is not kept', async () => {
    let generation = 0;
    const cache = new ReadCache(() => generation, 1024);
    let loads = 0;
    const load = async () => `v${++loads}`;
    expect(await cache.through('k', load, (v) => v.length)).toBe('v1');
    expect(await cache.through('k', load, (v) => v.length)).toBe('v1');
    generation++;
    expect(await cache.through('k', load, (v) => v.length)).toBe('v2');
    const racing = cache.through(
      'k2',
      async () => {
        generation++;
        return 'stale?';
      },
      (v) => v.length,
    );
    expect(await racing).toBe('stale?');
    expect(await cache.through('k2', load, (v) => v.length)).toBe('v3');
  });
});
