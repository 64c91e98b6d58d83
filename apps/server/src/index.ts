/** The server as a library: what `nucleon-server` does, for embedding and tests. */
export { resolvePlugins } from './plugins.js';
export { serve, upgradeDatabase } from './serve.js';
export { STOCK_PLUGINS } from './stock-plugins.js';
