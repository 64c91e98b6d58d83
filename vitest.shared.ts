import { defineConfig } from 'vitest/config';

/** Vite's default server conditions, with the workspace's source condition first. */
const conditions = ['nucleon-source', 'module', 'node', 'development|production'];

/**
 * Shared vitest settings: workspace packages resolve to their TypeScript sources (the
 * `nucleon-source` export condition), so tests run without a prior build.
 */
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
