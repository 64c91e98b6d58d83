import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { Config, ConfigError } from './config.js';
import { coreOptions } from './core-options.js';
import { defineOptions, opt } from './options.js';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

async function files(...contents: string[]): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'nucleon-config-'));
  dirs.push(dir);
  return Promise.all(
    contents.map(async (content, i) => {
      const file = join(dir, `${i}.conf`);
      await writeFile(file, content);
      return file;
    }),
  );
}

describe('neutron.conf files', () => {
  test('later files override earlier ones; unset options keep their defaults', async () => {
    const config = await Config.load(
      await files(
        '[DEFAULT]\n# a comment\ncore_plugin = ml2\nservice_plugins = router, metering\nbind_port = 9797\n',
        '[DEFAULT]\nbind_port = 9898\ndebug = True\n\n[database]\nconnection = postgresql+psycopg2://u:p@db/neutron\n',
      ),
    );
    const values = config.get(coreOptions);
    expect(values.DEFAULT).toMatchObject({
      core_plugin: 'ml2',
      service_plugins: ['router', 'metering'],
      bind_port: 9898,
      bind_host: '0.0.0.0',
      debug: true,
      pagination_max_limit: -1,
    });
    expect(values.database.connection).toBe('postgresql+psycopg2://u:p@db/neutron');
  });

  test('every bad value is reported, with its file', async () => {
    const [file] = await files('[DEFAULT]\nbind_port = abc\napi_workers = 0\nallow_bulk = perhaps\n');
    const config = await Config.load([file!]);
    expect(config.check(coreOptions)).toEqual([
      `[DEFAULT] bind_port in ${file}: 'abc' is not an integer`,
      `[DEFAULT] api_workers in ${file}: 0 is below the minimum 1`,
      `[DEFAULT] allow_bulk in ${file}: 'perhaps' is not a boolean (true/false)`,
    ]);
    expect(() => config.get(coreOptions)).toThrow(ConfigError);
  });

  test('a missing file is a ConfigError naming it', async () => {
    const error = await Config.load(['/nonexistent/neutron.conf']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toEqual(['cannot read config file /nonexistent/neutron.conf: ENOENT']);
  });

  test('choices and lists', () => {
    const group = defineOptions({ x: { mode: opt.choice(['a', 'b'], 'a', ''), items: opt.list(['d'], '') } });
    expect(Config.fromObject({ x: { mode: 'b', items: '' } }).get(group).x).toEqual({ mode: 'b', items: [] });
    expect(Config.fromObject({ x: { mode: 'c' } }).check(group)).toEqual(["[x] mode in <inline>: 'c' is not one of a, b"]);
  });
});
