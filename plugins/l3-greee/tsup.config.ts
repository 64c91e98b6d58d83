import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  removeNodeProtocol: false, // keep `node:fs` etc. as written
  dts: true,
  sourcemap: true,
  clean: true,
  // dist/index.js sits directly in dist/, so `new URL('../drizzle/', import.meta.url)` finds drizzle/.
  splitting: true,
  // dependencies and peerDependencies (@nucleon/core) stay external (tsup's default).
});
