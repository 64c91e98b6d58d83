import cluster from 'node:cluster';
import { parseArgs } from 'node:util';
import {
  Config,
  coreOptions,
  createServer,
  migrate,
  migrationSources,
  openDatabase,
  parseConnection,
  StartupError,
  type LoadedPlugin,
  type NucleonServer,
  type PluginCommand,
} from '@nucleon/core';
import type { Logger } from 'pino';
import { resolvePlugins } from './plugins.js';

function describe(plugin: LoadedPlugin) {
  return {
    package: plugin.packageName,
    version: plugin.version,
    type: plugin.definition.type,
    description: plugin.definition.description,
  };
}

/**
 * Runs a command a loaded plugin adds (`nucleon-server dns reconcile`): the runtime starts as for
 * serving (migrations, plugins, outbox dispatcher) but no port is opened; side effects the
 * command records in the outbox are applied before it returns.
 */
export async function runCommand(config: Config, log: Logger, words: string, argv: readonly string[]): Promise<unknown> {
  const { core, services } = await resolvePlugins(config);
  const owner = [core, ...services].find((plugin) => plugin.definition.commands[words]);
  if (!owner) {
    const known = [core, ...services].flatMap((plugin) => Object.keys(plugin.definition.commands));
    throw new StartupError([`unknown command '${words}'${known.length > 0 ? ` (the configured plugins add: ${known.join(', ')})` : ''}`]);
  }
  const command = owner.definition.commands[words]!;
  const args = commandArgs(words, command, argv);
  const server = await createServer({ config, core, services, log });
  try {
    const instance = server.runtime.plugins.get(owner.definition.type)!;
    const result = await command.run(instance, server.runtime, args);
    await server.runtime.outbox.drain();
    return result;
  } finally {
    await server.close();
  }
}

/** The command's own options, parsed strictly: an unknown or missing one is the operator's to fix. */
function commandArgs(words: string, command: PluginCommand, argv: readonly string[]): Record<string, string | undefined> {
  const declared = command.options ?? {};
  const options: Record<string, { type: 'string'; multiple?: boolean }> = {
    'config-file': { type: 'string', multiple: true },
    ...Object.fromEntries(Object.keys(declared).map((name) => [name, { type: 'string' as const }])),
  };
  const values = parseArgs({ args: [...argv], options }).values as Record<string, string | string[] | undefined>;
  const missing = Object.entries(declared).filter(([name, option]) => option.required && values[name] === undefined);
  if (missing.length > 0) {
    throw new StartupError([`${words}: ${missing.map(([name]) => `--${name}`).join(', ')} required`, ...usageOf(words, command)]);
  }
  return Object.fromEntries(Object.keys(declared).map((name) => [name, values[name] as string | undefined]));
}

/** `--help` lines of a command. */
function usageOf(words: string, command: PluginCommand): string[] {
  const options = Object.entries(command.options ?? {}).map(
    ([name, o]) => `  --${name} <value>${o.required ? '' : ' (optional)'}  ${o.help}`,
  );
  return [`${words} --config-file FILE: ${command.help}`, ...options];
}

/** Applies pending migrations of the configured plugins (`nucleon-server db upgrade`). */
export async function upgradeDatabase(config: Config, log: Logger): Promise<number> {
  const { core, services } = await resolvePlugins(config);
  const options = config.get(coreOptions).database;
  const database = await openDatabase(options.connection, { maxPoolSize: 1 });
  try {
    return await migrate(database.db, migrationSources(core, services), log);
  } finally {
    await database.close();
  }
}

async function startOne(
  config: Config,
  core: LoadedPlugin,
  services: LoadedPlugin[],
  log: Logger,
  migrateAtStart: boolean,
): Promise<NucleonServer> {
  const server = await createServer({ config, core, services, log, migrate: migrateAtStart });
  const { bind_host, bind_port } = config.get(coreOptions).DEFAULT;
  try {
    await server.app.listen({ host: bind_host, port: bind_port });
  } catch (error) {
    // A port in use or an address not on this host: close the database cleanly (PGlite flushes
    // its folder on close) before the CLI reports the problem and exits.
    await server.close();
    throw error;
  }
  return server;
}

/** Stops cleanly on SIGTERM/SIGINT: no new requests, in-flight ones finish, database closed. */
function stopOn(signals: readonly NodeJS.Signals[], stop: () => Promise<void>, log: Logger): void {
  let stopping = false;
  for (const signal of signals) {
    process.once(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      stop().then(
        () => process.exit(0),
        (error: unknown) => {
          log.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
    });
  }
}

/**
 * Runs the API server: checks configuration and plugins, logs what is loaded, applies
 * migrations, then serves — in this process, or in `api_workers` processes when the database
 * is PostgreSQL (PGlite lives in one process).
 */
export async function serve(config: Config, log: Logger): Promise<void> {
  const { core, services } = await resolvePlugins(config);
  const options = config.get(coreOptions);
  let workers = options.DEFAULT.api_workers;
  const engine = parseConnection(options.database.connection).engine;
  if (workers > 1 && engine === 'pglite') {
    log.warn({ api_workers: workers }, 'api_workers > 1 needs PostgreSQL; PGlite serves from one process');
    workers = 1;
  }

  if (cluster.isPrimary) {
    for (const plugin of [core, ...services]) log.info(describe(plugin), 'plugin loaded');
  }
  if (workers === 1) {
    const server = await startOne(config, core, services, log, options.database.auto_migrate);
    log.info(
      { address: `http://${options.DEFAULT.bind_host}:${options.DEFAULT.bind_port}`, database: server.database.location },
      'listening',
    );
    stopOn(['SIGTERM', 'SIGINT'], () => server.close(), log);
    return;
  }

  if (cluster.isPrimary) {
    if (options.database.auto_migrate) await upgradeDatabase(config, log);
    const children = Array.from({ length: workers }, () => cluster.fork());
    // Logged once every worker accepts connections, so "listening" means the port answers.
    const listening = Promise.all(children.map((child) => new Promise<void>((resolve) => child.once('listening', () => resolve()))));
    let exiting = false;
    cluster.on('exit', (worker, code) => {
      if (!exiting) {
        // `worker`, not `pid`: pino's base already carries this process's pid, and JSON keys must not repeat.
        log.error({ worker: worker.process.pid, code }, 'API worker died; stopping');
        exiting = true;
        for (const child of children) child.kill('SIGTERM');
        process.exitCode = 1;
      }
    });
    stopOn(
      ['SIGTERM', 'SIGINT'],
      async () => {
        exiting = true;
        await Promise.all(
          children.map(
            (child) =>
              new Promise<void>((resolve) => {
                if (child.isDead()) return resolve();
                child.once('exit', () => resolve());
                child.kill('SIGTERM');
              }),
          ),
        );
      },
      log,
    );
    await listening;
    log.info({ workers, address: `http://${options.DEFAULT.bind_host}:${options.DEFAULT.bind_port}` }, 'listening');
    return;
  }
  // A worker: the primary applied the migrations.
  const server = await startOne(config, core, services, log, false);
  stopOn(['SIGTERM', 'SIGINT'], () => server.close(), log);
}
