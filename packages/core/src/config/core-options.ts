import { DEFAULT_CONNECTION } from '../db/database.js';
import { defineOptions, opt } from './options.js';

/** Options the core reads (Neutron's names and defaults where Neutron has them). */
export const coreOptions = defineOptions({
  DEFAULT: {
    bind_host: opt.string('0.0.0.0', 'Address the API listens on.'),
    bind_port: opt.int(9696, 'Port the API listens on.', { min: 0, max: 65535 }),
    core_plugin: opt.string('', 'The core plugin: a package name, a short name or a stock alias (ml2).'),
    service_plugins: opt.list([], 'Service plugins: package names, short names or stock aliases (router, metering).'),
    auth_strategy: opt.choice(['noauth'], 'noauth', 'noauth: every request is admin (development).'),
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
  oslo_middleware: {
    max_request_body_size: opt.int(114688, 'Largest request body in bytes; larger ones get 413.', { min: 1 }),
  },
});
