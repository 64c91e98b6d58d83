/**
 * The REAL `openstack` CLI (Debian's python3-openstackclient) for tests: a runner that keeps every
 * command's output and `--debug` exchanges for failure messages, and one operator's scenario —
 * networks, subnets, ports, security groups, routers and floating IPs, created, changed, shown,
 * listed and deleted, every `-f json` output checked — which `openstack-cli-noauth.test.ts` and
 * `openstack-cli-keystone.test.ts` run against a real nucleon-server each (two files, so the two
 * modes run side by side).
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { expect, test } from 'vitest';
import { freePort, startServer, tempDir, writeConf, type ConfSections, type ServerProcess } from './processes.js';

export const OPENSTACK = '/usr/bin/openstack';
/** The system's PATH: a pyenv python first on PATH must not run Debian's CLI. */
export const SYSTEM_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
export const CLI_PRESENT = existsSync(OPENSTACK);

if (!CLI_PRESENT && process.env.NUCLEON_REQUIRE_OPENSTACK_CLI) {
  throw new Error(
    `NUCLEON_REQUIRE_OPENSTACK_CLI is set but ${OPENSTACK} does not exist (apt-get install python3-openstackclient): refusing to skip the CLI tests`,
  );
}

/** Per step: a handful of CLI commands at one to three seconds each. */
export const STEP_TIMEOUT = 180_000;

// ---------------------------------------------------------------------------------------------
// Running the CLI
// ---------------------------------------------------------------------------------------------

/** One finished CLI command. */
export interface CliRun {
  readonly who: string;
  readonly args: readonly string[];
  readonly code: number | null;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * A run for an assertion message: the CLI's HTTP exchanges with Nucleon (from `--debug`: requests,
 * statuses, bodies, retries) and its error message, not the whole debug log.
 */
export function show(run: CliRun): string {
  const status = run.signal ? `was killed by ${run.signal}` : `exited ${run.code}`;
  const lines = run.stderr.split('\n');
  const exchanges = lines
    .filter((l) => /^(REQ: |RESP: |RESP BODY: )|Retrying|Failure: /.test(l) && !l.includes('/v3'))
    .map((l) => `  ${l.slice(0, 600)}`);
  const message = lines.filter((l) => /^(Error while executing command|[A-Za-z]+Exception: |No \w+ found|\d+ of \d+ )/.test(l));
  return (
    `\`openstack ${run.args.join(' ')}\` (as ${run.who}) ${status} after ${Math.round(run.ms)} ms\n` +
    `message: ${message.join('\n') || lines.slice(-5).join('\n')}\nexchanges with Nucleon:\n${exchanges.join('\n')}\nstdout: ${run.stdout.trim()}`
  );
}

/** The `openstack` CLI as one user: fixed global options and environment, every run timed. */
export class OpenStackCli {
  constructor(
    readonly who: string,
    private readonly globalArgs: readonly string[],
    private readonly env: Readonly<Record<string, string>>,
    private readonly runs: CliRun[],
  ) {}

  run(args: readonly string[]): Promise<CliRun> {
    const started = performance.now();
    return new Promise((resolve) => {
      execFile(
        OPENSTACK,
        // --debug: stderr then holds every request, answer and retry, for failure messages.
        ['--debug', ...this.globalArgs, ...args],
        // Only this environment: no OS_* variable of the machine's may leak in.
        { env: { ...this.env }, timeout: 120_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
        (error, stdout, stderr) => {
          const run: CliRun = {
            who: this.who,
            args,
            code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
            signal: error?.signal ?? null,
            stdout,
            stderr: error && typeof error.code === 'string' ? `${error.message}\n${stderr}` : stderr,
            ms: performance.now() - started,
          };
          this.runs.push(run);
          resolve(run);
        },
      );
    });
  }

  /** Runs a command that must succeed; returns its stdout. */
  async ok(args: readonly string[]): Promise<string> {
    const run = await this.run(args);
    if (run.code !== 0) throw new Error(`expected success: ${show(run)}`);
    return run.stdout;
  }

  /** Runs a command that must succeed with `-f json`; returns the parsed output. */
  async json(args: readonly string[]): Promise<any> {
    const stdout = await this.ok([...args, '-f', 'json']);
    try {
      return JSON.parse(stdout);
    } catch {
      throw new Error(`\`openstack ${args.join(' ')} -f json\` (as ${this.who}) printed no JSON:\n${stdout}`);
    }
  }

  /** Runs a command that must fail; returns the run for its message. */
  async fails(args: readonly string[]): Promise<CliRun> {
    const run = await this.run(args);
    if (run.code === 0) throw new Error(`expected a failure: ${show(run)}`);
    return run;
  }
}

// ---------------------------------------------------------------------------------------------
// The scenario, the same in both modes
// ---------------------------------------------------------------------------------------------

/** Who does what in a mode (filled in by the mode's `beforeAll`). */
export interface Mode {
  /** Creates (and finally deletes) the external network. */
  admin: OpenStackCli;
  /** Owns every other resource. */
  user: OpenStackCli;
  adminProject: string;
  userProject: string;
  /** Whether `user` is an admin, who sees `provider:*` (hidden from members). */
  userIsAdmin: boolean;
  /** The server, whose last requests a failed step reports. */
  server: ServerProcess;
}

/** The server's last requests (method, URL, status), to show what the CLI sent when a step fails. */
export function lastRequests(server: ServerProcess | undefined, count = 15): string {
  const lines = server?.logs.filter((l) => l.msg === 'request').slice(-count) ?? [];
  return lines
    .map(
      (l) =>
        `  ${new Date(Number(l.time)).toISOString().slice(11, 23)} ${String(l.reqId)} ${String(l.method)} ${String(l.url)} → ${String(l.status)} in ${String(l.ms)} ms`,
    )
    .join('\n');
}

/** What the steps create, for the steps after them. */
export interface State {
  broken?: string;
  ext?: any;
  extSubnet?: any;
  net?: any;
  subnet?: any;
  subnet2?: any;
  port?: any;
  sg?: any;
  router?: any;
  routerPort?: any;
}

const EXT_CIDR = '203.0.113.0/24';
/** An IPv4 address of 203.0.113.0/24 other than the network address, the gateway and broadcast. */
const EXT_ADDRESS = /^203\.0\.113\.(?:[2-9]|[1-9]\d|1\d\d|2[0-4]\d|25[0-4])$/;
const MAC = /^fa:16:3e(?::[0-9a-f]{2}){3}$/;

/**
 * Registers the scenario's steps in order. A step runs only when every earlier one passed (its
 * inputs come from them), so a failure is reported once, where it happened.
 */
export function scenario(mode: Mode, extraSteps: ReadonlyArray<readonly [string, (state: State) => Promise<void>]> = []) {
  const state: State = {};
  const step = (name: string, body: (state: State) => Promise<void>) =>
    test(name, { timeout: STEP_TIMEOUT }, async (context) => {
      if (state.broken) context.skip(`an earlier step failed: ${state.broken}`);
      try {
        await body(state);
      } catch (error) {
        state.broken = name;
        if (error instanceof Error) error.message += `\nthe server's last requests:\n${lastRequests(mode.server)}`;
        throw error;
      }
    });

  step('an admin creates a flat external network and its subnet', async (s) => {
    s.ext = await mode.admin.json([
      'network',
      'create',
      'public',
      '--external',
      '--provider-network-type',
      'flat',
      '--provider-physical-network',
      'public',
    ]);
    expect(s.ext).toMatchObject({
      name: 'public',
      'router:external': true,
      'provider:network_type': 'flat',
      'provider:physical_network': 'public',
      shared: false,
      status: 'ACTIVE',
      admin_state_up: true,
      project_id: mode.adminProject,
      subnets: [],
    });
    s.extSubnet = await mode.admin.json(['subnet', 'create', 'public-v4', '--network', 'public', '--subnet-range', EXT_CIDR, '--no-dhcp']);
    expect(s.extSubnet).toMatchObject({
      name: 'public-v4',
      network_id: s.ext.id,
      cidr: EXT_CIDR,
      ip_version: 4,
      gateway_ip: '203.0.113.1',
      enable_dhcp: false,
      allocation_pools: [{ start: '203.0.113.2', end: '203.0.113.254' }],
      project_id: mode.adminProject,
    });
  });

  step('networks: create, rename with set --name, show', async (s) => {
    const net = await mode.user.json(['network', 'create', 'private']);
    expect(net).toMatchObject({
      name: 'private',
      status: 'ACTIVE',
      admin_state_up: true,
      'router:external': false,
      shared: false,
      project_id: mode.userProject,
      subnets: [],
      mtu: 1450, // VXLAN: 1500 less the 50-byte overhead
      revision_number: 1,
    });
    expect(net.id).toMatch(/^[0-9a-f-]{36}$/);
    if (mode.userIsAdmin) {
      expect(net).toMatchObject({ 'provider:network_type': 'vxlan', 'provider:physical_network': null });
      expect(net['provider:segmentation_id']).toBeGreaterThanOrEqual(1001);
      expect(net['provider:segmentation_id']).toBeLessThanOrEqual(2000);
    } else {
      // Hidden from members: the server leaves them out, the CLI prints null.
      expect(net).toMatchObject({ 'provider:network_type': null, 'provider:segmentation_id': null });
    }

    expect(await mode.user.ok(['network', 'set', 'private', '--name', 'private-net'])).toBe('');
    s.net = await mode.user.json(['network', 'show', 'private-net']);
    expect(s.net).toMatchObject({ id: net.id, name: 'private-net', status: 'ACTIVE', project_id: mode.userProject });
    expect(s.net.revision_number).toBeGreaterThan(net.revision_number);
  });

  for (const [name, body] of extraSteps) step(name, body);

  step('subnets: create with a range, a gateway and a pool; list by network; show; the network lists it', async (s) => {
    s.subnet = await mode.user.json([
      'subnet',
      'create',
      'private-v4',
      '--network',
      'private-net',
      '--subnet-range',
      '10.10.0.0/24',
      '--gateway',
      '10.10.0.1',
      '--allocation-pool',
      'start=10.10.0.10,end=10.10.0.99',
      '--dns-nameserver',
      '192.0.2.53',
    ]);
    expect(s.subnet).toMatchObject({
      name: 'private-v4',
      network_id: s.net.id,
      cidr: '10.10.0.0/24',
      ip_version: 4,
      gateway_ip: '10.10.0.1',
      allocation_pools: [{ start: '10.10.0.10', end: '10.10.0.99' }],
      dns_nameservers: ['192.0.2.53'],
      host_routes: [],
      enable_dhcp: true,
      project_id: mode.userProject,
      revision_number: 0,
    });

    expect(await mode.user.json(['subnet', 'list', '--network', 'private-net'])).toEqual([
      { ID: s.subnet.id, Name: 'private-v4', Network: s.net.id, Subnet: '10.10.0.0/24' },
    ]);
    expect(await mode.user.json(['subnet', 'show', 'private-v4'])).toEqual(s.subnet);

    const networks: any[] = await mode.user.json(['network', 'list']);
    expect(networks.find((n) => n.ID === s.net.id)).toEqual({ ID: s.net.id, Name: 'private-net', Subnets: [s.subnet.id] });
    // The external network is visible to every project.
    expect(networks.find((n) => n.ID === s.ext.id)).toMatchObject({ Name: 'public' });
  });

  step('ports: create with a fixed IP, list by network, rename with set --name, show', async (s) => {
    const port = await mode.user.json([
      'port',
      'create',
      'vm-port',
      '--network',
      'private-net',
      '--fixed-ip',
      'subnet=private-v4,ip-address=10.10.0.20',
    ]);
    expect(port).toMatchObject({
      name: 'vm-port',
      network_id: s.net.id,
      fixed_ips: [{ subnet_id: s.subnet.id, ip_address: '10.10.0.20' }],
      status: 'DOWN',
      admin_state_up: true,
      device_owner: '',
      device_id: '',
      port_security_enabled: true,
      project_id: mode.userProject,
    });
    expect(port.mac_address).toMatch(MAC);
    // The project's default security group, created with the project's first port.
    expect(port.security_group_ids).toHaveLength(1);

    expect(await mode.user.json(['port', 'list', '--network', 'private-net'])).toEqual([
      { ID: port.id, Name: 'vm-port', 'MAC Address': port.mac_address, 'Fixed IP Addresses': port.fixed_ips, Status: 'DOWN' },
    ]);

    expect(await mode.user.ok(['port', 'set', 'vm-port', '--name', 'vm-port-1'])).toBe('');
    s.port = await mode.user.json(['port', 'show', 'vm-port-1']);
    expect(s.port).toMatchObject({
      id: port.id,
      name: 'vm-port-1',
      mac_address: port.mac_address,
      fixed_ips: port.fixed_ips,
      network_id: s.net.id,
    });
    expect(s.port.revision_number).toBeGreaterThan(port.revision_number);
  });

  step('failing commands exit non-zero with the reason: an unknown name, a network in use, an address outside the network', async (s) => {
    const unknown = await mode.user.fails(['network', 'show', 'private']); // renamed away
    expect(unknown.stderr).toContain('No Network found for private');

    const inUse = await mode.user.fails(['network', 'delete', 'private-net']);
    expect(inUse.stderr).toContain('ConflictException: 409');
    expect(inUse.stderr).toContain(
      `Unable to complete operation on network ${s.net.id}. There are one or more ports still in use on the network`,
    );
    expect(inUse.stderr).toContain('1 of 1 networks failed to delete.');

    const outside = await mode.user.fails(['port', 'create', 'stray', '--network', 'private-net', '--fixed-ip', 'ip-address=192.0.2.7']);
    expect(outside.stderr).toContain('BadRequestException: 400');
    expect(outside.stderr).toContain('192.0.2.7');
  });

  step('security groups: create, add an SSH rule, list the rules, delete the rule', async (s) => {
    s.sg = await mode.user.json(['security', 'group', 'create', 'ssh', '--description', 'SSH in']);
    expect(s.sg).toMatchObject({ name: 'ssh', description: 'SSH in', project_id: mode.userProject, stateful: true });
    expect(s.sg.rules.map((r: any) => `${r.direction} ${r.ethertype}`).sort()).toEqual(['egress IPv4', 'egress IPv6']);
    expect(s.sg.id).not.toBe(s.port.security_group_ids[0]); // not the default group

    const rule = await mode.user.json(['security', 'group', 'rule', 'create', 'ssh', '--protocol', 'tcp', '--dst-port', '22']);
    expect(rule).toMatchObject({
      security_group_id: s.sg.id,
      direction: 'ingress',
      protocol: 'tcp',
      port_range_min: 22,
      port_range_max: 22,
      ether_type: 'IPv4',
      remote_ip_prefix: '0.0.0.0/0',
      remote_group_id: null,
      project_id: mode.userProject,
    });

    const rules: any[] = await mode.user.json(['security', 'group', 'rule', 'list', 'ssh']);
    expect(rules).toHaveLength(3);
    expect(rules.find((r) => r.ID === rule.id)).toMatchObject({
      'IP Protocol': 'tcp',
      Ethertype: 'IPv4',
      'IP Range': '0.0.0.0/0',
      'Port Range': '22:22',
      Direction: 'ingress',
    });
    expect(
      rules
        .filter((r) => r.Direction === 'egress')
        .map((r) => `${r.Ethertype} ${r['IP Range']}`)
        .sort(),
    ).toEqual(['IPv4 0.0.0.0/0', 'IPv6 ::/0']);

    expect(await mode.user.ok(['security', 'group', 'rule', 'delete', rule.id])).toBe('');
    const after = await mode.user.json(['security', 'group', 'show', 'ssh', '-c', 'id', '-c', 'rules']);
    expect(after.id).toBe(s.sg.id);
    expect(after.rules.map((r: any) => r.id).sort()).toEqual(s.sg.rules.map((r: any) => r.id).sort());
  });

  step('routers: create, set the external gateway, add a subnet and a port, show', async (s) => {
    const router = await mode.user.json(['router', 'create', 'gw-router']);
    expect(router).toMatchObject({
      name: 'gw-router',
      status: 'ACTIVE',
      admin_state_up: true,
      external_gateway_info: null,
      routes: [],
      project_id: mode.userProject,
    });

    expect(await mode.user.ok(['router', 'set', 'gw-router', '--external-gateway', 'public'])).toBe('');
    expect(await mode.user.ok(['router', 'add', 'subnet', 'gw-router', 'private-v4'])).toBe('');
    // A port of the user's on a second subnet (a router has one interface per subnet), outside
    // its allocation pool, becomes the second interface.
    s.subnet2 = await mode.user.json([
      'subnet',
      'create',
      'private-v4-b',
      '--network',
      'private-net',
      '--subnet-range',
      '10.20.0.0/24',
      '--allocation-pool',
      'start=10.20.0.100,end=10.20.0.150',
    ]);
    expect(s.subnet2).toMatchObject({
      network_id: s.net.id,
      gateway_ip: '10.20.0.1',
      allocation_pools: [{ start: '10.20.0.100', end: '10.20.0.150' }],
    });
    s.routerPort = await mode.user.json([
      'port',
      'create',
      'router-port',
      '--network',
      'private-net',
      '--fixed-ip',
      'subnet=private-v4-b,ip-address=10.20.0.200',
    ]);
    expect(s.routerPort.fixed_ips).toEqual([{ subnet_id: s.subnet2.id, ip_address: '10.20.0.200' }]);
    expect(await mode.user.ok(['router', 'add', 'port', 'gw-router', 'router-port'])).toBe('');

    s.router = await mode.user.json(['router', 'show', 'gw-router']);
    expect(s.router).toMatchObject({ id: router.id, name: 'gw-router', status: 'ACTIVE' });
    expect(s.router.external_gateway_info).toEqual({
      network_id: s.ext.id,
      enable_snat: true,
      external_fixed_ips: [{ subnet_id: s.extSubnet.id, ip_address: expect.stringMatching(EXT_ADDRESS) }],
    });
    expect(s.router.interfaces_info).toHaveLength(2);
    expect(s.router.interfaces_info).toEqual(
      expect.arrayContaining([
        { port_id: expect.stringMatching(/^[0-9a-f-]{36}$/), subnet_id: s.subnet.id, ip_address: '10.10.0.1' },
        { port_id: s.routerPort.id, subnet_id: s.subnet2.id, ip_address: '10.20.0.200' },
      ]),
    );

    const attached = await mode.user.json(['port', 'show', 'router-port', '-c', 'device_owner', '-c', 'device_id']);
    expect(attached).toEqual({ device_owner: 'network:router_interface', device_id: router.id });
  });

  step('floating IPs: create on the external network, associate with a port, show, disassociate, delete', async (s) => {
    const fip = await mode.user.json(['floating', 'ip', 'create', 'public']);
    expect(fip).toMatchObject({
      floating_network_id: s.ext.id,
      port_id: null,
      fixed_ip_address: null,
      router_id: null,
      status: 'DOWN',
      project_id: mode.userProject,
      revision_number: 0,
    });
    expect(fip.floating_ip_address).toMatch(EXT_ADDRESS);
    expect(fip.floating_ip_address).not.toBe(s.router.external_gateway_info.external_fixed_ips[0].ip_address);

    expect(await mode.user.ok(['floating', 'ip', 'set', fip.id, '--port', 'vm-port-1'])).toBe('');
    // By address: the CLI finds it with a filtered list.
    const associated = await mode.user.json(['floating', 'ip', 'show', fip.floating_ip_address]);
    expect(associated).toMatchObject({
      id: fip.id,
      floating_ip_address: fip.floating_ip_address,
      port_id: s.port.id,
      fixed_ip_address: '10.10.0.20',
      router_id: s.router.id,
    });
    expect(associated.revision_number).toBeGreaterThan(fip.revision_number);
    // The CLI renders port_details as `key='value', …`.
    expect(associated.port_details).toContain("name='vm-port-1'");
    expect(associated.port_details).toContain(`mac_address='${s.port.mac_address}'`);
    expect(associated.port_details).toContain(`network_id='${s.net.id}'`);

    expect(await mode.user.ok(['floating', 'ip', 'unset', '--port', fip.id])).toBe('');
    expect(await mode.user.json(['floating', 'ip', 'list'])).toEqual([
      {
        ID: fip.id,
        'Floating IP Address': fip.floating_ip_address,
        'Fixed IP Address': null,
        Port: null,
        'Floating Network': s.ext.id,
        Project: mode.userProject,
      },
    ]);
    expect(await mode.user.ok(['floating', 'ip', 'delete', fip.id])).toBe('');
  });

  step('teardown: remove the interfaces, unset the gateway, delete everything', async (s) => {
    // Removing an interface by port deletes the port, as in Neutron.
    expect(await mode.user.ok(['router', 'remove', 'port', 'gw-router', 'router-port'])).toBe('');
    expect(await mode.user.ok(['router', 'remove', 'subnet', 'gw-router', 'private-v4'])).toBe('');
    expect(await mode.user.ok(['router', 'unset', '--external-gateway', 'gw-router'])).toBe('');
    expect(await mode.user.json(['router', 'show', 'gw-router', '-c', 'external_gateway_info', '-c', 'interfaces_info'])).toEqual({
      external_gateway_info: null,
      interfaces_info: [],
    });
    expect((await mode.user.json(['port', 'list', '--network', 'private-net'])).map((p: any) => p.ID)).toEqual([s.port.id]);

    for (const args of [
      ['router', 'delete', 'gw-router'],
      ['port', 'delete', 'vm-port-1'],
      ['subnet', 'delete', 'private-v4', 'private-v4-b'],
      ['network', 'delete', 'private-net'],
      ['security', 'group', 'delete', 'ssh'],
    ]) {
      expect(await mode.user.ok(args)).toBe('');
    }
    expect((await mode.user.json(['network', 'list'])).map((n: any) => n.ID)).toEqual([s.ext.id]);

    // Deleting the external network deletes its subnet too.
    expect(await mode.admin.ok(['network', 'delete', 'public'])).toBe('');
    expect(await mode.admin.json(['subnet', 'list'])).toEqual([]);
  });
}

// ---------------------------------------------------------------------------------------------
// The modes
// ---------------------------------------------------------------------------------------------

/** ml2 with VXLAN project networks and flat networks on physnet `public`, plus the L3 plugin. */
export function serverConf(dir: string, port: number, extra: Record<string, Record<string, string>> = {}): ConfSections {
  return {
    ...extra,
    DEFAULT: {
      bind_host: '127.0.0.1',
      bind_port: port,
      core_plugin: 'ml2',
      service_plugins: 'router',
      auth_strategy: 'noauth',
      ...extra.DEFAULT,
    },
    database: { connection: `pglite://${dir}/data` },
    ml2: { type_drivers: 'flat,vxlan', tenant_network_types: 'vxlan' },
    ml2_type_flat: { flat_networks: 'public' },
    ml2_type_vxlan: { vni_ranges: '1001:2000' },
  };
}

/** Starts a server with `extra` config sections in a fresh temp folder (which also holds the CLI's HOME). */
export async function startMode(name: string, extra?: Record<string, Record<string, string>>) {
  const temp = await tempDir(`openstack-cli-${name}`);
  const port = await freePort();
  const conf = await writeConf(temp.dir, 'neutron.conf', serverConf(temp.dir, port, extra));
  const server = await startServer(['--config-file', conf]).ready();
  return { temp, port, url: `http://127.0.0.1:${port}`, server };
}

/** Prints how long the CLI took, for the record. */
export function report(mode: string, runs: readonly CliRun[], wallMs: number) {
  if (runs.length === 0) return;
  const total = runs.reduce((sum, r) => sum + r.ms, 0);
  const slowest = runs.reduce((a, b) => (b.ms > a.ms ? b : a));
  console.log(
    `[openstack-cli ${mode}] ${runs.length} commands, ${(total / 1000).toFixed(1)} s in the CLI ` +
      `(mean ${(total / runs.length / 1000).toFixed(2)} s, slowest ${(slowest.ms / 1000).toFixed(2)} s: openstack ${slowest.args.join(' ')}); ` +
      `${(wallMs / 1000).toFixed(1)} s for the mode, server start included`,
  );
}
