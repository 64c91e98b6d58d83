/**
 * Load generation: autocannon for endless workloads (the same request, or one drawn per request,
 * for a number of seconds), and {@link drive} for finite ones (each request a different object
 * that exists once, e.g. deleting pre-created floating IPs). Latencies at sub-millisecond precision.
 */
import { Agent, request as httpRequest } from 'node:http';
import autocannon from 'autocannon';

/** What one measured row produced. */
export interface Measurement {
  /** Successful (2xx) responses per second. */
  readonly rps: number;
  /** Latency percentiles of successful responses, in ms. */
  readonly p50: number;
  readonly p99: number;
  readonly ok: number;
  /** Non-2xx answers, connection errors and timeouts. */
  readonly failed: number;
  /** The failures by HTTP status (or `error`, `timeout`). */
  readonly failures: Readonly<Record<string, number>>;
  /** A few failed answers (status and the start of the body), when the driver saw them. */
  readonly samples: readonly string[];
  readonly seconds: number;
}

/** One kind of request to send, again and again. */
export interface Load {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** A fixed path, or one drawn per request. */
  readonly path: string | (() => string);
  readonly body?: string;
  /** Extra request headers (`x-auth-token`). */
  readonly headers?: Readonly<Record<string, string>>;
}

/** The q-th percentile (0..100) of sorted values, by nearest rank. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((q / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Runs `load` against `baseUrl` with `connections` concurrent connections for `seconds`. */
export async function run(baseUrl: string, load: Load, options: { connections: number; seconds: number }): Promise<Measurement> {
  const latencies: number[] = [];
  let ok = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  const pathOf = load.path;
  const request: autocannon.Request = {
    method: load.method ?? 'GET',
    ...(typeof pathOf === 'string' ? { path: pathOf } : { setupRequest: (req: autocannon.Request) => ({ ...req, path: pathOf() }) }),
    ...(load.body !== undefined ? { body: load.body } : {}),
    headers: { ...(load.body !== undefined ? { 'content-type': 'application/json' } : {}), ...load.headers },
  };
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: baseUrl,
        connections: options.connections,
        pipelining: 1,
        duration: options.seconds,
        timeout: 30,
        requests: [request],
      },
      (error: unknown, outcome: autocannon.Result) =>
        error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(outcome),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) {
        ok++;
        latencies.push(responseTime);
      } else {
        failed++;
        failures[String(statusCode)] = (failures[String(statusCode)] ?? 0) + 1;
      }
    });
  });
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  if (result.timeouts > 0) failures.timeout = result.timeouts;
  if (result.errors > result.timeouts) failures.error = result.errors - result.timeouts;
  return {
    rps: ok / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    ok,
    failed: failed + result.errors, // timeouts count as errors too
    failures,
    samples: [],
    seconds,
  };
}

/** One request of a finite workload. */
export interface Call {
  readonly method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly path: string;
  /** Sent as JSON. */
  readonly body?: unknown;
}

/** What the server answered to a {@link Call}. */
export interface Answer {
  readonly call: Call;
  readonly status: number;
  readonly body: string;
}

const MAX_SAMPLES = 5;

/**
 * Issues the calls `next()` hands out, `connections` in flight over keep-alive connections, until
 * `next()` has none left or `seconds` have passed (calls in flight then still finish and count).
 * Latency runs from sending a request to the last byte of its answer. `onAnswer` sees every
 * answer, e.g. to collect the ids a create returned.
 */
export async function drive(
  baseUrl: string,
  next: () => Call | undefined,
  options: { connections: number; seconds: number; onAnswer?: (answer: Answer) => void },
): Promise<Measurement> {
  const url = new URL(baseUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections });
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  const samples: string[] = [];
  let ok = 0;
  let failed = 0;
  const fail = (kind: string, sample: string) => {
    failed++;
    failures[kind] = (failures[kind] ?? 0) + 1;
    if (samples.length < MAX_SAMPLES) samples.push(sample);
  };
  const send = (call: Call): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const payload = call.body === undefined ? undefined : JSON.stringify(call.body);
      const req = httpRequest(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: call.method,
          path: call.path,
          headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
          timeout: 30_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => resolve({ call, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', reject);
      req.end(payload);
    });
  const started = performance.now();
  const deadline = started + options.seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const call = next();
      if (!call) return;
      const sent = performance.now();
      try {
        const answer = await send(call);
        const latency = performance.now() - sent;
        if (answer.status >= 200 && answer.status < 300) {
          ok++;
          latencies.push(latency);
        } else fail(String(answer.status), `${call.method} ${call.path}: ${answer.status} ${answer.body.slice(0, 300)}`);
        options.onAnswer?.(answer);
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        fail(message === 'timeout' ? 'timeout' : 'error', `${call.method} ${call.path}: ${message}`);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: options.connections }, worker));
  } finally {
    agent.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return { rps: ok / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99), ok, failed, failures, samples, seconds };
}
