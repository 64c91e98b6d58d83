/**
 * `pnpm bench`: throughput and latency of Nucleon's port and floating IP APIs on PGlite, beside
 * a bare Fastify route on the same machine (the yardstick).
 *
 * The servers run as separate processes — the real `nucleon-server` CLI from sources, and the
 * bare route — while the load comes from this process, so load generator and server do not
 * share an event loop.
 *
 * The port reads are measured twice on the same data folder: with the default configuration
 * (PGlite's read cache on) and with `[database] read_cache_size_mb = 0` (the server restarted
 * with the cache off). Floating IPs are measured on a second server with `service_plugins =
 * router` (the stock L3 plugin) on a fresh folder: each request creates, associates,
 * disassociates or deletes a different floating IP (a finite workload, see `drive` in load.ts).
 *
 * Knobs (environment): BENCH_SECONDS (per row, default 8), BENCH_WARMUP (seconds, default 2),
 * BENCH_CONNECTIONS (default 8), BENCH_SEED (auto | api | direct: how the 100,000 ports are
 * made; auto uses the API when that is projected to take under BENCH_SEED_BUDGET seconds,
 * default 30), BENCH_FIP_MAX (most floating IPs the create row makes, default 5000),
 * BENCH_CPU_PROF (a folder: the Nucleon servers write V8 CPU profiles there), BENCH_KEEP=1
 * (keep the temp folder).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Port } from '@nucleon/core';
import { eventually, keystoneFixture } from '@nucleon/core/testing';
import { startWebhookReceiver, type WebhookReceiver } from '@nucleon/metering/testing';
import { drive, run, type Answer, type Call, type Load, type Measurement } from './load.js';
import { freePort, writeConf, type ConfSections } from '../test/helpers/processes.js';
import { startServer, type ServerProcess } from './processes.js';
import { insertPorts } from './seed-direct.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const SEED_MODE = process.env.BENCH_SEED ?? 'auto';
const SEED_BUDGET = Number(process.env.BENCH_SEED_BUDGET ?? 30);
const FIP_MAX = Number(process.env.BENCH_FIP_MAX ?? 5000);
const CPU_PROF = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;
const BIG = 100_000;
const SMALL = 1_000;
const CHUNK = 100;
/** Of a finite workload, at most this share goes to the warm-up. */
const WARMUP_SHARE = 0.2;
const CACHE_OFF = ' (read cache off)';

const appDir = fileURLToPath(new URL('..', import.meta.url));
const nodeArgs = ['--conditions=nucleon-source', '--import', 'tsx'];

const say = (line: string) => process.stdout.write(`· ${line}\n`);

interface Target {
  readonly text: string;
  readonly met: (m: Measurement) => boolean;
}

/** Which server configuration a row ran on. */
type Variant = 'default' | 'cache-off' | 'billing';
const VARIANT_ORDER: readonly Variant[] = ['default', 'cache-off', 'billing'];
const BILLING = ' (+ metering: ledger, webhook events)';

interface Row {
  /** What was measured; the table puts a key's rows together, default configuration first. */
  readonly key: string;
  readonly variant: Variant;
  readonly name: string;
  readonly m: Measurement;
  readonly target?: Target;
}

/** Table order. */
const KEYS = [
  'bare',
  'show',
  'list',
  'page-small',
  'page-big',
  'page-marker',
  'create',
  'fip-create',
  'fip-associate',
  'fip-disassociate',
  'fip-delete',
  'ks-admin-show',
  'ks-member-show',
  'ks-admin-list',
  'ks-member-list',
];

const rows: Row[] = [];
const notes: string[] = [];

function record(key: string, variant: Variant, name: string, m: Measurement, target?: Target): Measurement {
  const label = variant === 'cache-off' ? `${name}${CACHE_OFF}` : variant === 'billing' ? `${name}${BILLING}` : name;
  rows.push({ key, variant, name: label, m, ...(target ? { target } : {}) });
  const failures = Object.entries(m.failures)
    .map(([kind, n]) => `${n}× ${kind}`)
    .join(', ');
  say(
    `${label}: ${m.rps.toFixed(0)} req/s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms (${m.ok} ok in ${m.seconds.toFixed(1)} s)${m.failed ? `, ${m.failed} FAILED (${failures})` : ''}`,
  );
  return m;
}

/** An endless workload (autocannon): warm-up, then {@link SECONDS} measured. */
async function measure(key: string, variant: Variant, name: string, url: string, load: Load, target?: Target): Promise<Measurement> {
  if (WARMUP > 0) await run(url, load, { connections: CONNECTIONS, seconds: WARMUP });
  return record(key, variant, name, await run(url, load, { connections: CONNECTIONS, seconds: SECONDS }), target);
}

/**
 * A finite workload: each call of `calls` once, {@link CONNECTIONS} in flight. The first ones
 * (for {@link WARMUP} seconds, at most {@link WARMUP_SHARE} of them) warm up; the rest are
 * measured, for at most {@link SECONDS}. `onAnswer` sees warm-up and measured answers alike.
 */
async function measureFinite(
  key: string,
  variant: Variant,
  name: string,
  base: string,
  calls: readonly Call[],
  onAnswer: (answer: Answer) => void,
): Promise<Measurement> {
  let next = 0;
  const warmupCount = Math.floor(calls.length * WARMUP_SHARE);
  if (WARMUP > 0 && warmupCount > 0) {
    await drive(base, () => (next < warmupCount ? calls[next++] : undefined), { connections: CONNECTIONS, seconds: WARMUP, onAnswer });
  }
  const warmed = next;
  const m = await drive(base, () => calls[next++], { connections: CONNECTIONS, seconds: SECONDS, onAnswer });
  say(
    `  ${name}: ${warmed} warm-up calls, ${Math.min(next, calls.length) - warmed} measured, ${Math.max(0, calls.length - next)} of ${calls.length} left over`,
  );
  return record(key, variant, name, m);
}

/** A JSON request to the Nucleon API; throws on an unexpected status. */
async function api<T>(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  expect = method === 'POST' ? 201 : 200,
  headers: Record<string, string> = {},
): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status !== expect) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** A network with one IPv4 subnet; returns both ids. */
async function network(
  base: string,
  name: string,
  cidr: string,
  extra: { network?: Record<string, unknown>; subnet?: Record<string, unknown> } = {},
): Promise<{ networkId: string; subnetId: string }> {
  const { network } = await api<{ network: { id: string } }>(base, 'POST', '/v2.0/networks', { network: { name, ...extra.network } });
  const { subnet } = await api<{ subnet: { id: string } }>(base, 'POST', '/v2.0/subnets', {
    subnet: { network_id: network.id, cidr, ip_version: 4, name, ...extra.subnet },
  });
  return { networkId: network.id, subnetId: subnet.id };
}

/** Creates `count` ports with bulk POSTs of {@link CHUNK}, two in flight; returns them and the seconds taken. */
async function bulkCreate(
  base: string,
  networkId: string,
  count: number,
  onProgress?: (done: number) => void,
): Promise<{ ports: Port[]; seconds: number }> {
  const started = performance.now();
  const ports: Port[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const size = Math.min(CHUNK, count - next);
      next += size;
      const body = { ports: Array.from({ length: size }, () => ({ network_id: networkId })) };
      const created = await api<{ ports: Port[] }>(base, 'POST', '/v2.0/ports', body);
      ports.push(...created.ports);
      onProgress?.(ports.length);
    }
  };
  await Promise.all([worker(), worker()]);
  return { ports, seconds: (performance.now() - started) / 1000 };
}

/** Every port id, sorted as the API sorts them (one unpaginated `fields=id` list). */
async function allIds(base: string): Promise<string[]> {
  const { ports } = await api<{ ports: Array<{ id: string }> }>(base, 'GET', '/v2.0/ports?fields=id');
  return ports.map((p) => p.id);
}

/** Request paths that go round `ids` in turn (not at random: every id equally often), counting the ids used. */
function rotation(ids: readonly string[], path: (id: string) => string): { path: () => string; used: Set<string>; draws: () => number } {
  let i = 0;
  const used = new Set<string>();
  return {
    path: () => {
      const id = ids[i++ % ids.length]!;
      used.add(id);
      return path(id);
    },
    used,
    draws: () => i,
  };
}

function fmt(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

const find = (key: string, variant: Variant) => rows.find((r) => r.key === key && r.variant === variant);

function report(bare: Measurement | undefined, started: number, loadBefore: number[]): void {
  const ordered = [...rows].sort((a, b) => {
    const ka = KEYS.indexOf(a.key);
    const kb = KEYS.indexOf(b.key);
    if (ka !== kb) return (ka < 0 ? KEYS.length : ka) - (kb < 0 ? KEYS.length : kb);
    return VARIANT_ORDER.indexOf(a.variant) - VARIANT_ORDER.indexOf(b.variant);
  });
  const header = ['', 'req/s', 'vs bare', 'ms/req', 'p50 ms', 'p99 ms', 'p50 vs bare', 'requests', 'target', 'met'];
  const table = ordered.map(({ name, m, target }) => [
    name,
    fmt(m.rps, 0),
    bare ? `${fmt(m.rps / bare.rps, 3)}×` : '—',
    fmt(1000 / m.rps, 2),
    fmt(m.p50, 2),
    fmt(m.p99, 2),
    bare ? `${fmt(m.p50 / bare.p50, 1)}×` : '—',
    `${m.ok + m.failed}`,
    target?.text ?? (m === bare ? '(yardstick)' : '(no target)'),
    target ? (m.failed > 0 ? 'NO (errors)' : target.met(m) ? 'yes' : 'NO') : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === 0 || i >= 8 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out: string[] = [];
  out.push('');
  out.push(`Nucleon port and floating IP APIs on PGlite — ${CONNECTIONS} connections, ${SECONDS} s per row after ${WARMUP} s warm-up`);
  out.push(
    `node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
  );
  out.push('');
  out.push(line(header));
  out.push(line(widths.map((w) => '-'.repeat(w))));
  for (const row of table) out.push(line(row));
  out.push('');
  out.push('ms/req = 1000 / req/s: the server time per request, as PGlite runs one statement at a time (p50 ≈ connections × ms/req).');
  out.push('read cache: the rows without a suffix run the default configuration, in which nucleon-server keeps rendered lists and');
  out.push('  shows in memory ([database] read_cache_size_mb, default 64) until the data changes — any write makes every entry stale —');
  out.push('  and only on PGlite (under PostgreSQL there is no read cache). These rows repeat the same reads with no write between');
  out.push('  them: the cache\'s best case. The rows marked "(read cache off)" are the same server restarted on the same data folder');
  out.push('  with read_cache_size_mb = 0: every read renders from the database, as the first read after a write does, and as');
  out.push('  under PostgreSQL. The targets are for the default configuration; the cache-off rows show where the uncached path stands.');
  const short: Record<string, string> = {
    show: 'port show',
    list: `list of ${SMALL.toLocaleString('en')}`,
    'page-small': `page of 100 of ${SMALL.toLocaleString('en')}`,
    'page-big': `page of 100 of ${BIG.toLocaleString('en')}`,
    'page-marker': 'page after a marker',
  };
  const speedups = Object.entries(short)
    .map(([key, label]) => [label, find(key, 'default'), find(key, 'cache-off')] as const)
    .filter((t): t is readonly [string, Row, Row] => t[1] !== undefined && t[2] !== undefined)
    .map(([label, on, off]) => `${label} ${fmt(on.m.rps / off.m.rps, 1)}×`);
  if (speedups.length > 0) out.push(`read cache on vs off, req/s: ${speedups.join(', ')}.`);
  for (const variant of ['default', 'cache-off'] as const) {
    const small = find('page-small', variant);
    const big = find('page-big', variant);
    if (small && big) {
      const how =
        variant === 'cache-off'
          ? ' (read cache off: rendered each time)'
          : ' (both answered from the read cache: this says nothing about the query)';
      out.push(
        `a page of 100 costs ${fmt(big.m.p50 / small.m.p50, 2)}× as much (p50) with 100,000 ports in the table as with 1,000${how}.`,
      );
    }
  }
  for (const note of notes) out.push(`note: ${note}`);
  const failures = ordered.filter((r) => r.m.failed > 0);
  for (const r of failures) {
    const kinds = Object.entries(r.m.failures)
      .map(([kind, n]) => `${n}× ${kind}`)
      .join(', ');
    out.push(`WARNING: ${r.name}: ${r.m.failed} failed requests (${kinds || 'non-2xx, errors or timeouts'})`);
    for (const sample of r.m.samples) out.push(`  e.g. ${sample}`);
  }
  if (failures.length === 0) out.push('no failed requests: every measured request got a 2xx answer.');
  out.push('for scale: a real neutron-server managed 6 port creates/s and listed 1,000 ports in about 2 s.');
  const missed = (variant: Variant) => ordered.filter((r) => r.variant === variant && r.target && (r.m.failed > 0 || !r.target.met(r.m)));
  const missedDefault = missed('default');
  out.push(
    missedDefault.length === 0
      ? 'all targets met (default configuration)'
      : `targets missed (default configuration): ${missedDefault.map((r) => r.name).join('; ')}`,
  );
  const offRows = ordered.filter((r) => r.variant === 'cache-off' && r.target);
  const missedOff = missed('cache-off');
  if (offRows.length > 0) {
    out.push(
      missedOff.length === 0
        ? `read cache off: the uncached reads meet their targets too (${offRows.length} of ${offRows.length})`
        : `read cache off: ${offRows.length - missedOff.length} of ${offRows.length} uncached reads meet the targets; over: ${missedOff.map((r) => r.name).join('; ')}`,
    );
  }
  out.push(`total bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(`${out.join('\n')}\n`);
}

/** A neutron.conf for the bench: ML2, noauth, no quotas; `extra` sections add to or override these. */
function neutronConf(
  port: number,
  dataDir: string,
  extra: { servicePlugins?: string; cacheMb?: number; sections?: ConfSections } = {},
): ConfSections {
  const base: ConfSections = {
    DEFAULT: {
      bind_host: '127.0.0.1',
      bind_port: port,
      core_plugin: 'ml2',
      service_plugins: extra.servicePlugins ?? '',
      auth_strategy: 'noauth',
      debug: false,
    },
    // Without read_cache_size_mb: the default (the cache on).
    database: { connection: `pglite://${dataDir}`, ...(extra.cacheMb !== undefined ? { read_cache_size_mb: extra.cacheMb } : {}) },
    quotas: {
      default_quota: -1,
      quota_network: -1,
      quota_subnet: -1,
      quota_port: -1,
      quota_security_group: -1,
      quota_security_group_rule: -1,
    },
    ml2: { type_drivers: 'local,flat,vlan,vxlan', tenant_network_types: 'vxlan' },
    ml2_type_vxlan: { vni_ranges: '1001:2000' },
  };
  const sections: Record<string, ConfSections[string]> = { ...base };
  for (const [name, entries] of Object.entries(extra.sections ?? {})) sections[name] = { ...base[name], ...entries };
  return sections;
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadavg();
  say(
    `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs${loadBefore[0]! > cpus().length / 2 ? ' — the machine is busy; figures will be noisy' : ''}`,
  );
  const dir = await mkdtemp(join(tmpdir(), 'nucleon-bench-'));
  const servers: ServerProcess[] = [];
  const stop = async (server: ServerProcess) => {
    await server.stop();
    servers.splice(servers.indexOf(server), 1);
  };
  const startNucleon = async (label: string, configFile: string, base: string) => {
    const server = await startServer({
      name: `nucleon-server (${label})`,
      cwd: appDir,
      args: [
        ...nodeArgs,
        ...(CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${CPU_PROF}`, `--cpu-prof-name=nucleon-${label}.cpuprofile`] : []),
        'src/cli.ts',
        '--config-file',
        configFile,
      ],
      url: `${base}/`,
      logFile: join(dir, 'nucleon.log'),
      // Request logging (info) would otherwise be part of what is measured.
      env: { NUCLEON_LOG_LEVEL: 'warn' },
    });
    servers.push(server);
    return server;
  };
  let bare: Measurement | undefined;
  try {
    // 1. The yardstick: a bare Fastify route in its own process.
    {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const server = await startServer({
        name: 'bare Fastify route',
        cwd: appDir,
        args: [...nodeArgs, 'bench/bare-server.ts', String(port)],
        url,
        logFile: join(dir, 'bare.log'),
      });
      servers.push(server);
      bare = await measure('bare', 'default', 'bare Fastify route (GET /)', url, { path: '/' });
      // The finite-workload driver on the same route: the most it could report.
      const ceiling = await drive(url, () => ({ method: 'GET', path: '/' }), { connections: CONNECTIONS, seconds: 2 });
      notes.push(
        `the floating IP rows come from load.ts's drive() (node:http, keep-alive, ${CONNECTIONS} in flight, each request a different floating IP); on the bare route it reaches ${fmt(ceiling.rps, 0)} req/s, p50 ${fmt(ceiling.p50, 2)} ms (autocannon: ${fmt(bare.rps, 0)} req/s)`,
      );
      await stop(server);
    }

    // 2. nucleon-server, as operators run it, on a fresh PGlite folder; the same folder with the read cache off.
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const dataDir = join(dir, 'data');
    const defaultConf = await writeConf(dir, 'neutron.conf', neutronConf(port, dataDir));
    const cacheOffConf = await writeConf(dir, 'neutron-cache-off.conf', neutronConf(port, dataDir, { cacheMb: 0 }));
    const start = (variant: Variant, label: string) =>
      startNucleon(`${label}-${variant}`, variant === 'default' ? defaultConf : cacheOffConf, base);

    // The uncached reads first, so that the default server runs on into the create row.
    let nucleon = await start('cache-off', 'small');
    const small = await network(base, 'bench-list', '10.0.0.0/16');
    const creates = await network(base, 'bench-create', '10.1.0.0/16');
    const big = await network(base, 'bench-page', '10.128.0.0/9');

    // 3. With 1,000 ports in the table: show, list of all, a page of 100 — cache off, then on.
    const seeded = await bulkCreate(base, small.networkId, SMALL);
    say(`seeded ${SMALL} ports through the API (bulk POSTs of ${CHUNK}) in ${seeded.seconds.toFixed(1)} s`);
    const smallIds = seeded.ports.map((p) => p.id);
    for (const variant of ['cache-off', 'default'] as const) {
      if (variant === 'default') {
        await stop(nucleon);
        nucleon = await start('default', 'small');
      }
      const listed = await allIds(base);
      if (listed.length !== SMALL) throw new Error(`expected ${SMALL} ports, the API lists ${listed.length}`);
      const shows = rotation(smallIds, (id) => `/v2.0/ports/${id}`);
      await measure(
        'show',
        variant,
        'port show (GET /v2.0/ports/{id})',
        base,
        { path: shows.path },
        { text: 'p50 ≤ 2 ms', met: (m) => m.p50 <= 2 },
      );
      if (shows.used.size !== SMALL) throw new Error(`port show drew ${shows.used.size} distinct ids, not ${SMALL}`);
      say(`  port show went round all ${shows.used.size} ids in turn (${shows.draws()} requests incl. warm-up)`);
      await measure(
        'list',
        variant,
        `list ${SMALL.toLocaleString('en')} ports (GET /v2.0/ports)`,
        base,
        { path: '/v2.0/ports' },
        { text: 'p50 ≤ 20 ms', met: (m) => m.p50 <= 20 },
      );
      await measure('page-small', variant, `page of 100 of ${SMALL.toLocaleString('en')} (?limit=100)`, base, {
        path: '/v2.0/ports?limit=100',
      });
    }
    const listBytes = (await (await fetch(`${base}/v2.0/ports`)).arrayBuffer()).byteLength;
    notes.push(
      `port show went round the ${SMALL.toLocaleString('en')} ports' ids in turn (every id equally often); the list of ${SMALL.toLocaleString('en')} is ${(listBytes / 1024).toFixed(0)} KiB of JSON`,
    );

    // 4. Port create (default configuration).
    await measure(
      'create',
      'default',
      'port create (POST /v2.0/ports)',
      base,
      { method: 'POST', path: '/v2.0/ports', body: JSON.stringify({ port: { network_id: creates.networkId } }) },
      {
        text: '≥ 400 req/s',
        met: (m) => m.rps >= 400,
      },
    );

    // 5. Up to 100,000 ports: through the API when that is quick enough, else straight into ML2's tables.
    const before = (await allIds(base)).length;
    let missing = BIG - before;
    const seedStarted = performance.now();
    let viaApi = 0;
    let direct = 0;
    const bigPorts: Port[] = [];
    if (missing > 0) {
      // A first chunk through the API: it times API seeding, and gives direct seeding its template.
      const probe = Math.min(missing, SEED_MODE === 'api' ? missing : SEED_MODE === 'direct' ? CHUNK : 2_000);
      const first = await bulkCreate(base, big.networkId, probe);
      bigPorts.push(...first.ports);
      viaApi += probe;
      missing -= probe;
      const rate = probe / first.seconds;
      const projected = missing / rate;
      say(`bulk API seeding runs at ${rate.toFixed(0)} ports/s: ${missing} more would take ~${projected.toFixed(0)} s`);
      if (missing > 0 && (SEED_MODE === 'api' || (SEED_MODE === 'auto' && projected <= SEED_BUDGET))) {
        let last = 0;
        const rest = await bulkCreate(base, big.networkId, missing, (done) => {
          if (done - last >= 20_000) {
            last = done;
            say(`  ${done} / ${missing}`);
          }
        });
        bigPorts.push(...rest.ports);
        viaApi += missing;
        missing = 0;
      }
    }
    if (missing > 0) {
      await stop(nucleon);
      const template = bigPorts[0]!;
      await insertPorts({
        dataDir,
        template,
        subnetId: big.subnetId,
        cidr: '10.128.0.0/9',
        count: missing,
        taken: new Set(bigPorts.flatMap((p) => p.fixed_ips.map((f) => f.ip_address))),
        takenMacs: new Set(bigPorts.map((p) => p.mac_address ?? '')),
      });
      direct = missing;
      nucleon = await start('default', 'big');
    }
    const seedSeconds = (performance.now() - seedStarted) / 1000;
    const ids = await allIds(base);
    if (ids.length !== BIG) throw new Error(`expected ${BIG} ports, the API lists ${ids.length}`);
    const seedNote =
      direct > 0
        ? `${BIG.toLocaleString('en')} ports: ${before} from the rows above, ${viaApi} through the bulk API, ${direct} inserted directly into ML2's ports + ipallocations tables (API seeding projected over ${SEED_BUDGET} s), ${seedSeconds.toFixed(0)} s in all incl. a server restart`
        : `${BIG.toLocaleString('en')} ports: ${before} from the rows above, ${viaApi} through the bulk API (POSTs of ${CHUNK}) in ${seedSeconds.toFixed(0)} s (${(viaApi / seedSeconds).toFixed(0)} ports/s)`;
    notes.push(seedNote);
    say(seedNote);
    const middle = ids[BIG / 2]!;
    for (const variant of ['default', 'cache-off'] as const) {
      if (variant === 'cache-off') {
        await stop(nucleon);
        nucleon = await start('cache-off', 'big');
      }
      await measure(
        'page-big',
        variant,
        `page of 100 of ${BIG.toLocaleString('en')} (?limit=100)`,
        base,
        { path: '/v2.0/ports?limit=100' },
        {
          text: 'p50 ≤ 5 ms',
          met: (m) => m.p50 <= 5,
        },
      );
      await measure(
        'page-marker',
        variant,
        `page of 100 of ${BIG.toLocaleString('en')} (marker in the middle)`,
        base,
        { path: `/v2.0/ports?limit=100&marker=${middle}` },
        {
          text: 'p50 ≤ 5 ms',
          met: (m) => m.p50 <= 5,
        },
      );
    }
    await stop(nucleon);

    // 6. Floating IPs: the stock L3 plugin, on a fresh folder, default configuration; then again
    //    with the metering plugin billing every change to a webhook receiver in this process.
    await floatingIps(dir, startNucleon);
    const receiver = await startWebhookReceiver('bench-secret');
    try {
      const changes = await floatingIps(dir, startNucleon, receiver);
      notes.push(
        `billing rows: service_plugins = router,metering with [billing] sinks = webhook to a receiver in the bench process (always 2xx); each change also writes a ledger interval and an outbox entry in its transaction, and the dispatcher POSTs the signed CloudEvents meanwhile; ${receiver.events().length} distinct events received for ${changes} changes (${receiver.attempts.length} deliveries)`,
      );
    } finally {
      await receiver.close();
    }

    // 7. Keystone tokens and policy: the same reads as a member (rules checked row by row) and as an admin.
    await keystoneReads(dir, startNucleon);
  } finally {
    for (const server of [...servers]) await server.stop();
    if (process.env.BENCH_KEEP) say(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
  report(bare, started, loadBefore);
}

/**
 * With a test Keystone configured (NUCLEON_TEST_KEYSTONE_URL, see `@nucleon/core/testing`): a
 * server with `auth_strategy = keystone` and 1,000 ports of project nucleon-a, shown and listed
 * with alice's token (a member: `get_port` depends on the row, so each row is checked, with its
 * network loaded for `admin_owner_or_network_owner`) and with the admin's (the rule passes for
 * the caller alone: the rendered JSON goes out untouched). Tokens are validated once and then
 * served from the server's token cache, so Keystone itself is not what is measured.
 */
async function keystoneReads(
  dir: string,
  startNucleon: (label: string, configFile: string, base: string) => Promise<ServerProcess>,
): Promise<void> {
  const fixture = await keystoneFixture();
  if (!fixture) {
    notes.push('no test Keystone (NUCLEON_TEST_KEYSTONE_URL): the member/admin token rows were not measured');
    return;
  }
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = join(dir, 'data-keystone');
  const sections = fixture.authConfig();
  const confs = {
    default: await writeConf(dir, 'neutron-keystone.conf', neutronConf(port, dataDir, { sections })),
    'cache-off': await writeConf(dir, 'neutron-keystone-cache-off.conf', neutronConf(port, dataDir, { sections, cacheMb: 0 })),
  };
  let server = await startNucleon('keystone-default', confs.default, base);
  const admin = { 'x-auth-token': await fixture.token('admin') };
  const member = { 'x-auth-token': await fixture.token('alice') };
  const project = fixture.projects.a.id;
  const { network } = await api<{ network: { id: string } }>(
    base,
    'POST',
    '/v2.0/networks',
    { network: { name: 'bench-ks', project_id: project } },
    201,
    admin,
  );
  await api(
    base,
    'POST',
    '/v2.0/subnets',
    { subnet: { network_id: network.id, cidr: '10.2.0.0/16', ip_version: 4, project_id: project } },
    201,
    admin,
  );
  const ids: string[] = [];
  for (let i = 0; i < SMALL; i += CHUNK) {
    const body = { ports: Array.from({ length: CHUNK }, () => ({ network_id: network.id, project_id: project })) };
    ids.push(...(await api<{ ports: Port[] }>(base, 'POST', '/v2.0/ports', body, 201, admin)).ports.map((p) => p.id));
  }
  say(`keystone: ${SMALL} ports of project ${fixture.projects.a.name} (alice is a member), tokens from ${fixture.url}`);
  for (const variant of ['default', 'cache-off'] as const) {
    if (variant === 'cache-off') {
      await server.stop();
      server = await startNucleon('keystone-cache-off', confs['cache-off'], base);
    }
    const seen = await api<{ ports: Port[] }>(base, 'GET', '/v2.0/ports?fields=id', undefined, 200, member);
    if (seen.ports.length !== SMALL) throw new Error(`alice lists ${seen.ports.length} ports, not ${SMALL}`);
    for (const [who, headers] of [
      ['admin', admin],
      ['member', member],
    ] as const) {
      const shows = rotation(ids, (id) => `/v2.0/ports/${id}`);
      await measure(`ks-${who}-show`, variant, `port show, ${who} token`, base, { path: shows.path, headers });
      await measure(`ks-${who}-list`, variant, `list ${SMALL.toLocaleString('en')} ports, ${who} token`, base, {
        path: '/v2.0/ports',
        headers,
      });
    }
  }
  const ratio = (key: string, variant: Variant) => {
    const a = find(`ks-admin-${key}`, variant);
    const m = find(`ks-member-${key}`, variant);
    return a && m ? fmt(m.m.rps / a.m.rps, 2) : '—';
  };
  notes.push(
    `keystone: a member's reads run the row-dependent rules in JavaScript (rendered JSON parsed, checked, written again); member/admin req/s, same server, tokens cached: ` +
      `port show ${ratio('show', 'default')}× (read cache off ${ratio('show', 'cache-off')}×), list of ${SMALL.toLocaleString('en')} ${ratio('list', 'default')}× (read cache off ${ratio('list', 'cache-off')}×)`,
  );
  await server.stop();
}

interface FloatingIpBody {
  readonly id: string;
  readonly port_id: string | null;
}

/**
 * Floating IP create, associate, disassociate and delete, each request on a floating IP (and
 * port) of its own: the create row makes the floating IPs the later rows work through.
 */
/**
 * Floating IP create, associate, disassociate and delete, each request on a different floating
 * IP. With `billing`, the server also runs the metering plugin sending every change to that
 * receiver; returns how many changes of networks and floating IPs were made (for the event count).
 */
async function floatingIps(
  dir: string,
  startNucleon: (label: string, configFile: string, base: string) => Promise<ServerProcess>,
  billing?: WebhookReceiver,
): Promise<number> {
  const variant: Variant = billing ? 'billing' : 'default';
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const configFile = await writeConf(
    dir,
    billing ? 'neutron-l3-billing.conf' : 'neutron-l3.conf',
    neutronConf(port, join(dir, billing ? 'data-l3-billing' : 'data-l3'), {
      servicePlugins: billing ? 'router,metering' : 'router',
      sections: {
        quotas: { quota_router: -1, quota_floatingip: -1 },
        ml2_type_flat: { flat_networks: 'public' },
        ...(billing ? { billing: { sinks: 'webhook', webhook_url: billing.url, webhook_secret: billing.secret } } : {}),
      },
    }),
  );
  const server = await startNucleon(billing ? 'l3-billing' : 'l3', configFile, base);

  const external = await network(base, 'bench-public', '100.64.0.0/16', {
    network: { 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'public' },
    subnet: { enable_dhcp: false },
  });
  const internal = await network(base, 'bench-fip-internal', '10.64.0.0/16');
  const { router } = await api<{ router: { id: string } }>(base, 'POST', '/v2.0/routers', {
    router: { name: 'bench-router', external_gateway_info: { network_id: external.networkId } },
  });
  await api(base, 'PUT', `/v2.0/routers/${router.id}/add_router_interface`, { subnet_id: internal.subnetId });
  say(`L3 set up: external flat network on physnet public (100.64.0.0/16), internal 10.64.0.0/16, router ${router.id} between them`);

  const parse = (answer: Answer): FloatingIpBody | undefined =>
    answer.status >= 200 && answer.status < 300 && answer.body
      ? (JSON.parse(answer.body) as { floatingip: FloatingIpBody }).floatingip
      : undefined;
  /** Answers that were 2xx but not what was asked for. */
  const wrong: string[] = [];
  const countFips = async (): Promise<{ all: number; associated: number }> => {
    const { floatingips } = await api<{ floatingips: Array<{ id: string; port_id: string | null }> }>(
      base,
      'GET',
      '/v2.0/floatingips?fields=id&fields=port_id',
    );
    return { all: floatingips.length, associated: floatingips.filter((f) => f.port_id !== null).length };
  };
  const check = async (step: string, expected: { all: number; associated: number }) => {
    const seen = await countFips();
    const line = `after ${step}: ${seen.all} floating IPs, ${seen.associated} associated (expected ${expected.all}, ${expected.associated})`;
    say(`  ${line}`);
    if (seen.all !== expected.all || seen.associated !== expected.associated) wrong.push(line);
  };

  // Create: POSTs for WARMUP + SECONDS (at most FIP_MAX), keeping every id.
  const fips: string[] = [];
  const createCall: Call = { method: 'POST', path: '/v2.0/floatingips', body: { floatingip: { floating_network_id: external.networkId } } };
  let issued = 0;
  const nextCreate = () => (issued++ < FIP_MAX ? createCall : undefined);
  const onCreated = (answer: Answer) => {
    const fip = parse(answer);
    if (fip) fips.push(fip.id);
  };
  if (WARMUP > 0) await drive(base, nextCreate, { connections: CONNECTIONS, seconds: WARMUP, onAnswer: onCreated });
  const warmCreates = fips.length;
  record(
    'fip-create',
    variant,
    'floating IP create (POST /v2.0/floatingips)',
    await drive(base, nextCreate, { connections: CONNECTIONS, seconds: SECONDS, onAnswer: onCreated }),
  );
  say(`  floating IP create: ${warmCreates} in the warm-up, ${fips.length - warmCreates} measured`);
  await check('create', { all: fips.length, associated: 0 });

  // One internal port per floating IP.
  const portsMade = await bulkCreate(base, internal.networkId, fips.length);
  const portIds = portsMade.ports.map((p) => p.id);
  say(`${portIds.length} internal ports for them through the bulk API in ${portsMade.seconds.toFixed(1)} s`);

  // Associate: floating IP i with port i, each pair once.
  const associated: string[] = [];
  await measureFinite(
    'fip-associate',
    variant,
    'floating IP associate (PUT {port_id: …})',
    base,
    fips.map((id, i) => ({ method: 'PUT', path: `/v2.0/floatingips/${id}`, body: { floatingip: { port_id: portIds[i]! } } })),
    (answer) => {
      const fip = parse(answer);
      if (!fip) return;
      const wanted = (answer.call.body as { floatingip: { port_id: string } }).floatingip.port_id;
      if (fip.port_id === wanted) associated.push(fip.id);
      else wrong.push(`${answer.call.path}: associated with ${fip.port_id}, not ${wanted}`);
    },
  );
  await check('associate', { all: fips.length, associated: associated.length });

  // Disassociate: the associated ones, each once.
  const stillAssociated = new Set(associated);
  let disassociated = 0;
  await measureFinite(
    'fip-disassociate',
    variant,
    'floating IP disassociate (PUT {port_id: null})',
    base,
    associated.map((id) => ({ method: 'PUT', path: `/v2.0/floatingips/${id}`, body: { floatingip: { port_id: null } } })),
    (answer) => {
      const fip = parse(answer);
      if (!fip) return;
      if (fip.port_id === null) {
        disassociated++;
        stillAssociated.delete(fip.id);
      } else wrong.push(`${answer.call.path}: still associated with ${fip.port_id}`);
    },
  );
  await check('disassociate', { all: fips.length, associated: stillAssociated.size });

  // Delete: every floating IP, each once.
  let deleted = 0;
  await measureFinite(
    'fip-delete',
    variant,
    'floating IP delete (DELETE /v2.0/floatingips/{id})',
    base,
    fips.map((id) => ({ method: 'DELETE', path: `/v2.0/floatingips/${id}` })),
    (answer) => {
      if (answer.status !== 204) return;
      deleted++;
      stillAssociated.delete(answer.call.path.slice(answer.call.path.lastIndexOf('/') + 1));
    },
  );
  await check('delete', { all: fips.length - deleted, associated: stillAssociated.size });

  if (billing) {
    // Networks (2) and every floating IP change made an event; wait until the receiver has them all.
    const changes = 2 + fips.length + associated.length + disassociated + deleted;
    await eventually(
      () => {
        if (billing.events().length < changes) throw new Error(`${billing.events().length} of ${changes} events delivered`);
      },
      300_000,
      500,
    );
    for (const line of wrong) notes.push(`WARNING (floating IPs, billing): ${line}`);
    await server.stop();
    return changes;
  }
  notes.push(
    `floating IPs: a server with service_plugins = router on a fresh folder (default configuration); external flat network (physnet public) with 100.64.0.0/16, a router with its gateway there and an interface on an internal 10.64.0.0/16 with ${portIds.length} ports; ${fips.length} floating IPs created, ${associated.length} associated (each with a port of its own), ${disassociated} disassociated, ${deleted} deleted — every request of these rows acts on a different floating IP; at most ${Math.round(WARMUP_SHARE * 100)}% of each finite workload warms up, the rest is measured (up to ${SECONDS} s)`,
  );
  notes.push(
    `floating IP associate finds the router through the internal network's router-interface ports (index on network_id, device_owner); the internal network here has ${portIds.length + 1} ports`,
  );
  for (const line of wrong.slice(0, 10)) notes.push(`WARNING (floating IPs): ${line}`);
  if (wrong.length > 10) notes.push(`WARNING (floating IPs): ${wrong.length - 10} more like these`);
  await server.stop();
  return 0;
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
