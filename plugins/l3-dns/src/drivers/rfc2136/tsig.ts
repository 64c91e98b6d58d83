/**
 * TSIG (RFC 8945) with node:crypto HMAC: signs requests and checks the server's signature on
 * replies. No npm package does TSIG (see docs/dns-ci.md), and it is short.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CLASS_ANY, canonicalName, readHeader, readName, recordOffsets } from './message.js';

export type TsigAlgorithm = 'hmac-sha256' | 'hmac-sha512' | 'hmac-sha1';

const HASHES: Record<TsigAlgorithm, string> = {
  'hmac-sha256': 'sha256',
  'hmac-sha512': 'sha512',
  'hmac-sha1': 'sha1',
};

export function isTsigAlgorithm(value: string): value is TsigAlgorithm {
  return Object.hasOwn(HASHES, value);
}

/** TSIG error codes (RFC 8945 §4.3), carried in the TSIG record of a NOTAUTH reply. */
export const TSIG_ERROR = { BADSIG: 16, BADKEY: 17, BADTIME: 18, BADTRUNC: 22 } as const;

const TYPE_TSIG = 250;
/** Seconds of clock difference allowed either way; 300 is what RFC 8945 §10 recommends. */
const FUDGE = 300;

export interface TsigKey {
  readonly name: string;
  readonly algorithm: TsigAlgorithm;
  readonly secret: Buffer;
}

/** Fields of a TSIG RDATA that the digest covers besides the message. */
interface TsigFields {
  readonly timeSigned: number;
  readonly fudge: number;
  readonly error: number;
  readonly other: Buffer;
}

/**
 * Appends a TSIG record to `message` (whose id is the original id) and returns the signed message
 * and its MAC, which the reply's MAC covers (RFC 8945 §5.3).
 */
export function signRequest(message: Buffer, key: TsigKey, now = Date.now()): { signed: Buffer; mac: Buffer } {
  const fields: TsigFields = { timeSigned: Math.floor(now / 1000), fudge: FUDGE, error: 0, other: Buffer.alloc(0) };
  const mac = hmac(key, [message, variables(key, fields)]);
  const record = tsigRecord(key, fields, mac, message.readUInt16BE(0));
  const signed = Buffer.concat([message, record]);
  signed.writeUInt16BE(readHeader(message).arcount + 1, 10);
  return { signed, mac };
}

/** What the TSIG record of a reply says, and why the reply cannot be trusted, if it cannot. */
export interface ReplyTsig {
  /** The TSIG error field (0 when absent). */
  readonly error: number;
  /** Undefined when the reply is signed with our key and the MAC and time check out. */
  readonly problem?: string;
}

/** Checks the TSIG record that must end a reply to a signed request (RFC 8945 §5.3). */
export function checkReply(reply: Buffer, requestMac: Buffer, key: TsigKey, now = Date.now()): ReplyTsig {
  const start = recordOffsets(reply).additionals.at(-1);
  if (start === undefined) return { error: 0, problem: 'the reply is not TSIG-signed' };
  const owner = readName(reply, start);
  let at = owner.end;
  if (reply.readUInt16BE(at) !== TYPE_TSIG) return { error: 0, problem: 'the reply is not TSIG-signed' };
  const rdataEnd = at + 10 + reply.readUInt16BE(at + 8);
  at += 10;
  const algorithm = readName(reply, at);
  at = algorithm.end;
  const timeSigned = reply.readUIntBE(at, 6);
  const fudge = reply.readUInt16BE(at + 6);
  const macSize = reply.readUInt16BE(at + 8);
  const mac = reply.subarray(at + 10, at + 10 + macSize);
  at += 10 + macSize;
  const originalId = reply.readUInt16BE(at);
  const error = reply.readUInt16BE(at + 2);
  const otherLen = reply.readUInt16BE(at + 4);
  const other = reply.subarray(at + 6, at + 6 + otherLen);
  if (at + 6 + otherLen !== rdataEnd || rdataEnd > reply.length) {
    return { error, problem: 'the reply has a malformed TSIG record' };
  }
  if (!sameName(owner.name, key.name) || !sameName(algorithm.name, key.algorithm)) {
    return { error, problem: `the reply is signed with another key (${owner.name} ${algorithm.name})` };
  }
  // BADSIG and BADKEY replies carry no MAC (RFC 8945 §5.3.2): the server could not sign.
  if (macSize === 0) return { error, problem: 'the reply carries no MAC' };
  // The MAC covers the reply as it was before the TSIG record was added: without it in ARCOUNT,
  // and with the original id.
  const unsigned = Buffer.from(reply.subarray(0, start));
  unsigned.writeUInt16BE(originalId, 0);
  unsigned.writeUInt16BE(readHeader(reply).arcount - 1, 10);
  const macLength = Buffer.alloc(2);
  macLength.writeUInt16BE(requestMac.length);
  const fields: TsigFields = { timeSigned, fudge, error, other };
  const expected = hmac(key, [macLength, requestMac, unsigned, variables(key, fields)]);
  if (expected.length !== mac.length || !timingSafeEqual(expected, mac)) {
    return { error, problem: 'the reply MAC does not verify' };
  }
  if (Math.abs(Math.floor(now / 1000) - timeSigned) > fudge) {
    return { error, problem: `the reply was signed at ${timeSigned}, outside the ${fudge} s fudge of local time` };
  }
  return { error };
}

/** The TSIG variables (RFC 8945 §4.3.3) that follow the message in the digest. */
function variables(key: TsigKey, fields: TsigFields): Buffer {
  const fixed = Buffer.alloc(6);
  fixed.writeUInt16BE(CLASS_ANY, 0);
  fixed.writeUInt32BE(0, 2); // TTL
  const tail = Buffer.alloc(12);
  tail.writeUIntBE(fields.timeSigned, 0, 6);
  tail.writeUInt16BE(fields.fudge, 6);
  tail.writeUInt16BE(fields.error, 8);
  tail.writeUInt16BE(fields.other.length, 10);
  return Buffer.concat([canonicalName(key.name), fixed, canonicalName(key.algorithm), tail, fields.other]);
}

function tsigRecord(key: TsigKey, fields: TsigFields, mac: Buffer, originalId: number): Buffer {
  const algorithm = canonicalName(key.algorithm);
  const rdata = Buffer.alloc(algorithm.length + 16 + mac.length + fields.other.length);
  let at = algorithm.copy(rdata, 0);
  rdata.writeUIntBE(fields.timeSigned, at, 6);
  rdata.writeUInt16BE(fields.fudge, at + 6);
  rdata.writeUInt16BE(mac.length, at + 8);
  at += 10 + mac.copy(rdata, at + 10);
  rdata.writeUInt16BE(originalId, at);
  rdata.writeUInt16BE(fields.error, at + 2);
  rdata.writeUInt16BE(fields.other.length, at + 4);
  fields.other.copy(rdata, at + 6);
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(TYPE_TSIG, 0);
  fixed.writeUInt16BE(CLASS_ANY, 2);
  fixed.writeUInt32BE(0, 4);
  fixed.writeUInt16BE(rdata.length, 8);
  return Buffer.concat([canonicalName(key.name), fixed, rdata]);
}

function hmac(key: TsigKey, parts: Buffer[]): Buffer {
  const h = createHmac(HASHES[key.algorithm], key.secret);
  for (const part of parts) h.update(part);
  return h.digest();
}

function sameName(a: string, b: string): boolean {
  return canonicalName(a).equals(canonicalName(b));
}
