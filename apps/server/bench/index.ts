/**
 * `pnpm bench`: throughput and latency of Nucleon's port API on PGlite, beside a bare Fastify
 * route on the same machine (the yardstick).
 *
 * The servers run as separate processes — the real `nucleon-server` CLI from sources, and the
 * bare route — while autocannon loads them from this process, so load generator and server do
 * not share an event loop.
 *
 * Knobs (environment): BENCH_SECONDS (per row, default 10), BENCH_WARMUP (seconds, default 3),
 * BENCH_CONNECTIONS (default 8), BENCH_SEED (auto | api | direct: how the 100,000 ports are
 * made; auto uses the API when that is projected to take under BENCH_SEED_BUDGET seconds,
 * default 180), BENCH_CPU_PROF (a folder: the Nucleon server writes a V8 CPU profile there),
 * BENCH_KEEP=1 (keep the temp folder).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Port } from '@nucleon/core';
import { run, type Load, type Measurement } from './load.js';
import { freePort, startServer, type ServerProcess } from './processes.js';
import { insertPorts } from './seed-direct.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const SEED_MODE = process.env.BENCH_SEED ?? 'auto';
const SEED_BUDGET = Number(process.env.BENCH_SEED_BUDGET ?? 180);
const CPU_PROF = process.env.BENCH_CPU_PROF ? resolve(process.env.BENCH_CPU_PROF) : undefined;
const BIG = 100_000;
const SMALL = 1_000;
const CHUNK = 100;

const appDir = fileURLToPath(new URL('..', import.meta.url));
const nodeArgs = ['--conditions=nucleon-source', '--import', 'tsx'];

const say = (line: string) => process.stdout.write(`· ${line}\n`);

interface Target {
  readonly text: string;
  readonly met: (m: Measurement) => boolean;
}

interface Row {
  readonly name: string;
  readonly m: Measurement;
  readonly target?: Target;
}

const rows: Row[] = [];
const notes: string[] = [];

async function measure(name: string, url: string, load: Load, target?: Target): Promise<Measurement> {
  if (WARMUP > 0) await run(url, load, { connections: CONNECTIONS, seconds: WARMUP });
  const m = await run(url, load, { connections: CONNECTIONS, seconds: SECONDS });
  rows.push({ name, m, ...(target ? { target } : {}) });
  say(`${name}: ${m.rps.toFixed(0)} req/s, p50 ${m.p50.toFixed(2)} ms, p99 ${m.p99.toFixed(2)} ms${m.failed ? `, ${m.failed} FAILED` : ''}`);
  return m;
}

/** A JSON request to the Nucleon API; throws on an unexpected status. */
async function api<T>(base: string, method: string, path: string, body?: unknown, expect = method === 'POST' ? 201 : 200): Promise<T> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (response.status !== expect) throw new Error(`${method} ${path}: ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

/** A network with one IPv4 subnet; returns both ids. */
async function network(base: string, name: string, cidr: string): Promise<{ networkId: string; subnetId: string }> {
  const { network } = await api<{ network: { id: string } }>(base, 'POST', '/v2.0/networks', { network: { name } });
  const { subnet } = await api<{ subnet: { id: string } }>(base, 'POST', '/v2.0/subnets', {
    subnet: { network_id: network.id, cidr, ip_version: 4, name },
  });
  return { networkId: network.id, subnetId: subnet.id };
}

/** Creates `count` ports with bulk POSTs of {@link CHUNK}, two in flight; returns them and the seconds taken. */
async function bulkCreate(base: string, networkId: string, count: number, onProgress?: (done: number) => void): Promise<{ ports: Port[]; seconds: number }> {
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

function pick<T>(items: readonly T[]): T {
  return items[Math.floor(Math.random() * items.length)]!;
}

function fmt(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

function report(bare: Measurement | undefined, started: number, loadBefore: number[]): void {
  const header = ['', 'req/s', 'vs bare', 'ms/req', 'p50 ms', 'p99 ms', 'p50 vs bare', 'target', 'met'];
  const table = rows.map(({ name, m, target }) => [
    name,
    fmt(m.rps, 0),
    bare ? `${fmt(m.rps / bare.rps, 3)}×` : '—',
    fmt(1000 / m.rps, 2),
    fmt(m.p50, 2),
    fmt(m.p99, 2),
    bare ? `${fmt(m.p50 / bare.p50, 1)}×` : '—',
    target?.text ?? (m === bare ? '(yardstick)' : '(no target)'),
    target ? (m.failed > 0 ? 'NO (errors)' : target.met(m) ? 'yes' : 'NO') : '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 || i >= 7 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  const out: string[] = [];
  out.push('');
  out.push(`Nucleon port API on PGlite — ${CONNECTIONS} connections, ${SECONDS} s per row after ${WARMUP} s warm-up`);
  out.push(`node ${process.version}, ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  out.push('');
  out.push(line(header));
  out.push(line(widths.map((w) => '-'.repeat(w))));
  for (const row of table) out.push(line(row));
  out.push('');
  out.push('ms/req = 1000 / req/s: the server time per request, as PGlite runs one statement at a time (p50 ≈ connections × ms/req).');
  const small = rows.find((r) => r.name.startsWith('page of 100 of 1,000'));
  const big = rows.find((r) => r.name.startsWith('page of 100 of 100,000 (?'));
  if (small && big) out.push(`a page of 100 costs ${fmt(big.m.p50 / small.m.p50, 2)}× as much (p50) with 100,000 ports in the table as with 1,000.`);
  for (const note of notes) out.push(`note: ${note}`);
  const failures = rows.filter((r) => r.m.failed > 0);
  for (const r of failures) out.push(`WARNING: ${r.name}: ${r.m.failed} failed requests (non-2xx, errors or timeouts)`);
  out.push('for scale: a real neutron-server managed 6 port creates/s and listed 1,000 ports in about 2 s.');
  const missed = rows.filter((r) => r.target && (r.m.failed > 0 || !r.target.met(r.m)));
  out.push(missed.length === 0 ? 'all targets met' : `targets missed: ${missed.map((r) => r.name).join('; ')}`);
  out.push(`total bench time ${((performance.now() - started) / 1000).toFixed(0)} s`);
  process.stdout.write(`${out.join('\n')}\n`);
}

async function main(): Promise<void> {
  const started = performance.now();
  const loadBefore = loadavg();
  say(`load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} on ${cpus().length} CPUs${loadBefore[0]! > cpus().length / 2 ? ' — the machine is busy; figures will be noisy' : ''}`);
  const dir = await mkdtemp(join(tmpdir(), 'nucleon-bench-'));
  const servers: ServerProcess[] = [];
  const stop = async (server: ServerProcess) => {
    await server.stop();
    servers.splice(servers.indexOf(server), 1);
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
      bare = await measure('bare Fastify route (GET /)', url, { path: '/' });
      await stop(server);
    }

    // 2. nucleon-server, as operators run it, on a fresh PGlite folder.
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const dataDir = join(dir, 'data');
    const configFile = join(dir, 'neutron.conf');
    await writeFile(
      configFile,
      [
        '[DEFAULT]',
        'bind_host = 127.0.0.1',
        `bind_port = ${port}`,
        'core_plugin = ml2',
        'service_plugins =',
        'auth_strategy = noauth',
        'debug = false',
        '',
        '[database]',
        `connection = pglite://${dataDir}`,
        '',
        '[quotas]',
        'default_quota = -1',
        'quota_network = -1',
        'quota_subnet = -1',
        'quota_port = -1',
        'quota_security_group = -1',
        'quota_security_group_rule = -1',
        '',
        '[ml2]',
        'type_drivers = local,flat,vlan,vxlan',
        'tenant_network_types = vxlan',
        '',
        '[ml2_type_vxlan]',
        'vni_ranges = 1001:2000',
        '',
      ].join('\n'),
    );
    const startNucleon = async (label: string) => {
      const server = await startServer({
        name: 'nucleon-server',
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
    let nucleon = await startNucleon('small');

    const small = await network(base, 'bench-list', '10.0.0.0/16');
    const creates = await network(base, 'bench-create', '10.1.0.0/16');
    const big = await network(base, 'bench-page', '10.128.0.0/9');

    // 3. With 1,000 ports in the table: show, list of all, a page of 100.
    const seeded = await bulkCreate(base, small.networkId, SMALL);
    say(`seeded ${SMALL} ports through the API (bulk POSTs of ${CHUNK}) in ${seeded.seconds.toFixed(1)} s`);
    const smallIds = seeded.ports.map((p) => p.id);
    const listed = await allIds(base);
    if (listed.length !== SMALL) throw new Error(`expected ${SMALL} ports, the API lists ${listed.length}`);
    await measure('port show (GET /v2.0/ports/{id})', base, { path: () => `/v2.0/ports/${pick(smallIds)}` }, {
      text: 'p50 ≤ 2 ms',
      met: (m) => m.p50 <= 2,
    });
    await measure(`list ${SMALL.toLocaleString('en')} ports (GET /v2.0/ports)`, base, { path: '/v2.0/ports' }, {
      text: 'p50 ≤ 20 ms',
      met: (m) => m.p50 <= 20,
    });
    await measure(`page of 100 of ${SMALL.toLocaleString('en')} (?limit=100)`, base, { path: '/v2.0/ports?limit=100' });

    // 4. Port create.
    await measure('port create (POST /v2.0/ports)', base, { method: 'POST', path: '/v2.0/ports', body: JSON.stringify({ port: { network_id: creates.networkId } }) }, {
      text: '≥ 400 req/s',
      met: (m) => m.rps >= 400,
    });

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
      nucleon = await startNucleon('big');
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
    await measure(`page of 100 of ${BIG.toLocaleString('en')} (?limit=100)`, base, { path: '/v2.0/ports?limit=100' }, {
      text: 'p50 ≤ 5 ms',
      met: (m) => m.p50 <= 5,
    });
    await measure(`page of 100 of ${BIG.toLocaleString('en')} (marker in the middle)`, base, { path: `/v2.0/ports?limit=100&marker=${middle}` }, {
      text: 'p50 ≤ 5 ms',
      met: (m) => m.p50 <= 5,
    });
    await stop(nucleon);
  } finally {
    for (const server of [...servers]) await server.stop();
    if (process.env.BENCH_KEEP) say(`kept ${dir}`);
    else await rm(dir, { recursive: true, force: true });
  }
  report(bare, started, loadBefore);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
