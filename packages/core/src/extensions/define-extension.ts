import type { AttributeMap } from '../attributes/attribute.js';
import type { ResourceDefinition } from '../resources/define-resource.js';

/** An API extension as `GET /v2.0/extensions` shows it, plus what it adds to the API. */
export interface ExtensionDefinition {
  readonly alias: string;
  readonly name: string;
  readonly description: string;
  /** Neutron's `updated` timestamp string, shown as is. */
  readonly updated: string;
  /** New top-level collections this extension introduces. */
  readonly resources: readonly ResourceDefinition[];
  /**
   * Attributes this extension adds to resources defined elsewhere, by resource name
   * (`{ network: { dns_domain: attr.string() } }`). Attributes of core definitions tagged
   * with `.ext(alias)` need not be repeated here.
   */
  readonly attributes: Readonly<Record<string, AttributeMap>>;
  /** Aliases that must be enabled too, or this extension cannot be served. */
  readonly requires: readonly string[];
  /** Aliases processed before this one when present. */
  readonly optional: readonly string[];
}

/** Options of {@link defineExtension}: everything but `alias`, `name`, `description`, `updated` is optional. */
export type ExtensionOptions = Pick<ExtensionDefinition, 'alias' | 'name' | 'description' | 'updated'> &
  Partial<Omit<ExtensionDefinition, 'alias' | 'name' | 'description' | 'updated'>>;

/** Declares an API extension (Neutron's `ExtensionDescriptor`). */
export function defineExtension(options: ExtensionOptions): ExtensionDefinition {
  return {
    resources: [],
    attributes: {},
    requires: [],
    optional: [],
    ...options,
  };
}
