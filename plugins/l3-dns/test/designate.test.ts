import { keystoneFixture } from '@nucleon/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DnsDriverError, type RecordSet } from '../src/drivers/driver.js';
import { DesignateDriver, type DesignateOptions } from '../src/drivers/designate/index.js';
import { reverseName } from '../src/records.js';
import { startDesignateContract, type DesignateContract } from './designate-contract.js';

const keystone = await keystoneFixture();

const ZONE = 'example.org.';
const ZONES = { ipv4PrefixSize: 24, ipv6PrefixSize: 120 };

function a(name: string, ...records: string[]): RecordSet {
  return { zone: ZONE, name: `${name}.${ZONE}`, type: 'A', records, ttl: 300 };
}

function ptr(address: string, target: string): RecordSet {
  const { name, zone } = reverseName(address, ZONES);
  return { zone, name, type: 'PTR', records: [target], ttl: 300 };
}

/** The DnsDriverError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<DnsDriverError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(DnsDriverError);
  return error as DnsDriverError;
}

describe('designate driver settings', () => {
  const valid: DesignateOptions = {
    url: 'http://127.0.0.1:9001/v2',
    authUrl: 'http://127.0.0.1:5000',
    username: 'neutron',
    password: 'secret',
    projectName: 'service',
  };
  it('rejects settings that cannot work', () => {
    expect(() => new DesignateDriver(valid)).not.toThrow();
    expect(() => new DesignateDriver({ ...valid, url: 'designate:9001' })).toThrow(/url/);
    expect(() => new DesignateDriver({ ...valid, authUrl: 'not a url' })).toThrow(/authUrl/);
    expect(() => new DesignateDriver({ ...valid, password: '' })).toThrow(/password/);
    expect(() => new DesignateDriver({ ...valid, timeoutMs: 0 })).toThrow(/timeoutMs/);
    expect(() => new DesignateDriver({ ...valid, ptrZoneEmail: 'nobody' })).toThrow(/ptrZoneEmail/);
  });

  it('reports an unreachable Keystone as retryable', async () => {
    const driver = new DesignateDriver({ ...valid, authUrl: 'http://127.0.0.1:9/v3', timeoutMs: 2000 });
    const error = await failure(driver.add(a('www', '203.0.113.10')));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/unreachable/);
    await driver.close();
  });
});

describe.skipIf(!keystone)('designate driver against the Designate v2 API contract (real Keystone)', () => {
  let designate: DesignateContract;
  const drivers: DesignateDriver[] = [];
  let driver: DesignateDriver;
  const open = (overrides: Partial<DesignateOptions> = {}): DesignateDriver => {
    const auth = keystone!.authConfig().keystone_authtoken!;
    const created = new DesignateDriver({
      url: designate.url,
      authUrl: auth.auth_url!,
      username: auth.username!,
      password: auth.password!,
      projectName: auth.project_name!,
      userDomainName: auth.user_domain_name!,
      projectDomainName: auth.project_domain_name!,
      timeoutMs: 5000,
      ...overrides,
    });
    drivers.push(created);
    return created;
  };
  /** Requests answered since `mark`. */
  const since = (mark: number) => designate.requests.slice(mark);

  beforeAll(async () => {
    designate = await startDesignateContract(keystone!);
    // The forward zone belongs to a tenant (alice's project), as with Neutron's dns_domain.
    designate.addZone(ZONE, keystone!.projects.a.id);
    driver = open();
  });
  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.close()));
    await designate?.close();
  });

  it('adds A records in the tenant zone; adding again is harmless and keeps the others', async () => {
    let mark = designate.requests.length;
    await driver.add(a('www', '203.0.113.10'));
    expect(designate.records('www.example.org.', 'A')).toEqual(['203.0.113.10']);
    const created = since(mark).find((r) => r.method === 'POST');
    expect(created).toMatchObject({ status: 202, allProjects: true });
    expect(created!.path).toMatch(/^\/v2\/zones\/[0-9a-f-]+\/recordsets$/);
    expect(await driver.lookup(ZONE, 'www.example.org.', 'A')).toEqual(['203.0.113.10']);

    mark = designate.requests.length;
    await driver.add(a('www', '203.0.113.10'));
    expect(since(mark).filter((r) => r.method !== 'GET')).toEqual([]);
    expect(designate.records('www.example.org.', 'A')).toEqual(['203.0.113.10']);

    await driver.add(a('www', '203.0.113.11'));
    expect(designate.records('www.example.org.', 'A')).toEqual(['203.0.113.10', '203.0.113.11']);
    expect((await driver.lookup(ZONE, 'www.example.org.', 'A')).sort()).toEqual(['203.0.113.10', '203.0.113.11']);
  });

  it('removes exactly the given records, deletes the empty recordset; removing again is harmless', async () => {
    await driver.add(a('gone', '203.0.113.20', '203.0.113.21'));
    await driver.remove(a('gone', '203.0.113.20'));
    expect(designate.records('gone.example.org.', 'A')).toEqual(['203.0.113.21']);

    const mark = designate.requests.length;
    await driver.remove(a('gone', '203.0.113.21'));
    expect(since(mark).find((r) => r.method === 'DELETE')).toMatchObject({ status: 202 });
    expect(designate.records('gone.example.org.', 'A')).toBeUndefined();
    expect(await driver.lookup(ZONE, 'gone.example.org.', 'A')).toEqual([]);

    await driver.remove(a('gone', '203.0.113.21'));
    await driver.remove(a('never-there', '203.0.113.22'));
    await driver.remove({ ...a('www', '203.0.113.10'), zone: 'no-such-zone.test.', name: 'www.no-such-zone.test.' });
    expect(designate.records('www.example.org.', 'A')).toEqual(['203.0.113.10', '203.0.113.11']);
  });

  it('publishes AAAA records and compares IPv6 addresses canonically', async () => {
    const aaaa: RecordSet = { zone: ZONE, name: `v6.${ZONE}`, type: 'AAAA', records: ['2001:db8::10'], ttl: 60 };
    await driver.add(aaaa);
    await driver.add({ ...aaaa, records: ['2001:0db8:0:0:0:0:0:10'] });
    expect(designate.records('v6.example.org.', 'AAAA')).toEqual(['2001:db8::10']);
    expect(await driver.lookup(ZONE, `v6.${ZONE}`, 'AAAA')).toEqual(['2001:db8::10']);
    await driver.remove(aaaa);
    expect(await driver.lookup(ZONE, `v6.${ZONE}`, 'AAAA')).toEqual([]);
  });

  it('publishes PTR records, creating the missing reverse zone as the service user', async () => {
    const set = ptr('203.0.113.30', 'host30.example.org.');
    expect(set.zone).toBe('113.0.203.in-addr.arpa.');
    expect(designate.zone(set.zone)).toBeUndefined();

    let mark = designate.requests.length;
    await driver.add(set);
    const zone = designate.zone(set.zone)!;
    expect(zone).toMatchObject({ name: '113.0.203.in-addr.arpa.', email: 'admin@example.org' });
    expect(zone.project_id).not.toBe(keystone!.projects.a.id);
    const zoneCreate = since(mark).find((r) => r.method === 'POST' && r.path === '/v2/zones');
    expect(zoneCreate).toMatchObject({ status: 202 });
    // Reverse-zone recordsets go with all-projects and edit-managed, as Neutron's admin client.
    const ptrCreate = since(mark).find((r) => r.method === 'POST' && r.path.endsWith('/recordsets'));
    expect(ptrCreate).toMatchObject({ status: 202, allProjects: true, editManaged: true });
    expect(designate.records(set.name, 'PTR')).toEqual(['host30.example.org.']);
    expect(await driver.lookup(set.zone, set.name, 'PTR')).toEqual(['host30.example.org.']);

    // The zone exists now: a second PTR goes into it without creating anything else.
    mark = designate.requests.length;
    await driver.add(ptr('203.0.113.31', 'host31.example.org.'));
    expect(since(mark).filter((r) => r.path === '/v2/zones' && r.method === 'POST')).toEqual([]);

    await driver.remove(set);
    expect(await driver.lookup(set.zone, set.name, 'PTR')).toEqual([]);
    await driver.remove(set);
  });

  it('uses ptrZoneEmail and survives a parallel creator of the reverse zone (409)', async () => {
    const set = ptr('198.51.100.7', 'db.example.org.');
    designate.raceNextZoneCreate(set.zone, keystone!.projects.b.id);
    const custom = open({ ptrZoneEmail: 'dns-admin@example.net' });
    const mark = designate.requests.length;
    await custom.add(set);
    expect(since(mark).find((r) => r.method === 'POST' && r.path === '/v2/zones')).toMatchObject({ status: 409 });
    expect(designate.zone(set.zone)!.project_id).toBe(keystone!.projects.b.id);
    expect(designate.records(set.name, 'PTR')).toEqual(['db.example.org.']);

    const fresh = ptr('192.0.2.9', 'nine.example.org.');
    await custom.add(fresh);
    expect(designate.zone(fresh.zone)!.email).toBe('dns-admin@example.net');
  });

  it('removes managed PTR records (X-Designate-Edit-Managed-Records)', async () => {
    const set = ptr('203.0.113.40', 'managed.example.org.');
    designate.addRecordset(set.zone, {
      name: set.name,
      type: 'PTR',
      records: ['managed.example.org.', 'other.example.org.'],
      managed: true,
    });
    await driver.remove(set);
    expect(designate.records(set.name, 'PTR')).toEqual(['other.example.org.']);
  });

  it('skips PTR record sets when allowReverseDnsLookup is false', async () => {
    const forwardOnly = open({ allowReverseDnsLookup: false });
    const set = ptr('192.0.2.200', 'fwd.example.org.');
    const other = ptr('233.252.0.1', 'fwd.example.org.');
    const mark = designate.requests.length;
    await forwardOnly.add(other);
    await forwardOnly.remove(set);
    expect(since(mark)).toEqual([]);
    expect(designate.zone(other.zone)).toBeUndefined();
    await forwardOnly.add(a('fwd', '203.0.113.50'));
    expect(designate.records('fwd.example.org.', 'A')).toEqual(['203.0.113.50']);
  });

  it('fails with DNSDomainNotFound, not retryable, when the forward zone does not exist', async () => {
    const missing: RecordSet = { zone: 'missing.test.', name: 'www.missing.test.', type: 'A', records: ['203.0.113.60'], ttl: 300 };
    const error = await failure(driver.add(missing));
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/^DNSDomainNotFound: Domain missing\.test\. not found/);
    expect((await failure(driver.lookup('missing.test.', 'www.missing.test.', 'A'))).message).toMatch(/DNSDomainNotFound/);
  });

  it("reports Designate's 4xx answers with its message, not retryable", async () => {
    const error = await failure(driver.add({ ...a('x', '203.0.113.70'), name: 'x.elsewhere.test.' }));
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/400 invalid_recordset_location: RecordSet is not contained within it's parent zone/);
  });

  it('reports 503 as retryable, and succeeds once Designate is back', async () => {
    designate.failNext(1, 503);
    const error = await failure(driver.add(a('flaky', '203.0.113.80')));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/503 service_unavailable: Designate is failing on purpose/);
    await driver.add(a('flaky', '203.0.113.80'));
    expect(designate.records('flaky.example.org.', 'A')).toEqual(['203.0.113.80']);
  });

  it('reports a timeout as retryable', async () => {
    const impatient = open({ timeoutMs: 1000 });
    // Hold a token first (Keystone itself may take longer than the timeout on a cold start).
    for (let attempt = 0; ; attempt++) {
      try {
        await impatient.lookup(ZONE, 'www.example.org.', 'A');
        break;
      } catch (error) {
        if (attempt === 4) throw error;
      }
    }
    designate.stallNext(1);
    const error = await failure(impatient.lookup(ZONE, 'www.example.org.', 'A'));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/Designate GET \/v2\/zones\?name=example\.org\.: no answer within 1000 ms/);
  });

  it('renews the token once when Designate refuses it (401)', async () => {
    await driver.lookup(ZONE, 'www.example.org.', 'A');
    designate.expireTokens();
    const mark = designate.requests.length;
    expect((await driver.lookup(ZONE, 'www.example.org.', 'A')).sort()).toEqual(['203.0.113.10', '203.0.113.11']);
    const [refused, retried, ...rest] = since(mark);
    expect(refused).toMatchObject({ status: 401, path: '/v2/zones?name=example.org.' });
    expect(retried).toMatchObject({ status: 200, path: '/v2/zones?name=example.org.' });
    expect(retried!.token).not.toBe(refused!.token);
    expect(rest.every((r) => r.token === retried!.token && r.status === 200)).toBe(true);

    // Refused again with a fresh token: reported once, not retryable.
    designate.failNext(2, 401);
    const error = await failure(driver.lookup(ZONE, 'www.example.org.', 'A'));
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/401/);
  });

  it('fails clearly, not retryable, with a wrong password (real Keystone)', async () => {
    const wrong = open({ password: 'not-the-password' });
    const mark = designate.requests.length;
    const error = await failure(wrong.add(a('www', '203.0.113.10')));
    expect(error.retryable).toBe(false);
    expect(error.message).toMatch(/Keystone sign-in at .* as user nucleon .* failed: 401 .*wrong user, password or project/);
    expect(since(mark)).toEqual([]);
  });
});
