/**
 * How `core_plugin` and `service_plugins` become plugin packages, and every way that is refused.
 * The fixture plugins under test/fixtures/plugins are installed into this app with `link:`
 * devDependencies, so they resolve from the server's location exactly as a real plugin would.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  candidatePackages,
  checkPluginSet,
  Config,
  CORE_VERSION,
  definePlugin,
  loadPlugins,
  packageAccessFrom,
  StartupError,
  type LoadedPlugin,
  type PackageAccess,
  type PluginDefinition,
  type ServiceType,
} from '@nucleon/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolvePlugins } from '../src/plugins.js';
import { STOCK_PLUGINS } from '../src/stock-plugins.js';
import { limited, refusal, runServer, stopAll, tempDir, writeConf } from './helpers/processes.js';

const plugin = (name: string, type: ServiceType, extra: Partial<Parameters<typeof definePlugin>[0]> = {}) =>
  definePlugin({ name, type, description: `${name} for tests`, coreVersion: '^0.1.0', create: () => ({}), ...extra });

const loaded = (definition: PluginDefinition, packageName = `nucleon-plugin-${definition.name}`, version = '1.0.0'): LoadedPlugin => ({
  definition,
  packageName,
  version,
});

/** A package registry in memory: name → default export; `importFails` throws on import. */
function fakeAccess(packages: Record<string, unknown>, importFails: readonly string[] = []): PackageAccess & { imported: string[] } {
  const imported: string[] = [];
  return {
    imported,
    find: (name) => (name in packages ? { name, version: '1.0.0' } : undefined),
    import: async (name) => {
      imported.push(name);
      if (importFails.includes(name)) throw new Error(`Cannot find package 'left-out' imported from ${name}/index.js\n    at somewhere`);
      return { default: packages[name] };
    },
  };
}

describe('candidatePackages', () => {
  it('maps a stock alias to its package and nothing else', () => {
    expect(candidatePackages('ml2', STOCK_PLUGINS)).toEqual(['@nucleon/ml2']);
    expect(candidatePackages('router', STOCK_PLUGINS)).toEqual(['@nucleon/l3-router']);
  });

  it('tries a short name as @nucleon/x, then nucleon-plugin-x, then as the package name itself', () => {
    expect(candidatePackages('l3-greee', STOCK_PLUGINS)).toEqual(['@nucleon/l3-greee', 'nucleon-plugin-l3-greee', 'l3-greee']);
  });

  it('takes a scoped or nucleon-plugin- name as the package name', () => {
    expect(candidatePackages('@acme/nucleon-ovn', STOCK_PLUGINS)).toEqual(['@acme/nucleon-ovn']);
    expect(candidatePackages('nucleon-plugin-fixture-l3a', STOCK_PLUGINS)).toEqual(['nucleon-plugin-fixture-l3a']);
  });
});

describe('loadPlugins', () => {
  const core = plugin('ml2', 'CORE');
  const l3 = plugin('l3', 'L3_ROUTER_NAT');

  it('prefers @nucleon/x over nucleon-plugin-x for a short name, and falls back to it', async () => {
    const both = fakeAccess({ '@nucleon/ml2': core, '@nucleon/l3': l3, 'nucleon-plugin-l3': plugin('other-l3', 'L3_ROUTER_NAT') });
    const result = await loadPlugins({ core: 'ml2', services: ['l3'] }, both);
    expect(result.problems).toEqual([]);
    expect(result.core?.packageName).toBe('@nucleon/ml2');
    expect(result.services.map((s) => [s.packageName, s.definition.name])).toEqual([['@nucleon/l3', 'l3']]);

    const community = fakeAccess({ '@nucleon/ml2': core, 'nucleon-plugin-l3': l3 });
    const fallback = await loadPlugins({ core: 'ml2', services: ['l3'] }, community);
    expect(fallback.services.map((s) => s.packageName)).toEqual(['nucleon-plugin-l3']);
  });

  it('loads one package once when it is named twice (by alias and by package name)', async () => {
    const access = fakeAccess({ '@nucleon/ml2': core, '@nucleon/l3-router': l3 });
    const result = await loadPlugins({ core: 'ml2', services: ['router', '@nucleon/l3-router'] }, access, STOCK_PLUGINS);
    expect(result.problems).toEqual([]);
    expect(result.services.map((s) => s.packageName)).toEqual(['@nucleon/l3-router']);
  });

  it('collects every problem instead of stopping at the first', async () => {
    const access = fakeAccess({ lodash: { chunk: () => [] }, 'nucleon-plugin-broken': l3 }, ['nucleon-plugin-broken']);
    const result = await loadPlugins({ core: 'ovn', services: ['lodash', 'broken', 'metering'] }, access, STOCK_PLUGINS);
    expect(result.core).toBeUndefined();
    expect(result.services).toEqual([]);
    expect(result.problems).toEqual([
      "plugin 'ovn' is not installed: install @nucleon/ovn or nucleon-plugin-ovn beside the server (npm install @nucleon/ovn)",
      "package lodash@1.0.0 (configured as 'lodash') is not a Nucleon plugin: its default export was not made with definePlugin() from @nucleon/core",
      // Only the first line of the import error: the stack stays out of the operator's message.
      "plugin package nucleon-plugin-broken failed to load: Cannot find package 'left-out' imported from nucleon-plugin-broken/index.js",
      "plugin 'metering' is not installed: install @nucleon/metering beside the server (npm install @nucleon/metering)",
    ]);
    // A package that is not installed is never imported.
    expect(access.imported).toEqual(['lodash', 'nucleon-plugin-broken']);
  });

  it('says core_plugin is unset rather than looking for a package named ""', async () => {
    const result = await loadPlugins({ core: '  ', services: [] }, fakeAccess({}));
    expect(result.problems).toEqual(['core_plugin is not set in [DEFAULT]; set it to ml2 or a core plugin package']);
  });

  it('resolves real packages from the server app: stock alias, short names, full names', async () => {
    const access = packageAccessFrom(import.meta.url, (name) => import(name));
    const byAlias = await loadPlugins({ core: 'ml2', services: ['fixture-l3a'] }, access, STOCK_PLUGINS);
    expect(byAlias.problems).toEqual([]);
    expect(byAlias.core).toMatchObject({ packageName: '@nucleon/ml2', version: CORE_VERSION, definition: { type: 'CORE' } });
    expect(byAlias.services).toEqual([expect.objectContaining({ packageName: 'nucleon-plugin-fixture-l3a', version: '1.2.0' })]);

    // Without the stock table `ml2` is a short name, and @nucleon/ml2 is still the first candidate.
    const byShortName = await loadPlugins({ core: 'ml2', services: ['nucleon-plugin-fixture-l3b'] }, access, {});
    expect(byShortName.core?.packageName).toBe('@nucleon/ml2');
    expect(byShortName.services.map((s) => s.definition.name)).toEqual(['fixture-l3b']);

    // Installed, but not a plugin: pino is a dependency of the server itself.
    const foreign = await loadPlugins({ core: '@nucleon/ml2', services: ['pino', 'fixture-unbranded'] }, access, STOCK_PLUGINS);
    expect(foreign.problems).toEqual([
      expect.stringMatching(/^package pino@\d+\.\d+\.\d+ \(configured as 'pino'\) is not a Nucleon plugin/),
      expect.stringMatching(
        /^package nucleon-plugin-fixture-unbranded@0\.1\.0 \(configured as 'fixture-unbranded'\) is not a Nucleon plugin/,
      ),
    ]);
  });
});

describe('checkPluginSet', () => {
  const core = loaded(plugin('ml2', 'CORE'), '@nucleon/ml2', '0.1.0');

  it('accepts a core plugin with one plugin per service type', () => {
    expect(checkPluginSet(core, [loaded(plugin('l3', 'L3_ROUTER_NAT')), loaded(plugin('meter', 'METERING'))], '0.1.0')).toEqual([]);
  });

  it('refuses two plugins of one service type, naming both packages and the type', () => {
    const problems = checkPluginSet(core, [loaded(plugin('l3a', 'L3_ROUTER_NAT')), loaded(plugin('l3b', 'L3_ROUTER_NAT'))], '0.1.0');
    expect(problems).toEqual([
      'service plugins nucleon-plugin-l3a and nucleon-plugin-l3b both provide service type L3_ROUTER_NAT; only one plugin per service type may be loaded',
    ]);
  });

  it('refuses a plugin for another core, naming the plugin, its range and the installed core', () => {
    const future = loaded(plugin('future', 'METERING', { coreVersion: '^2.0.0' }), 'nucleon-plugin-future', '3.1.0');
    expect(checkPluginSet(core, [future], '0.1.0')).toEqual([
      'plugin nucleon-plugin-future@3.1.0 requires @nucleon/core ^2.0.0, but @nucleon/core 0.1.0 is installed',
    ]);
    // A prerelease core is judged by its version, so `^0.1.0` accepts 0.1.1-rc.1.
    expect(checkPluginSet(core, [], '0.1.1-rc.1')).toEqual([]);
  });

  it('refuses an invalid range, a core plugin in the wrong slot, and a missing required type', () => {
    const problems = checkPluginSet(
      loaded(plugin('l3', 'L3_ROUTER_NAT'), 'nucleon-plugin-l3'),
      [
        loaded(plugin('ml2', 'CORE'), '@nucleon/ml2'),
        loaded(plugin('vpn', 'VPN', { coreVersion: 'latest please', requires: ['L3_ROUTER_NAT'] })),
      ],
      '0.1.0',
    );
    expect(problems).toEqual([
      'core_plugin nucleon-plugin-l3@1.0.0 is not a core plugin (its type is L3_ROUTER_NAT); name it in service_plugins',
      'service plugin @nucleon/ml2@1.0.0 is a core plugin; name it in core_plugin instead',
      "plugin nucleon-plugin-vpn@1.0.0 declares an invalid core version range 'latest please'",
      'plugin nucleon-plugin-vpn@1.0.0 requires a L3_ROUTER_NAT plugin, and none is configured',
    ]);
  });
});

describe('resolvePlugins', () => {
  const problemsOf = async (sections: Parameters<typeof Config.fromObject>[0]): Promise<readonly string[]> => {
    const error = await resolvePlugins(Config.fromObject(sections)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StartupError);
    return (error as StartupError).problems;
  };

  it('returns the configured plugins, core and services, by any kind of name', async () => {
    const { core, services } = await resolvePlugins(
      Config.fromObject({ DEFAULT: { core_plugin: '@nucleon/ml2', service_plugins: 'fixture-l3a' } }),
    );
    expect(core.packageName).toBe('@nucleon/ml2');
    expect(services.map((s) => s.packageName)).toEqual(['nucleon-plugin-fixture-l3a']);
  });

  it('lists option, package and plugin-set problems together, even without a core plugin', async () => {
    const problems = await problemsOf({
      DEFAULT: {
        bind_port: 'abc',
        core_plugin: 'ovn',
        service_plugins: 'fixture-l3a,nucleon-plugin-fixture-l3b,fixture-oldcore,pino',
      },
    });
    expect(problems).toEqual([
      "[DEFAULT] bind_port in <inline>: 'abc' is not an integer",
      "plugin 'ovn' is not installed: install @nucleon/ovn or nucleon-plugin-ovn beside the server (npm install @nucleon/ovn)",
      expect.stringMatching(/^package pino@.* is not a Nucleon plugin/),
      'service plugins nucleon-plugin-fixture-l3a and nucleon-plugin-fixture-l3b both provide service type L3_ROUTER_NAT; only one plugin per service type may be loaded',
      `plugin nucleon-plugin-fixture-oldcore@2.0.0 requires @nucleon/core >=2.0.0 <3, but @nucleon/core ${CORE_VERSION} is installed`,
    ]);
  });

  it('with a core plugin, also judges extension aliases and each problem is listed once', async () => {
    const problems = await problemsOf({
      DEFAULT: { core_plugin: 'ml2', service_plugins: 'fixture-badalias,fixture-broken', api_workers: '0' },
    });
    expect(problems).toEqual([
      '[DEFAULT] api_workers in <inline>: 0 is below the minimum 1',
      expect.stringMatching(
        /^plugin package nucleon-plugin-fixture-broken failed to load: Cannot find package 'nucleon-fixture-missing-dependency'/,
      ),
      "plugin nucleon-plugin-fixture-badalias@0.1.0 declares extension alias 'fwaas_v2_fixture', which no loaded extension defines",
    ]);
  });
});

describe('nucleon-server refuses to start', () => {
  let dir: string;
  let removeDir: () => Promise<void>;

  beforeAll(async () => {
    ({ dir, remove: removeDir } = await tempDir('plugin-loading'));
  });

  afterAll(async () => {
    await stopAll();
    await removeDir();
  });

  // Each case: what neutron.conf names, and the problem lines the one message must hold (in order).
  const cases: Array<{ name: string; core: string; services: string; problems: Array<string | RegExp> }> = [
    {
      name: 'when core_plugin is not installed, saying what to install',
      core: 'ovn',
      services: '',
      problems: [
        /^plugin 'ovn' is not installed: install @nucleon\/ovn or nucleon-plugin-ovn beside the server \(npm install @nucleon\/ovn\)$/,
      ],
    },
    {
      name: 'when an installed package is not a Nucleon plugin',
      core: 'ml2',
      services: 'pino',
      problems: [
        /^package pino@\S+ \(configured as 'pino'\) is not a Nucleon plugin: its default export was not made with definePlugin\(\)/,
      ],
    },
    {
      name: 'when a plugin needs another core version',
      core: 'ml2',
      services: 'fixture-oldcore',
      problems: [
        `plugin nucleon-plugin-fixture-oldcore@2.0.0 requires @nucleon/core >=2.0.0 <3, but @nucleon/core ${CORE_VERSION} is installed`,
      ],
    },
    {
      name: 'when a plugin declares an extension alias nothing defines',
      core: '@nucleon/ml2',
      services: 'nucleon-plugin-fixture-badalias',
      problems: [
        "plugin nucleon-plugin-fixture-badalias@0.1.0 declares extension alias 'fwaas_v2_fixture', which no loaded extension defines",
      ],
    },
    {
      name: 'when two service plugins provide one service type',
      core: 'ml2',
      services: 'fixture-l3a, fixture-l3b',
      problems: [
        'service plugins nucleon-plugin-fixture-l3a and nucleon-plugin-fixture-l3b both provide service type L3_ROUTER_NAT; only one plugin per service type may be loaded',
      ],
    },
    {
      name: 'listing every problem when there are several',
      core: 'fixture-l3a',
      services: 'fixture-l3b, fixture-oldcore, fixture-unbranded, fixture-broken, vpnaas',
      problems: [
        /^package nucleon-plugin-fixture-unbranded@0\.1\.0 .* is not a Nucleon plugin/,
        /^plugin package nucleon-plugin-fixture-broken failed to load: Cannot find package 'nucleon-fixture-missing-dependency'/,
        "plugin 'vpnaas' is not installed: install @nucleon/vpn beside the server (npm install @nucleon/vpn)",
        'core_plugin nucleon-plugin-fixture-l3a@1.2.0 is not a core plugin (its type is L3_ROUTER_NAT); name it in service_plugins',
        /^plugin nucleon-plugin-fixture-oldcore@2\.0\.0 requires @nucleon\/core >=2\.0\.0 <3/,
      ],
    },
  ];

  // Started two at a time: each is a node process compiling TypeScript, and the machine is small.
  let outcomes: Map<string, Awaited<ReturnType<typeof runServer>> & { data: string }>;
  beforeAll(async () => {
    const runs = await limited(
      2,
      cases.map((c, i) => async () => {
        const file = await writeConf(dir, `case-${i}.conf`, {
          DEFAULT: { bind_host: '127.0.0.1', bind_port: 1, core_plugin: c.core, service_plugins: c.services },
          database: { connection: `pglite://${dir}/data-${i}` },
        });
        return runServer(['--config-file', file]);
      }),
    );
    outcomes = new Map(cases.map((c, i) => [c.name, { ...runs[i]!, data: join(dir, `data-${i}`) }]));
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { exit, server, data } = outcomes.get(c.name)!;
    const { message, hasStack, messages } = refusal(server);
    expect(exit).toEqual({ code: 1, signal: null });
    expect(hasStack).toBe(false);
    expect(messages).toBe(1);
    expect(message.split('\n')[0]).toBe('Nucleon cannot start:');
    const listed = message
      .split('\n')
      .slice(1)
      .map((line) => line.replace(/^ {2}- /, ''));
    expect(listed).toEqual(c.problems.map((p) => (typeof p === 'string' ? p : expect.stringMatching(p))));
    // Refused before any plugin was announced or the database folder was even created.
    expect(server.logs.filter((l) => l.msg === 'plugin loaded')).toEqual([]);
    expect(existsSync(data)).toBe(false);
  });
});
