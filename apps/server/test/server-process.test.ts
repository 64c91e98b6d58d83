/**
 * `nucleon-server` as operators run it: a real process, a neutron.conf file, a PGlite data
 * folder, JSON logs on stdout, one readable message on stderr when it refuses to start.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import ml2Package from '@nucleon/ml2/package.json' with { type: 'json' };
import { freePort, refusal, runServer, startServer, stopAll, tempDir, writeConf, type ServerProcess } from './helpers/processes.js';

let dir: string;
let removeDir: () => Promise<void>;

beforeAll(async () => {
  ({ dir, remove: removeDir } = await tempDir('server-process'));
});

afterAll(async () => {
  await stopAll();
  await removeDir();
});

/** A config for a server on `port` storing into `data` (a folder under the test's temp folder). */
async function conf(name: string, port: number, data: string, extra: Record<string, Record<string, string | number>> = {}) {
  return writeConf(dir, name, {
    ...extra,
    DEFAULT: { bind_host: '127.0.0.1', bind_port: port, core_plugin: 'ml2', auth_strategy: 'noauth', ...extra.DEFAULT },
    database: { connection: `pglite://${dir}/${data}`, ...extra.database },
  });
}

async function json(url: string, init?: RequestInit): Promise<{ status: number; body: any }> {
  const response = await fetch(url, init);
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

/**
 * A POST whose body arrives in two parts, so the request is in flight (headers read, body
 * pending) for as long as the test wants: `finish()` sends the rest and resolves with the answer.
 */
function slowPost(port: number, path: string, body: unknown) {
  const payload = Buffer.from(JSON.stringify(body));
  let pending: ReturnType<typeof request> | undefined;
  const answer = new Promise<{ status: number; body: any }>((resolve, reject) => {
    // No keep-alive agent: the connection ends with the answer, as the stopping server expects.
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': payload.length },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.write(payload.subarray(0, 10));
    pending = req;
  });
  return {
    answer,
    finish: () => {
      pending!.end(payload.subarray(10));
      return answer;
    },
  };
}

describe('a served data folder', () => {
  let port: number;
  let file: string;
  let first: ServerProcess;

  it('starts, logs every loaded plugin as JSON, and serves the API', async () => {
    port = await freePort();
    // `fixture-l3a` is a short name: it resolves to nucleon-plugin-fixture-l3a (no @nucleon/fixture-l3a exists).
    file = await conf('served.conf', port, 'served', { DEFAULT: { service_plugins: 'fixture-l3a' } });
    first = await startServer(['--config-file', file]).ready();

    const loaded = first.logs.filter((l) => l.msg === 'plugin loaded');
    expect(loaded).toEqual([
      expect.objectContaining({
        level: 30,
        name: 'nucleon-server',
        package: '@nucleon/ml2',
        version: ml2Package.version,
        type: 'CORE',
        description: expect.stringContaining('Modular Layer 2'),
      }),
      expect.objectContaining({
        package: 'nucleon-plugin-fixture-l3a',
        version: '1.2.0',
        type: 'L3_ROUTER_NAT',
        description: 'Fixture L3 router plugin A (no resources)',
      }),
    ]);
    // A fresh folder gets the core's and ML2's migrations.
    expect(first.logs.filter((l) => l.msg === 'migration applied').map((l) => l.owner)).toEqual(
      expect.arrayContaining(['@nucleon/core', '@nucleon/ml2']),
    );

    const root = await json(`http://127.0.0.1:${port}/`);
    expect(root.status).toBe(200);
    expect(root.body.versions).toEqual([expect.objectContaining({ id: 'v2.0', status: 'CURRENT' })]);

    const created = await json(`http://127.0.0.1:${port}/v2.0/networks`, {
      method: 'POST',
      body: JSON.stringify({ network: { name: 'kept-across-restarts' } }),
    });
    expect(created.status).toBe(201);
    const list = await json(`http://127.0.0.1:${port}/v2.0/networks`);
    expect(list.status).toBe(200);
    expect(list.body.networks.map((n: { name: string }) => n.name)).toEqual(['kept-across-restarts']);

    // Every stdout line is a structured log line, requests included.
    expect(first.unstructured).toEqual([]);
    // The request line is written once the answer is sent, so it may trail the answer a little.
    const logged = await first.waitForLog((l) => l.msg === 'request' && l.url === '/v2.0/networks' && l.method === 'GET');
    expect(logged).toMatchObject({ status: 200, reqId: expect.stringMatching(/^req-/) });
    expect(first.stderr).toBe('');
  });

  it('on SIGTERM finishes the request in flight, then exits 0', async () => {
    const inFlight = slowPost(port, '/v2.0/networks', { network: { name: 'created-while-stopping' } });
    // The server has the request's headers once its body has started arriving; give it a moment to read them.
    await new Promise((resolve) => setTimeout(resolve, 500));
    first.child.kill('SIGTERM');
    await first.waitForLog((l) => l.msg === 'shutting down' && l.signal === 'SIGTERM');
    // Stopped listening: a new connection is refused while the old request is still open.
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toThrow();

    const answer = await inFlight.finish();
    expect(answer.status).toBe(201);
    expect(answer.body.network.name).toBe('created-while-stopping');
    expect(await first.exited).toEqual({ code: 0, signal: null });
    expect(first.stderr).toBe('');
  });

  it('reopens the same data folder on the next start, data kept, no migration again', async () => {
    const again = await startServer(['--config-file', file]).ready();
    try {
      const list = await json(`http://127.0.0.1:${port}/v2.0/networks?sort_key=name&sort_dir=asc`);
      expect(list.body.networks.map((n: { name: string }) => n.name)).toEqual(['created-while-stopping', 'kept-across-restarts']);
      expect(again.logs.filter((l) => l.msg === 'migration applied')).toEqual([]);
    } finally {
      expect(await again.stop()).toEqual({ code: 0, signal: null });
    }
  });
});

describe('a bad configuration', () => {
  // Each case: the config (or arguments), and what the one message on stderr must say.
  const cases: Array<{ name: string; args: () => Promise<string[]>; says: RegExp[] }> = [
    {
      name: 'a missing config file',
      args: async () => ['--config-file', `${dir}/no-such.conf`],
      says: [/cannot read config file .*no-such\.conf/],
    },
    {
      name: 'bind_port = abc',
      args: async () => ['--config-file', await conf('port.conf', 1, 'unused', { DEFAULT: { bind_port: 'abc' } })],
      says: [/\[DEFAULT\] bind_port in .*port\.conf: 'abc' is not an integer/],
    },
    {
      name: 'api_workers = 0',
      args: async () => ['--config-file', await conf('workers.conf', 1, 'unused', { DEFAULT: { api_workers: 0 } })],
      says: [/\[DEFAULT\] api_workers .*0 is below the minimum 1/],
    },
    {
      name: 'an unknown auth_strategy',
      args: async () => ['--config-file', await conf('auth.conf', 1, 'unused', { DEFAULT: { auth_strategy: 'ldap' } })],
      says: [/\[DEFAULT\] auth_strategy .*'ldap' is not one of noauth, keystone/],
    },
    {
      name: 'keystone without service credentials',
      args: async () => ['--config-file', await conf('keystone.conf', 1, 'unused', { DEFAULT: { auth_strategy: 'keystone' } })],
      says: [
        /\[keystone_authtoken\] auth_url is required/,
        /\[keystone_authtoken\] username is required/,
        /\[keystone_authtoken\] password is required/,
      ],
    },
    {
      name: 'a policy file that does not parse',
      args: async () => {
        await writeFile(join(dir, 'bad-policy.yaml'), 'get_network: "rule:admin_only or"\n');
        return ['--config-file', await conf('policy.conf', 1, 'unused', { oslo_policy: { policy_file: 'bad-policy.yaml' } })];
      },
      says: [/bad-policy\.yaml: cannot parse policy rule "rule:admin_only or": unexpected end/],
    },
    {
      name: 'a policy file that is not there',
      args: async () => [
        '--config-file',
        await conf('nopolicy.conf', 1, 'unused', { oslo_policy: { policy_file: 'missing-policy.yaml' } }),
      ],
      says: [/\[oslo_policy\] policy_file missing-policy\.yaml not found/],
    },
    {
      name: 'a MySQL connection (what Neutron files usually carry)',
      args: async () => [
        '--config-file',
        await conf('mysql.conf', 1, 'unused', { database: { connection: 'mysql+pymysql://neutron:s3cret@db.example/neutron' } }),
      ],
      says: [/\[database\] connection 'mysql\+pymysql:\/\/neutron:\*\*\*@db\.example\/neutron' uses mysql\+pymysql/, /PostgreSQL/],
    },
    {
      name: 'no --config-file',
      args: async () => [],
      says: [/no --config-file given/, /usage: nucleon-server/],
    },
    {
      name: 'an unknown command',
      args: async () => ['db', 'downgrade', '--config-file', await conf('command.conf', 1, 'unused')],
      says: [/unknown command 'db downgrade'/],
    },
  ];

  it.each(cases.map((c) => [c.name, c] as const))('refuses %s with one message and no stack trace', async (_name, c) => {
    const { exit, server } = await runServer(await c.args());
    const { message, hasStack, messages } = refusal(server);
    expect(exit.code).not.toBe(0);
    expect(exit.code).not.toBeNull();
    expect(hasStack).toBe(false);
    expect(messages).toBe(1);
    for (const pattern of c.says) expect(message).toMatch(pattern);
    // The password of a connection string never reaches the output.
    expect(message).not.toContain('s3cret');
    // Refused before anything was served or stored.
    expect(server.logs.filter((l) => l.msg === 'listening')).toEqual([]);
  });

  it('refuses a port already in use with one message', async () => {
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const { exit, server } = await runServer(['--config-file', await conf('taken.conf', port, 'port-taken')]);
      const { message, hasStack, messages } = refusal(server);
      expect(exit.code).toBe(1);
      expect(hasStack).toBe(false);
      expect(messages).toBe(1);
      expect(message).toBe(`Nucleon cannot start: listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it('lists every bad option in the one message', async () => {
    const file = await conf('many.conf', 1, 'unused', {
      DEFAULT: { bind_port: 'abc', api_workers: 0 },
      database: { connection: 'mysql://neutron@db/neutron' },
    });
    const { exit, server } = await runServer(['--config-file', file]);
    const { message, hasStack, messages } = refusal(server);
    expect(exit.code).toBe(1);
    expect(hasStack).toBe(false);
    expect(messages).toBe(1);
    expect(message.split('\n').filter((l) => l.startsWith('  - '))).toEqual([
      expect.stringContaining('bind_port'),
      expect.stringContaining('api_workers'),
      expect.stringContaining('uses mysql, which Nucleon does not support'),
    ]);
  });
});

describe('nucleon-server db upgrade', () => {
  it('applies the migrations once, then none; the server then starts without migrating', async () => {
    const port = await freePort();
    const file = await conf('upgrade.conf', port, 'upgraded', { database: { auto_migrate: 'false' } });

    const first = await runServer(['db', 'upgrade', '--config-file', file]);
    expect(first.exit.code).toBe(0);
    expect(first.server.stderr).toBe('');
    const applied = first.server.logs.filter((l) => l.msg === 'migration applied');
    expect(applied.map((l) => l.owner)).toEqual(expect.arrayContaining(['@nucleon/core', '@nucleon/ml2']));
    expect(first.server.logs.find((l) => l.msg === 'database is up to date')?.applied).toBe(applied.length);

    const second = await runServer(['db', 'upgrade', '--config-file', file]);
    expect(second.exit.code).toBe(0);
    expect(second.server.logs.filter((l) => l.msg === 'migration applied')).toEqual([]);
    expect(second.server.logs.find((l) => l.msg === 'database is up to date')?.applied).toBe(0);

    // auto_migrate = false: the schema the upgrade made is what the server serves from.
    const server = await startServer(['--config-file', file]).ready();
    try {
      expect((await json(`http://127.0.0.1:${port}/v2.0/networks`)).body).toEqual({ networks: [] });
      expect(server.logs.filter((l) => l.msg === 'migration applied')).toEqual([]);
    } finally {
      expect(await server.stop()).toEqual({ code: 0, signal: null });
    }
  });
});
