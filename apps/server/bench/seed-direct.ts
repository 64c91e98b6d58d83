/**
 * Seeding many ports straight into the database, for when the API would take too long: rows of
 * ML2's own tables (`ports` + `ipallocations`) in the shape the API writes, copied from a port
 * the API created. Only while no server has the PGlite folder open.
 */
import { randomUUID } from 'node:crypto';
import { formatIp, openDatabase, parseCidr, type Port } from '@nucleon/core';
import { schema } from '@nucleon/ml2';

/** Attributes of a port response that are not columns of `ports`. */
const NOT_COLUMNS = new Set(['tenant_id', 'fixed_ips', 'tags', 'created_at', 'updated_at']);

const BATCH = 1000;

/** `fa:16:3e:` plus a 24-bit counter: unique per network for 16M ports. */
function macOf(n: number): string {
  return ['fa', '16', '3e', (n >> 16) & 255, (n >> 8) & 255, n & 255]
    .map((part) => (typeof part === 'string' ? part : part.toString(16).padStart(2, '0')))
    .join(':');
}

/**
 * Inserts `count` ports like `template` (same network, project, security groups…) with fresh ids
 * and MACs, each holding the next address of `cidr` after `skip` (addresses the API gave out).
 */
export async function insertPorts(options: {
  dataDir: string;
  template: Port;
  subnetId: string;
  cidr: string;
  count: number;
  taken: ReadonlySet<string>;
  takenMacs: ReadonlySet<string>;
  onProgress?: (done: number) => void;
}): Promise<void> {
  const { template } = options;
  const base: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (NOT_COLUMNS.has(key)) continue;
    if (!(key in schema.ports)) throw new Error(`port attribute ${key} has no column in ml2's ports table`);
    base[key] = value;
  }
  const cidr = parseCidr(options.cidr);
  if (!cidr || cidr.version !== 4) throw new Error(`${options.cidr} is not an IPv4 CIDR`);
  let address = cidr.network + 2n; // after the gateway, as the default pool
  let mac = 1;
  const database = await openDatabase(`pglite://${options.dataDir}`);
  try {
    for (let done = 0; done < options.count;) {
      const ports: Array<Record<string, unknown>> = [];
      const allocations: Array<typeof schema.ipAllocations.$inferInsert> = [];
      for (let i = 0; i < BATCH && done + i < options.count; i++) {
        const id = randomUUID();
        let macAddress = macOf(mac++);
        while (options.takenMacs.has(macAddress)) macAddress = macOf(mac++);
        let ip = formatIp({ version: 4, value: address++ });
        while (options.taken.has(ip)) ip = formatIp({ version: 4, value: address++ });
        ports.push({ ...base, id, mac_address: macAddress });
        allocations.push({ portId: id, subnetId: options.subnetId, networkId: template.network_id, ipAddress: ip });
      }
      await database.db.transaction(async (tx) => {
        await tx.insert(schema.ports).values(ports as never);
        await tx.insert(schema.ipAllocations).values(allocations);
      });
      done += ports.length;
      options.onProgress?.(done);
    }
  } finally {
    await database.close();
  }
}
