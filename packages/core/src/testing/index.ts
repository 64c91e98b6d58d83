/**
 * `@nucleon/core/testing`: boot a real Nucleon server in-process with chosen plugins on a fresh
 * database, so every plugin's tests exercise the real thing.
 *
 * PGlite by default: migrations run once per plugin set into a template folder, and each server
 * starts from a copy of it (a fresh initdb costs seconds; a copy opens in a fraction of that).
 * With `NUCLEON_TEST_DATABASE_URL=postgresql://…` (a role allowed to create databases) each server
 * gets its own database cloned from a migrated template database.
 */
import { createHash, randomUUID } from 'node:crypto';
import { cp, mkdir, readdir, readFile, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { pino, type Logger } from 'pino';
import { Config } from '../config/config.js';
import { openDatabase, type DatabaseHandle } from '../db/database.js';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate, type MigrationSource } from '../db/migrations.js';
import type { Database } from '../db/database.js';
import type { PluginDefinition } from '../plugins/define-plugin.js';
import type { LoadedPlugin } from '../plugins/service-manager.js';
import type { Runtime } from '../runtime.js';
import { createServer, migrationSources } from '../server.js';

/** Config sections for a test server (`{ ml2: { tenant_network_types: 'vxlan' } }`). */
export type TestConfig = Readonly<Record<string, Readonly<Record<string, string | number | boolean | readonly string[]>>>>;

/** What {@link startTestServer} boots. */
export interface TestServerOptions {
  readonly core: PluginDefinition;
  readonly services?: readonly PluginDefinition[];
  readonly config?: TestConfig;
  readonly log?: Logger;
}

/** A response as tests see it. */
export interface TestResponse<B = any> {
  readonly status: number;
  readonly headers: Record<string, string | string[] | number | undefined>;
  readonly body: B;
  readonly text: string;
}

/** A running in-process server. */
export interface TestServer {
  readonly app: FastifyInstance;
  readonly runtime: Runtime;
  readonly database: DatabaseHandle;
  /** Sends a request through the real HTTP stack (Fastify inject); bodies are JSON-encoded unless strings. */
  request<B = any>(method: string, url: string, body?: unknown, headers?: Record<string, string>): Promise<TestResponse<B>>;
  close(): Promise<void>;
}

/** Which database engine the test suite runs on. */
export const testDatabaseUrl: string | undefined = process.env.NUCLEON_TEST_DATABASE_URL || undefined;

// CI's PostgreSQL run sets NUCLEON_REQUIRE_POSTGRES so a lost URL cannot silently fall back to PGlite.
if (process.env.NUCLEON_REQUIRE_POSTGRES && !testDatabaseUrl) {
  throw new Error('NUCLEON_REQUIRE_POSTGRES is set but NUCLEON_TEST_DATABASE_URL is not: refusing to run the suite on PGlite');
}

function asLoaded(definition: PluginDefinition): LoadedPlugin {
  return { definition, packageName: `@nucleon/${definition.name}`, version: '0.0.0-test' };
}

async function folderDigest(hash: ReturnType<typeof createHash>, folder: string): Promise<void> {
  for (const entry of (await readdir(folder, { recursive: true })).sort()) {
    try {
      hash.update(entry).update(await readFile(join(folder, entry)));
    } catch {
      /* a directory */
    }
  }
}

/** A key that changes whenever any migration of the plugin set changes. */
async function templateKey(sources: readonly MigrationSource[]): Promise<string> {
  const hash = createHash('sha256');
  for (const source of sources) {
    hash.update(source.owner);
    await folderDigest(hash, fileURLToPath(source.folder));
  }
  return hash.digest('hex').slice(0, 16);
}

async function pgliteTemplate(sources: readonly MigrationSource[]): Promise<string> {
  const root = join(tmpdir(), 'nucleon-test-templates');
  const dir = join(root, await templateKey(sources));
  try {
    await readdir(dir);
    return dir;
  } catch {
    /* not built yet */
  }
  await mkdir(root, { recursive: true });
  const building = `${dir}.${randomUUID()}`;
  const client = await PGlite.create(building);
  await migrate(drizzle(client) as unknown as Database, sources);
  await client.close();
  try {
    await rename(building, dir);
  } catch {
    // Another test worker finished first; use its template.
    await rm(building, { recursive: true, force: true });
  }
  return dir;
}

async function postgresTemplate(adminUrl: string, sources: readonly MigrationSource[]): Promise<string> {
  const name = `nucleon_tpl_${await templateKey(sources)}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query('select pg_advisory_lock(4242)');
    const exists = await admin.query('select 1 from pg_database where datname = $1', [name]);
    if (exists.rowCount === 0) {
      await admin.query(`create database ${name}`);
      const url = new URL(adminUrl);
      url.pathname = `/${name}`;
      const database = await openDatabase(url.toString(), { maxPoolSize: 1 });
      await migrate(database.db, sources);
      await database.close();
    }
    await admin.query('select pg_advisory_unlock(4242)');
  } finally {
    await admin.end();
  }
  return name;
}

/** Retries `attempt` while PostgreSQL fails it with `code`, a state an autovacuum worker ends soon. */
async function retryWhile<T>(code: string, attempt: () => Promise<T>): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if ((error as { code?: string }).code !== code || tries >= 40) throw error;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
}

async function freshDatabase(sources: readonly MigrationSource[]): Promise<{ handle: DatabaseHandle; dispose: () => Promise<void> }> {
  if (testDatabaseUrl) {
    const template = await postgresTemplate(testDatabaseUrl, sources);
    const name = `nucleon_t_${randomUUID().replace(/-/g, '')}`;
    const admin = new pg.Client({ connectionString: testDatabaseUrl });
    await admin.connect();
    try {
      // A template being copied must have no other session, and autovacuum visits templates too.
      await retryWhile('55006', () => admin.query(`create database ${name} template ${template}`));
    } finally {
      await admin.end();
    }
    const url = new URL(testDatabaseUrl);
    url.pathname = `/${name}`;
    const handle = await openDatabase(url.toString(), { maxPoolSize: 10 });
    return {
      handle,
      dispose: async () => {
        await handle.close();
        const client = new pg.Client({ connectionString: testDatabaseUrl });
        await client.connect();
        try {
          // An autovacuum worker on the database can only be terminated by a superuser or a member
          // of pg_signal_backend (42501).
          await retryWhile('42501', () => client.query(`drop database if exists ${name} with (force)`));
        } finally {
          await client.end();
        }
      },
    };
  }
  const template = await pgliteTemplate(sources);
  const dir = join(tmpdir(), `nucleon-test-${randomUUID()}`);
  await cp(template, dir, { recursive: true });
  const handle = await openDatabase(`pglite://${dir}`);
  return {
    handle,
    dispose: async () => {
      await handle.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Starts a server with the given plugins on a fresh, migrated database. */
export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const core = asLoaded(options.core);
  const services = (options.services ?? []).map(asLoaded);
  const sources = migrationSources(core, services);
  const { handle, dispose } = await freshDatabase(sources);
  const log = options.log ?? pino({ level: process.env.NUCLEON_TEST_LOG ?? 'silent' });
  const config = Config.fromObject({
    ...options.config,
    DEFAULT: { core_plugin: options.core.name, ...options.config?.DEFAULT },
    database: { auto_migrate: false, ...options.config?.database },
  });
  let server;
  try {
    server = await createServer({ config, core, services, log, database: handle });
  } catch (error) {
    await dispose();
    throw error;
  }
  const { app, runtime } = server;
  return {
    app,
    runtime,
    database: handle,
    async request(method, url, body, headers = {}) {
      const response = await app.inject({
        method: method as 'GET',
        url,
        headers: { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { payload: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      let parsed: unknown;
      try {
        parsed = response.body === '' ? undefined : JSON.parse(response.body);
      } catch {
        parsed = response.body;
      }
      return { status: response.statusCode, headers: response.headers, body: parsed as never, text: response.body };
    },
    async close() {
      await server.close();
      await dispose();
    },
  };
}
export * from './keystone.js';
export * from './daemons.js';

/**
 * Runs `check` until it stops throwing, for effects that land after the response (the outbox
 * applies them after commit); rethrows its last failure after `ms`.
 */
export async function eventually(check: () => Promise<void> | void, ms = 10_000, everyMs = 50): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}
