import type { Logger } from 'pino';
import type { AttributeSpec } from './attributes/attribute.js';
import type { Config } from './config/config.js';
import { parseCreateItem } from './attributes/request-body.js';
import { coreOptions } from './config/core-options.js';
import type { Database, Engine } from './db/database.js';
import type { CorePluginApi } from './definitions/core-plugin.js';
import { coreExtensions } from './definitions/extensions.js';
import { ReadCache } from './db/read-cache.js';
import { ExtensionRegistry, type KnownExtension } from './extensions/registry.js';
import { EventRegistry } from './events/registry.js';
import type { PluginDefinition, PluginInstance, ServiceType } from './plugins/define-plugin.js';
import { describePlugin, checkPluginSet, type LoadedPlugin } from './plugins/service-manager.js';
import { checkAuthOptions } from './auth/authenticate.js';
import { Outbox } from './outbox/outbox.js';
import { loadPolicy, PolicyEnforcer } from './policy/enforcer.js';
import { QuotaEngine, quotaOptions } from './quotas/quota-engine.js';
import type { ResourceDefinition } from './resources/define-resource.js';
import type { AnyResourceTable, ServedAttribute } from './resources/resource-table.js';
import { CORE_VERSION } from './version.js';

/** Start-up refused: every problem found, for one clear message. */
export class StartupError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Nucleon cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StartupError';
  }
}

/** A resource as this server serves it. */
export interface ServedResource {
  readonly definition: ResourceDefinition;
  readonly table: AnyResourceTable;
  /** Served attributes in response order (extension attributes only when enabled). */
  readonly attributes: readonly ServedAttribute[];
  /** Served attributes by name, for request validation. */
  readonly specs: ReadonlyMap<string, AttributeSpec>;
  /** The plugin instance whose methods change it. */
  readonly owner: PluginInstance;
  readonly ownerPlugin: LoadedPlugin;
}

/** The plugins of a running server, looked up by service type (Neutron's plugin directory). */
export class PluginDirectory {
  constructor(private readonly byType: ReadonlyMap<ServiceType, { plugin: LoadedPlugin; instance: PluginInstance }>) {}

  /** The instance of the plugin of a type, if one is loaded. */
  get<I extends PluginInstance = PluginInstance>(type: ServiceType): I | undefined {
    return this.byType.get(type)?.instance as I | undefined;
  }

  /** The core plugin's instance: what {@link CorePluginApi} promises, or a narrower type a plugin knows it has. */
  core<I extends PluginInstance = CorePluginApi>(): I {
    return this.byType.get('CORE')!.instance as I;
  }

  /** Loaded plugins with their instances, core first. */
  all(): Array<{ plugin: LoadedPlugin; instance: PluginInstance }> {
    return [...this.byType.values()];
  }
}

/** What {@link Runtime.create} needs. */
export interface RuntimeOptions {
  readonly config: Config;
  readonly core: LoadedPlugin;
  readonly services: readonly LoadedPlugin[];
  readonly db: Database;
  readonly engine: Engine;
  readonly log: Logger;
  /** The embedded database's change counter, when it has one (PGlite). */
  readonly changes?: () => number;
}

/** Orders service plugins so those a plugin requires come before it. */
function orderByRequirements(services: readonly LoadedPlugin[]): LoadedPlugin[] {
  const ordered: LoadedPlugin[] = [];
  const visit = (plugin: LoadedPlugin, seen: Set<LoadedPlugin>) => {
    if (ordered.includes(plugin) || seen.has(plugin)) return;
    seen.add(plugin);
    for (const type of plugin.definition.requires) {
      const dependency = services.find((s) => s.definition.type === type);
      if (dependency) visit(dependency, seen);
    }
    ordered.push(plugin);
  };
  for (const plugin of services) visit(plugin, new Set());
  return ordered;
}

/**
 * Checks a plugin set and configuration without touching the database; returns every problem.
 * The server runs this before it opens the database or forks workers.
 */
export function checkConfiguration(config: Config, core: LoadedPlugin, services: readonly LoadedPlugin[]): string[] {
  const plugins = [core, ...services];
  const problems = checkPluginSet(core, services, CORE_VERSION);
  problems.push(...config.check(coreOptions));
  if (problems.length === 0) problems.push(...checkAuthOptions(config));
  for (const plugin of plugins) for (const group of plugin.definition.options) problems.push(...config.check(group));
  problems.push(...config.check(quotaOptions(plugins.flatMap((p) => p.definition.quotas))));
  problems.push(...buildExtensions(plugins).problems);
  if (problems.length === 0) problems.push(...buildPolicy(config, plugins).problems);
  return [...new Set(problems)];
}

function buildPolicy(config: Config, plugins: readonly LoadedPlugin[]) {
  return loadPolicy({
    config,
    resources: plugins.flatMap((p) => p.definition.resources.map((table) => table.resource)),
    plugins: plugins.map((p) => ({ source: p.packageName, rules: p.definition.policies })),
  });
}

function buildExtensions(plugins: readonly LoadedPlugin[]) {
  const definitions: KnownExtension[] = coreExtensions.map((definition) => ({ definition, definedBy: '@nucleon/core' }));
  const supported = new Map<string, string[]>();
  for (const plugin of plugins) {
    for (const definition of plugin.definition.extensions) definitions.push({ definition, definedBy: plugin.packageName });
    for (const alias of plugin.definition.supportedExtensionAliases) {
      supported.set(alias, [...(supported.get(alias) ?? []), describePlugin(plugin)]);
    }
  }
  return ExtensionRegistry.build(definitions, supported);
}

/** `security_group` → `SecurityGroup`: the suffix of a resource's plugin methods. */
export function methodSuffix(name: string): string {
  return name
    .split('_')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

/** `add_router_interface` → `addRouterInterface`: the plugin method of a member action. */
export function actionMethod(action: string): string {
  const pascal = methodSuffix(action);
  return pascal.charAt(0).toLowerCase() + pascal.slice(1);
}

/**
 * Everything a running server shares: configuration, database, registries, quotas and the
 * plugin directory. Plugins receive it in their factory.
 */
export class Runtime {
  readonly events: EventRegistry;
  readonly extensions: ExtensionRegistry;
  readonly quotas: QuotaEngine;
  /** Neutron's policy: who may see and do what (defaults, plugins' rules, `policy.yaml`). */
  readonly policy: PolicyEnforcer;
  /** Side effects recorded with the changes that cause them, applied after commit (DNS, billing). */
  readonly outbox: Outbox;
  /** Rendered reads kept until the embedded database changes (PGlite only). */
  readonly readCache?: ReadCache;
  readonly resources = new Map<string, ServedResource>();
  private readonly servedByTable = new Map<AnyResourceTable, readonly ServedAttribute[]>();
  private directory?: PluginDirectory;
  private readonly closers: Array<() => Promise<void> | void> = [];

  private constructor(
    readonly config: Config,
    readonly db: Database,
    readonly engine: Engine,
    readonly log: Logger,
    extensions: ExtensionRegistry,
    plugins: readonly LoadedPlugin[],
    changes?: () => number,
  ) {
    this.events = new EventRegistry(log);
    this.extensions = extensions;
    this.quotas = new QuotaEngine(
      config,
      plugins.flatMap((p) => p.definition.quotas),
    );
    const timing = config.get(coreOptions).outbox;
    this.outbox = new Outbox(() => this.db, log.child({ component: 'outbox' }), {
      pollMs: timing.poll_interval_ms,
      retryMinMs: timing.retry_min_delay_ms,
      retryMaxMs: timing.retry_max_delay_ms,
      leaseMs: timing.lease_ms,
    });
    const policy = buildPolicy(config, plugins);
    for (const warning of policy.warnings) log.warn(warning);
    this.policy = new PolicyEnforcer(policy.policy);
    const cacheMb = config.get(coreOptions).database.read_cache_size_mb;
    if (changes && cacheMb > 0) this.readCache = new ReadCache(changes, cacheMb * 1024 * 1024);
  }

  /** Registers work to do when the server stops (a plugin's timers, sockets), before the database closes. */
  onClose(callback: () => Promise<void> | void): void {
    this.closers.push(callback);
  }

  /** Stops the outbox dispatcher and runs the {@link onClose} callbacks, last registered first. */
  async close(): Promise<void> {
    await this.outbox.stop();
    for (const callback of this.closers.splice(0).reverse()) {
      try {
        await callback();
      } catch (err) {
        this.log.error({ err }, 'a close callback failed');
      }
    }
  }

  /** The loaded plugins by service type. */
  get plugins(): PluginDirectory {
    if (!this.directory) throw new Error('plugins are not instantiated yet');
    return this.directory;
  }

  /**
   * Checks the plugin set, enables extensions, decides which resources and attributes are
   * served, then instantiates the plugins (core first, then by requirement). Throws a
   * {@link StartupError} listing every problem.
   */
  static async create(options: RuntimeOptions): Promise<Runtime> {
    const services = orderByRequirements(options.services);
    const plugins = [options.core, ...services];
    const problems = checkConfiguration(options.config, options.core, services);
    if (problems.length > 0) throw new StartupError(problems);
    const runtime = new Runtime(
      options.config,
      options.db,
      options.engine,
      options.log,
      buildExtensions(plugins).registry,
      plugins,
      options.changes,
    );
    runtime.serveResources(plugins, problems);
    if (problems.length > 0) throw new StartupError(problems);

    const byType = new Map<ServiceType, { plugin: LoadedPlugin; instance: PluginInstance }>();
    runtime.directory = new PluginDirectory(byType);
    const instances = new Map<LoadedPlugin, PluginInstance>();
    for (const plugin of plugins) {
      const instance = await plugin.definition.create(runtime);
      instances.set(plugin, instance);
      byType.set(plugin.definition.type, { plugin, instance });
    }
    for (const [name, served] of runtime.resources) {
      const owner = instances.get(served.ownerPlugin)!;
      runtime.resources.set(name, { ...served, owner });
      problems.push(...missingMethods(served.definition, owner, served.ownerPlugin));
    }
    if (problems.length > 0) throw new StartupError(problems);
    return runtime;
  }

  private serveResources(plugins: readonly LoadedPlugin[], problems: string[]): void {
    for (const plugin of plugins) {
      for (const table of plugin.definition.resources) {
        const definition = table.resource;
        const extension = this.extensions.definingExtension(definition.name);
        const served = definition.core ? plugin.definition.type === 'CORE' : extension && this.extensions.isEnabled(extension.alias);
        if (!served) continue;
        if (this.resources.has(definition.name)) {
          problems.push(`resource ${definition.collection} is served by two plugins`);
          continue;
        }
        const attributes: ServedAttribute[] = [];
        for (const [name, { spec }] of Object.entries(definition.attributes)) {
          if (spec.extension && !this.extensions.isEnabled(spec.extension)) continue;
          attributes.push({ name, spec, select: table.selectFor(name, spec, this) });
        }
        for (const ext of this.extensions.enabled()) {
          for (const name of Object.keys(ext.attributes[definition.name] ?? {})) {
            problems.push(`extension '${ext.alias}' adds attribute ${name} to ${definition.collection}, but no loaded plugin stores it`);
          }
        }
        this.servedByTable.set(table, attributes);
        this.resources.set(definition.name, {
          definition,
          table,
          attributes,
          specs: new Map(attributes.map((a) => [a.name, a.spec])),
          owner: {},
          ownerPlugin: plugin,
        });
      }
    }
  }

  /**
   * A validated create body for a served resource, with defaults filled in, from what a plugin
   * asks for (a router creating its gateway port): the same checks an API request gets.
   */
  requestBody<T = Record<string, unknown>>(resource: string, raw: Record<string, unknown>, projectId: string): T {
    const served = this.resources.get(resource);
    if (!served) throw new Error(`resource ${resource} is not served`);
    return parseCreateItem({ project_id: projectId, ...raw }, served.specs, projectId) as T;
  }

  /** The attributes served for a table (all of its resource's when it is not served). */
  served(table: AnyResourceTable): readonly ServedAttribute[] {
    let served = this.servedByTable.get(table);
    if (!served) {
      served = Object.entries(table.resource.attributes)
        .filter(([, { spec }]) => !spec.extension || this.extensions.isEnabled(spec.extension))
        .map(([name, { spec }]) => ({ name, spec, select: table.selectFor(name, spec, this) }));
      this.servedByTable.set(table, served);
    }
    return served;
  }
}

function missingMethods(definition: ResourceDefinition, owner: PluginInstance, plugin: LoadedPlugin): string[] {
  const suffix = methodSuffix(definition.name);
  const needed = [
    ...(definition.verbs.includes('create') ? [`create${suffix}`] : []),
    ...(definition.verbs.includes('update') ? [`update${suffix}`] : []),
    ...(definition.verbs.includes('delete') ? [`delete${suffix}`] : []),
    ...Object.keys(definition.actions).map(actionMethod),
  ];
  return needed
    .filter((method) => typeof (owner as Record<string, unknown>)[method] !== 'function')
    .map((method) => `plugin ${describePlugin(plugin)} serves ${definition.collection} but has no ${method}() method`);
}

export type { PluginDefinition };
