/** Child processes of the bench: the servers under load run apart from the load generator. */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A server process the bench started. */
export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** Where its stdout and stderr go. */
  readonly logFile: string;
  /** Stops it with SIGTERM (SIGKILL after a grace period) and waits for the exit. */
  stop(): Promise<void>;
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/**
 * Starts `node <args>` in `cwd` with output to `logFile`, and waits until `url` answers HTTP
 * (any status). Fails with the log's tail when the process exits first or never answers.
 */
export async function startServer(options: {
  name: string;
  cwd: string;
  args: readonly string[];
  url: string;
  logFile: string;
  env?: Readonly<Record<string, string>>;
  timeoutMs?: number;
}): Promise<ServerProcess> {
  const out = openSync(options.logFile, 'a');
  const child = spawn(process.execPath, [...options.args], {
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      resolve();
    }),
  );
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    if (exited) {
      throw new Error(`${options.name} exited (${exited.code ?? exited.signal}) before answering:\n${tail(options.logFile)}`);
    }
    try {
      await fetch(options.url, { signal: AbortSignal.timeout(2000) });
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`${options.name} did not answer at ${options.url}:\n${tail(options.logFile)}`);
      }
      await sleep(100);
    }
  }
  return {
    name: options.name,
    url: options.url,
    child,
    logFile: options.logFile,
    async stop() {
      if (exited) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(killer);
    },
  };
}
