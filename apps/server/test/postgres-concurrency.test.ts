/**
 * Several API processes on one PostgreSQL database, as a scaled-out deployment runs them: a
 * cluster of `api_workers = 2` plus a second, separate server. Concurrent requests spread over
 * all of them must never share an address, never fail with a 500, and create a project's default
 * security group once.
 *
 * Runs only with `NUCLEON_TEST_DATABASE_URL=postgresql://…` (a role allowed to CREATE DATABASE);
 * with `NUCLEON_REQUIRE_POSTGRES` set as well (CI), a missing URL fails instead of skipping.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { openDatabase } from '@nucleon/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  freePort,
  refusal,
  requestJson,
  runServer,
  startServer,
  stopAll,
  tempDir,
  writeConf,
  type JsonAnswer,
  type ServerProcess,
} from './helpers/processes.js';

const adminUrl = process.env.NUCLEON_TEST_DATABASE_URL || undefined;
const required = Boolean(process.env.NUCLEON_REQUIRE_POSTGRES);

it.runIf(!adminUrl && required)('has a PostgreSQL to run on (NUCLEON_REQUIRE_POSTGRES is set)', () => {
  expect.fail('NUCLEON_REQUIRE_POSTGRES is set but NUCLEON_TEST_DATABASE_URL is not: the PostgreSQL tests would be skipped');
});

/** Runs one statement on the admin connection (CREATE/DROP DATABASE cannot run in a transaction). */
async function admin(statement: string): Promise<void> {
  const database = await openDatabase(adminUrl!, { maxPoolSize: 1 });
  try {
    await database.db.execute(statement);
  } finally {
    await database.close();
  }
}

describe.runIf(adminUrl)('PostgreSQL shared by a worker cluster and a second server', () => {
  const name = `nucleon_proc_${randomUUID().replace(/-/g, '')}`;
  let removeDir: (() => Promise<void>) | undefined;
  let tempPath: string;
  let cluster: ServerProcess;
  let single: ServerProcess;
  let urls: [string, string];

  /** Sends a JSON request to one of the servers; `i` picks which (even: the cluster, odd: the single server). */
  function call(i: number, method: string, path: string, body?: unknown, project?: string): Promise<JsonAnswer> {
    return requestJson(`${urls[i % 2]}${path}`, method, body, project ? { 'x-project-id': project } : {});
  }

  beforeAll(async () => {
    await admin(`create database ${name}`);
    const url = new URL(adminUrl!);
    url.pathname = `/${name}`;
    const temp = await tempDir('postgres');
    removeDir = temp.remove;
    tempPath = temp.dir;
    const [clusterPort, singlePort] = [await freePort(), await freePort()];
    const conf = (file: string, port: number, workers: number) =>
      writeConf(temp.dir, file, {
        DEFAULT: { bind_host: '127.0.0.1', bind_port: port, core_plugin: 'ml2', api_workers: workers },
        database: { connection: url.toString() },
        // Room for the tests' ports and security groups: quotas are not what is being tested here.
        quotas: { quota_port: 1000, quota_security_group: 100 },
      });
    // Both start at once on the empty database, so both try to migrate it: the advisory lock
    // must make one wait for the other, and the loser find nothing left to apply.
    cluster = startServer(['--config-file', await conf('cluster.conf', clusterPort, 2)]);
    single = startServer(['--config-file', await conf('single.conf', singlePort, 1)]);
    await Promise.all([cluster.ready(), single.ready()]);
    urls = [`http://127.0.0.1:${clusterPort}`, `http://127.0.0.1:${singlePort}`];
  });

  afterAll(async () => {
    try {
      const exits = await Promise.all([cluster?.stop(), single?.stop()]);
      // Stopping is part of the behaviour: workers and primary all end cleanly, and nothing
      // along the way was logged as an error (a 500, a dead worker, a failed shutdown).
      expect(exits).toEqual([
        { code: 0, signal: null },
        { code: 0, signal: null },
      ]);
      expect([...cluster.logs, ...single.logs].filter((l) => l.level >= 50)).toEqual([]);
      expect(cluster.stderr + single.stderr).toBe('');
    } finally {
      await stopAll();
      await admin(`drop database if exists ${name} with (force)`);
      await removeDir?.();
    }
  });

  it('migrates the shared database exactly once', async () => {
    const applied = [...cluster.logs, ...single.logs]
      .filter((l) => l.msg === 'migration applied')
      .map((l) => `${String(l.owner)}:${String(l.migration)}`);
    expect(applied.length).toBeGreaterThan(0);
    expect(new Set(applied).size).toBe(applied.length);
    expect(cluster.logs.find((l) => l.msg === 'listening')).toMatchObject({ workers: 2 });
  });

  /** Creates a network with one IPv4 /24 subnet (optionally with a narrower pool); returns the network id. */
  async function networkWithSubnet(cidr: string, pools?: Array<{ start: string; end: string }>): Promise<string> {
    const network = await call(0, 'POST', '/v2.0/networks', { network: { name: `net-${cidr}` } });
    expect(network.status).toBe(201);
    const subnet = await call(1, 'POST', '/v2.0/subnets', {
      subnet: { network_id: network.body.network.id, cidr, ip_version: 4, ...(pools ? { allocation_pools: pools } : {}) },
    });
    expect(subnet.status).toBe(201);
    return network.body.network.id as string;
  }

  /** Fires `count` port creates at once, alternating between the servers. */
  async function createPorts(networkId: string, count: number): Promise<JsonAnswer[]> {
    return Promise.all(Array.from({ length: count }, (_, i) => call(i, 'POST', '/v2.0/ports', { port: { network_id: networkId } })));
  }

  function addresses(answers: readonly JsonAnswer[]): string[] {
    return answers.filter((a) => a.status === 201).flatMap((a) => a.body.port.fixed_ips.map((ip: { ip_address: string }) => ip.ip_address));
  }

  it('gives 200 concurrent ports on a /24 distinct addresses, from every process', async () => {
    const networkId = await networkWithSubnet('10.10.0.0/24');
    const answers = await createPorts(networkId, 200);
    expect(answers.filter((a) => a.status !== 201)).toEqual([]);
    const ips = addresses(answers);
    expect(ips).toHaveLength(200);
    expect(new Set(ips).size).toBe(200);
    for (const ip of ips) expect(ip).toMatch(/^10\.10\.0\.(\d+)$/);

    // What is stored agrees with what was answered.
    const listed = await call(1, 'GET', `/v2.0/ports?network_id=${networkId}`);
    const stored = listed.body.ports.flatMap((p: { fixed_ips: Array<{ ip_address: string }> }) => p.fixed_ips.map((ip) => ip.ip_address));
    expect(stored.sort()).toEqual([...ips].sort());

    // The load really was shared: both cluster workers and the single server answered port creates.
    const pids = (server: ServerProcess) =>
      new Set(server.logs.filter((l) => l.msg === 'request' && l.method === 'POST' && l.url === '/v2.0/ports').map((l) => l.pid));
    expect(pids(cluster).size).toBe(2);
    expect(pids(single).size).toBe(1);
  });

  it('answers 409 IpAddressGenerationFailure, never 500, once a pool runs out under concurrency', async () => {
    const networkId = await networkWithSubnet('10.20.0.0/24', [{ start: '10.20.0.10', end: '10.20.0.59' }]);
    const answers = await createPorts(networkId, 200);
    const refused = answers.filter((a) => a.status !== 201);
    expect(new Set(refused.map((a) => `${a.status} ${a.body?.NeutronError?.type}`))).toEqual(new Set(['409 IpAddressGenerationFailure']));
    // Exactly the pool's 50 addresses were handed out: none twice, none lost to a false "full".
    const ips = addresses(answers);
    expect(ips).toHaveLength(50);
    expect(new Set(ips).size).toBe(50);
    expect(refused).toHaveLength(150);
  });

  it("holds a project's port quota exactly when its creates race on every process", async () => {
    const project = randomUUID().replace(/-/g, '');
    const quota = await call(0, 'PUT', `/v2.0/quotas/${project}`, { quota: { port: 20 } });
    expect(quota.status).toBe(200);
    const networkId = await networkWithSubnet('10.40.0.0/24');
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        call(i, 'POST', '/v2.0/ports', { port: { network_id: networkId, project_id: project } }, project),
      ),
    );
    expect(answers.filter((a) => a.status === 201)).toHaveLength(20);
    expect(new Set(answers.filter((a) => a.status !== 201).map((a) => `${a.status} ${a.body?.NeutronError?.type}`))).toEqual(
      new Set(['409 OverQuota']),
    );
  });

  it('stops a cluster whose workers cannot listen, exit 1, with the reason and no stack trace', async () => {
    const taken = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => taken.listen(port, '127.0.0.1', resolve));
    try {
      const url = new URL(adminUrl!);
      url.pathname = `/${name}`;
      const file = await writeConf(tempPath, 'taken.conf', {
        DEFAULT: { bind_host: '127.0.0.1', bind_port: port, core_plugin: 'ml2', api_workers: 2 },
        database: { connection: url.toString() },
      });
      const { exit, server } = await runServer(['--config-file', file]);
      expect(exit).toEqual({ code: 1, signal: null });
      expect(server.logs.find((l) => l.msg === 'API worker died; stopping')).toMatchObject({ worker: expect.any(Number), code: 1 });
      expect(server.logs.filter((l) => l.msg === 'listening')).toEqual([]);
      const { hasStack } = refusal(server);
      expect(hasStack).toBe(false);
      // Each worker that got as far as binding says why; nothing else reaches stderr.
      const lines = server.stderr.trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(1);
      for (const line of lines) expect(line).toBe(`Nucleon cannot start: bind EADDRINUSE 127.0.0.1:${port}`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });

  it("creates a new project's default security group once, whichever requests come first", async () => {
    const project = randomUUID().replace(/-/g, '');
    const networkId = await networkWithSubnet('10.30.0.0/24');
    const first = await Promise.all(
      Array.from({ length: 30 }, (_, i) => {
        // Every request that makes Neutron ensure the default group: listing groups, creating one, creating a port.
        if (i % 3 === 0) return call(i, 'GET', '/v2.0/security-groups', undefined, project);
        if (i % 3 === 1) return call(i, 'POST', '/v2.0/security-groups', { security_group: { name: `sg-${i}` } }, project);
        return call(i, 'POST', '/v2.0/ports', { port: { network_id: networkId, project_id: project } }, project);
      }),
    );
    expect(first.filter((a) => a.status >= 300)).toEqual([]);

    const defaults = await call(0, 'GET', `/v2.0/security-groups?project_id=${project}&name=default`, undefined, project);
    expect(defaults.status).toBe(200);
    expect(defaults.body.security_groups).toHaveLength(1);
    const defaultId = defaults.body.security_groups[0].id as string;
    // Neutron's four default rules, once.
    expect(defaults.body.security_groups[0].security_group_rules).toHaveLength(4);
    // Every port created in the race got that one group.
    const ports = first.filter((a) => a.body?.port).map((a) => a.body.port.security_groups);
    expect(ports).toHaveLength(10);
    for (const groups of ports) expect(groups).toEqual([defaultId]);
  });
});
