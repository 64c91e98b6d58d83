/**
 * `@nucleon/l3-dns/testing`: a real BIND 9 for tests: a private `named -g` child process on 127.0.0.1:<free port>, with a
 * generated TSIG key and primary zones that accept updates signed with it. Follows
 * the project's notes on BIND in CI (reuseport off, no rndc, no pid file, random SOA serial to be sure
 * the server answering is ours).
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { cleanUpAfter, firstStart, freeLoopbackPort, PortConflict, retryOnPortConflict } from '@nucleon/core/testing';
import type { Rfc2136Options, TsigAlgorithm } from '../drivers/rfc2136/index.js';

const NAMED = '/usr/sbin/named';
const DIG = '/usr/bin/dig';
const HOST = '127.0.0.1';

/**
 * Whether BIND (named and dig) is installed; tests skip when it is not, unless
 * `NUCLEON_REQUIRE_BIND` is set (CI), where a missing BIND is an error instead of a silent skip.
 */
export const bindAvailable: boolean = existsSync(NAMED) && existsSync(DIG);
if (!bindAvailable && process.env.NUCLEON_REQUIRE_BIND) {
  throw new Error(`NUCLEON_REQUIRE_BIND is set but ${NAMED} or ${DIG} is missing (apt-get install bind9 bind9-dnsutils)`);
}

export interface ZoneSpec {
  /** Absolute zone name, e.g. `example.org.` */
  readonly name: string;
  /** Whether the test key may update it (default true); false answers updates with REFUSED. */
  readonly updatable?: boolean;
  /** Extra zone-file lines (`www 300 IN A 203.0.113.1`). */
  readonly records?: readonly string[];
}

export interface BindOptions {
  /** Default: `example.org.` and `113.0.203.in-addr.arpa.`, both updatable. */
  readonly zones?: readonly ZoneSpec[];
  /** Default hmac-sha256. */
  readonly algorithm?: TsigAlgorithm;
}

export interface BindServer {
  readonly host: string;
  readonly port: number;
  readonly keyName: string;
  /** base64 */
  readonly secret: string;
  readonly algorithm: TsigAlgorithm;
  /** Absolute zone names. */
  readonly zones: readonly string[];
  /** Options for an `Rfc2136Driver` talking to this server with its key; `overrides` win. */
  driverOptions(overrides?: Partial<Rfc2136Options>): Rfc2136Options;
  /** `dig +short` against this server: addresses, or PTR targets with the trailing dot. */
  query(name: string, type: string): Promise<string[]>;
  /** Stops named, keeping its port and data (zone files and journals) for `restart()`. */
  stop(): Promise<void>;
  /** Starts named again on the same port with the same data (stops it first if running). */
  restart(): Promise<void>;
  /** Stops named and removes its data. */
  close(): Promise<void>;
  /** named's output so far, over all its runs (for failure messages). */
  log(): string;
}

const DEFAULT_ZONES: readonly ZoneSpec[] = [{ name: 'example.org.' }, { name: '113.0.203.in-addr.arpa.' }];
const execFileAsync = promisify(execFile);

/** Every named started by this process, killed when the process exits however it exits. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startBind(options: BindOptions = {}): Promise<BindServer> {
  const zones = options.zones ?? DEFAULT_ZONES;
  const algorithm = options.algorithm ?? 'hmac-sha256';
  const keyName = 'nucleon-test-key.';
  const secret = randomBytes(32).toString('base64');
  // Random, so that an answer with this serial can only come from this instance.
  const serial = randomInt(1, 2 ** 31 - 1);
  const dir = await mkdtemp(join(tmpdir(), 'nucleon-bind-'));

  for (const zone of zones) {
    const lines = [
      '$TTL 300',
      `@ IN SOA ns.nucleon.test. hostmaster.nucleon.test. ${serial} 3600 600 86400 60`,
      // Out of every test zone, so no glue is needed.
      '@ IN NS ns.nucleon.test.',
      ...(zone.records ?? []),
    ];
    await writeFile(join(dir, zoneFile(zone.name)), `${lines.join('\n')}\n`);
  }

  let port = 0;
  let named: ChildProcess | undefined;
  let output = '';

  const writeConfig = () =>
    writeFile(
      join(dir, 'named.conf'),
      `options {
  directory "${dir}";
  managed-keys-directory "${dir}";
  pid-file none;
  session-keyfile none;
  listen-on port ${port} { ${HOST}; };
  listen-on-v6 { none; };
  recursion no;
  dnssec-validation no;
  reuseport no;
  notify no;
};
controls { };
key "${keyName}" { algorithm ${algorithm}; secret "${secret}"; };
${zones
  .map(
    (zone) =>
      `zone "${zone.name}" { type primary; file "${zoneFile(zone.name)}"; allow-update { ${zone.updatable === false ? 'none' : `key "${keyName}"`}; }; };`,
  )
  .join('\n')}
`,
    );

  const query = async (name: string, type: string): Promise<string[]> => {
    const { stdout } = await execFileAsync(DIG, [
      '+short',
      '+norecurse',
      '+time=2',
      '+tries=1',
      '-p',
      String(port),
      `@${HOST}`,
      name,
      type,
    ]);
    return stdout.split('\n').filter((line) => line !== '');
  };

  /** Starts named; resolves once it runs, listens without conflict and answers with our serial. */
  const launch = async (): Promise<void> => {
    let current = '';
    const child = spawn(NAMED, ['-g', '-c', join(dir, 'named.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    named = child;
    running.add(child);
    cleanUpAfter(child, dir);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => running.delete(child));
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('named did not start within 10 s')), 10_000);
      const onData = (chunk: Buffer): void => {
        current += chunk.toString();
        output += chunk.toString();
        // BIND keeps running without the socket it could not bind: that is not our server.
        if (/address in use/i.test(current)) {
          clearTimeout(timer);
          reject(new PortConflict('named could not bind its port (address in use)'));
        } else if (/^\S+ \S+ running$/m.test(current)) {
          clearTimeout(timer);
          resolve();
        }
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`named exited (${signal ?? code}) while starting`));
      });
    });
    try {
      await ready;
      // The serial named logged loading (after journals) must be the one the port answers with.
      const loaded = new RegExp(`zone ${escape(trimDot(zones[0]!.name))}/IN: loaded serial (\\d+)`).exec(current)?.[1];
      const [soa] = await query(zones[0]!.name, 'SOA');
      if (loaded === undefined || soa?.split(' ')[2] !== loaded) {
        throw new PortConflict(`another DNS server answers on ${HOST}:${port} (SOA ${soa ?? 'none'}, ours loaded ${loaded ?? '?'})`);
      }
    } catch (error) {
      child.kill('SIGKILL');
      await exited;
      throw error instanceof Error ? new Error(`${error.message}\n--- named output ---\n${current}`, { cause: error }) : error;
    }
  };

  const stop = async (): Promise<void> => {
    const child = named;
    named = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };

  // A fresh port each try at first start; a restart must keep its port, so it waits and retries.
  await firstStart(dir, async () => {
    port = await freeLoopbackPort({ udp: true });
    await writeConfig();
    await launch();
  });

  return {
    host: HOST,
    port,
    keyName,
    secret,
    algorithm,
    zones: zones.map((zone) => zone.name),
    driverOptions: (overrides = {}) => ({
      server: HOST,
      port,
      tsigKeyName: keyName,
      tsigAlgorithm: algorithm,
      tsigSecret: secret,
      timeoutMs: 2000,
      ...overrides,
    }),
    query,
    stop,
    restart: async () => {
      await stop();
      await retryOnPortConflict(launch, { tries: 10, delayMs: 200 });
    },
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
    log: () => output,
  };
}

function zoneFile(zone: string): string {
  return `${trimDot(zone)}.zone`;
}

function trimDot(name: string): string {
  return name.replace(/\.$/, '');
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
