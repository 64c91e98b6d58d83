import { defineConfig } from 'tsup';

export default defineConfig({
  entry: { index: 'src/index.ts', cli: 'src/cli.ts' },
  format: ['esm'],
  platform: 'node',
  target: 'node20',
  removeNodeProtocol: false, // keep `node:fs` etc. as written
  // The CLI has no exports worth declaring; only the library entry gets a .d.ts.
  dts: { entry: { index: 'src/index.ts' } },
  sourcemap: true,
  clean: true,
  splitting: true,
  // esbuild keeps src/cli.ts's `#!/usr/bin/env node` line and tsup marks dist/cli.js executable.
  // dependencies (@nucleon/core, @nucleon/ml2, pino) stay external; plugins are import()ed by name.
});
