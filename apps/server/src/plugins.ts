import {
  checkConfiguration,
  checkPluginSet,
  Config,
  CORE_VERSION,
  coreOptions,
  loadPlugins,
  maskConnection,
  packageAccessFrom,
  parseConnection,
  StartupError,
  type LoadedPlugin,
} from '@nucleon/core';
import { STOCK_PLUGINS } from './stock-plugins.js';

/**
 * The configured plugin names, read through the options' own parsers rather than
 * `config.get(coreOptions)`: that throws when any core option (say `bind_port = abc`) is bad, and
 * the plugins must still be resolved so that one message can list every problem.
 */
function pluginNames(config: Config): { core: string; services: readonly string[] } {
  const { core_plugin, service_plugins } = coreOptions.sections.DEFAULT;
  const core = config.raw('DEFAULT', 'core_plugin');
  const services = config.raw('DEFAULT', 'service_plugins');
  return {
    core: core === undefined ? core_plugin.default : core_plugin.parse(core),
    services: services === undefined ? service_plugins.default : service_plugins.parse(services),
  };
}

/**
 * `[database] connection` problems, found before anything opens the database. Neutron's own
 * files usually say `mysql+pymysql://…`; Nucleon stores into PostgreSQL or PGlite only, and an
 * operator migrating a neutron.conf deserves to be told so rather than see a stack trace.
 */
function connectionProblems(config: Config): string[] {
  const connection = config.raw('database', 'connection');
  if (connection === undefined) return [];
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(connection)?.[1];
  if (scheme && /^(mysql|mariadb)/i.test(scheme)) {
    return [
      `[database] connection '${maskConnection(connection)}' uses ${scheme}, which Nucleon does not support: ` +
        'use a PostgreSQL URL (postgresql://user:pass@host/db) or the embedded PGlite (pglite:///abs/path)',
    ];
  }
  try {
    parseConnection(connection);
    return [];
  } catch (error) {
    return [(error as Error).message];
  }
}

/**
 * The plugins a configuration names, loaded and checked. Throws one StartupError listing every
 * problem — bad options, missing or foreign packages, and plugin-set conflicts together — so an
 * operator fixes a neutron.conf in one round instead of one error per restart.
 */
export async function resolvePlugins(config: Config): Promise<{ core: LoadedPlugin; services: LoadedPlugin[] }> {
  const problems = [...config.check(coreOptions), ...connectionProblems(config)];
  // Resolved from this package's location, like any import() here: plugins are installed beside the server.
  const access = packageAccessFrom(import.meta.url, (name) => import(name));
  const loaded = await loadPlugins(pluginNames(config), access, STOCK_PLUGINS);
  problems.push(...loaded.problems);
  if (loaded.core) {
    problems.push(...checkConfiguration(config, loaded.core, loaded.services));
  } else {
    // Without a core plugin the extension aliases cannot be judged (the core plugin may define
    // them), but conflicts and version mismatches among the service plugins still can.
    problems.push(...checkPluginSet(undefined, loaded.services, CORE_VERSION));
    for (const plugin of loaded.services) for (const group of plugin.definition.options) problems.push(...config.check(group));
  }
  const unique = [...new Set(problems)];
  if (!loaded.core || unique.length > 0) throw new StartupError(unique);
  return { core: loaded.core, services: loaded.services };
}
