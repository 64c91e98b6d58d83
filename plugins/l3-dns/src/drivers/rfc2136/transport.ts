/**
 * One DNS exchange with one server: UDP first, TCP when the message does not fit in 512 bytes or
 * the UDP reply comes back truncated (RFC 1035 §4.2, RFC 7766). No retries here: the outbox
 * retries the whole change with backoff.
 */
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { Socket } from 'node:net';
import { DnsDriverError } from '../driver.js';
import { UDP_MAX, readHeader } from './message.js';

export interface Endpoint {
  readonly server: string;
  readonly port: number;
  /** Per attempt (the UDP try and the TCP try each get the whole time). */
  readonly timeoutMs: number;
  /** Always TCP (servers behind UDP-hostile middleboxes; tests). */
  readonly forceTcp: boolean;
}

/** Sends `message` and returns the reply with the same id. */
export async function exchange(endpoint: Endpoint, message: Buffer, signal: AbortSignal): Promise<Buffer> {
  const id = message.readUInt16BE(0);
  const { address, family } = await resolve(endpoint.server);
  if (!endpoint.forceTcp && message.length <= UDP_MAX) {
    const reply = await attempt(endpoint, 'UDP', signal, (settle) => udp(address, family, endpoint.port, message, id, settle));
    if (!readHeader(reply).truncated) return reply;
  }
  return attempt(endpoint, 'TCP', signal, (settle) => tcp(address, endpoint.port, message, id, settle));
}

type Settle = (result: Buffer | Error) => void;
/** Starts an attempt; returns how to release its socket. */
type Start = (settle: Settle) => () => void;

/** Runs one attempt with a timeout and the driver's abort signal; errors become DnsDriverErrors. */
function attempt(endpoint: Endpoint, protocol: string, signal: AbortSignal, start: Start): Promise<Buffer> {
  const where = `DNS server ${endpoint.server}:${endpoint.port} (${protocol})`;
  return new Promise<Buffer>((resolvePromise, reject) => {
    let done = false;
    let release = (): void => {};
    const settle: Settle = (result) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      release();
      if (result instanceof DnsDriverError) reject(result);
      else if (result instanceof Error) reject(new DnsDriverError(`${where}: ${result.message}`, true));
      else resolvePromise(result);
    };
    const onAbort = (): void => settle(new DnsDriverError(`${where}: the driver was closed`, true));
    const timer = setTimeout(() => settle(new Error(`no reply within ${endpoint.timeoutMs} ms`)), endpoint.timeoutMs);
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort);
    release = start(settle);
    if (done) release();
  });
}

function udp(address: string, family: number, port: number, message: Buffer, id: number, settle: Settle): () => void {
  const socket = createSocket(family === 6 ? 'udp6' : 'udp4');
  socket.on('error', settle);
  // A reply with another id is a stale or spoofed datagram: keep waiting for ours.
  socket.on('message', (reply) => {
    if (reply.length >= 12 && reply.readUInt16BE(0) === id) settle(reply);
  });
  // A connected socket only receives datagrams from the server, and gets ECONNREFUSED when
  // nothing listens there (an ICMP port unreachable) instead of waiting for the timeout.
  socket.connect(port, address, () => socket.send(message, (error) => error && settle(error)));
  return () => socket.close();
}

function tcp(address: string, port: number, message: Buffer, id: number, settle: Settle): () => void {
  const socket = new Socket();
  let received = Buffer.alloc(0);
  socket.on('error', settle);
  socket.on('data', (chunk) => {
    received = Buffer.concat([received, chunk]);
    // Each message is prefixed with its 2-byte length (RFC 1035 §4.2.2).
    while (received.length >= 2 && received.length >= 2 + received.readUInt16BE(0)) {
      const reply = received.subarray(2, 2 + received.readUInt16BE(0));
      received = received.subarray(2 + reply.length);
      if (reply.length >= 12 && reply.readUInt16BE(0) === id) return settle(reply);
    }
  });
  socket.on('end', () => settle(new Error('connection closed before the reply')));
  const length = Buffer.alloc(2);
  length.writeUInt16BE(message.length);
  // write, not end: some servers drop a half-closed connection before answering.
  socket.connect(port, address, () => socket.write(Buffer.concat([length, message])));
  return () => socket.destroy();
}

async function resolve(server: string): Promise<{ address: string; family: number }> {
  try {
    return await lookup(server);
  } catch (error) {
    throw new DnsDriverError(`DNS server ${server}: cannot resolve (${(error as Error).message})`, true);
  }
}
