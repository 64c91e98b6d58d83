/**
 * The real `openstack` CLI against a real nucleon-server in noauth mode
 * (`openstack --os-auth-type none --os-endpoint http://127.0.0.1:<port> …`, as the reference
 * captures show it): the scenario of `helpers/openstack-cli.ts`, as an admin of `fake_project_id`.
 * Skips without /usr/bin/openstack unless NUCLEON_REQUIRE_OPENSTACK_CLI is set.
 */
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe } from 'vitest';
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
    env = await startMode('noauth');
    mode.server = env.server;
    const cli = new OpenStackCli('noauth admin', ['--os-auth-type', 'none', '--os-endpoint', env.url], { PATH: SYSTEM_PATH, HOME: env.temp.dir, LANG: 'C.UTF-8' }, runs);
    mode.admin = cli;
    mode.user = cli;
  });
  afterAll(async () => {
    await env?.server.stop();
    await env?.temp.remove();
    report('noauth', runs, performance.now() - started);
  });

  scenario(mode);
});
