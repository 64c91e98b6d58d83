/**
 * A stand-in for OpenStack Designate in tests: the subset of its v2 API the `designate` driver
 * uses, following Designate's api-ref (dns-api-v2-zone.inc, dns-api-v2-recordset.inc and their
 * samples) and its controllers' status codes:
 *
 * - `GET /v2/zones?name=…` → 200 `{zones: [...], links: {self}, metadata: {total_count}}`
 * - `POST /v2/zones {name, email, …}` → 202 (status PENDING, action CREATE); 409 `duplicate_zone`
 * - `GET /v2/zones/{id}` → 200; 404 `zone_not_found`
 * - `GET /v2/zones/{id}/recordsets?name=…&type=…` → 200 `{recordsets: [...], links, metadata}`
 * - `POST /v2/zones/{id}/recordsets {name, type, records, ttl}` → 202 (PENDING/CREATE) with
 *   `Location`; 409 `duplicate_recordset`; 400 `invalid_object` / `invalid_recordset_location`
 * - `PUT /v2/zones/{id}/recordsets/{id} {records, ttl, description}` → 202 (PENDING/UPDATE)
 * - `DELETE /v2/zones/{id}/recordsets/{id}` → 202 with the recordset (PENDING/DELETE)
 *
 * Errors have Designate's fault body `{code, type, message, request_id}`. Names are absolute
 * (trailing dot). Every request needs an `X-Auth-Token` that the REAL test Keystone validates
 * (`GET /v3/auth/tokens`, with the fixture admin's token); the token's project owns what it
 * creates and sees only its zones unless `X-Auth-All-Projects: true` (admin role only, as
 * Designate's default policy). Managed recordsets change only with
 * `X-Designate-Edit-Managed-Records: true` (admin role). State lives in memory.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isIPv4, isIPv6 } from 'node:net';
import type { KeystoneFixture } from '@nucleon/core/testing';

export interface ContractZone {
  readonly id: string;
  readonly name: string;
  email: string;
  readonly project_id: string;
  ttl: number;
  serial: number;
  status: string;
  action: string;
  description: string | null;
  readonly created_at: string;
  updated_at: string | null;
  version: number;
}

export interface ContractRecordset {
  readonly id: string;
  readonly zone_id: string;
  readonly project_id: string;
  readonly name: string;
  readonly type: string;
  records: string[];
  ttl: number | null;
  description: string | null;
  status: string;
  action: string;
  readonly managed: boolean;
  readonly created_at: string;
  updated_at: string | null;
  version: number;
}

/** One request as the server saw it. */
export interface ContractRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly allProjects: boolean;
  readonly editManaged: boolean;
  /** The `X-Auth-Token` presented. */
  readonly token: string | undefined;
}

export interface DesignateContract {
  /** The versioned endpoint, `http://127.0.0.1:<port>/v2` (Neutron's `[designate] url`). */
  readonly url: string;
  /** Every request answered, in order. */
  readonly requests: ContractRequest[];
  /** Distinct tokens presented that Keystone accepted. */
  readonly tokensSeen: ReadonlySet<string>;
  /** Creates a zone owned by `projectId` (as a tenant would have). */
  addZone(name: string, projectId: string): ContractZone;
  /** Creates a recordset directly (e.g. a `managed` PTR as Designate's floating IP API would). */
  addRecordset(
    zoneName: string,
    set: { name: string; type: string; records: string[]; ttl?: number; managed?: boolean },
  ): ContractRecordset;
  zone(name: string): ContractZone | undefined;
  /** The records stored for a name and type (undefined when there is no such recordset). */
  records(name: string, type: string): string[] | undefined;
  /** The next `count` requests are answered `status` (default 503) before any other processing. */
  failNext(count: number, status?: number): void;
  /** The next `count` requests get no answer (until the server closes). */
  stallNext(count: number): void;
  /** The next `POST /v2/zones` for `name` loses a race: another project creates that zone first. */
  raceNextZoneCreate(name: string, projectId: string): void;
  /** Tokens seen so far are refused from now on (as if expired or revoked): Designate answers 401. */
  expireTokens(): void;
  close(): Promise<void>;
}

const now = () => new Date().toISOString().replace('Z', '');
const absolute = (name: string) => name.toLowerCase();
const isFqdn = (name: string) => /^([a-z0-9_*]([a-z0-9_-]{0,61}[a-z0-9_])?\.)+$/i.test(name) && name.length <= 255;

class Fault extends Error {
  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

interface Caller {
  readonly projectId: string;
  readonly admin: boolean;
  readonly allProjects: boolean;
  readonly editManaged: boolean;
}

function boolHeader(request: IncomingMessage, name: string): boolean {
  const value = request.headers[name];
  return typeof value === 'string' && ['1', 't', 'true', 'on', 'y', 'yes'].includes(value.toLowerCase());
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Fault(400, 'invalid_json', 'Request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new Fault(400, 'invalid_object', 'Provided object does not match schema');
  return body as Record<string, unknown>;
}

function checkRecords(type: string, records: unknown): string[] {
  if (!Array.isArray(records) || records.length === 0 || !records.every((r) => typeof r === 'string')) {
    throw new Fault(400, 'invalid_object', "Provided object does not match schema: 'records' must be a non-empty list of strings");
  }
  for (const record of records as string[]) {
    const ok =
      type === 'A' ? isIPv4(record) : type === 'AAAA' ? isIPv6(record) : type === 'PTR' || type === 'CNAME' ? isFqdn(record) : true;
    if (!ok) throw new Fault(400, 'invalid_object', `Provided object does not match schema: '${record}' is not a valid ${type} record`);
  }
  return [...new Set(records as string[])];
}

function checkTtl(ttl: unknown): number | null {
  if (ttl === undefined || ttl === null) return null;
  if (!Number.isInteger(ttl) || (ttl as number) < 1 || (ttl as number) > 2147483647) {
    throw new Fault(400, 'invalid_object', "Provided object does not match schema: 'ttl' must be an integer between 1 and 2147483647");
  }
  return ttl as number;
}

/** Starts the stand-in on 127.0.0.1 (a free port), validating tokens against `keystone`. */
export async function startDesignateContract(keystone: KeystoneFixture): Promise<DesignateContract> {
  const zones = new Map<string, ContractZone>();
  const recordsets = new Map<string, ContractRecordset>();
  const requests: ContractRequest[] = [];
  const tokensSeen = new Set<string>();
  const refused = new Set<string>();
  const validated = new Map<string, { projectId: string; roles: string[] }>();
  const races = new Map<string, string>();
  let failures: { count: number; status: number } = { count: 0, status: 503 };
  let stalls = 0;
  let base = '';

  const zoneByName = (name: string) => [...zones.values()].find((z) => z.name === absolute(name));

  function addZone(name: string, projectId: string, status = 'ACTIVE'): ContractZone {
    const zone: ContractZone = {
      id: randomUUID(),
      name: absolute(name),
      email: `hostmaster@${name.replace(/\.$/, '')}`,
      project_id: projectId,
      ttl: 3600,
      serial: Math.floor(Date.now() / 1000),
      status,
      action: status === 'ACTIVE' ? 'NONE' : 'CREATE',
      description: null,
      created_at: now(),
      updated_at: null,
      version: 1,
    };
    zones.set(zone.id, zone);
    return zone;
  }

  /** Becomes ACTIVE after the answer went out, as after the pool manager's update. */
  function settle(item: { status: string; action: string }): void {
    setImmediate(() => {
      if (item.action === 'DELETE') return;
      item.status = 'ACTIVE';
      item.action = 'NONE';
    });
  }

  const zoneView = (zone: ContractZone) => ({
    id: zone.id,
    pool_id: '794ccc2c-d751-44fe-b57f-8894c9f5c842',
    project_id: zone.project_id,
    name: zone.name,
    email: zone.email,
    ttl: zone.ttl,
    serial: zone.serial,
    status: zone.status,
    action: zone.action,
    description: zone.description,
    masters: [],
    type: 'PRIMARY',
    transferred_at: null,
    version: zone.version,
    created_at: zone.created_at,
    updated_at: zone.updated_at,
    attributes: {},
    links: { self: `${base}/zones/${zone.id}` },
  });

  const recordsetView = (rs: ContractRecordset) => ({
    id: rs.id,
    project_id: rs.project_id,
    name: rs.name,
    ttl: rs.ttl,
    status: rs.status,
    action: rs.action,
    zone_id: rs.zone_id,
    zone_name: zones.get(rs.zone_id)?.name ?? null,
    description: rs.description,
    type: rs.type,
    version: rs.version,
    created_at: rs.created_at,
    updated_at: rs.updated_at,
    records: [...rs.records],
    links: { self: `${base}/zones/${rs.zone_id}/recordsets/${rs.id}` },
  });

  function addRecordset(
    zone: ContractZone,
    set: { name: string; type: string; records: string[]; ttl: number | null; description?: string | null; managed?: boolean },
    status: string,
  ): ContractRecordset {
    const rs: ContractRecordset = {
      id: randomUUID(),
      zone_id: zone.id,
      project_id: zone.project_id,
      name: absolute(set.name),
      type: set.type,
      records: set.records,
      ttl: set.ttl,
      description: set.description ?? null,
      status,
      action: status === 'ACTIVE' ? 'NONE' : 'CREATE',
      managed: set.managed ?? false,
      created_at: now(),
      updated_at: null,
      version: 1,
    };
    recordsets.set(rs.id, rs);
    zone.serial++;
    return rs;
  }

  /** Keystone's answer for a token (GET /v3/auth/tokens as the fixture's admin). */
  async function authenticate(request: IncomingMessage): Promise<Caller> {
    const token = request.headers['x-auth-token'];
    const unauthorized = new Fault(401, 'unauthorized', 'The request you have made requires authentication.');
    if (typeof token !== 'string' || token === '' || refused.has(token)) throw unauthorized;
    let info = validated.get(token);
    if (!info) {
      const response = await fetch(`${keystone.url}/auth/tokens`, {
        headers: { 'x-auth-token': await keystone.token('admin'), 'x-subject-token': token, accept: 'application/json' },
      });
      if (response.status !== 200) {
        await response.body?.cancel();
        throw unauthorized;
      }
      const body = (await response.json()) as { token: { project?: { id: string }; roles?: Array<{ name: string }> } };
      if (!body.token.project) throw new Fault(403, 'forbidden', 'A project-scoped token is required');
      info = { projectId: body.token.project.id, roles: (body.token.roles ?? []).map((r) => r.name) };
      validated.set(token, info);
    }
    tokensSeen.add(token);
    const admin = info.roles.includes('admin');
    const caller = {
      projectId: info.projectId,
      admin,
      allProjects: boolHeader(request, 'x-auth-all-projects'),
      editManaged: boolHeader(request, 'x-designate-edit-managed-records'),
    };
    if (caller.allProjects && !admin) throw new Fault(403, 'forbidden', 'Forbidden');
    if (caller.editManaged && !admin) throw new Fault(403, 'forbidden', 'Forbidden');
    return caller;
  }

  function visibleZone(caller: Caller, id: string): ContractZone {
    const zone = zones.get(id);
    if (!zone || (!caller.allProjects && zone.project_id !== caller.projectId))
      throw new Fault(404, 'zone_not_found', 'Could not find Zone');
    return zone;
  }

  function list<T>(key: string, items: T[], url: URL): Record<string, unknown> {
    return {
      [key]: items,
      links: { self: `${base}${url.pathname.replace(/^\/v2/, '')}${url.search}` },
      metadata: { total_count: items.length },
    };
  }

  async function route(request: IncomingMessage, url: URL, caller: Caller): Promise<[number, unknown, Record<string, string>?]> {
    const method = request.method ?? 'GET';
    const parts = url.pathname.replace(/\/+$/, '').split('/').slice(1); // ['v2', 'zones', id, 'recordsets', id]
    if (parts[0] !== 'v2' || parts[1] !== 'zones') throw new Fault(404, 'not_found', 'The resource could not be found.');
    const [, , zoneId, sub, recordsetId] = parts;

    if (zoneId === undefined) {
      if (method === 'GET') {
        const filters = ['name', 'email', 'status'].flatMap((k) =>
          url.searchParams.has(k) ? [[k, url.searchParams.get(k)!] as const] : [],
        );
        const found = [...zones.values()]
          .filter((z) => caller.allProjects || z.project_id === caller.projectId)
          .filter((z) => filters.every(([k, v]) => String(z[k as 'name' | 'email' | 'status']).toLowerCase() === v.toLowerCase()));
        return [200, list('zones', found.map(zoneView), url)];
      }
      if (method === 'POST') {
        const body = await readJson(request);
        if (typeof body.name !== 'string' || !body.name.endsWith('.') || !isFqdn(body.name)) {
          throw new Fault(400, 'invalid_object', "Provided object does not match schema: 'name' must be an absolute domain name");
        }
        if (typeof body.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(body.email)) {
          throw new Fault(400, 'invalid_object', "Provided object does not match schema: 'email' is not an email address");
        }
        const ttl = checkTtl(body.ttl);
        const raced = races.get(absolute(body.name));
        if (raced !== undefined) {
          races.delete(absolute(body.name));
          addZone(body.name, raced);
        }
        if (zoneByName(body.name)) throw new Fault(409, 'duplicate_zone', 'Duplicate Zone');
        const zone = addZone(body.name, caller.projectId, 'PENDING');
        zone.email = body.email;
        if (ttl !== null) zone.ttl = ttl;
        if (typeof body.description === 'string') zone.description = body.description;
        const view = zoneView(zone);
        settle(zone);
        return [202, view, { location: view.links.self }];
      }
      throw new Fault(405, 'method_not_allowed', 'Method not allowed');
    }

    const zone = visibleZone(caller, zoneId);
    if (sub === undefined) {
      if (method === 'GET') return [200, zoneView(zone)];
      throw new Fault(405, 'method_not_allowed', 'Method not allowed');
    }
    if (sub !== 'recordsets') throw new Fault(404, 'not_found', 'The resource could not be found.');

    if (recordsetId === undefined) {
      if (method === 'GET') {
        const name = url.searchParams.get('name');
        const type = url.searchParams.get('type');
        const found = [...recordsets.values()]
          .filter((rs) => rs.zone_id === zone.id)
          .filter((rs) => (name === null || rs.name === absolute(name)) && (type === null || rs.type === type.toUpperCase()));
        return [200, list('recordsets', found.map(recordsetView), url)];
      }
      if (method === 'POST') {
        const body = await readJson(request);
        const allowed = new Set(['name', 'type', 'records', 'ttl', 'description']);
        const extra = Object.keys(body).filter((k) => !allowed.has(k));
        if (extra.length > 0)
          throw new Fault(400, 'invalid_object', `Provided object does not match schema: unexpected ${extra.join(', ')}`);
        if (typeof body.name !== 'string' || !body.name.endsWith('.') || !isFqdn(body.name)) {
          throw new Fault(400, 'invalid_object', "Provided object does not match schema: 'name' must be an absolute domain name");
        }
        const type = body.type;
        if (
          typeof type !== 'string' ||
          !['A', 'AAAA', 'PTR', 'CNAME', 'TXT', 'MX', 'SRV', 'NS', 'SSHFP', 'SPF', 'CAA', 'NAPTR', 'CERT'].includes(type)
        ) {
          throw new Fault(400, 'invalid_object', "Provided object does not match schema: 'type' is not a supported record type");
        }
        const name = absolute(body.name);
        if (name !== zone.name && !name.endsWith(`.${zone.name}`))
          throw new Fault(400, 'invalid_recordset_location', "RecordSet is not contained within it's parent zone");
        const records = checkRecords(type, body.records);
        const ttl = checkTtl(body.ttl);
        if ([...recordsets.values()].some((rs) => rs.zone_id === zone.id && rs.name === name && rs.type === type)) {
          throw new Fault(409, 'duplicate_recordset', 'Duplicate RecordSet');
        }
        const rs = addRecordset(
          zone,
          { name, type, records, ttl, description: typeof body.description === 'string' ? body.description : null },
          'PENDING',
        );
        const view = recordsetView(rs);
        settle(rs);
        return [202, view, { location: view.links.self }];
      }
      throw new Fault(405, 'method_not_allowed', 'Method not allowed');
    }

    const rs = recordsets.get(recordsetId);
    if (!rs || rs.zone_id !== zone.id) throw new Fault(404, 'recordset_not_found', 'Could not find RecordSet');
    if (method === 'GET') return [200, recordsetView(rs)];
    if (method === 'PUT') {
      const body = await readJson(request);
      const allowed = new Set(['records', 'ttl', 'description']);
      const extra = Object.keys(body).filter((k) => !allowed.has(k));
      if (extra.length > 0)
        throw new Fault(400, 'invalid_object', `Provided object does not match schema: ${extra.join(', ')} may not be changed`);
      if (rs.managed && !caller.editManaged) throw new Fault(400, 'bad_request', 'Managed records may not be updated');
      if (body.records !== undefined) rs.records = checkRecords(rs.type, body.records);
      if (body.ttl !== undefined) rs.ttl = checkTtl(body.ttl);
      if (body.description !== undefined) rs.description = typeof body.description === 'string' ? body.description : null;
      rs.status = 'PENDING';
      rs.action = 'UPDATE';
      rs.version++;
      rs.updated_at = now();
      zone.serial++;
      const view = recordsetView(rs);
      settle(rs);
      return [202, view];
    }
    if (method === 'DELETE') {
      if (rs.managed && !caller.editManaged) throw new Fault(400, 'bad_request', 'Managed records may not be deleted');
      recordsets.delete(rs.id);
      zone.serial++;
      rs.status = 'PENDING';
      rs.action = 'DELETE';
      rs.version++;
      return [202, recordsetView(rs)];
    }
    throw new Fault(405, 'method_not_allowed', 'Method not allowed');
  }

  const stalled = new Set<ServerResponse>();
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://designate');
    const requestId = `req-${randomUUID()}`;
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      requests.push({
        method: request.method ?? 'GET',
        path: `${url.pathname}${url.search}`,
        status,
        allProjects: boolHeader(request, 'x-auth-all-projects'),
        editManaged: boolHeader(request, 'x-designate-edit-managed-records'),
        token: typeof request.headers['x-auth-token'] === 'string' ? request.headers['x-auth-token'] : undefined,
      });
      response.writeHead(status, { 'content-type': 'application/json', 'x-openstack-request-id': requestId, ...headers });
      response.end(JSON.stringify(body));
    };
    const fault = (error: Fault) => send(error.code, { code: error.code, type: error.type, message: error.message, request_id: requestId });

    if (stalls > 0) {
      stalls--;
      stalled.add(response);
      request.resume();
      return;
    }
    if (failures.count > 0) {
      failures.count--;
      request.resume();
      fault(
        new Fault(
          failures.status,
          failures.status === 503 ? 'service_unavailable' : 'unknown',
          `Designate is failing on purpose (${failures.status})`,
        ),
      );
      return;
    }
    authenticate(request)
      .then((caller) => route(request, url, caller))
      .then(
        ([status, body, headers]) => send(status, body, headers),
        (error: unknown) => {
          if (error instanceof Fault) fault(error);
          else fault(new Fault(500, 'unknown', String(error)));
        },
      );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2`;

  return {
    url: base,
    requests,
    tokensSeen,
    addZone: (name, projectId) => addZone(name, projectId),
    addRecordset(zoneName, set) {
      const zone = zoneByName(zoneName);
      if (!zone) throw new Error(`no zone ${zoneName}`);
      return addRecordset(zone, { ...set, records: [...set.records], ttl: set.ttl ?? null }, 'ACTIVE');
    },
    zone: zoneByName,
    records(name, type) {
      const rs = [...recordsets.values()].find((r) => r.name === absolute(name) && r.type === type);
      return rs && [...rs.records];
    },
    failNext(count, status = 503) {
      failures = { count, status };
    },
    stallNext(count) {
      stalls = count;
    },
    raceNextZoneCreate(name, projectId) {
      races.set(absolute(name), projectId);
    },
    expireTokens() {
      for (const token of tokensSeen) refused.add(token);
    },
    async close() {
      for (const response of stalled) response.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
