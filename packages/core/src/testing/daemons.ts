/**
 * Supervision of the real servers plugins' tests start as child processes (BIND's named,
 * RabbitMQ): free loopback ports, retries when another process takes a picked port first, and
 * clean-up that happens even when the test process dies by SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { rm } from 'node:fs/promises';
import { createServer } from 'node:net';

/** A port free on 127.0.0.1 for TCP (and for UDP too with `udp`, for servers that listen on both). */
export async function freeLoopbackPort(options: { udp?: boolean } = {}): Promise<number> {
  for (;;) {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
    });
    let udpFree = true;
    if (options.udp) {
      const socket = createSocket('udp4');
      udpFree = await new Promise<boolean>((resolve) => {
        socket.once('error', () => resolve(false));
        socket.bind(port, '127.0.0.1', () => resolve(true));
      });
      if (udpFree) socket.close();
    }
    await new Promise((resolve) => server.close(resolve));
    if (udpFree) return port;
  }
}

/** A server could not bind a port it was given (taken since it was picked): worth another try. */
export class PortConflict extends Error {}

/** True for a {@link PortConflict}, or an error caused by one. */
export function isPortConflict(error: unknown): boolean {
  return error instanceof PortConflict || (error instanceof Error && error.cause instanceof PortConflict);
}

/**
 * Runs `attempt` until it does not fail with a port conflict, at most `tries` times, waiting
 * `delayMs` between tries (a first start picks new ports in `attempt`; a restart keeps its ports
 * and waits for them).
 */
export async function retryOnPortConflict<T>(attempt: () => Promise<T>, options: { tries: number; delayMs?: number }): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      if (tries >= options.tries || !isPortConflict(error)) throw error;
      if (options.delayMs) await new Promise((resolve) => setTimeout(resolve, options.delayMs));
    }
  }
}

/**
 * The first start of a daemon whose files are in `dir`: `attempt` picks ports and launches it,
 * tried again on a port conflict; if it never starts, `dir` is removed and the error thrown.
 */
export async function firstStart(dir: string, attempt: () => Promise<void>): Promise<void> {
  try {
    await retryOnPortConflict(attempt, { tries: 5 });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * Kills `child` (its whole process group with `group`, for a child spawned `detached` whose own
 * children must die too) and removes `dir`, even if this process dies by SIGKILL, where no exit
 * handler runs: a shell blocked reading a pipe from us gets EOF when we are gone, then cleans up.
 * It runs in a session of its own, so a Ctrl-C to our terminal does not kill it first.
 */
export function cleanUpAfter(child: ChildProcess, dir: string, options: { group?: boolean } = {}): void {
  if (child.pid === undefined) return;
  const target = options.group ? '-KILL -"$1"' : '-TERM "$1"';
  const script = `read _; kill ${target} 2>/dev/null; sleep 1; rm -rf "$2"`;
  const watcher = spawn('sh', ['-c', script, 'guard', String(child.pid), dir], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
  watcher.unref();
  (watcher.stdin as unknown as { unref(): void }).unref();
  child.once('exit', () => watcher.kill('SIGKILL'));
}
