/**
 * The yardstick: one bare Fastify route, in its own process, with the very Fastify that
 * `@nucleon/core` serves the API with (resolved from core's own dependencies, so versions match).
 *
 *   node --conditions=nucleon-source --import tsx bench/bare-server.ts PORT
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/** The part of Fastify's API this yardstick uses. */
interface BareApp {
  get(path: string, handler: () => Promise<unknown>): void;
  listen(options: { host: string; port: number }): Promise<string>;
  close(): Promise<void>;
}
type FastifyFactory = (options: { logger: boolean }) => BareApp;

const port = Number(process.argv[2]);
if (!Number.isInteger(port) || port <= 0) throw new Error('usage: bare-server.ts PORT');

const fastifyPath = createRequire(import.meta.resolve('@nucleon/core')).resolve('fastify');
const module = (await import(pathToFileURL(fastifyPath).href)) as { default: FastifyFactory };
const app = module.default({ logger: false });
app.get('/', async () => ({ hello: 'world' }));
await app.listen({ host: '127.0.0.1', port });

process.once('SIGTERM', () => {
  app.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
});
