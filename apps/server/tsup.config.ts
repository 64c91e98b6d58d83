import { defineConfig } from 'tsup';
import { packageBuild } from '../../tsup.shared.js';

// esbuild keeps src/cli.ts's `#!/usr/bin/env node` line and tsup marks dist/cli.js executable; the
// CLI has no exports worth declaring, so only the library entry gets a .d.ts.
export default defineConfig(packageBuild({ index: 'src/index.ts', cli: 'src/cli.ts' }, { dts: { entry: { index: 'src/index.ts' } } }));
