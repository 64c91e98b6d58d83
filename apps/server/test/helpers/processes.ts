/**
 * Real `nucleon-server` processes for tests: started from the TypeScript sources (the
 * `nucleon-source` condition and tsx), with their JSON log lines collected so tests can wait for
 * and inspect them. Every child is tracked so `stopAll()` in `afterAll` leaves none behind.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** apps/server: the CLI runs from here so `--import tsx` and plugin packages resolve as in production. */
export const SERVER_DIR = fileURLToPath(new URL('../../', import.meta.url));
const CLI = join(SERVER_DIR, 'src', 'cli.ts');
const NODE_ARGS = ['--conditions=nucleon-source', '--import', 'tsx'];

/** One structured log line (pino). */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly pid: number;
  readonly [key: string]: unknown;
}

/** How a process ended. */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

const children = new Set<ChildProcess>();

/** A pino line, or undefined for any other text. */
function logLine(line: string): LogLine | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const parsed = JSON.parse(line) as Partial<LogLine>;
    return typeof parsed.msg === 'string' ? (parsed as LogLine) : undefined;
  } catch {
    return undefined;
  }
}

/** What a JSON request to a server under test got back: status, headers and the parsed body. */
export interface JsonAnswer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: any;
}

/** Sends `body` (if any) as JSON; the answer's body is parsed, or undefined when empty. */
export async function requestJson(
  url: string,
  method: string,
  body?: unknown,
  headers: Readonly<Record<string, string>> = {},
): Promise<JsonAnswer> {
  const response = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : undefined };
}

/** A port nobody listens on right now (the OS picks it; it is released before returning). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Config sections, written in neutron.conf's format. */
export type ConfSections = Readonly<Record<string, Readonly<Record<string, string | number | boolean>>>>;

/** Writes a neutron.conf-style file and returns its path. */
export async function writeConf(dir: string, name: string, sections: ConfSections): Promise<string> {
  const text = Object.entries(sections)
    .map(([section, entries]) => [`[${section}]`, ...Object.entries(entries).map(([k, v]) => `${k} = ${String(v)}`)].join('\n'))
    .join('\n\n');
  const file = join(dir, name);
  await writeFile(file, `${text}\n`);
  return file;
}

/** A temporary folder, removed by the returned cleanup. */
export async function tempDir(prefix: string): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `nucleon-${prefix}-`));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A running `nucleon-server` process. */
export class ServerProcess {
  readonly logs: LogLine[] = [];
  /** stdout lines that were not JSON (should stay empty: every line is a structured log). */
  readonly unstructured: string[] = [];
  stderr = '';
  /** Everything written to stdout (a command's result). */
  stdout = '';
  readonly exited: Promise<Exit>;
  private exit?: Exit;
  private readonly waiters = new Set<() => void>();

  constructor(readonly child: ChildProcess) {
    let buffered = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stdout += chunk;
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line.trim() === '') continue;
        const log = logLine(line);
        if (log) this.logs.push(log);
        else this.unstructured.push(line);
      }
      this.notify();
    });
    // Plugin commands log to stderr (their stdout is their result).
    let bufferedErr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
      bufferedErr += chunk;
      const lines = bufferedErr.split('\n');
      bufferedErr = lines.pop()!;
      for (const line of lines) {
        const log = logLine(line);
        if (log) this.logs.push(log);
      }
      this.notify();
    });
    this.exited = new Promise((resolve) => {
      child.once('close', (code, signal) => {
        children.delete(child);
        this.exit = { code, signal };
        this.notify();
        resolve(this.exit);
      });
    });
  }

  private notify(): void {
    for (const waiter of this.waiters) waiter();
  }

  /** Resolves with the first log line matching, failing if the process exits or time runs out first. */
  async waitForLog(match: (line: LogLine) => boolean, timeoutMs = 60_000): Promise<LogLine> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const line = this.logs.find(match);
        if (line) return done(() => resolve(line));
        if (this.exit) {
          done(() =>
            reject(new Error(`server exited (${JSON.stringify(this.exit)}) before the awaited log line; stderr:\n${this.stderr}`)),
          );
        }
      };
      const timer = setTimeout(
        () =>
          done(() =>
            reject(
              new Error(`timed out waiting for a log line; stderr:\n${this.stderr}\nlogs:\n${this.logs.map((l) => l.msg).join('\n')}`),
            ),
          ),
        timeoutMs,
      );
      const done = (settle: () => void) => {
        clearTimeout(timer);
        this.waiters.delete(check);
        settle();
      };
      this.waiters.add(check);
      check();
    });
  }

  /** Waits for the "listening" line, i.e. until the API answers. */
  async ready(timeoutMs?: number): Promise<this> {
    await this.waitForLog((l) => l.msg === 'listening', timeoutMs);
    return this;
  }

  /** Sends a signal and waits for the process to end. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<Exit> {
    if (!this.exit) this.child.kill(signal);
    return this.exited;
  }
}

/** Starts `nucleon-server` with the given arguments (e.g. `['--config-file', file]`). */
export function startServer(args: readonly string[], env: NodeJS.ProcessEnv = {}): ServerProcess {
  const child = spawn(process.execPath, [...NODE_ARGS, CLI, ...args], {
    cwd: SERVER_DIR,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  return new ServerProcess(child);
}

/** Runs `nucleon-server` to completion (a command, or a start that is expected to be refused). */
export async function runServer(args: readonly string[], timeoutMs = 60_000): Promise<{ exit: Exit; server: ServerProcess }> {
  const server = startServer(args);
  const timer = setTimeout(() => server.child.kill('SIGKILL'), timeoutMs);
  try {
    return { exit: await server.exited, server };
  } finally {
    clearTimeout(timer);
  }
}

/** Kills every child still running (for `afterAll`, so a failed test leaves no server behind). */
export async function stopAll(): Promise<void> {
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('close', () => resolve());
          child.kill('SIGKILL');
        }),
    ),
  );
}

/** Runs `tasks` with at most `limit` at a time (the test machine has few cores). */
export async function limited<T>(limit: number, tasks: ReadonlyArray<() => Promise<T>>): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** Asserts-friendly view of a refused start: the message, and whether it carries a stack trace. */
export function refusal(server: ServerProcess): { message: string; hasStack: boolean; messages: number } {
  const message = server.stderr.trim();
  return {
    message,
    hasStack: /^ {4}at /m.test(server.stderr),
    // "One message": a single "Nucleon cannot start" header, its problems listed beneath it.
    messages: message.split('\n').filter((line) => /^Nucleon (cannot start|failed)/.test(line)).length,
  };
}
