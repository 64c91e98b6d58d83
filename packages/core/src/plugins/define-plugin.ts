import type { OptionGroup } from '../config/options.js';
import type { MigrationSource } from '../db/migrations.js';
import type { ExtensionDefinition } from '../extensions/define-extension.js';
import type { PolicyRules } from '../policy/policy.js';
import type { QuotaResource } from '../quotas/quota-engine.js';
import type { AnyResourceTable } from '../resources/resource-table.js';
import type { Runtime } from '../runtime.js';

/** Neutron's plugin types (neutron_lib.plugins.constants); one loaded plugin per type. */
export type ServiceType = 'CORE' | 'L3_ROUTER_NAT' | 'METERING' | 'FIREWALL' | 'VPN' | 'LOADBALANCER' | (string & {});

/** Marks plugin descriptors so the loader recognises them across copies of the core. */
export const PLUGIN_BRAND = Symbol.for('nucleon.plugin');
/** The descriptor format version; bumped when its shape changes incompatibly. */
export const PLUGIN_API_VERSION = 1;

/** A plugin instance: the object whose methods serve its resources. */
export type PluginInstance = object;

/**
 * A command a plugin adds to `nucleon-server` (`nucleon-server dns reconcile --config-file …`):
 * it runs against a started runtime (database, plugins, outbox) without serving the API.
 */
export interface PluginCommand<I extends PluginInstance = PluginInstance> {
  /** One line for `--help`. */
  readonly help: string;
  /** Options it takes besides `--config-file` (`--start <value>`), by name; all take a value. */
  readonly options?: Readonly<Record<string, CommandOption>>;
  /**
   * Does the work with the options given (absent ones are undefined); what it returns is printed
   * on stdout as JSON (logs go to stderr while a command runs).
   */
  run(instance: I, runtime: Runtime, args: Readonly<Record<string, string | undefined>>): Promise<unknown>;
}

/** An option of a {@link PluginCommand}. */
export interface CommandOption {
  /** One line for `--help`. */
  readonly help: string;
  /** Refused when missing. */
  readonly required?: boolean;
}

/** What a plugin package declares; see {@link definePlugin}. */
export interface PluginOptions<I extends PluginInstance = PluginInstance> {
  /** Short name, e.g. `l3-greee`. */
  readonly name: string;
  /** Service type; `CORE` for the core plugin. */
  readonly type: ServiceType;
  /** One line for operators (Neutron's `get_plugin_description`). */
  readonly description: string;
  /** Semver range of `@nucleon/core` the plugin works with, e.g. `^0.1.0`. */
  readonly coreVersion: string;
  /** Extension aliases served when this plugin is loaded (Neutron's `supported_extension_aliases`). */
  readonly supportedExtensionAliases?: readonly string[];
  /** Extensions this package defines (beyond those the core defines). */
  readonly extensions?: readonly ExtensionDefinition[];
  /** Resources whose API this plugin serves, bound to its tables. */
  readonly resources?: readonly AnyResourceTable[];
  /**
   * The plugin's drizzle-kit migrations and the package that owns those tables. A plugin that
   * extends another reuses its parent's migrations (same owner), so swapping one for the other
   * keeps the data and never applies a migration twice; one that adds tables of its own lists
   * its parent's first, then its own (`[l3Router.migrations, { owner: '@acme/l3-x', folder }]`).
   */
  readonly migrations?: MigrationSource | readonly MigrationSource[];
  /** Config options the plugin reads, validated at start. */
  readonly options?: readonly OptionGroup[];
  /** Resources counted by quotas (`network`, `port`, …). */
  readonly quotas?: readonly QuotaResource[];
  /**
   * Default policy rules beyond those of the plugin's resources (`defineResource({ policies })`),
   * e.g. for attributes its extensions add to other plugins' resources. `policy.yaml` overrides them.
   */
  readonly policies?: PolicyRules;
  /** Commands the plugin adds to `nucleon-server`, by their words (`dns reconcile`). */
  readonly commands?: Readonly<Record<string, PluginCommand<I>>>;
  /** Service types that must be loaded too (their migrations run first). */
  readonly requires?: readonly ServiceType[];
  /** Builds the plugin instance once the runtime (database, events, config) is ready. */
  readonly create: (runtime: Runtime) => I | Promise<I>;
}

/** A plugin descriptor: a package's default export. */
export interface PluginDefinition<I extends PluginInstance = PluginInstance> extends Required<Omit<PluginOptions<I>, 'migrations'>> {
  readonly [PLUGIN_BRAND]: number;
  /** Migration folders in the order they run (parents' first). */
  readonly migrations: readonly MigrationSource[];
}

/**
 * Declares a plugin. The result is the default export of a plugin package:
 *
 * ```ts
 * export default definePlugin({
 *   name: 'l3-greee', type: 'L3_ROUTER_NAT', description: '…', coreVersion: '^0.1.0',
 *   ...,
 *   create: (runtime) => new GreeePlugin(runtime),
 * });
 * ```
 */
export function definePlugin<I extends PluginInstance>(options: PluginOptions<I>): PluginDefinition<I> {
  return {
    supportedExtensionAliases: [],
    extensions: [],
    resources: [],
    options: [],
    quotas: [],
    policies: {},
    commands: {},
    requires: [],
    ...options,
    migrations:
      options.migrations === undefined
        ? []
        : Array.isArray(options.migrations)
          ? options.migrations
          : [options.migrations as MigrationSource],
    [PLUGIN_BRAND]: PLUGIN_API_VERSION,
  };
}

/** True when `value` is a plugin descriptor made by `definePlugin` (of any core copy). */
export function isPluginDefinition(value: unknown): value is PluginDefinition {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[PLUGIN_BRAND] !== undefined;
}
