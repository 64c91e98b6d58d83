import semver from 'semver';
import type { PluginDefinition, ServiceType } from './define-plugin.js';

/** A plugin as loaded: its descriptor and the package it came from. */
export interface LoadedPlugin {
  readonly definition: PluginDefinition;
  readonly packageName: string;
  readonly version: string;
}

/** `@nucleon/l3-greee@0.1.0` — how messages name a plugin. */
export function describePlugin(plugin: LoadedPlugin): string {
  return `${plugin.packageName}@${plugin.version}`;
}

/**
 * Checks a plugin set before anything starts: exactly one core plugin, at most one plugin per
 * service type (Neutron silently lets the last one win; Nucleon refuses), each plugin's core
 * range satisfied, required service types present. Returns every problem found.
 */
export function checkPluginSet(core: LoadedPlugin | undefined, services: readonly LoadedPlugin[], coreVersion: string): string[] {
  const problems: string[] = [];
  if (core && core.definition.type !== 'CORE') {
    problems.push(
      `core_plugin ${describePlugin(core)} is not a core plugin (its type is ${core.definition.type}); name it in service_plugins`,
    );
  }
  const byType = new Map<ServiceType, LoadedPlugin[]>();
  for (const plugin of services) {
    if (plugin.definition.type === 'CORE') {
      problems.push(`service plugin ${describePlugin(plugin)} is a core plugin; name it in core_plugin instead`);
      continue;
    }
    byType.set(plugin.definition.type, [...(byType.get(plugin.definition.type) ?? []), plugin]);
  }
  for (const [type, plugins] of byType) {
    if (plugins.length > 1) {
      problems.push(
        `service plugins ${plugins.map((p) => p.packageName).join(' and ')} both provide service type ${type}; ` +
          'only one plugin per service type may be loaded',
      );
    }
  }
  for (const plugin of [...(core ? [core] : []), ...services]) {
    const range = plugin.definition.coreVersion;
    if (!semver.validRange(range)) {
      problems.push(`plugin ${describePlugin(plugin)} declares an invalid core version range '${range}'`);
    } else if (!semver.satisfies(coreVersion, range, { includePrerelease: true })) {
      problems.push(`plugin ${describePlugin(plugin)} requires @nucleon/core ${range}, but @nucleon/core ${coreVersion} is installed`);
    }
    for (const required of plugin.definition.requires) {
      const present = required === 'CORE' ? core !== undefined : byType.has(required);
      if (!present) problems.push(`plugin ${describePlugin(plugin)} requires a ${required} plugin, and none is configured`);
    }
  }
  return problems;
}
