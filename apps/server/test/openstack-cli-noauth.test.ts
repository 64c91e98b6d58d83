/**
 * The real `openstack` CLI against a real nucleon-server in noauth mode
 * (`openstack --os-auth-type none --os-endpoint http://127.0.0.1:<port> …`, as the reference
 * captures show it): the scenario of `helpers/openstack-cli.ts`, as an admin of `fake_project_id`,
 * plus metering labels and rules (`openstack network meter …`) with the metering plugin loaded.
 * Skips without /usr/bin/openstack unless NUCLEON_REQUIRE_OPENSTACK_CLI is set.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { CLI_PRESENT, OpenStackCli, report, scenario, startMode, SYSTEM_PATH, type CliRun, type Mode } from './helpers/openstack-cli.js';
import { stopAll } from './helpers/processes.js';

afterAll(stopAll);

describe.skipIf(!CLI_PRESENT)('openstack CLI, auth_strategy = noauth', () => {
  const runs: CliRun[] = [];
  let started = 0;
  let env: Awaited<ReturnType<typeof startMode>>;
  const mode = { adminProject: 'fake_project_id', userProject: 'fake_project_id', userIsAdmin: true } as Mode;

  beforeAll(async () => {
    started = performance.now();
    env = await startMode('noauth', { DEFAULT: { service_plugins: 'router,metering' } });
    mode.server = env.server;
    const cli = new OpenStackCli(
      'noauth admin',
      ['--os-auth-type', 'none', '--os-endpoint', env.url],
      { PATH: SYSTEM_PATH, HOME: env.temp.dir, LANG: 'C.UTF-8' },
      runs,
    );
    mode.admin = cli;
    mode.user = cli;
  });
  afterAll(async () => {
    await env?.server.stop();
    await env?.temp.remove();
    report('noauth', runs, performance.now() - started);
  });

  scenario(mode, [
    [
      'metering: a label with rules (remote, source/destination), a refused mix of both, lists, and the delete',
      async () => {
        const cli = mode.admin;
        const label = await cli.json(['network', 'meter', 'create', 'web', '--description', 'tenant traffic']);
        expect(label).toMatchObject({ name: 'web', description: 'tenant traffic', shared: false, project_id: 'fake_project_id' });
        const rule = await cli.json(['network', 'meter', 'rule', 'create', 'web', '--ingress', '--remote-ip-prefix', '10.20.0.0/24']);
        expect(rule).toMatchObject({
          metering_label_id: label.id,
          direction: 'ingress',
          remote_ip_prefix: '10.20.0.0/24',
          is_excluded: false,
        });
        const srcDst = await cli.json([
          'network',
          'meter',
          'rule',
          'create',
          'web',
          '--egress',
          '--exclude',
          '--source-ip-prefix',
          '10.20.0.0/24',
          '--destination-ip-prefix',
          '0.0.0.0/0',
        ]);
        expect(srcDst).toMatchObject({
          direction: 'egress',
          is_excluded: true,
          source_ip_prefix: '10.20.0.0/24',
          destination_ip_prefix: '0.0.0.0/0',
          remote_ip_prefix: null,
        });
        const refused = await cli.fails([
          'network',
          'meter',
          'rule',
          'create',
          'web',
          '--ingress',
          '--remote-ip-prefix',
          '10.0.0.0/8',
          '--source-ip-prefix',
          '10.0.0.0/8',
        ]);
        expect(refused.stderr).toContain(
          "Cannot use 'remote-ip-prefix' in conjunction with 'source-ip-prefix' or 'destination-ip-prefix'.",
        );
        expect((await cli.json(['network', 'meter', 'list'])).map((l: { ID: string }) => l.ID)).toEqual([label.id]);
        const rules = await cli.json(['network', 'meter', 'rule', 'list']);
        expect(rules.map((r: { ID: string }) => r.ID).sort()).toEqual([rule.id, srcDst.id].sort());
        await cli.ok(['network', 'meter', 'delete', 'web']);
        expect(await cli.json(['network', 'meter', 'rule', 'list'])).toEqual([]);
      },
    ],
  ]);
});
