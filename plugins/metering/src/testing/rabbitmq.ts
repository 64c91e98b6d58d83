/**
 * A real RabbitMQ for tests: a private `rabbitmq-server` child process (Debian's package, run as
 * whoever we are, root included) on 127.0.0.1:<free port>, with a generated user and password and
 * its own vhost. Everything it writes (Erlang cookie, Mnesia and message stores, logs) lives in one
 * temp dir, so several brokers can run at once, also next to a machine-wide one, and none of them
 * touches /var/lib/rabbitmq, /etc/rabbitmq or /root.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanUpAfter, firstStart, freeLoopbackPort, PortConflict, retryOnPortConflict } from '@nucleon/core/testing';
import amqplib from 'amqplib';

/**
 * The server script itself, not /usr/sbin/rabbitmq-server: that wrapper `su`s to the `rabbitmq`
 * user when run as root (which could not read our temp dir's cookie) and cds to /var/lib/rabbitmq.
 */
const RABBITMQ_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const HOST = '127.0.0.1';
/**
 * Not the default `/`: the broker creates `default_vhost` at first boot and grants `default_user`
 * everything on it, so no rabbitmqctl is needed, and code under test cannot get away with
 * ignoring the vhost part of its URL.
 */
const VHOST = 'nucleon';
/** Boot takes about 5 s on a developer machine (Mnesia, feature flags, Ra systems); CI can be slower. */
const START_TIMEOUT_MS = 60_000;
/** A graceful stop takes about 2.5 s; past this, the broker is killed. */
const STOP_TIMEOUT_MS = 10_000;

/**
 * Whether RabbitMQ is installed; tests skip when it is not, unless `NUCLEON_REQUIRE_RABBITMQ` is
 * set (CI), where a missing RabbitMQ is an error instead of a silent skip.
 */
export const rabbitMqAvailable: boolean = existsSync(RABBITMQ_SERVER);
if (!rabbitMqAvailable && process.env.NUCLEON_REQUIRE_RABBITMQ) {
  throw new Error(`NUCLEON_REQUIRE_RABBITMQ is set but ${RABBITMQ_SERVER} is missing (apt-get install rabbitmq-server)`);
}

export interface RabbitMqServer {
  /** Always 127.0.0.1: the broker listens on loopback only. */
  readonly host: string;
  /** The AMQP port; kept across `restart()`. */
  readonly port: number;
  /** `amqp://<user>:<password>@127.0.0.1:<port>/nucleon`: the generated user on the `nucleon` vhost. */
  readonly url: string;
  readonly user: string;
  readonly password: string;
  readonly vhost: string;
  /** Stops the broker (gracefully, killed if that takes over 10 s), keeping its port and data for `restart()`. */
  stop(): Promise<void>;
  /** Starts the broker again on the same port with the same data (stops it first if running). */
  restart(): Promise<void>;
  /** Stops the broker and removes its data. */
  close(): Promise<void>;
  /** The broker's output so far, over all its runs (for failure messages). */
  log(): string;
}

/** Every broker started by this process, killed when the process exits however it exits. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) killGroup(child, 'SIGKILL');
});

export async function startRabbitMq(): Promise<RabbitMqServer> {
  const dir = await mkdtemp(join(tmpdir(), 'nucleon-rabbitmq-'));
  const id = randomBytes(6).toString('hex');
  const user = `nucleon-${id}`;
  const password = randomBytes(18).toString('base64url');
  // Unique, so that brokers do not clash in epmd (shared by every Erlang node on the machine) and a
  // machine-wide `rabbit@<host>` is left alone; short names on `localhost` need no DNS.
  const nodeName = `nucleon-${id}@localhost`;
  const enabledPlugins = join(dir, 'enabled_plugins');
  const envFile = join(dir, 'rabbitmq-env.conf');
  const configFile = join(dir, 'rabbitmq.conf');
  // No plugins (no management UI on port 15672 to clash on, faster boot).
  await writeFile(enabledPlugins, '[].\n');
  // Empty, so that /etc/rabbitmq/rabbitmq-env.conf (NODENAME, NODE_PORT...) does not apply.
  await writeFile(envFile, '');

  let port = 0;
  let distPort = 0;
  let broker: ChildProcess | undefined;
  let output = '';
  const url = () => `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${HOST}:${port}/${encodeURIComponent(VHOST)}`;

  const writeConfig = () =>
    writeFile(
      configFile,
      `# Only this listener: a listeners.tcp.* entry replaces the default 0.0.0.0:5672.
listeners.tcp.1 = ${HOST}:${port}
default_user = ${user}
default_pass = ${password}
default_vhost = ${VHOST}
# Default permissions on that vhost are .* for configure, write and read.
loopback_users = none
# The default 50 MB blocks publishers on a nearly full CI disk; tests store next to nothing.
disk_free_limit.absolute = 1MB
`,
    );

  const env = (): NodeJS.ProcessEnv => {
    const inherited = Object.fromEntries(
      // The caller's RABBITMQ_* (say, for a broker of their own) must not leak into ours, nor
      // NOTIFY_SOCKET: under systemd it makes the script exec the VM and notify the unit.
      Object.entries(process.env).filter(([name]) => !name.startsWith('RABBITMQ_') && name !== 'NOTIFY_SOCKET'),
    );
    return {
      ...inherited,
      // Erlang creates its cookie in $HOME: here rather than in /root, readable by the broker.
      HOME: dir,
      // An epmd started by our broker outlives it (as a daemon; it holds none of our pipes): keep
      // it off the network. An epmd already running (machine-wide, on 4369) is used as is.
      ERL_EPMD_ADDRESS: HOST,
      RABBITMQ_CONF_ENV_FILE: envFile,
      RABBITMQ_CONFIG_FILE: configFile,
      // Does not exist, so /etc/rabbitmq/advanced.config does not apply either.
      RABBITMQ_ADVANCED_CONFIG_FILE: join(dir, 'advanced.config'),
      RABBITMQ_ENABLED_PLUGINS_FILE: enabledPlugins,
      RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
      RABBITMQ_LOG_BASE: join(dir, 'log'),
      // To stdout, which we collect for log().
      RABBITMQ_LOGS: '-',
      RABBITMQ_MOTD_FILE: join(dir, 'motd'),
      RABBITMQ_NODENAME: nodeName,
      RABBITMQ_USE_LONGNAME: 'false',
      // Default is the AMQP port + 20000, which may be taken; and only on loopback.
      RABBITMQ_DIST_PORT: String(distPort),
      RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    };
  };

  /** Starts the broker; resolves once our user can open an AMQP connection on our vhost. */
  const launch = async (): Promise<void> => {
    let current = '';
    // Its own process group: the script is a shell that forwards SIGTERM to the Erlang VM (its
    // child, not exec'd), so SIGKILL must reach the whole group or the VM would be orphaned.
    const child = spawn(RABBITMQ_SERVER, [], { cwd: dir, env: env(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    broker = child;
    running.add(child);
    cleanUpAfter(child, dir, { group: true });
    let exitedWith: string | undefined;
    const exited = new Promise<void>((resolve) =>
      child.once('exit', (code, signal) => {
        exitedWith = String(signal ?? code);
        running.delete(child);
        resolve();
      }),
    );
    const onData = (chunk: Buffer): void => {
      current += chunk.toString();
      output += chunk.toString();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    try {
      const deadline = Date.now() + START_TIMEOUT_MS;
      let lastError: unknown;
      for (;;) {
        if (exitedWith !== undefined) {
          // AMQP or distribution port taken since we picked it: the boot fails and the VM halts.
          if (/eaddrinuse/i.test(current)) throw new PortConflict(`rabbitmq-server could not bind a port (address in use)`);
          throw new Error(`rabbitmq-server exited (${exitedWith}) while starting`);
        }
        if (Date.now() > deadline) {
          throw new Error(
            `RabbitMQ did not accept an AMQP connection within ${START_TIMEOUT_MS / 1000} s (last error: ${String(lastError)})`,
          );
        }
        try {
          // The credentials are random, so a connection that opens can only be to our broker.
          const connection = await amqplib.connect(url(), { timeout: 2000 });
          await connection.close();
          return;
        } catch (error) {
          lastError = error;
          await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 250))]);
        }
      }
    } catch (error) {
      killGroup(child, 'SIGKILL');
      await exited;
      throw error instanceof Error ? new Error(`${error.message}\n--- rabbitmq-server output ---\n${current}`, { cause: error }) : error;
    }
  };

  const stop = async (): Promise<void> => {
    const child = broker;
    broker = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // To the script only: it traps SIGTERM and passes it on to the VM, which shuts down cleanly
    // (and the script exits after it). A SIGTERM to the group would also hit the VM directly.
    child.kill('SIGTERM');
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  // Fresh ports each try at first start; a restart must keep its ports, so it waits and retries.
  await firstStart(dir, async () => {
    port = await freeLoopbackPort();
    do distPort = await freeLoopbackPort();
    while (distPort === port);
    await writeConfig();
    await launch();
  });

  return {
    host: HOST,
    port,
    url: url(),
    user,
    password,
    vhost: VHOST,
    stop,
    restart: async () => {
      await stop();
      await retryOnPortConflict(launch, { tries: 10, delayMs: 500 });
    },
    close: async () => {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
    log: () => output,
  };
}

/** Signals the script and the Erlang VM (its process group); they may be gone already. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: already gone.
  }
}
