/**
 * Where a request's time goes: boots nucleon-server in this process (same plugins and config as
 * `pnpm bench`), times every SQL statement PGlite runs, sends requests one at a time through
 * Fastify's inject, and prints per request kind the statements by total time, plus the plan of
 * the costliest one (EXPLAIN ANALYZE).
 *
 *   node --conditions=nucleon-source --import tsx bench/sql-profile.ts [--data DIR] [--requests N]
 *
 * `--only TEXT` keeps the request kinds whose name contains TEXT (with `node --cpu-prof`, a
 * profile of just those). `--show-sql` prints the costliest statement in full. `--data` reuses
 * a PGlite folder (say one `BENCH_KEEP=1 pnpm bench` kept, with 100,000 ports); without it a
 * fresh folder gets 1,000 ports.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Config, createServer, openDatabase } from '@nucleon/core';
import { pino } from 'pino';
import { resolvePlugins } from '../src/plugins.js';

interface Results {
  rows?: unknown[];
}
/** The part of PGlite (and of its transaction object) that is timed here. */
interface Queryable {
  query(text: string, params?: unknown[], options?: unknown): Promise<Results>;
  exec(text: string, options?: unknown): Promise<Results[]>;
}
interface Client extends Queryable {
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
}

interface Timing {
  count: number;
  ms: number;
  worst: number;
  worstParams?: unknown[];
}

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    requests: { type: 'string', default: '200' },
    'show-sql': { type: 'boolean' },
    only: { type: 'string' },
  },
});
const REQUESTS = Number(values.requests);

let recording: Map<string, Timing> | undefined;
let inTransactionMs = 0;

function record(text: string, ms: number, params?: unknown[]): void {
  if (!recording) return;
  const key = text.replace(/\s+/g, ' ').trim();
  const timing = recording.get(key) ?? { count: 0, ms: 0, worst: 0 };
  timing.count++;
  timing.ms += ms;
  if (ms >= timing.worst) {
    timing.worst = ms;
    if (params) timing.worstParams = params;
  }
  recording.set(key, timing);
}

/** Times `target`'s queries; `original` holds the untimed methods (the prototype, for PGlite itself). */
function timed(target: Queryable, original: Queryable = target): void {
  const { query, exec } = original;
  target.query = async function (this: unknown, text, params, options) {
    const started = performance.now();
    try {
      return await query.call(this, text, params, options);
    } finally {
      record(text, performance.now() - started, params);
    }
  };
  target.exec = async function (this: unknown, text, options) {
    const started = performance.now();
    try {
      return await exec.call(this, text, options);
    } finally {
      record(text, performance.now() - started);
    }
  };
}

async function main(): Promise<void> {
  const scratch = values.data ? undefined : await mkdtemp(join(tmpdir(), 'nucleon-sqlprof-'));
  const dataDir = values.data ?? join(scratch!, 'data');
  const config = Config.fromObject({
    DEFAULT: { core_plugin: 'ml2', auth_strategy: 'noauth', debug: false },
    database: { connection: `pglite://${dataDir}` },
    quotas: {
      default_quota: -1,
      quota_network: -1,
      quota_subnet: -1,
      quota_port: -1,
      quota_security_group: -1,
      quota_security_group_rule: -1,
    },
    ml2: { type_drivers: ['local', 'flat', 'vlan', 'vxlan'], tenant_network_types: ['vxlan'] },
    ml2_type_vxlan: { vni_ranges: ['1001:2000'] },
  });
  const { core, services } = await resolvePlugins(config);
  const database = await openDatabase(`pglite://${dataDir}`);
  // The instance (core may hand drizzle a proxy of it: the methods are set on the instance and
  // call the prototype's).
  const client = (database.db as unknown as { $client: Client }).$client;
  const prototype = Object.getPrototypeOf(client) as Client;
  timed(client, prototype);
  client.transaction = async function <T>(this: unknown, work: (tx: Queryable) => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return (await prototype.transaction.call(this, (tx) => {
        timed(tx);
        return work(tx);
      })) as T;
    } finally {
      if (recording) inTransactionMs += performance.now() - started;
    }
  };
  const server = await createServer({ config, core, services, log: pino({ level: 'warn' }), database, migrate: true });
  const inject = async (method: 'GET' | 'POST', url: string, body?: unknown) => {
    const response = await server.app.inject({ method, url, ...(body === undefined ? {} : { payload: body as object }) });
    if (response.statusCode >= 300) throw new Error(`${method} ${url}: ${response.statusCode} ${response.body.slice(0, 300)}`);
    return response.json() as Record<string, any>;
  };
  try {
    const networks = (await inject('GET', '/v2.0/networks?name=bench-create')).networks as Array<{ id: string }>;
    let networkId = networks[0]?.id;
    if (!networkId) {
      networkId = (await inject('POST', '/v2.0/networks', { network: { name: 'bench-create' } })).network.id as string;
      await inject('POST', '/v2.0/subnets', { subnet: { network_id: networkId, cidr: '10.1.0.0/16', ip_version: 4 } });
    }
    if (!values.data) {
      for (let i = 0; i < 10; i++)
        await inject('POST', '/v2.0/ports', { ports: Array.from({ length: 100 }, () => ({ network_id: networkId })) });
    }
    const ids = ((await inject('GET', '/v2.0/ports?fields=id')).ports as Array<{ id: string }>).map((p) => p.id);
    process.stdout.write(`${ids.length} ports in the table\n`);
    const middle = ids[Math.floor(ids.length / 2)]!;
    const cases: Array<[string, () => Promise<unknown>, number]> = [
      ['port create', () => inject('POST', '/v2.0/ports', { port: { network_id: networkId } }), REQUESTS],
      ['port show', () => inject('GET', `/v2.0/ports/${ids[Math.floor(Math.random() * ids.length)]}`), REQUESTS],
      ['page of 100 (?limit=100)', () => inject('GET', '/v2.0/ports?limit=100'), Math.max(5, REQUESTS / 10)],
      [
        'page of 100 after a marker in the middle',
        () => inject('GET', `/v2.0/ports?limit=100&marker=${middle}`),
        Math.max(5, REQUESTS / 10),
      ],
    ];
    if (ids.length <= 5000) cases.push(['list of all ports', () => inject('GET', '/v2.0/ports'), Math.max(5, REQUESTS / 20)]);
    for (const [name, send, count] of cases) {
      if (values.only && !name.includes(values.only)) continue;
      for (let i = 0; i < Math.min(20, count); i++) await send(); // warm-up
      recording = new Map();
      inTransactionMs = 0;
      const started = performance.now();
      const cpu = process.cpuUsage();
      for (let i = 0; i < count; i++) await send();
      const total = performance.now() - started;
      const { user, system } = process.cpuUsage(cpu);
      const timings = recording;
      recording = undefined;
      const sqlMs = [...timings.values()].reduce((n, t) => n + t.ms, 0);
      const statements = [...timings.values()].reduce((n, t) => n + t.count, 0);
      process.stdout.write(
        `\n== ${name}: ${(total / count).toFixed(2)} ms per request (CPU ${((user + system) / 1000 / count).toFixed(2)} ms); SQL ${(sqlMs / count).toFixed(2)} ms in ${(statements / count).toFixed(1)} statements; ` +
          `transactions (incl. BEGIN/COMMIT and JS inside) ${(inTransactionMs / count).toFixed(2)} ms\n`,
      );
      const sorted = [...timings.entries()].sort((a, b) => b[1].ms - a[1].ms);
      for (const [text, t] of sorted.slice(0, 12)) {
        process.stdout.write(
          `  ${(t.ms / count).toFixed(3).padStart(8)} ms/req  ×${(t.count / count).toFixed(1).padStart(4)}  ${text.slice(0, 150)}\n`,
        );
      }
      const [worstText, worst] = sorted[0]!;
      if (values['show-sql'])
        process.stdout.write(`  costliest statement:\n    ${worstText}\n    params ${JSON.stringify(worst.worstParams ?? [])}\n`);
      if (/^\s*select/i.test(worstText)) {
        const plan = await client.query(`explain (analyze, buffers) ${worstText}`, worst.worstParams ?? []);
        process.stdout.write(`  plan of the costliest statement:\n`);
        for (const row of (plan.rows ?? []) as Array<Record<string, string>>) process.stdout.write(`    ${Object.values(row)[0]}\n`);
      }
    }
  } finally {
    await server.close();
    await database.close();
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
