/**
 * DNS messages for the rfc2136 driver: UPDATE (RFC 2136) and plain queries are encoded with
 * dns-packet; what dns-packet cannot do (class NONE, byte offsets of records, rcodes as numbers)
 * is done here on the wire bytes.
 */
import dnsPacket from 'dns-packet';
import type { RecordSet, RecordType } from '../driver.js';

/** RFC 1035 limit for a UDP message without EDNS; larger messages go over TCP. */
export const UDP_MAX = 512;

export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  YXRRSET: 7,
  NXRRSET: 8,
  NOTAUTH: 9,
  NOTZONE: 10,
} as const;

export const CLASS_NONE = 254;
export const CLASS_ANY = 255;
const OPCODE_UPDATE = 5;
const FLAG_QR = 0x8000;
const FLAG_TC = 0x0200;

/** The fixed 12-byte header, read from the wire. */
export interface Header {
  readonly id: number;
  readonly response: boolean;
  readonly opcode: number;
  readonly truncated: boolean;
  readonly rcode: number;
  readonly qdcount: number;
  readonly ancount: number;
  readonly nscount: number;
  readonly arcount: number;
}

export function readHeader(buf: Buffer): Header {
  if (buf.length < 12) throw new RangeError(`DNS message too short (${buf.length} bytes)`);
  const flags = buf.readUInt16BE(2);
  return {
    id: buf.readUInt16BE(0),
    response: (flags & FLAG_QR) !== 0,
    opcode: (flags >> 11) & 0xf,
    truncated: (flags & FLAG_TC) !== 0,
    rcode: flags & 0xf,
    qdcount: buf.readUInt16BE(4),
    ancount: buf.readUInt16BE(6),
    nscount: buf.readUInt16BE(8),
    arcount: buf.readUInt16BE(10),
  };
}

/**
 * Reads a (possibly compressed) domain name; returns it absolute (trailing dot) and the offset
 * after it in the record (not after the compression target).
 */
export function readName(buf: Buffer, offset: number): { name: string; end: number } {
  const labels: string[] = [];
  let at = offset;
  let end = -1;
  // Each pointer must go backwards, so a loop of pointers cannot run forever.
  let limit = offset;
  for (;;) {
    const len = byteAt(buf, at);
    if (len === 0) {
      if (end < 0) end = at + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      const target = ((len & 0x3f) << 8) | byteAt(buf, at + 1);
      if (end < 0) end = at + 2;
      if (target >= limit) throw new RangeError('DNS name compression pointer loops');
      limit = target;
      at = target;
      continue;
    }
    if (len > 63) throw new RangeError(`bad DNS label length ${len}`);
    if (at + 1 + len > buf.length) throw new RangeError('DNS name runs past the message');
    labels.push(buf.toString('latin1', at + 1, at + 1 + len));
    at += 1 + len;
  }
  return { name: `${labels.join('.')}.`, end };
}

/** The offset just after the resource record that starts at `offset`. */
function skipRecord(buf: Buffer, offset: number): number {
  const { end } = readName(buf, offset);
  if (end + 10 > buf.length) throw new RangeError('DNS record runs past the message');
  return end + 10 + buf.readUInt16BE(end + 8);
}

/**
 * Start offsets of the records of each section (question entries excluded: they are skipped).
 * Used to patch classes after encoding and to find the TSIG record of a reply.
 */
export function recordOffsets(buf: Buffer): { answers: number[]; authorities: number[]; additionals: number[]; end: number } {
  const header = readHeader(buf);
  let at = 12;
  for (let i = 0; i < header.qdcount; i++) at = readName(buf, at).end + 4;
  const section = (count: number): number[] => {
    const starts: number[] = [];
    for (let i = 0; i < count; i++) {
      starts.push(at);
      at = skipRecord(buf, at);
    }
    return starts;
  };
  const answers = section(header.ancount);
  const authorities = section(header.nscount);
  const additionals = section(header.arcount);
  if (at > buf.length) throw new RangeError('DNS message truncated');
  return { answers, authorities, additionals, end: at };
}

/**
 * An UPDATE message for `set` (RFC 2136 §2): the zone section names the zone, the update section
 * adds the records (class IN, the set's TTL) or deletes exactly these records (class NONE, TTL 0,
 * RFC 2136 §2.5.4). Both are idempotent on the server: adding a present record or deleting an
 * absent one is a no-op that still answers NOERROR. No prerequisites are sent.
 */
export function encodeUpdate(id: number, op: 'add' | 'remove', set: RecordSet): Buffer {
  const buf = dnsPacket.encode({
    id,
    type: 'query',
    flags: OPCODE_UPDATE << 11,
    questions: [{ name: set.zone, type: 'SOA', class: 'IN' }],
    authorities: set.records.map((data) => ({
      name: set.name,
      type: set.type,
      class: 'IN' as const,
      ttl: op === 'add' ? set.ttl : 0,
      data,
    })),
  });
  if (op === 'remove') {
    // dns-packet has no class NONE (it would write 0), so encode IN and patch the class field,
    // which follows the owner name and the 2-byte type.
    for (const start of recordOffsets(buf).authorities) {
      buf.writeUInt16BE(CLASS_NONE, readName(buf, start).end + 2);
    }
  }
  return buf;
}

/** A plain, non-recursive query. */
export function encodeQuery(id: number, name: string, type: RecordType): Buffer {
  return dnsPacket.encode({ id, type: 'query', flags: 0, questions: [{ name, type, class: 'IN' }] });
}

/** The answer records of `name`/`type` in a reply: addresses, or absolute PTR targets. */
export function answersOf(reply: Buffer, name: string, type: RecordType): string[] {
  const wanted = absolute(name).toLowerCase();
  const out: string[] = [];
  for (const answer of dnsPacket.decode(reply).answers ?? []) {
    if (answer.type !== type || absolute(answer.name).toLowerCase() !== wanted) continue;
    if (typeof answer.data !== 'string') continue;
    out.push(type === 'PTR' ? absolute(answer.data) : answer.data);
  }
  return out;
}

/** `name` with exactly one trailing dot (dns-packet decodes names without it). */
export function absolute(name: string): string {
  return name.endsWith('.') ? name : `${name}.`;
}

/**
 * A name in canonical wire form (RFC 4034 §6.2: uncompressed, lowercase), as TSIG digests need
 * for the key and algorithm names.
 */
export function canonicalName(name: string): Buffer {
  const labels = name
    .toLowerCase()
    .split('.')
    .filter((label) => label !== '');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'latin1');
    if (bytes.length > 63) throw new RangeError(`DNS label too long: ${label}`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function byteAt(buf: Buffer, offset: number): number {
  const value = buf[offset];
  if (value === undefined) throw new RangeError('DNS name runs past the message');
  return value;
}
