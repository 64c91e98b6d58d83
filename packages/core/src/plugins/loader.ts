import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { isPluginDefinition } from './define-plugin.js';
import type { LoadedPlugin } from './service-manager.js';

/** An installed package as found from the server's location. */
export interface InstalledPackage {
  readonly name: string;
  readonly version: string;
}

/**
 * How the loader reaches packages: both run from the server application's location, like any
 * `import()` there (so a plugin must be installed beside the server, not inside the core).
 */
export interface PackageAccess {
  /** The package.json facts of an installed package, or undefined when it is not installed. */
  find(name: string): InstalledPackage | undefined;
  /** Imports a package's main entry. */
  import(name: string): Promise<unknown>;
}

/**
 * Package access from a module URL (pass `import.meta.url` of the server application) and an
 * importer defined in that module (`(name) => import(name)`), so resolution uses its location
 * and its export conditions.
 */
export function packageAccessFrom(fromUrl: string | URL, importer: (name: string) => Promise<unknown>): PackageAccess {
  const require = createRequire(fromUrl);
  return {
    find(name) {
      let file: string | undefined;
      try {
        file = require.resolve(`${name}/package.json`);
      } catch {
        // Packages whose `exports` hide package.json: look in the node_modules folders directly.
        for (const dir of require.resolve.paths(name) ?? []) {
          const candidate = join(dir, name, 'package.json');
          if (existsSync(candidate)) {
            file = candidate;
            break;
          }
        }
      }
      if (!file) return undefined;
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; version?: string };
      return { name: manifest.name ?? name, version: manifest.version ?? '0.0.0' };
    },
    import: importer,
  };
}

/** Package names a configured plugin name may refer to, in the order they are tried. */
export function candidatePackages(name: string, stockAliases: Readonly<Record<string, string>>): string[] {
  const stock = stockAliases[name];
  if (stock) return [stock];
  if (name.startsWith('@') || name.includes('/')) return [name];
  if (name.startsWith('nucleon-plugin-')) return [name];
  return [`@nucleon/${name}`, `nucleon-plugin-${name}`, name];
}

/** The result of resolving configured plugin names; `problems` lists every failure. */
export interface LoadResult {
  readonly core?: LoadedPlugin;
  readonly services: LoadedPlugin[];
  readonly problems: string[];
}

async function loadOne(
  name: string,
  access: PackageAccess,
  stockAliases: Readonly<Record<string, string>>,
  problems: string[],
): Promise<LoadedPlugin | undefined> {
  const candidates = candidatePackages(name, stockAliases);
  for (const packageName of candidates) {
    const installed = access.find(packageName);
    if (!installed) continue;
    let module: unknown;
    try {
      module = await access.import(packageName);
    } catch (error) {
      problems.push(`plugin package ${packageName} failed to load: ${(error as Error).message.split('\n')[0]}`);
      return undefined;
    }
    const definition = (module as { default?: unknown }).default;
    if (!isPluginDefinition(definition)) {
      problems.push(
        `package ${packageName}@${installed.version} (configured as '${name}') is not a Nucleon plugin: ` +
          'its default export was not made with definePlugin() from @nucleon/core',
      );
      return undefined;
    }
    return { definition, packageName: installed.name, version: installed.version };
  }
  const install = candidates.length > 1 ? `${candidates.slice(0, -1).join(' or ')}` : candidates[0];
  problems.push(`plugin '${name}' is not installed: install ${install} beside the server (npm install ${candidates[0]})`);
  return undefined;
}

/**
 * Resolves `core_plugin` and `service_plugins` to plugin packages: a full package name, a short
 * name (`l3-greee` → `@nucleon/l3-greee`, then `nucleon-plugin-l3-greee`), or a stock Neutron
 * alias mapped by `stockAliases` (`router` → `@nucleon/l3-router`). Never throws: every problem
 * is collected so the server can report them together.
 */
export async function loadPlugins(
  names: { readonly core: string; readonly services: readonly string[] },
  access: PackageAccess,
  stockAliases: Readonly<Record<string, string>> = {},
): Promise<LoadResult> {
  const problems: string[] = [];
  let core: LoadedPlugin | undefined;
  if (names.core.trim() === '') problems.push('core_plugin is not set in [DEFAULT]; set it to ml2 or a core plugin package');
  else core = await loadOne(names.core, access, stockAliases, problems);
  const services: LoadedPlugin[] = [];
  const seen = new Set<string>();
  for (const name of names.services) {
    const plugin = await loadOne(name, access, stockAliases, problems);
    // Naming one package twice (by alias and by name) loads it once, as Neutron does.
    if (plugin && !seen.has(plugin.packageName)) {
      seen.add(plugin.packageName);
      services.push(plugin);
    }
  }
  return { ...(core ? { core } : {}), services, problems };
}
