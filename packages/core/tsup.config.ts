import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', 'testing/index': 'src/testing/index.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  removeNodeProtocol: false, // keep `node:fs` etc. as written
  dts: true,
  sourcemap: true,
  clean: true,
  // Shared code goes to chunks directly in dist/, so `new URL('../drizzle/', import.meta.url)`
  // (src/version.ts) resolves to the package's drizzle/ folder from dist/ as from src/.
  splitting: true,
  // dependencies and peerDependencies stay external (tsup's default); nothing is bundled.
});
