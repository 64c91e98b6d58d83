import {
  checkConfiguration,
  Config,
  coreOptions,
  loadPlugins,
  packageAccessFrom,
  StartupError,
  type LoadedPlugin,
} from '@nucleon/core';
import { STOCK_PLUGINS } from './stock-plugins.js';

/** The plugins a configuration names, loaded and checked; throws a StartupError listing every problem. */
export async function resolvePlugins(config: Config): Promise<{ core: LoadedPlugin; services: LoadedPlugin[] }> {
  const problems = config.check(coreOptions);
  if (problems.length > 0) throw new StartupError(problems);
  const { core_plugin, service_plugins } = config.get(coreOptions).DEFAULT;
  // Resolved from this package's location, like any import() here: plugins are installed beside the server.
  const access = packageAccessFrom(import.meta.url, (name) => import(name));
  const loaded = await loadPlugins({ core: core_plugin, services: service_plugins }, access, STOCK_PLUGINS);
  if (!loaded.core || loaded.problems.length > 0) throw new StartupError(loaded.problems);
  const configProblems = checkConfiguration(config, loaded.core, loaded.services);
  if (configProblems.length > 0) throw new StartupError(configProblems);
  return { core: loaded.core, services: loaded.services };
}
