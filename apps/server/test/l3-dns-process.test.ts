/**
 * `service_plugins = l3-dns` as operators run it: a real nucleon-server process, a real BIND 9
 * (`@nucleon/l3-dns/testing`), names checked with `dig`. A server killed with SIGKILL after the
 * floating IP committed but before its records reached DNS publishes them when it starts again.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { eventually as within } from '@nucleon/core/testing';
import { Rfc2136Driver } from '@nucleon/l3-dns';
import { bindAvailable, startBind, type BindServer } from '@nucleon/l3-dns/testing';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, refusal, requestJson, runServer, SERVER_DIR, startServer, stopAll, tempDir, writeConf } from './helpers/processes.js';

afterAll(stopAll);

/** Real processes restart and retry: allow them longer than in-process tests. */
const eventually = (check: () => Promise<void>) => within(check, 20_000, 100);

describe.skipIf(!bindAvailable)('service_plugins = l3-dns with a real BIND 9', () => {
  let bind: BindServer;
  let env: { dir: string; remove: () => Promise<void> };
  let conf: string;
  let base: string;

  beforeAll(async () => {
    bind = await startBind();
    env = await tempDir('l3-dns');
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    conf = await writeConf(env.dir, 'neutron.conf', {
      DEFAULT: { bind_host: '127.0.0.1', bind_port: port, core_plugin: 'ml2', service_plugins: 'l3-dns', external_dns_driver: 'rfc2136' },
      database: { connection: `pglite://${env.dir}/data` },
      ml2: { type_drivers: 'flat,vxlan', tenant_network_types: 'vxlan' },
      ml2_type_flat: { flat_networks: 'public' },
      ml2_type_vxlan: { vni_ranges: '1001:2000' },
      rfc2136: {
        server: bind.host,
        port: bind.port,
        tsig_key_name: bind.keyName,
        tsig_algorithm: bind.algorithm,
        tsig_secret: bind.secret,
        timeout_ms: 1000,
      },
      // A short lease: an entry the killed server was applying at that moment is retried soon after.
      outbox: { poll_interval_ms: 200, retry_min_delay_ms: 100, retry_max_delay_ms: 500, lease_ms: 2000 },
    });
  });
  afterAll(async () => {
    await bind?.close();
    await env?.remove();
  });

  const call = (method: string, path: string, body?: unknown) => requestJson(`${base}${path}`, method, body);

  test('names resolve with dig; a SIGKILLed server publishes what it had not sent once it runs again', async () => {
    let server = await startServer(['--config-file', conf]).ready();
    const network = await call('POST', '/v2.0/networks', {
      network: { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'public' },
    });
    expect(network.status).toBe(201);
    expect(
      (
        await call('POST', '/v2.0/subnets', {
          subnet: { network_id: network.body.network.id, ip_version: 4, cidr: '203.0.113.0/24', enable_dhcp: false },
        })
      ).status,
    ).toBe(201);
    const fip = async (name: string) => {
      const created = await call('POST', '/v2.0/floatingips', {
        floatingip: { floating_network_id: network.body.network.id, dns_name: name, dns_domain: 'example.org.' },
      });
      expect(created.status).toBe(201);
      return created.body.floatingip as { id: string; floating_ip_address: string };
    };

    const web = await fip('web');
    await eventually(async () => expect(await bind.query('web.example.org.', 'A')).toEqual([web.floating_ip_address]));

    // DNS down: the change commits, its records wait in the outbox; then the server dies hard.
    await bind.stop();
    const crash = await fip('crash');
    await server.waitForLog((line) => line.msg === 'outbox entry failed; will retry' && line.key === crash.id);
    expect((await server.stop('SIGKILL')).signal).toBe('SIGKILL');

    await bind.restart();
    expect(await bind.query('crash.example.org.', 'A')).toEqual([]);
    server = await startServer(['--config-file', conf]).ready();
    await eventually(async () => {
      expect(await bind.query('crash.example.org.', 'A')).toEqual([crash.floating_ip_address]);
      const ptr = `${crash.floating_ip_address.split('.').reverse().join('.')}.in-addr.arpa.`;
      expect(await bind.query(ptr, 'PTR')).toEqual(['crash.example.org.']);
    });
    await eventually(async () =>
      expect((await call('GET', `/v2.0/dns_publications/${crash.id}`)).body.dns_publication.status).toBe('ACTIVE'),
    );
    // The earlier record was not disturbed; releasing removes it.
    expect(await bind.query('web.example.org.', 'A')).toEqual([web.floating_ip_address]);
    expect((await call('DELETE', `/v2.0/floatingips/${web.id}`)).status).toBe(204);
    await eventually(async () => expect(await bind.query('web.example.org.', 'A')).toEqual([]));
    await server.stop();

    // Drift while no server runs: a record removed by hand comes back with `dns reconcile`.
    const driver = new Rfc2136Driver(bind.driverOptions());
    await driver.remove({ zone: 'example.org.', name: 'crash.example.org.', type: 'A', records: [crash.floating_ip_address], ttl: 3600 });
    await driver.close();
    expect(await bind.query('crash.example.org.', 'A')).toEqual([]);
    const { exit, server: command } = await runServer(['dns', 'reconcile', '--config-file', conf]);
    expect(exit.code).toBe(0);
    expect(command.logs.find((line) => line.msg === 'command finished')).toMatchObject({
      command: 'dns reconcile',
      result: { checked: 1, repaired: 1 },
    });
    expect(await bind.query('crash.example.org.', 'A')).toEqual([crash.floating_ip_address]);
  });
});

describe.skipIf(!bindAvailable)('the sample configuration (etc/neutron.conf + etc/l3-dns.conf)', () => {
  test('serves floating IPs whose names resolve with dig', async () => {
    const bind = await startBind();
    const { dir, remove } = await tempDir('l3-dns-sample');
    try {
      const port = await freePort();
      // The samples as shipped, with this machine's port, data folder, DNS server and key.
      const neutronConf = (await readFile(join(SERVER_DIR, 'etc', 'neutron.conf'), 'utf8'))
        .replace(/^bind_port = .*$/m, `bind_port = ${port}`)
        .replace(/^connection = .*$/m, `connection = pglite://${dir}/data`);
      const dnsConf = (await readFile(join(SERVER_DIR, 'etc', 'l3-dns.conf'), 'utf8'))
        .replace(/^port = 53$/m, `port = ${bind.port}`)
        .replace(/^server = .*$/m, `server = ${bind.host}`)
        .replace(/^tsig_key_name = .*$/m, `tsig_key_name = ${bind.keyName}`)
        .replace(/^tsig_secret = .*$/m, `tsig_secret = ${bind.secret}`);
      await writeFile(join(dir, 'neutron.conf'), neutronConf);
      await writeFile(join(dir, 'l3-dns.conf'), dnsConf);
      const server = await startServer(['--config-file', join(dir, 'neutron.conf'), '--config-file', join(dir, 'l3-dns.conf')]).ready();
      const call = async (path: string, body: unknown) => {
        const response = await fetch(`http://127.0.0.1:${port}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        expect(response.status).toBe(201);
        return (await response.json()) as Record<string, any>;
      };
      const { network } = await call('/v2.0/networks', {
        network: { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'public' },
      });
      await call('/v2.0/subnets', { subnet: { network_id: network.id, ip_version: 4, cidr: '203.0.113.0/24', enable_dhcp: false } });
      const { floatingip } = await call('/v2.0/floatingips', {
        floatingip: { floating_network_id: network.id, dns_name: 'www', dns_domain: 'example.org.' },
      });
      await eventually(async () => expect(await bind.query('www.example.org.', 'A')).toEqual([floatingip.floating_ip_address]));
      await server.stop();
    } finally {
      await bind.close();
      await remove();
    }
  });
});

describe('service_plugins = l3-dns without a DNS server configured', () => {
  test('refuses to start, naming the missing options', async () => {
    const { dir, remove } = await tempDir('l3-dns-refused');
    try {
      const conf = await writeConf(dir, 'neutron.conf', {
        DEFAULT: { bind_host: '127.0.0.1', bind_port: await freePort(), core_plugin: 'ml2', service_plugins: 'l3-dns' },
        database: { connection: `pglite://${dir}/data` },
      });
      const { exit, server } = await runServer(['--config-file', conf]);
      expect(exit.code).not.toBe(0);
      const { message, hasStack } = refusal(server);
      expect(message).toMatch(/\[rfc2136\] server is required with service_plugins = l3-dns/);
      expect(message).toMatch(/\[rfc2136\] tsig_secret is required/);
      expect(hasStack).toBe(false);
    } finally {
      await remove();
    }
  });
});
