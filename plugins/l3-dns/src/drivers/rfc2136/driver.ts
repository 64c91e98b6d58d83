import { randomInt } from 'node:crypto';
import { DnsDriverError, type DnsDriver, type RecordSet, type RecordType } from '../driver.js';
import { RCODE, answersOf, encodeQuery, encodeUpdate, readHeader } from './message.js';
import { TSIG_ERROR, checkReply, isTsigAlgorithm, signRequest, type ReplyTsig, type TsigAlgorithm, type TsigKey } from './tsig.js';
import { exchange, type Endpoint } from './transport.js';

/** Settings of the `rfc2136` driver: one primary server that accepts TSIG-signed updates. */
export interface Rfc2136Options {
  /** Host name or IP address of the primary server. */
  readonly server: string;
  /** Default 53. */
  readonly port?: number;
  /** The TSIG key name as the server knows it (`key "<name>" { … }` in BIND). */
  readonly tsigKeyName: string;
  /** Default `hmac-sha256`. */
  readonly tsigAlgorithm?: TsigAlgorithm;
  /** The shared secret, base64 (as in BIND's `secret "…";`). */
  readonly tsigSecret: string;
  /** Per attempt (UDP, then TCP if needed); default 5000. */
  readonly timeoutMs?: number;
  /** Always use TCP; default false (UDP, TCP for large or truncated messages). */
  readonly forceTcp?: boolean;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Publishes records with DNS UPDATE (RFC 2136) signed with TSIG (RFC 8945), and reads them back
 * with plain queries to the same server. Each call is one exchange and holds no socket between
 * calls.
 */
export class Rfc2136Driver implements DnsDriver {
  private readonly endpoint: Endpoint;
  private readonly key: TsigKey;
  private readonly closing = new AbortController();

  /** @throws TypeError for settings that cannot work (bad secret, algorithm or port). */
  constructor(options: Rfc2136Options) {
    const algorithm = options.tsigAlgorithm ?? 'hmac-sha256';
    if (!isTsigAlgorithm(algorithm)) throw new TypeError(`rfc2136: unsupported TSIG algorithm ${String(algorithm)}`);
    const secret = options.tsigSecret.replace(/\s+/g, '');
    if (secret === '' || !BASE64.test(secret)) throw new TypeError('rfc2136: tsigSecret is not base64');
    const port = options.port ?? 53;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`rfc2136: bad port ${port}`);
    if (options.tsigKeyName.replace(/\.$/, '') === '') throw new TypeError('rfc2136: tsigKeyName is empty');
    this.key = { name: options.tsigKeyName, algorithm, secret: Buffer.from(secret, 'base64') };
    this.endpoint = {
      server: options.server,
      port,
      timeoutMs: options.timeoutMs ?? 5000,
      forceTcp: options.forceTcp ?? false,
    };
  }

  add(set: RecordSet): Promise<void> {
    return this.update('add', set);
  }

  remove(set: RecordSet): Promise<void> {
    return this.update('remove', set);
  }

  async lookup(zone: string, name: string, type: RecordType): Promise<string[]> {
    const what = `lookup of ${name} ${type} (zone ${zone})`;
    const reply = await exchange(this.endpoint, encodeQuery(randomId(), name, type), this.closing.signal);
    const { rcode } = readHeader(reply);
    if (rcode === RCODE.NXDOMAIN) return [];
    if (rcode === RCODE.REFUSED) throw new DnsDriverError(`${what} failed: REFUSED: the server does not serve zone ${zone}`, false);
    if (rcode !== RCODE.NOERROR) throw new DnsDriverError(`${what} failed: the server answered rcode ${rcode}`, true);
    try {
      return answersOf(reply, name, type);
    } catch (error) {
      throw new DnsDriverError(`${what}: malformed reply (${(error as Error).message})`, true);
    }
  }

  async close(): Promise<void> {
    this.closing.abort();
  }

  private async update(op: 'add' | 'remove', set: RecordSet): Promise<void> {
    // Nothing to change; an UPDATE with an empty update section would only bump nothing.
    if (set.records.length === 0) return;
    const what = `DNS update (${op} ${set.name} ${set.type} ${set.records.join(' ')} in zone ${set.zone})`;
    const { signed, mac } = signRequest(encodeUpdate(randomId(), op, set), this.key);
    const reply = await exchange(this.endpoint, signed, this.closing.signal);
    let rcode: number;
    let tsig: ReplyTsig;
    try {
      rcode = readHeader(reply).rcode;
      tsig = checkReply(reply, mac, this.key);
    } catch (error) {
      throw new DnsDriverError(`${what}: malformed reply (${(error as Error).message})`, true);
    }
    if (rcode === RCODE.NOERROR && tsig.error === 0) {
      if (tsig.problem === undefined) return;
      // Retryable: a forged or mangled reply says nothing about the server; the next try may
      // reach it. A server that never signs needs an operator, and the message says so.
      throw new DnsDriverError(`${what}: NOERROR reply rejected, ${tsig.problem}`, true);
    }
    throw rcodeError(what, rcode, tsig, this.key, set.zone);
  }
}

/**
 * A clear error for a failed reply. `retryable` is false for what an operator must fix (key,
 * permissions, zone layout, clocks) and true for what may pass (server failures).
 */
function rcodeError(what: string, rcode: number, tsig: ReplyTsig, key: TsigKey, zone: string): DnsDriverError {
  const [text, retryable] = explain(rcode, tsig.error, key, zone);
  // BADSIG/BADKEY replies are unsigned by design (the server could not sign them); any other
  // failure reply that does not verify is reported, but it still fails the change.
  const expectedUnsigned = tsig.error === TSIG_ERROR.BADSIG || tsig.error === TSIG_ERROR.BADKEY;
  const note = tsig.problem !== undefined && !expectedUnsigned ? ` (unauthenticated reply: ${tsig.problem})` : '';
  return new DnsDriverError(`${what} failed: ${text}${note}`, retryable);
}

function explain(rcode: number, tsigError: number, key: TsigKey, zone: string): [string, boolean] {
  const keyText = `TSIG key "${key.name}" (${key.algorithm})`;
  switch (tsigError) {
    case TSIG_ERROR.BADSIG:
      return [`NOTAUTH/BADSIG: the server rejected the signature of ${keyText}; is the secret right?`, false];
    case TSIG_ERROR.BADKEY:
      return [`NOTAUTH/BADKEY: the server does not know ${keyText}`, false];
    case TSIG_ERROR.BADTIME:
      return ['NOTAUTH/BADTIME: the clocks of this host and the DNS server differ by more than 300 s', false];
    case TSIG_ERROR.BADTRUNC:
      return ['NOTAUTH/BADTRUNC: the server rejected a truncated MAC', false];
  }
  switch (rcode) {
    case RCODE.NOERROR:
      return [`TSIG error ${tsigError}`, false];
    case RCODE.FORMERR:
      return ['FORMERR: the server could not parse the message', false];
    case RCODE.SERVFAIL:
      return ['SERVFAIL: the server failed to process the request', true];
    case RCODE.NOTIMP:
      return ['NOTIMP: the server does not implement this request', false];
    case RCODE.REFUSED:
      return [`REFUSED: the server does not allow ${keyText} to update zone ${zone} (allow-update / update-policy)`, false];
    case RCODE.NOTAUTH:
      return [`NOTAUTH: the server is not authoritative (primary) for zone ${zone}`, false];
    case RCODE.NOTZONE:
      return [`NOTZONE: the name is not in zone ${zone}`, false];
    default:
      return [`the server answered rcode ${rcode}`, true];
  }
}

function randomId(): number {
  return randomInt(0, 0x10000);
}
