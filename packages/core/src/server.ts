import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './api/app.js';
import type { Config } from './config/config.js';
import { coreOptions } from './config/core-options.js';
import { openDatabase, type DatabaseHandle } from './db/database.js';
import { migrate, type MigrationSource } from './db/migrations.js';
import type { LoadedPlugin } from './plugins/service-manager.js';
import { Runtime } from './runtime.js';
import { CORE_MIGRATIONS } from './version.js';

/** What a server is made of. */
export interface ServerParts {
  readonly config: Config;
  readonly core: LoadedPlugin;
  readonly services: readonly LoadedPlugin[];
  readonly log: Logger;
  /** An already open database (tests); otherwise `[database] connection` is opened. */
  readonly database?: DatabaseHandle;
  /** Apply pending migrations first; defaults to `[database] auto_migrate`. */
  readonly migrate?: boolean;
}

/** A server ready to listen: its HTTP app, runtime and database. */
export interface NucleonServer {
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
  readonly database: DatabaseHandle;
  /** Stops accepting requests, lets those in flight finish, closes the database. */
  close(): Promise<void>;
}

/** The migrations of a plugin set in the order they must run: core, core plugin, services. */
export function migrationSources(core: LoadedPlugin, services: readonly LoadedPlugin[]): MigrationSource[] {
  const sources: MigrationSource[] = [{ owner: '@nucleon/core', folder: CORE_MIGRATIONS }];
  for (const plugin of [core, ...services]) {
    for (const migrations of plugin.definition.migrations) {
      if (!sources.some((s) => s.owner === migrations.owner)) sources.push(migrations);
    }
  }
  return sources;
}

/**
 * Opens the database, applies pending migrations (unless `[database] auto_migrate = false`),
 * builds the runtime and the HTTP API. Listening is the caller's choice (`app.listen`).
 */
export async function createServer(parts: ServerParts): Promise<NucleonServer> {
  const options = parts.config.get(coreOptions);
  const database = parts.database ?? (await openDatabase(options.database.connection, { maxPoolSize: options.database.max_pool_size }));
  try {
    if (parts.migrate ?? options.database.auto_migrate) {
      await migrate(database.db, migrationSources(parts.core, parts.services), parts.log);
    }
    const runtime = await Runtime.create({
      config: parts.config,
      core: parts.core,
      services: parts.services,
      db: database.db,
      engine: database.engine,
      log: parts.log,
      ...(database.changes ? { changes: database.changes } : {}),
    });
    const app = await buildApp(runtime);
    await app.ready();
    runtime.outbox.start();
    return {
      app,
      runtime,
      database,
      close: async () => {
        await runtime.close();
        await app.close();
        if (!parts.database) await database.close();
      },
    };
  } catch (error) {
    if (!parts.database) await database.close();
    throw error;
  }
}
