import { Context, type OutboxEntry, type Runtime } from '@nucleon/core';
import { floatingipsTable, type FloatingIp } from '@nucleon/l3-router';
import { eq, sql } from 'drizzle-orm';
import type { DnsDriver, RecordSet } from './drivers/driver.js';
import { dnsPublications, dnsPublicationsTable } from './publications.js';
import { recordSetsOf, type ReverseZones } from './records.js';

/** What one outbox entry asks of the DNS server. */
interface DnsChange {
  readonly op: 'add' | 'remove';
  /** The floating IP (and publication) it belongs to. */
  readonly floatingipId: string;
  readonly set: RecordSet;
}

const TOPIC = 'dns';

/** A floating IP as far as DNS is concerned (`dns-integration` attributes included). */
type NamedFloatingIp = Pick<FloatingIp, 'id' | 'project_id' | 'floating_ip_address' | 'port_id' | 'dns_name' | 'dns_domain'>;

/**
 * Keeps DNS in step with floating IPs: record changes are written to the outbox in the
 * transaction of the floating IP change (never lost, never applied for a change that rolled back),
 * then applied by the outbox dispatcher through the driver, in order per floating IP, retried
 * with backoff until the server takes them. Each named floating IP has a publication row saying
 * what it publishes and whether that reached DNS (`GET /v2.0/dns_publications`, admins).
 */
export class DnsPublisher {
  constructor(
    private readonly runtime: Runtime,
    private readonly driver: DnsDriver,
    private readonly zones: ReverseZones,
    private readonly ttl: number,
  ) {
    runtime.outbox.handle<DnsChange>(TOPIC, (entry) => this.apply(entry));
  }

  /**
   * Brings a floating IP's publication in line with what it should publish now, in the caller's
   * transaction: its own `dns_name` + `dns_domain`, else — while associated — the port's
   * `dns_name` in the port's network's `dns_domain` (Neutron's rules), else nothing. Records that
   * no longer apply are removed, new ones added; an unchanged name changes nothing.
   */
  async sync(ctx: Context, floatingipId: string): Promise<void> {
    const admin = ctx.elevated();
    const fip = (await floatingipsTable.find(admin, floatingipId)) as NamedFloatingIp | undefined;
    const name = fip ? await this.nameOf(admin, fip) : undefined;
    const wanted = fip && name ? recordSetsOf({ ...name, floating_ip_address: fip.floating_ip_address! }, this.zones, this.ttl) : [];
    const [row] = await ctx.db.select().from(dnsPublications).where(eq(dnsPublications.id, floatingipId));
    const published = (row?.records ?? []) as RecordSet[];
    const key = (set: RecordSet) => JSON.stringify([set.zone, set.name, set.type, set.records]);
    const wantedKeys = new Set(wanted.map(key));
    const publishedKeys = new Set(published.map(key));
    const removed = published.filter((set) => !wantedKeys.has(key(set)));
    const added = wanted.filter((set) => !publishedKeys.has(key(set)));
    if (removed.length === 0 && added.length === 0) return;
    for (const set of removed) await this.enqueue(ctx, { op: 'remove', floatingipId, set });
    for (const set of added) await this.enqueue(ctx, { op: 'add', floatingipId, set });
    if (wanted.length === 0) {
      await dnsPublicationsTable.delete(ctx, floatingipId);
    } else if (row) {
      await ctx.db
        .update(dnsPublications)
        .set({ fqdn: wanted[0]!.name, records: wanted, status: 'PENDING', last_error: null, updated_at: sql`now()` })
        .where(eq(dnsPublications.id, floatingipId));
    } else {
      await dnsPublicationsTable.insert(ctx, {
        id: floatingipId,
        project_id: fip!.project_id,
        floatingip_id: floatingipId,
        fqdn: wanted[0]!.name,
        records: wanted,
        status: 'PENDING',
        last_error: null,
        updated_at: sql`now()`,
      });
    }
  }

  /** Removes a floating IP's records (it is being released), in the caller's transaction. */
  async unpublish(ctx: Context, floatingipId: string): Promise<void> {
    const [row] = await ctx.db.select().from(dnsPublications).where(eq(dnsPublications.id, floatingipId));
    if (!row) return;
    for (const set of row.records as RecordSet[]) await this.enqueue(ctx, { op: 'remove', floatingipId, set });
    await dnsPublicationsTable.delete(ctx, floatingipId);
  }

  /** The name a floating IP publishes: its own, or its port's in the port's network's domain. */
  private async nameOf(admin: Context, fip: NamedFloatingIp): Promise<{ dns_name: string; dns_domain: string } | undefined> {
    if (fip.dns_name && fip.dns_domain) return { dns_name: fip.dns_name, dns_domain: fip.dns_domain };
    if (!fip.port_id) return undefined;
    const core = this.runtime.plugins.core();
    const port = (await core.getPort(admin, fip.port_id)) as { dns_name?: string; network_id: string };
    if (!port.dns_name) return undefined;
    const network = (await core.getNetwork(admin, port.network_id)) as { dns_domain?: string };
    return network.dns_domain ? { dns_name: port.dns_name, dns_domain: network.dns_domain } : undefined;
  }

  /**
   * Compares every publication with what the DNS server answers and re-sends what is missing
   * (a zone restored from an old backup, records removed by hand). Returns what it found.
   */
  async reconcile(): Promise<{ checked: number; repaired: number }> {
    const rows = await this.runtime.db.select().from(dnsPublications);
    let repaired = 0;
    for (const row of rows) {
      for (const set of row.records as RecordSet[]) {
        const present = await this.driver.lookup(set.zone, set.name, set.type);
        if (set.records.every((record) => present.includes(record))) continue;
        repaired++;
        const ctx = Context.admin(this.runtime);
        await ctx.transaction(async () => {
          await this.enqueue(ctx, { op: 'add', floatingipId: row.id, set });
          await ctx.db
            .update(dnsPublications)
            .set({ status: 'PENDING', updated_at: sql`now()` })
            .where(eq(dnsPublications.id, row.id));
        });
        this.runtime.log.warn(
          { floatingipId: row.id, name: set.name, type: set.type, expected: set.records, found: present },
          'DNS drifted from the database; re-publishing',
        );
      }
    }
    return { checked: rows.length, repaired };
  }

  private enqueue(ctx: Context, change: DnsChange): Promise<void> {
    return this.runtime.outbox.enqueue(ctx, TOPIC, change.floatingipId, change);
  }

  private async apply(entry: OutboxEntry<DnsChange>): Promise<void> {
    const { op, floatingipId, set } = entry.payload;
    try {
      if (op === 'add') await this.driver.add(set);
      else await this.driver.remove(set);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await this.runtime.db
        .update(dnsPublications)
        .set({ status: 'ERROR', last_error: `${op} ${set.type} ${set.name}: ${message}`, updated_at: sql`now()` })
        .where(eq(dnsPublications.id, floatingipId));
      throw error;
    }
    this.runtime.log.info({ floatingipId, op, name: set.name, type: set.type, records: set.records }, 'DNS record change applied');
    // ACTIVE once nothing else of this floating IP waits in the outbox.
    if ((await this.runtime.outbox.waiting(TOPIC, floatingipId, entry.id)) === 0) {
      await this.runtime.db
        .update(dnsPublications)
        .set({ status: 'ACTIVE', last_error: null, updated_at: sql`now()` })
        .where(eq(dnsPublications.id, floatingipId));
    }
  }
}
