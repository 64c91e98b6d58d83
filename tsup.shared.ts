import type { Options } from 'tsup';

/**
 * How every package builds: ESM for Node 20 with declarations, dependencies and peers left
 * external (tsup's default: nothing is bundled). Shared code goes to chunks directly in dist/, so
 * `new URL('../drizzle/', import.meta.url)` finds a package's migrations from dist/ as from src/.
 */
export function packageBuild(entry: Record<string, string>, overrides: Options = {}): Options {
  return {
    entry,
    format: ['esm'],
    platform: 'node',
    target: 'node20',
    removeNodeProtocol: false, // keep `node:fs` etc. as written
    dts: true,
    sourcemap: true,
    clean: true,
    splitting: true,
    ...overrides,
  };
}
