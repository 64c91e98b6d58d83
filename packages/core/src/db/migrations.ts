import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import type { Logger } from 'pino';
import type { Database } from './database.js';
import { queryRows } from './database.js';

/** A package's migrations: drizzle-kit's output folder. */
export interface MigrationSource {
  /** Who owns the tables (`@nucleon/core`, `@nucleon/ml2`); migrations are recorded per owner. */
  readonly owner: string;
  readonly folder: URL;
}

/** Arbitrary constant key of the advisory lock that serialises migrators (several replicas). */
const MIGRATION_LOCK = 0x6e75636c;

/**
 * Applies pending drizzle-kit migrations of each source, in the order given (the core, the core
 * plugin, then service plugins by requirement), in one transaction under an advisory lock, and
 * records each in `nucleon_migrations` per owner. Returns how many were applied.
 */
export async function migrate(db: Database, sources: readonly MigrationSource[], log?: Logger): Promise<number> {
  let applied = 0;
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await tx.execute(sql`create table if not exists nucleon_migrations (
      owner text not null,
      hash text not null,
      created_at bigint not null,
      applied_at timestamptz not null default now(),
      primary key (owner, hash))`);
    const done = new Set(
      (await queryRows<{ owner: string; hash: string }>(tx as unknown as Database, sql`select owner, hash from nucleon_migrations`)).map(
        (r) => `${r.owner}:${r.hash}`,
      ),
    );
    for (const source of sources) {
      const folder = fileURLToPath(source.folder);
      if (!existsSync(folder)) throw new Error(`migrations of ${source.owner} not found in ${folder}`);
      for (const migration of readMigrationFiles({ migrationsFolder: folder })) {
        if (done.has(`${source.owner}:${migration.hash}`)) continue;
        for (const statement of migration.sql) {
          if (statement.trim() !== '') await tx.execute(sql.raw(statement));
        }
        await tx.execute(
          sql`insert into nucleon_migrations (owner, hash, created_at) values (${source.owner}, ${migration.hash}, ${migration.folderMillis})`,
        );
        applied++;
        log?.info({ owner: source.owner, migration: migration.folderMillis }, 'migration applied');
      }
    }
  });
  return applied;
}
