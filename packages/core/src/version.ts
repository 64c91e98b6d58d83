import corePackage from '../package.json' with { type: 'json' };

/** The version of this `@nucleon/core`, checked against each plugin's `coreVersion` range. */
export const CORE_VERSION: string = corePackage.version;

/** The core's own migrations (tags, quotas), applied before any plugin's. */
export const CORE_MIGRATIONS = new URL('../drizzle/', import.meta.url);
