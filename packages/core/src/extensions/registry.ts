import type { ExtensionDefinition } from './define-extension.js';

/** An extension and who defined it (a package name, or `@nucleon/core`). */
export interface KnownExtension {
  readonly definition: ExtensionDefinition;
  readonly definedBy: string;
}

/**
 * The extensions of one server: every definition the core and the loaded packages bring, and the
 * enabled ones — those whose alias a loaded plugin supports (Neutron's
 * `PluginAwareExtensionManager`).
 */
export class ExtensionRegistry {
  private constructor(
    private readonly known: ReadonlyMap<string, KnownExtension>,
    private readonly enabledAliases: ReadonlySet<string>,
  ) {}

  /**
   * Builds the registry and reports every problem: an alias defined twice, an alias a plugin
   * supports that nothing defines, an enabled extension whose required extensions are not.
   */
  static build(
    definitions: readonly KnownExtension[],
    supported: ReadonlyMap<string, readonly string[]>,
  ): { registry: ExtensionRegistry; problems: string[] } {
    const problems: string[] = [];
    const known = new Map<string, KnownExtension>();
    for (const entry of definitions) {
      const previous = known.get(entry.definition.alias);
      if (previous && previous.definition !== entry.definition) {
        problems.push(`extension alias '${entry.definition.alias}' is defined by both ${previous.definedBy} and ${entry.definedBy}`);
        continue;
      }
      known.set(entry.definition.alias, entry);
    }
    const enabled = new Set<string>();
    for (const [alias, plugins] of supported) {
      if (known.has(alias)) enabled.add(alias);
      else {
        for (const plugin of plugins) {
          problems.push(`plugin ${plugin} declares extension alias '${alias}', which no loaded extension defines`);
        }
      }
    }
    for (const alias of enabled) {
      for (const required of known.get(alias)!.definition.requires) {
        if (!enabled.has(required)) {
          problems.push(`extension '${alias}' requires extension '${required}', which no loaded plugin supports`);
        }
      }
    }
    return { registry: new ExtensionRegistry(known, enabled), problems };
  }

  /** True when the extension is served. */
  isEnabled(alias: string): boolean {
    return this.enabledAliases.has(alias);
  }

  /** Served extensions, in alias order (requirements first among equals is not needed by clients). */
  enabled(): ExtensionDefinition[] {
    return [...this.enabledAliases].sort().map((alias) => this.known.get(alias)!.definition);
  }

  /** A served extension by alias. */
  get(alias: string): ExtensionDefinition | undefined {
    return this.enabledAliases.has(alias) ? this.known.get(alias)?.definition : undefined;
  }

  /** The extension that introduces a resource, if any defines it. */
  definingExtension(resourceName: string): ExtensionDefinition | undefined {
    for (const { definition } of this.known.values()) {
      if (definition.resources.some((r) => r.name === resourceName)) return definition;
    }
    return undefined;
  }
}
