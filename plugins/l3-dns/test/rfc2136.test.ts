import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DnsDriverError, type RecordSet } from '../src/drivers/driver.js';
import { Rfc2136Driver } from '../src/drivers/rfc2136/index.js';
import { signRequest } from '../src/drivers/rfc2136/tsig.js';
import { bindAvailable, startBind, type BindServer } from '../src/testing/bind.js';

const ZONE = 'example.org.';
const REVERSE = '113.0.203.in-addr.arpa.';
const READONLY = 'readonly.test.';

function a(name: string, ...records: string[]): RecordSet {
  return { zone: ZONE, name: `${name}.${ZONE}`, type: 'A', records, ttl: 300 };
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

describe.skipIf(!bindAvailable)('rfc2136 driver against BIND 9', () => {
  let bind: BindServer;
  let driver: Rfc2136Driver;
  const drivers: Rfc2136Driver[] = [];
  const open = (overrides: Parameters<BindServer['driverOptions']>[0] = {}): Rfc2136Driver => {
    const created = new Rfc2136Driver(bind.driverOptions(overrides));
    drivers.push(created);
    return created;
  };

  beforeAll(async () => {
    bind = await startBind({ zones: [{ name: ZONE }, { name: REVERSE }, { name: READONLY, updatable: false }] });
    driver = open();
  });
  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.close()));
    await bind?.close();
  });

  it('adds A records; adding again is harmless and keeps the others', async () => {
    await driver.add(a('www', '203.0.113.10'));
    expect(await bind.query('www.example.org.', 'A')).toEqual(['203.0.113.10']);
    expect(await driver.lookup(ZONE, 'www.example.org.', 'A')).toEqual(['203.0.113.10']);

    await driver.add(a('www', '203.0.113.10'));
    await driver.add(a('www', '203.0.113.11'));
    expect((await bind.query('www.example.org.', 'A')).sort()).toEqual(['203.0.113.10', '203.0.113.11']);
  });

  it('removes exactly the given records; removing again is harmless', async () => {
    await driver.add(a('gone', '203.0.113.20', '203.0.113.21'));
    await driver.remove(a('gone', '203.0.113.20'));
    expect(await bind.query('gone.example.org.', 'A')).toEqual(['203.0.113.21']);

    await driver.remove(a('gone', '203.0.113.21'));
    expect(await bind.query('gone.example.org.', 'A')).toEqual([]);
    expect(await driver.lookup(ZONE, 'gone.example.org.', 'A')).toEqual([]);

    await driver.remove(a('gone', '203.0.113.21'));
    await driver.remove(a('never-there', '203.0.113.22'));
    expect(await driver.lookup(ZONE, 'never-there.example.org.', 'A')).toEqual([]);
  });

  it('publishes PTR records in the reverse zone', async () => {
    const ptr: RecordSet = { zone: REVERSE, name: `30.${REVERSE}`, type: 'PTR', records: ['host30.example.org.'], ttl: 300 };
    await driver.add(ptr);
    expect(await bind.query(`30.${REVERSE}`, 'PTR')).toEqual(['host30.example.org.']);
    expect(await driver.lookup(REVERSE, `30.${REVERSE}`, 'PTR')).toEqual(['host30.example.org.']);
    await driver.remove(ptr);
    expect(await driver.lookup(REVERSE, `30.${REVERSE}`, 'PTR')).toEqual([]);
  });

  it('publishes AAAA records', async () => {
    const aaaa: RecordSet = { zone: ZONE, name: `v6.${ZONE}`, type: 'AAAA', records: ['2001:db8::10'], ttl: 60 };
    await driver.add(aaaa);
    expect(await bind.query(`v6.${ZONE}`, 'AAAA')).toEqual(['2001:db8::10']);
    expect(await driver.lookup(ZONE, `v6.${ZONE}`, 'AAAA')).toEqual(['2001:db8::10']);
    // An A lookup of a name holding only AAAA is NODATA: empty, not an error.
    expect(await driver.lookup(ZONE, `v6.${ZONE}`, 'A')).toEqual([]);
    await driver.remove(aaaa);
    expect(await bind.query(`v6.${ZONE}`, 'AAAA')).toEqual([]);
  });

  it('reports a wrong TSIG secret as NOTAUTH/BADSIG and changes nothing', async () => {
    const wrong = open({ tsigSecret: randomBytes(32).toString('base64') });
    const error = await failure(wrong.add(a('badsig', '203.0.113.40')));
    expect(error.message).toMatch(/NOTAUTH\/BADSIG/);
    expect(error.retryable).toBe(false);
    expect(await bind.query('badsig.example.org.', 'A')).toEqual([]);
  });

  it('reports an unknown key name as NOTAUTH/BADKEY', async () => {
    const unknown = open({ tsigKeyName: 'no-such-key.' });
    const error = await failure(unknown.add(a('badkey', '203.0.113.41')));
    expect(error.message).toMatch(/NOTAUTH\/BADKEY.*no-such-key/);
    expect(error.retryable).toBe(false);
    expect(await bind.query('badkey.example.org.', 'A')).toEqual([]);
  });

  it('reports a clock an hour off as NOTAUTH/BADTIME', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() - 3_600_000);
      const error = await failure(driver.add(a('badtime', '203.0.113.44')));
      // BADTIME replies are signed (with the request's time), so no "unauthenticated" note.
      expect(error.message).toMatch(/NOTAUTH\/BADTIME: the clocks/);
      expect(error.message).not.toMatch(/unauthenticated/);
      expect(error.retryable).toBe(false);
    } finally {
      vi.useRealTimers();
    }
    expect(await bind.query('badtime.example.org.', 'A')).toEqual([]);
  });

  it('reports a name outside the zone as NOTZONE', async () => {
    const error = await failure(driver.add({ ...a('x', '203.0.113.42'), name: 'www.example.net.' }));
    expect(error.message).toMatch(/NOTZONE.*example\.org\./);
    expect(error.retryable).toBe(false);
  });

  it('reports a zone the key may not update as REFUSED', async () => {
    const error = await failure(driver.add({ zone: READONLY, name: `www.${READONLY}`, type: 'A', records: ['203.0.113.43'], ttl: 300 }));
    expect(error.message).toMatch(/REFUSED/);
    expect(error.retryable).toBe(false);
    expect(await bind.query(`www.${READONLY}`, 'A')).toEqual([]);
  });

  it('goes over TCP for updates above 512 bytes and for truncated UDP replies', async () => {
    const many = Array.from({ length: 40 }, (_, i) => `203.0.113.${100 + i}`);
    await driver.add(a('many', ...many)); // ~1.2 kB: TCP
    // 40 A records do not fit a 512-byte UDP reply: BIND sets TC and the lookup retries on TCP.
    expect((await driver.lookup(ZONE, 'many.example.org.', 'A')).sort()).toEqual([...many].sort());
    await driver.remove(a('many', ...many));
    expect(await driver.lookup(ZONE, 'many.example.org.', 'A')).toEqual([]);
  });

  it('works with forceTcp', async () => {
    const tcp = open({ forceTcp: true });
    await tcp.add(a('tcp', '203.0.113.50'));
    expect(await tcp.lookup(ZONE, 'tcp.example.org.', 'A')).toEqual(['203.0.113.50']);
    await tcp.remove(a('tcp', '203.0.113.50'));
    expect(await bind.query('tcp.example.org.', 'A')).toEqual([]);
  });

  it('fails retryably while the server is down, and works once it is back', async () => {
    await driver.add(a('before', '203.0.113.60'));
    await bind.stop();
    try {
      const started = Date.now();
      const error = await failure(open({ timeoutMs: 1000 }).add(a('during', '203.0.113.61')));
      expect(error.retryable).toBe(true);
      expect(error.message).toMatch(/127\.0\.0\.1/);
      expect(Date.now() - started).toBeLessThan(2500);
    } finally {
      await bind.restart();
    }
    await driver.add(a('during', '203.0.113.61'));
    expect(await bind.query('during.example.org.', 'A')).toEqual(['203.0.113.61']);
    // Same data as before the stop.
    expect(await bind.query('before.example.org.', 'A')).toEqual(['203.0.113.60']);
  });
});

describe.skipIf(!bindAvailable).each(['hmac-sha512', 'hmac-sha1'] as const)('rfc2136 driver with %s', (algorithm) => {
  let bind: BindServer;
  let driver: Rfc2136Driver;
  beforeAll(async () => {
    bind = await startBind({ algorithm });
    driver = new Rfc2136Driver(bind.driverOptions());
  });
  afterAll(async () => {
    await driver?.close();
    await bind?.close();
  });

  it('signs updates and verifies replies', async () => {
    await driver.add(a('alg', '203.0.113.70'));
    expect(await bind.query('alg.example.org.', 'A')).toEqual(['203.0.113.70']);
    await driver.remove(a('alg', '203.0.113.70'));
    expect(await bind.query('alg.example.org.', 'A')).toEqual([]);
  });
});

/** A UDP "server" that answers updates the way a forger or a broken server would. */
async function fakeServer(answer: (request: Buffer) => Buffer | undefined): Promise<{ port: number; socket: Socket }> {
  const socket = createSocket('udp4');
  socket.on('message', (request, peer) => {
    const reply = answer(request);
    if (reply) socket.send(reply, peer.port, peer.address);
  });
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  return { port: socket.address().port, socket };
}

/** A NOERROR UPDATE reply header with the request's id and no records. */
function bareReply(request: Buffer): Buffer {
  const reply = Buffer.alloc(12);
  reply.writeUInt16BE(request.readUInt16BE(0), 0);
  reply.writeUInt16BE(0x8000 | (5 << 11), 2);
  return reply;
}

describe('rfc2136 driver against a misbehaving server', () => {
  const sockets: Socket[] = [];
  const drivers: Rfc2136Driver[] = [];
  const driverFor = async (answer: (request: Buffer) => Buffer | undefined, timeoutMs = 2000): Promise<Rfc2136Driver> => {
    const { port, socket } = await fakeServer(answer);
    sockets.push(socket);
    const driver = new Rfc2136Driver({
      server: '127.0.0.1',
      port,
      tsigKeyName: 'k.',
      tsigSecret: randomBytes(32).toString('base64'),
      timeoutMs,
    });
    drivers.push(driver);
    return driver;
  };
  afterAll(async () => {
    await Promise.all(drivers.map((d) => d.close()));
    for (const socket of sockets) socket.close();
  });

  it('rejects an unsigned NOERROR reply', async () => {
    const driver = await driverFor(bareReply);
    const error = await failure(driver.add(a('x', '203.0.113.1')));
    expect(error.message).toMatch(/not TSIG-signed/);
  });

  it('rejects a reply signed with another secret', async () => {
    const forger = { name: 'k.', algorithm: 'hmac-sha256' as const, secret: randomBytes(32) };
    const driver = await driverFor((request) => signRequest(bareReply(request), forger).signed);
    const error = await failure(driver.add(a('x', '203.0.113.1')));
    expect(error.message).toMatch(/MAC does not verify/);
  });

  it('ignores replies with another id, then times out retryably', async () => {
    const driver = await driverFor((request) => {
      const reply = bareReply(request);
      reply.writeUInt16BE((request.readUInt16BE(0) + 1) & 0xffff, 0);
      return reply;
    }, 300);
    const error = await failure(driver.add(a('x', '203.0.113.1')));
    expect(error.retryable).toBe(true);
    expect(error.message).toMatch(/no reply within 300 ms/);
  });

  it('close() ends pending exchanges', async () => {
    const driver = await driverFor(() => undefined, 10_000);
    const pending = failure(driver.add(a('x', '203.0.113.1')));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await driver.close();
    expect((await pending).message).toMatch(/closed/);
  });

  it('rejects settings that cannot work', () => {
    const base = { server: '127.0.0.1', tsigKeyName: 'k.', tsigSecret: randomBytes(32).toString('base64') };
    expect(() => new Rfc2136Driver({ ...base, tsigSecret: 'not base64!' })).toThrow(/base64/);
    expect(() => new Rfc2136Driver({ ...base, tsigAlgorithm: 'hmac-md5' as never })).toThrow(/algorithm/);
    expect(() => new Rfc2136Driver({ ...base, port: 0 })).toThrow(/port/);
  });
});
