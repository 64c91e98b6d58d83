/** Load generation with autocannon, with latencies kept at sub-millisecond precision. */
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
  readonly seconds: number;
}

/** One kind of request to send, again and again. */
export interface Load {
  readonly method?: 'GET' | 'POST';
  /** A fixed path, or one drawn per request. */
  readonly path: string | (() => string);
  readonly body?: string;
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
  const pathOf = load.path;
  const request: autocannon.Request = {
    method: load.method ?? 'GET',
    ...(typeof pathOf === 'string' ? { path: pathOf } : { setupRequest: (req: autocannon.Request) => ({ ...req, path: pathOf() }) }),
    ...(load.body !== undefined ? { body: load.body, headers: { 'content-type': 'application/json' } } : {}),
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
      (error: unknown, outcome: autocannon.Result) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve(outcome)),
    );
    instance.on('response', (_client, statusCode, _bytes, responseTime) => {
      if (statusCode >= 200 && statusCode < 300) {
        ok++;
        latencies.push(responseTime);
      } else failed++;
    });
  });
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    rps: ok / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    ok,
    failed: failed + result.errors, // timeouts count as errors too
    seconds,
  };
}
