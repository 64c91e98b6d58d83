import { mkdir } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { SQL } from 'drizzle-orm';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { PgliteConnection } from './pglite-connection.js';

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
  /**
   * For an embedded database (only this process writes it): a counter that moves whenever its
   * data may have changed, so rendered reads can be cached until it does.
   */
  readonly changes?: () => number;
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
    const connection = new PgliteConnection(await PGlite.create(target === 'memory://' ? undefined : target));
    return {
      // drizzle drives PGlite through Nucleon's session (prepared statements, change counting).
      db: drizzlePglite({ client: connection as unknown as PGlite }) as unknown as Database,
      engine,
      location: target,
      changes: () => connection.generation,
      close: () => connection.close(),
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

/** Runs raw SQL and returns its rows, whichever driver is underneath. */
export async function queryRows<T>(db: Database, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}
