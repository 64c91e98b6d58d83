import { hostname } from 'node:os';
import { DEFAULT_CONNECTION } from '../db/database.js';
import { defineOptions, opt } from './options.js';

/** Options the core reads (Neutron's names and defaults where Neutron has them). */
export const coreOptions = defineOptions({
  DEFAULT: {
    bind_host: opt.string('0.0.0.0', 'Address the API listens on.'),
    host: opt.string(hostname(), "This server's name, as in Neutron (notifications are published as network.<host>)."),
    bind_port: opt.int(9696, 'Port the API listens on.', { min: 0, max: 65535 }),
    core_plugin: opt.string('', 'The core plugin: a package name, a short name or a stock alias (ml2).'),
    service_plugins: opt.list([], 'Service plugins: package names, short names or stock aliases (router, metering).'),
    auth_strategy: opt.choice(
      ['noauth', 'keystone'],
      'noauth',
      'keystone: every request carries a Keystone token ([keystone_authtoken]); noauth: every request is admin (development).',
    ),
    base_mac: opt.string('fa:16:3e:00:00:00', 'Base MAC address; the first 3 octets stay, the 4th too when not 0.'),
    pagination_max_limit: opt.int(-1, 'Largest page a list may return; -1 for no limit.', { min: -1 }),
    api_workers: opt.int(1, 'API worker processes (several only with PostgreSQL; PGlite is in-process).', { min: 1 }),
    allow_bulk: opt.bool(true, 'Allow bulk create (a list of resources in one POST).'),
    debug: opt.bool(false, 'Log at debug level.'),
    global_physnet_mtu: opt.int(1500, 'MTU of the underlying physical network.', { min: 68 }),
    max_dns_nameservers: opt.int(5, 'Most DNS nameservers per subnet.', { min: 0 }),
    max_subnet_host_routes: opt.int(20, 'Most host routes per subnet.', { min: 0 }),
    max_allowed_address_pair: opt.int(10, 'Most allowed address pairs per port.', { min: 0 }),
    dns_domain: opt.string('openstacklocal', 'Domain used for internal host names.'),
  },
  database: {
    connection: opt.string(DEFAULT_CONNECTION, 'postgresql://user:pass@host/db, pglite:///abs/path or pglite://./rel/path.'),
    max_pool_size: opt.int(10, 'Connections per process to PostgreSQL.', { min: 1 }),
    auto_migrate: opt.bool(true, 'Apply pending migrations at start (otherwise run `nucleon-server db upgrade`).'),
    read_cache_size_mb: opt.int(64, 'PGlite only: memory for rendered reads kept until the data changes; 0 turns it off.', { min: 0 }),
  },
  quotas: {
    default_quota: opt.int(-1, 'Default limit for resources without their own quota option; -1 is unlimited.', { min: -1 }),
  },
  keystone_authtoken: {
    www_authenticate_uri: opt.string('', 'Keystone public URL, sent to clients in WWW-Authenticate on 401.'),
    auth_url: opt.string('', 'Keystone URL the server authenticates itself at (with or without /v3).'),
    auth_type: opt.choice(['password', 'v3password'], 'password', 'How the server authenticates itself.'),
    username: opt.string('', 'The service user tokens are validated as.'),
    password: opt.string('', "The service user's password."),
    project_name: opt.string('service', "The service user's project."),
    user_domain_name: opt.string('Default', "The service user's domain."),
    project_domain_name: opt.string('Default', "The service project's domain."),
    token_cache_time: opt.int(300, 'Seconds a validated token is trusted before Keystone is asked again (never past its expiry).', {
      min: 0,
    }),
    token_cache_size: opt.int(10000, 'Most validated tokens kept.', { min: 1 }),
    http_connect_timeout: opt.int(10, 'Seconds to wait for Keystone before answering 503.', { min: 1 }),
  },
  oslo_policy: {
    policy_file: opt.string(
      'policy.yaml',
      'Rule overrides in oslo.policy syntax (YAML or JSON); relative to the configuration files. A missing default file means no overrides.',
    ),
  },
  outbox: {
    poll_interval_ms: opt.int(
      2000,
      'How often the dispatcher looks for side effects (DNS records, billing events) other processes recorded.',
      { min: 10 },
    ),
    retry_min_delay_ms: opt.int(1000, 'Delay before the first retry of a failed side effect; it doubles per attempt.', { min: 1 }),
    retry_max_delay_ms: opt.int(300000, 'Longest delay between retries.', { min: 1 }),
    lease_ms: opt.int(60000, "How long a dispatcher holds an entry; a crashed one's entries are retried after it.", { min: 100 }),
  },
  oslo_middleware: {
    max_request_body_size: opt.int(114688, 'Largest request body in bytes; larger ones get 413.', { min: 1 }),
  },
});
