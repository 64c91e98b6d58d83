import { mkdir } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { PGlite, types, type QueryOptions, type Transaction } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';

/** A drizzle database or transaction (PGlite or PostgreSQL; one dialect). */
export type Database = PgDatabase<PgQueryResultHKT, Record<string, never>>;

/** Which engine a connection string selects. */
export type Engine = 'pglite' | 'postgresql';

/** An open database: the drizzle handle plus what the server needs to manage it. */
export interface DatabaseHandle {
  readonly db: Database;
  readonly engine: Engine;
  /** Where the data lives: a folder for PGlite, the URL without password for PostgreSQL. */
  readonly location: string;
  close(): Promise<void>;
}

/** The embedded default: PGlite in `./data`. */
export const DEFAULT_CONNECTION = 'pglite://./data';

/** A connection string safe to print: the password masked. */
export function maskConnection(connection: string): string {
  return connection.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/**
 * Parses `[database] connection`: `postgresql://…` (also SQLAlchemy's `postgresql+psycopg2://…`
 * that existing neutron.conf files carry), `pglite:///abs/path`, `pglite://./rel/path`, or
 * `pglite://memory` for a throw-away in-memory database.
 */
export function parseConnection(connection: string): { engine: Engine; target: string } {
  const pgMatch = /^postgres(?:ql)?(?:\+\w+)?:\/\//.exec(connection);
  if (pgMatch) return { engine: 'postgresql', target: connection.replace(/^postgres(?:ql)?(?:\+\w+)?:/, 'postgresql:') };
  if (connection.startsWith('pglite://')) {
    const target = connection.slice('pglite://'.length);
    if (target === 'memory') return { engine: 'pglite', target: 'memory://' };
    if (target === '') throw new Error(`[database] connection '${maskConnection(connection)}' names no folder`);
    return { engine: 'pglite', target: isAbsolute(target) ? target : resolve(target) };
  }
  throw new Error(
    `[database] connection '${maskConnection(connection)}' is neither a postgresql:// URL nor pglite:///absolute/path or pglite://./relative/path`,
  );
}

/** Opens the database a connection string names (creating a PGlite folder when needed). */
export async function openDatabase(connection: string, options: { maxPoolSize?: number } = {}): Promise<DatabaseHandle> {
  const { engine, target } = parseConnection(connection);
  if (engine === 'pglite') {
    if (target !== 'memory://') await mkdir(target, { recursive: true });
    const client = await PGlite.create(target === 'memory://' ? undefined : target);
    for (const oid of DRIZZLE_TEXT_TYPES) client.parsers[oid] = asText;
    return {
      db: drizzlePglite({ client: withoutQueryParsers(client) }) as unknown as Database,
      engine,
      location: target,
      close: () => client.close(),
    };
  }
  const pool = new pg.Pool({ connectionString: target, max: options.maxPoolSize ?? 10 });
  // Surface a wrong URL or a stopped server at start, not at the first request.
  const probe = await pool.connect();
  probe.release();
  pool.on('error', () => {
    /* idle client errors are reported by the next query that uses the pool */
  });
  return {
    db: drizzlePg(pool) as unknown as Database,
    engine,
    location: maskConnection(target),
    close: () => pool.end(),
  };
}

/**
 * Types drizzle's PGlite driver wants as text (it maps them itself). It passes parsers saying so
 * with every query, and PGlite merges those into its ~300 default parsers on each call, which
 * costs about as much as running a small query. Installed once on the instance (above) and left
 * out of each query (below), they give the same rows without that cost.
 */
const DRIZZLE_TEXT_TYPES = [types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE, 1231, 1115, 1185, 1187, 1182];
const asText = (value: string) => value;

function withoutInstalledParsers(options?: QueryOptions): QueryOptions | undefined {
  const parsers = options?.parsers;
  if (!parsers || !Object.keys(parsers).every((oid) => DRIZZLE_TEXT_TYPES.includes(Number(oid)))) return options;
  const { parsers: _installed, ...rest } = options;
  return rest;
}

/** The client (or transaction) as drizzle sees it: queries without the per-query parsers. */
function withoutQueryParsers<C extends PGlite | Transaction>(client: C): C {
  return new Proxy(client, {
    get(target, property) {
      if (property === 'query') {
        return (text: string, params?: unknown[], options?: QueryOptions) => target.query(text, params, withoutInstalledParsers(options));
      }
      if (property === 'transaction' && target instanceof PGlite) {
        return <T>(work: (tx: Transaction) => Promise<T>) => target.transaction((tx) => work(withoutQueryParsers(tx)));
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** Runs raw SQL and returns its rows, whichever driver is underneath. */
export async function queryRows<T>(db: Database, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
