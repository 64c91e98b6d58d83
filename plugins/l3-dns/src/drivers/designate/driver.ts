import { KeystoneSession } from '@nucleon/core';
import ipaddr from 'ipaddr.js';
import { DnsDriverError, type DnsDriver, type RecordSet, type RecordType } from '../driver.js';
import { DesignateApiError, DesignateClient } from './client.js';

/**
 * Settings of the `designate` driver, after Neutron's `[designate]` section: the versioned
 * endpoint and the service user's Keystone password credentials (`auth_type = password`).
 */
export interface DesignateOptions {
  /** Designate's versioned endpoint (`url`), e.g. `http://192.0.2.5:9001/v2`; `/v2` is added when missing. */
  readonly url: string;
  /** Keystone's identity endpoint (`auth_url`), with or without `/v3`. */
  readonly authUrl: string;
  readonly username: string;
  readonly password: string;
  /** The project the token is scoped to (`project_name`). */
  readonly projectName: string;
  /** Default `Default`. */
  readonly userDomainName?: string;
  /** Default `Default`. */
  readonly projectDomainName?: string;
  /** Publish PTR record sets (`allow_reverse_dns_lookup`); default true. When false, PTR sets are skipped. */
  readonly allowReverseDnsLookup?: boolean;
  /**
   * Email of reverse zones the driver creates (`ptr_zone_email`); default `admin@<domain>`, the
   * domain being the PTR target's name without its first label (Neutron: `admin@<dns_domain>`).
   */
  readonly ptrZoneEmail?: string;
  /** Per HTTP request (Keystone or Designate); default 10000. */
  readonly timeoutMs?: number;
}

/** A zone as the driver addresses it: its id and the headers its recordsets need. */
interface ZoneRef {
  readonly id: string;
  readonly name: string;
  readonly headers: Readonly<Record<string, string>>;
}

/** The fields of a Designate recordset the driver reads. */
interface Recordset {
  readonly id: string;
  readonly name: string;
  readonly type: string;
  readonly records: string[];
  readonly action?: string;
}

/** A list answer: `{<key>: [...], links: {self, next?}, metadata: {total_count}}`. */
interface ListPage {
  readonly links?: { readonly next?: string | null };
  readonly [key: string]: unknown;
}

/** See all projects' zones (the forward zone belongs to a tenant; reverse zones may too). */
const ALL_PROJECTS = { 'X-Auth-All-Projects': 'true' } as const;
/** PTRs Designate itself manages (its floating IP reverse API) may be edited by the service user. */
const EDIT_MANAGED = { 'X-Designate-Edit-Managed-Records': 'true' } as const;
const MAX_PAGES = 50;

/** `name` absolute and lower case. */
function absolute(name: string): string {
  const lower = name.toLowerCase();
  return lower.endsWith('.') ? lower : `${lower}.`;
}

/** A record as compared: canonical addresses (RFC 5952 for IPv6), absolute lower-case names. */
function canonical(type: string, record: string): string {
  if (type === 'A' || type === 'AAAA') {
    try {
      return ipaddr.parse(record).toString();
    } catch {
      return record.toLowerCase();
    }
  }
  return absolute(record);
}

function isStatus(error: unknown, status: number, type?: string): error is DesignateApiError {
  return (
    error instanceof DesignateApiError && error.status === status && (type === undefined || error.type === undefined || error.type === type)
  );
}

function domainNotFound(zone: string, detail = ''): DnsDriverError {
  return new DnsDriverError(`DNSDomainNotFound: Domain ${zone} not found in the external DNS service${detail}`, false);
}

/**
 * Publishes records through OpenStack Designate's v2 API as Neutron's designate driver does:
 * forward records in the existing zone named by the record set, PTR records in a reverse zone
 * that is created when missing. Authenticates as the service user (Keystone password auth,
 * project-scoped token held until shortly before expiry, renewed once when Designate answers 401).
 *
 * Designate keeps one recordset per name and type, so `add` merges into it (union) and `remove`
 * takes exactly the given records out of it, deleting it when it becomes empty.
 */
export class DesignateDriver implements DnsDriver {
  private readonly client: DesignateClient;
  private readonly closing = new AbortController();
  private readonly reverse: boolean;
  private readonly ptrZoneEmail: string | undefined;

  /** @throws TypeError for settings that cannot work (bad URLs, empty credentials, bad timeout). */
  constructor(options: DesignateOptions) {
    for (const [key, value] of [
      ['url', options.url],
      ['authUrl', options.authUrl],
    ] as const) {
      let parsed: URL;
      try {
        parsed = new URL(value);
      } catch {
        throw new TypeError(`designate: ${key} is not a URL: ${JSON.stringify(value)}`);
      }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`designate: ${key} must be http(s): ${value}`);
    }
    for (const key of ['username', 'password', 'projectName'] as const) {
      if (!options[key]) throw new TypeError(`designate: ${key} is empty`);
    }
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new TypeError(`designate: bad timeoutMs ${timeoutMs}`);
    if (options.ptrZoneEmail !== undefined && options.ptrZoneEmail !== '' && !options.ptrZoneEmail.includes('@')) {
      throw new TypeError(`designate: ptrZoneEmail is not an email address: ${options.ptrZoneEmail}`);
    }
    this.reverse = options.allowReverseDnsLookup ?? true;
    this.ptrZoneEmail = options.ptrZoneEmail || undefined;
    const http = { timeoutMs, closing: this.closing.signal };
    const session = new KeystoneSession(
      {
        authUrl: options.authUrl,
        username: options.username,
        password: options.password,
        projectName: options.projectName,
        userDomainName: options.userDomainName || 'Default',
        projectDomainName: options.projectDomainName || 'Default',
      },
      { timeoutMs, signal: this.closing.signal },
    );
    this.client = new DesignateClient(options.url, session, http);
  }

  async add(set: RecordSet): Promise<void> {
    if (set.records.length === 0) return;
    if (set.type === 'PTR' && !this.reverse) return;
    const zone = set.type === 'PTR' ? await this.reverseZone(set, true) : await this.forwardZone(set.zone);
    // Two tries: a parallel writer may create the recordset between our list and our POST (409),
    // or delete it between our list and our PUT (404).
    for (let attempt = 0; ; attempt++) {
      const last = attempt === 1;
      const [existing] = await this.recordsets(zone, set.name, set.type);
      if (!existing) {
        try {
          await this.client.call('POST', `/zones/${zone.id}/recordsets`, {
            headers: zone.headers,
            body: { name: absolute(set.name), type: set.type, records: [...set.records], ttl: set.ttl },
          });
          return;
        } catch (error) {
          if (!last && isStatus(error, 409)) continue;
          throw error;
        }
      }
      const have = new Set(existing.records.map((r) => canonical(set.type, r)));
      const missing = set.records.filter((r) => !have.has(canonical(set.type, r)));
      if (missing.length === 0) return;
      try {
        await this.client.call('PUT', `/zones/${zone.id}/recordsets/${existing.id}`, {
          headers: zone.headers,
          body: { records: [...existing.records, ...missing] },
        });
        return;
      } catch (error) {
        if (!last && isStatus(error, 404)) continue;
        throw error;
      }
    }
  }

  async remove(set: RecordSet): Promise<void> {
    if (set.records.length === 0) return;
    if (set.type === 'PTR' && !this.reverse) return;
    let zone: ZoneRef | undefined;
    if (set.type === 'PTR') {
      zone = await this.reverseZone(set, false);
    } else {
      try {
        zone = await this.forwardZone(set.zone);
      } catch (error) {
        // No zone, no records: removing what is gone is harmless.
        if (error instanceof DnsDriverError && error.message.startsWith('DNSDomainNotFound')) return;
        throw error;
      }
    }
    if (!zone) return;
    const gone = new Set(set.records.map((r) => canonical(set.type, r)));
    for (const recordset of await this.recordsets(zone, set.name, set.type)) {
      const keep = recordset.records.filter((r) => !gone.has(canonical(set.type, r)));
      if (keep.length === recordset.records.length) continue;
      const path = `/zones/${zone.id}/recordsets/${recordset.id}`;
      try {
        if (keep.length === 0) await this.client.call('DELETE', path, { headers: zone.headers });
        else await this.client.call('PUT', path, { headers: zone.headers, body: { records: keep } });
      } catch (error) {
        if (!isStatus(error, 404)) throw error; // deleted meanwhile
      }
    }
  }

  async lookup(zoneName: string, name: string, type: RecordType): Promise<string[]> {
    const zone = type === 'PTR' ? await this.findZone(zoneName, { ...ALL_PROJECTS, ...EDIT_MANAGED }) : await this.forwardZone(zoneName);
    if (!zone) return [];
    const records = (await this.recordsets(zone, name, type)).flatMap((recordset) => recordset.records.map((r) => canonical(type, r)));
    return [...new Set(records)];
  }

  async close(): Promise<void> {
    this.closing.abort();
  }

  /**
   * The forward zone: the service project's own, else (the usual case, a tenant's zone) as seen
   * with `X-Auth-All-Projects`. Not found or not visible → DNSDomainNotFound, not retryable.
   */
  private async forwardZone(name: string): Promise<ZoneRef> {
    const own = await this.findZone(name, {});
    if (own) return own;
    try {
      const any = await this.findZone(name, ALL_PROJECTS);
      if (any) return any;
    } catch (error) {
      if (isStatus(error, 403))
        throw domainNotFound(
          absolute(name),
          ` (not in the service project, and the service user may not see all projects: ${error.message})`,
        );
      throw error;
    }
    throw domainNotFound(absolute(name));
  }

  /** The reverse zone of a PTR set, seen across projects; created (by the service project) when `create` and missing. */
  private async reverseZone(set: RecordSet, create: true): Promise<ZoneRef>;
  private async reverseZone(set: RecordSet, create: false): Promise<ZoneRef | undefined>;
  private async reverseZone(set: RecordSet, create: boolean): Promise<ZoneRef | undefined> {
    const headers = { ...ALL_PROJECTS, ...EDIT_MANAGED };
    const found = await this.findZone(set.zone, headers);
    if (found || !create) return found;
    const name = absolute(set.zone);
    try {
      const zone = await this.client.call<{ id: string }>('POST', '/zones', {
        body: { name, email: this.emailFor(set), description: `Reverse zone ${name}, set up by Nucleon for PTR records.` },
      });
      return { id: zone.id, name, headers };
    } catch (error) {
      // A parallel creator won (Neutron bug 1891309): use its zone.
      if (!isStatus(error, 409)) throw error;
    }
    const raced = await this.findZone(name, headers);
    if (!raced) throw new DnsDriverError(`Designate answered 409 creating reverse zone ${name} but does not list it`, true);
    return raced;
  }

  private emailFor(set: RecordSet): string {
    if (this.ptrZoneEmail) return this.ptrZoneEmail;
    const target = set.records[0] ? absolute(set.records[0]) : '';
    const domain = target.split('.').slice(1).join('.').replace(/\.$/, '');
    return `admin@${domain || absolute(set.zone).replace(/\.$/, '')}`;
  }

  private async findZone(name: string, headers: Readonly<Record<string, string>>): Promise<ZoneRef | undefined> {
    const wanted = absolute(name);
    const zones = await this.list<{ id: string; name: string }>(`/zones?${new URLSearchParams({ name: wanted })}`, 'zones', headers);
    const zone = zones.find((z) => absolute(z.name) === wanted);
    return zone && { id: zone.id, name: wanted, headers };
  }

  private async recordsets(zone: ZoneRef, name: string, type: string): Promise<Recordset[]> {
    const wanted = absolute(name);
    const query = new URLSearchParams({ name: wanted, type });
    const all = await this.list<Recordset>(`/zones/${zone.id}/recordsets?${query}`, 'recordsets', zone.headers);
    return all.filter((r) => absolute(r.name) === wanted && r.type === type && Array.isArray(r.records));
  }

  /** Every page of a list (following `links.next`). */
  private async list<T>(path: string, key: string, headers: Readonly<Record<string, string>>): Promise<T[]> {
    const items: T[] = [];
    let next: string | undefined = path;
    for (let page = 0; next !== undefined && page < MAX_PAGES; page++) {
      const body: ListPage = await this.client.call<ListPage>('GET', next, { headers });
      const found = body[key];
      if (!Array.isArray(found)) throw new DnsDriverError(`Designate GET ${path}: the answer has no "${key}" list`, true);
      items.push(...(found as T[]));
      next = body.links?.next ?? undefined;
    }
    return items;
  }
}
