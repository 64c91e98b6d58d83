/**
 * Releases as operators receive them. A real registry — Verdaccio, from npm — runs on loopback with
 * a temporary storage; every package is published to it with the project's release command
 * (`pnpm release`); then, in an empty folder outside the workspace, npm installs the server and
 * plugins by name, a neutron.conf names them, and the installed `nucleon-server` binary serves:
 *
 *  1. `@nucleon/server @nucleon/ml2 @nucleon/l3-greee`: floating IPs are allocated and released,
 *     and l3-greee logs both;
 *  2. `@nucleon/l3-dns` installed and named instead, restart: the same data is served, names reach a
 *     real BIND, and l3-greee's behaviour is gone;
 *  3. a third-party plugin, `nucleon-plugin-audit` (published from outside this repository), loads
 *     by its short name;
 *  4. a plugin built for another core major is refused with a message naming the plugin, the range
 *     it requires and the installed core.
 *
 * Runs in the PGlite suite only: the installed server runs on PGlite whatever the suite's engine.
 */
import { execFile, spawn } from 'node:child_process';
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { cleanUpAfter, eventually, freeLoopbackPort, testDatabaseUrl } from '@nucleon/core/testing';
import { CORE_VERSION, type PluginDefinition } from '@nucleon/core';
import l3Dns from '@nucleon/l3-dns';
import { bindAvailable, startBind, type BindServer } from '@nucleon/l3-dns/testing';
import l3Greee from '@nucleon/l3-greee';
import l3Router from '@nucleon/l3-router';
import metering from '@nucleon/metering';
import ml2 from '@nucleon/ml2';
import semver from 'semver';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { requestJson, ServerProcess, SERVER_DIR, stopAll, tempDir, writeConf } from './helpers/processes.js';

afterAll(stopAll);

const REPO = resolve(SERVER_DIR, '../..');
const PNPM = 'pnpm@12.4.2';
const execFileAsync = promisify(execFile);
/** npm's own registry, which Verdaccio proxies for everything that is not ours. */
const UPSTREAM =
  process.env.npm_config_registry?.startsWith('http') && !process.env.npm_config_registry.includes('127.0.0.1')
    ? process.env.npm_config_registry
    : 'https://registry.npmjs.org/';

interface Registry {
  readonly url: string;
  /** Environment for npm and pnpm: this registry, a token for it, nothing from the machine's npmrc. */
  readonly env: NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

/** Verdaccio on 127.0.0.1:<free port>: our scope and `nucleon-plugin-*` stored here, the rest proxied. */
async function startRegistry(dir: string): Promise<Registry> {
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}/`;
  const config = join(dir, 'verdaccio.yaml');
  await writeFile(
    config,
    `storage: ${join(dir, 'storage')}
auth:
  htpasswd:
    file: ${join(dir, 'htpasswd')}
    max_users: 10
uplinks:
  npmjs:
    url: ${UPSTREAM}
    timeout: 120s
packages:
  '@nucleon/*':
    access: $all
    publish: $authenticated
  'nucleon-plugin-*':
    access: $all
    publish: $authenticated
  '**':
    access: $all
    proxy: npmjs
web:
  enable: false
middlewares:
  audit:
    enabled: false
max_body_size: 200mb
log: { type: stdout, format: json, level: warn }
`,
  );
  const bin = createRequire(join(SERVER_DIR, 'package.json')).resolve('verdaccio/bin/verdaccio');
  // Verdaccio reaches the upstream registry with Node's TLS: give it the CA file npm is configured
  // with (machines behind a TLS-inspecting proxy have one), unless the environment already does.
  const cafile = (await execFileAsync('npm', ['config', 'get', 'cafile'])).stdout.trim();
  const verdaccioEnv = {
    ...process.env,
    ...(!process.env.NODE_EXTRA_CA_CERTS && cafile && cafile !== 'null' ? { NODE_EXTRA_CA_CERTS: cafile } : {}),
  };
  const child = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], {
    cwd: dir,
    env: verdaccioEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  cleanUpAfter(child, join(dir, 'storage'));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`verdaccio exited (${child.exitCode}):\n${output}`);
      expect((await fetch(`${url}-/ping`)).status).toBe(200);
    },
    60_000,
    200,
  );
  // A user of our own: Verdaccio answers the sign-up with a token for publishing.
  const signup = await fetch(`${url}-/user/org.couchdb.user:nucleon`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'nucleon', password: 'release-test-password' }),
  });
  const { token } = (await signup.json()) as { token: string };
  expect(signup.status, output).toBe(201);
  const npmrc = join(dir, 'npmrc');
  await writeFile(npmrc, `registry=${url}\n//127.0.0.1:${port}/:_authToken=${token}\n`);
  const env: NodeJS.ProcessEnv = {
    // Not the npm_config_* / npm_package_* a `pnpm test` run exports: only this registry's settings.
    ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !/^npm_(config|package|lifecycle)_/i.test(name))),
    npm_config_userconfig: npmrc,
    npm_config_registry: url,
    npm_config_cache: join(dir, 'npm-cache'),
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
  };
  return {
    url,
    env,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs a command to completion; fails with its output when it exits non-zero. */
async function run(command: string, args: readonly string[], options: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs?: number }) {
  try {
    return await execFileAsync(command, [...args], {
      cwd: options.cwd,
      env: options.env,
      timeout: options.timeoutMs ?? 600_000,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, { cause: error });
  }
}

/** A minimal plugin package outside this repository, published from its own folder. */
async function publishPlugin(dir: string, registry: Registry, name: string, coreRange: string, source: string): Promise<void> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  await writeFile(
    join(folder, 'package.json'),
    JSON.stringify(
      {
        name,
        version: '1.0.0',
        description: `Release test plugin ${name}`,
        license: 'Apache-2.0',
        type: 'module',
        exports: { '.': './index.js', './package.json': './package.json' },
        peerDependencies: { '@nucleon/core': coreRange },
      },
      null,
      2,
    ),
  );
  await writeFile(join(folder, 'index.js'), source);
  await run('npm', ['publish'], { cwd: folder, env: registry.env });
}

describe('versions', () => {
  test("every plugin's core range (definePlugin's coreVersion) is its @nucleon/core peer range, and the workspace's core is in it", async () => {
    const plugins: Array<[string, PluginDefinition]> = [
      ['@nucleon/ml2', ml2],
      ['@nucleon/l3-router', l3Router],
      ['@nucleon/l3-greee', l3Greee],
      ['@nucleon/l3-dns', l3Dns],
      ['@nucleon/metering', metering],
    ];
    for (const [name, plugin] of plugins) {
      const manifest = JSON.parse(await readFile(join(REPO, workspaceDir(name), 'package.json'), 'utf8')) as {
        peerDependencies: Record<string, string>;
      };
      expect(plugin.coreVersion, name).toBe(manifest.peerDependencies['@nucleon/core']);
      expect(semver.satisfies(CORE_VERSION, plugin.coreVersion), name).toBe(true);
    }
  });
});

const CHANGESET = join(REPO, 'node_modules', '@changesets', 'cli', 'bin.js');
const GIT_ENV = {
  ...process.env,
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
};

/**
 * A clone of the repository just after a release: whatever changesets are pending here are
 * versioned and committed first, so the tests start from "nothing changed since the versions".
 */
async function releasedClone(prefix: string) {
  const clone = await tempDir(prefix);
  const git = (...args: string[]) => run('git', args, { cwd: clone.dir, env: GIT_ENV });
  await run('git', ['clone', '-q', REPO, clone.dir], { cwd: REPO, env: GIT_ENV });
  await run(process.execPath, [CHANGESET, 'version'], { cwd: clone.dir, env: GIT_ENV });
  await git('add', '-A');
  await git('commit', '-q', '--allow-empty', '-m', 'Version packages');
  const version = async (name: string) =>
    JSON.parse(await readFile(join(clone.dir, workspaceDir(name), 'package.json'), 'utf8')) as {
      version: string;
      peerDependencies?: Record<string, string>;
    };
  return { ...clone, git, version };
}

describe('the changeset check (CI)', () => {
  test('refuses a change to what a package ships without a changeset naming it, and accepts it with one', async () => {
    const clone = await releasedClone('changesets');
    try {
      const check = () => run(process.execPath, ['.ci/check-changesets.mjs'], { cwd: clone.dir, env: GIT_ENV });
      await check();
      // A test-only change needs none.
      await writeFile(join(clone.dir, 'plugins/ml2/test/extra.test.ts'), '// a test file\n');
      await clone.git('add', '-A');
      await clone.git('commit', '-qm', 'a test');
      await check();
      const source = join(clone.dir, 'plugins/ml2/src/index.ts');
      await writeFile(source, `${await readFile(source, 'utf8')}\n// a change that ships\n`);
      await clone.git('commit', '-qam', 'a change');
      await expect(check()).rejects.toThrow(/@nucleon\/ml2 changed since [\d.]+ \(src\/index\.ts\) without a changeset/);
      await writeFile(join(clone.dir, '.changeset/ml2-change.md'), "---\n'@nucleon/ml2': patch\n---\n\nA change.\n");
      const { stdout } = await check();
      expect(stdout).toMatch(/@nucleon\/ml2@[\d.]+ \(since \w+\): changed, has a changeset/);
      expect(stdout).toMatch(/@nucleon\/l3-router@[\d.]+ \(since \w+\): unchanged/);
    } finally {
      await clone.remove();
    }
  });
});

describe('versioning (changesets in a clone)', () => {
  test("a core release inside the plugins' peer range bumps no plugin; one leaving it bumps them", async () => {
    const clone = await releasedClone('versioning');
    try {
      const before = { core: await clone.version('@nucleon/core'), ml2: await clone.version('@nucleon/ml2') };

      await writeFile(join(clone.dir, '.changeset/core-fix.md'), "---\n'@nucleon/core': patch\n---\n\nA fix.\n");
      await run(process.execPath, [CHANGESET, 'version'], { cwd: clone.dir, env: GIT_ENV });
      const patched = { core: await clone.version('@nucleon/core'), ml2: await clone.version('@nucleon/ml2') };
      expect(patched.core.version).toBe(semver.inc(before.core.version, 'patch'));
      expect(patched.ml2).toEqual(before.ml2);

      await writeFile(join(clone.dir, '.changeset/core-break.md'), "---\n'@nucleon/core': minor\n---\n\nA change plugins must follow.\n");
      await run(process.execPath, [CHANGESET, 'version'], { cwd: clone.dir, env: GIT_ENV });
      const broken = { core: await clone.version('@nucleon/core'), ml2: await clone.version('@nucleon/ml2') };
      expect(semver.satisfies(broken.core.version, before.ml2.peerDependencies!['@nucleon/core']!)).toBe(false);
      expect(broken.ml2.version).not.toBe(before.ml2.version);
      expect(broken.ml2.peerDependencies!['@nucleon/core']).toBe(`^${broken.core.version}`);
    } finally {
      await clone.remove();
    }
  });
});

describe.skipIf(testDatabaseUrl !== undefined)(
  'published packages, installed by name from a registry (Verdaccio)',
  { timeout: 900_000 },
  () => {
    let work: Awaited<ReturnType<typeof tempDir>>;
    let registry: Registry;
    let bind: BindServer | undefined;
    let site: string;
    let port: number;
    let base: string;

    beforeAll(async () => {
      work = await tempDir('release');
      registry = await startRegistry(work.dir);
      bind = bindAvailable ? await startBind() : undefined;
      site = join(work.dir, 'site');
      await mkdir(site);
      await writeFile(join(site, 'package.json'), JSON.stringify({ name: 'nucleon-site', private: true }, null, 2));
      port = await freeLoopbackPort();
      base = `http://127.0.0.1:${port}`;
    }, 120_000);
    afterAll(async () => {
      await registry?.stop();
      await bind?.close();
      await work?.remove();
    });

    const call = (method: string, path: string, body?: unknown) => requestJson(`${base}${path}`, method, body);
    const npm = (args: readonly string[]) => run('npm', args, { cwd: site, env: registry.env });
    const conf = (DEFAULT: Record<string, string | number>, extra: Record<string, Record<string, string | number>> = {}) =>
      writeConf(site, 'neutron.conf', {
        DEFAULT: { bind_host: '127.0.0.1', bind_port: port, core_plugin: 'ml2', ...DEFAULT },
        database: { connection: 'pglite://./data' },
        ml2: { type_drivers: 'flat,vxlan', tenant_network_types: 'vxlan' },
        ml2_type_flat: { flat_networks: 'public' },
        ml2_type_vxlan: { vni_ranges: '1001:2000' },
        ...extra,
      });
    /** The installed binary, as an operator starts it. */
    const startInstalled = () => {
      const child = spawn(join(site, 'node_modules', '.bin', 'nucleon-server'), ['--config-file', join(site, 'neutron.conf')], {
        cwd: site,
        env: { ...process.env, NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      return new ServerProcess(child);
    };

    test('pnpm release publishes every package, with no workspace: ranges left', async () => {
      // `pnpm` for changesets, which publishes each package with it.
      const shims = join(work.dir, 'bin');
      await mkdir(shims);
      await writeFile(join(shims, 'pnpm'), `#!/bin/sh\nexec npx -y ${PNPM} "$@"\n`, { mode: 0o755 });
      const env = { ...registry.env, PATH: `${shims}:${process.env.PATH}` };
      await run('npx', ['-y', PNPM, 'release', '--no-git-tag'], { cwd: REPO, env });

      const ours = [
        '@nucleon/core',
        '@nucleon/ml2',
        '@nucleon/l3-router',
        '@nucleon/l3-greee',
        '@nucleon/l3-dns',
        '@nucleon/metering',
        '@nucleon/server',
      ];
      for (const name of ours) {
        const manifest = JSON.parse(await readFile(join(REPO, workspaceDir(name), 'package.json'), 'utf8')) as { version: string };
        const published = (await (await fetch(`${registry.url}${name.replace('/', '%2f')}`)).json()) as {
          versions: Record<string, { dependencies?: object; peerDependencies?: object }>;
        };
        const version = published.versions[manifest.version];
        expect(version, name).toBeDefined();
        expect(JSON.stringify(version), name).not.toContain('workspace:');
      }
    });

    test('npm install @nucleon/server @nucleon/ml2 @nucleon/l3-greee: floating IPs allocated and released, and logged', async () => {
      await npm(['install', '@nucleon/server', '@nucleon/ml2', '@nucleon/l3-greee']);
      const installed = await readdir(join(site, 'node_modules', '@nucleon'));
      expect(installed.sort()).toEqual(['core', 'l3-greee', 'l3-router', 'ml2', 'server']);
      for (const name of installed) {
        const files = await readdir(join(site, 'node_modules', '@nucleon', name));
        expect(files, name).toEqual(expect.arrayContaining(['README.md', 'LICENSE', 'CHANGELOG.md', 'package.json', 'dist']));
        expect(
          files.filter((f) => ['src', 'test'].includes(f)),
          name,
        ).toEqual([]);
      }
      await conf({ service_plugins: 'l3-greee' });
      const server = await startInstalled().ready();
      try {
        const external = await call('POST', '/v2.0/networks', {
          network: { name: 'public', 'router:external': true, 'provider:network_type': 'flat', 'provider:physical_network': 'public' },
        });
        expect(external.status).toBe(201);
        const subnet = await call('POST', '/v2.0/subnets', {
          subnet: { network_id: external.body.network.id, ip_version: 4, cidr: '203.0.113.0/24', enable_dhcp: false },
        });
        expect(subnet.status).toBe(201);
        const released = (await call('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: external.body.network.id } })).body
          .floatingip;
        const kept = (await call('POST', '/v2.0/floatingips', { floatingip: { floating_network_id: external.body.network.id } })).body
          .floatingip;
        expect((await call('DELETE', `/v2.0/floatingips/${released.id}`)).status).toBe(204);
        await server.waitForLog((l) => l.msg === 'floating IP allocated' && l.floatingip_id === kept.id);
        const release = await server.waitForLog((l) => l.msg === 'floating IP released');
        expect(release).toMatchObject({ floatingip_id: released.id, floating_ip_address: released.floating_ip_address });
      } finally {
        expect(await server.stop()).toEqual({ code: 0, signal: null });
      }
    });

    test('npm install @nucleon/l3-dns and name it instead: the same data, names in DNS, no l3-greee', async () => {
      await npm(['install', '@nucleon/l3-dns']);
      const dns = bind
        ? {
            rfc2136: {
              server: bind.host,
              port: bind.port,
              tsig_key_name: bind.keyName,
              tsig_algorithm: bind.algorithm,
              tsig_secret: bind.secret,
            },
          }
        : // Without BIND the plugin still starts (records wait in the outbox); CI has BIND.
          { rfc2136: { server: '127.0.0.1', port: 9, tsig_key_name: 'nucleon', tsig_algorithm: 'hmac-sha256', tsig_secret: 'c2VjcmV0' } };
      await conf(
        { service_plugins: 'l3-dns', external_dns_driver: 'rfc2136' },
        { ...dns, outbox: { poll_interval_ms: 200, retry_min_delay_ms: 100 } },
      );
      const server = await startInstalled().ready();
      try {
        const before = (await call('GET', '/v2.0/floatingips')).body.floatingips;
        expect(before).toHaveLength(1);
        const aliases = ((await call('GET', '/v2.0/extensions')).body.extensions as Array<{ alias: string }>).map((e) => e.alias);
        expect(aliases).toEqual(expect.arrayContaining(['router', 'dns-integration', 'nucleon-dns-status']));
        const named = await call('POST', '/v2.0/floatingips', {
          floatingip: { floating_network_id: before[0].floating_network_id, dns_name: 'www', dns_domain: 'example.org.' },
        });
        expect(named.status).toBe(201);
        if (bind)
          await eventually(
            async () => expect(await bind!.query('www.example.org.', 'A')).toEqual([named.body.floatingip.floating_ip_address]),
            20_000,
          );
        expect((await call('DELETE', `/v2.0/floatingips/${before[0].id}`)).status).toBe(204);
        // l3-greee is no longer loaded: nothing logs allocations or releases.
        expect(server.logs.filter((l) => l.msg === 'floating IP allocated' || l.msg === 'floating IP released')).toEqual([]);
      } finally {
        expect(await server.stop()).toEqual({ code: 0, signal: null });
      }
    });

    test('a third-party plugin from the registry loads by its short name', async () => {
      await publishPlugin(
        join(work.dir, 'third-party'),
        registry,
        'nucleon-plugin-audit',
        '^0.1.0',
        `import { definePlugin } from '@nucleon/core';

export default definePlugin({
  name: 'audit',
  type: 'AUDIT',
  description: 'Logs every network created',
  coreVersion: '^0.1.0',
  create(runtime) {
    runtime.events.subscribe('network', 'after_create', ({ context, states }) => {
      context.log.info({ network_id: states[0].id }, 'audit: network created');
    });
    return {};
  },
});
`,
      );
      await npm(['install', 'nucleon-plugin-audit']);
      await conf(
        { service_plugins: 'l3-dns,audit', external_dns_driver: 'rfc2136' },
        { rfc2136: { server: '127.0.0.1', port: 9, tsig_key_name: 'nucleon', tsig_secret: 'c2VjcmV0' } },
      );
      const server = await startInstalled().ready();
      try {
        const network = (await call('POST', '/v2.0/networks', { network: { name: 'audited' } })).body.network;
        await server.waitForLog((l) => l.msg === 'audit: network created' && l.network_id === network.id);
        expect(server.logs.find((l) => l.msg === 'plugin loaded' && l.package === 'nucleon-plugin-audit')).toMatchObject({
          version: '1.0.0',
          type: 'AUDIT',
        });
      } finally {
        expect(await server.stop()).toEqual({ code: 0, signal: null });
      }
    });

    test('a plugin built for another core major: npm warns, the server refuses it', async () => {
      await publishPlugin(
        join(work.dir, 'third-party'),
        registry,
        'nucleon-plugin-futurecore',
        '^1.0.0',
        `import { definePlugin } from '@nucleon/core';

export default definePlugin({
  name: 'futurecore',
  type: 'FUTURE',
  description: 'Built against @nucleon/core 1.x',
  coreVersion: '^1.0.0',
  create: () => ({}),
});
`,
      );
      // npm installs it, warning that the installed core is outside its peer range.
      const { stderr } = await npm(['install', 'nucleon-plugin-futurecore']);
      expect(stderr).toContain('peer @nucleon/core@"^1.0.0" from nucleon-plugin-futurecore@1.0.0');
      const core = JSON.parse(await readFile(join(site, 'node_modules', '@nucleon', 'core', 'package.json'), 'utf8')) as {
        version: string;
      };
      await conf({ service_plugins: 'router,futurecore' });
      const server = startInstalled();
      const exit = await server.exited;
      expect(exit.code).toBe(1);
      expect(server.stderr).toContain(
        `plugin nucleon-plugin-futurecore@1.0.0 requires @nucleon/core ^1.0.0, but @nucleon/core ${core.version} is installed`,
      );
      expect(server.stderr).not.toMatch(/\n\s+at /);
    });
  },
);

/** The workspace folder of one of our packages. */
function workspaceDir(name: string): string {
  const short = name.slice('@nucleon/'.length);
  return short === 'core' ? 'packages/core' : short === 'server' ? 'apps/server' : `plugins/${short}`;
}
