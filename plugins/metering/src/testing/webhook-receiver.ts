/**
 * A real HTTP receiver of usage events for tests (and a reference for billing systems): it checks
 * each request's signature, can be told to fail deliveries, and de-duplicates on the event id as
 * a receiver of an at-least-once stream must.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, verifySignature } from '../sinks/webhook.js';

/** A CloudEvent as received (its `data` is the oslo.messaging message). */
export interface ReceivedEvent {
  readonly specversion: string;
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly subject: string;
  readonly time: string;
  readonly projectid: string;
  readonly data: Record<string, unknown> & { payload: Record<string, unknown>; message_id: string; event_type: string; timestamp: string };
}

/**
 * What to do with one delivery attempt: `ok` (store, 204), `fail` (503, not stored),
 * `lose-answer` (store, then answer 500, as if the answer got lost: the sender retries and the
 * receiver sees the event twice), `hang` (never answer).
 */
export type Verdict = 'ok' | 'fail' | 'lose-answer' | 'hang';

export interface WebhookReceiver {
  readonly url: string;
  readonly secret: string;
  /** Every attempt that reached the handler, in arrival order (duplicates included). */
  readonly attempts: ReadonlyArray<{ readonly id: string; readonly verdict: Verdict | 'bad-signature' }>;
  /** Events stored, de-duplicated on `id`, in the order first stored. */
  events(): ReceivedEvent[];
  /** How many stored deliveries were duplicates of an event already stored. */
  duplicates(): number;
  /** Decides each attempt (default: all `ok`). */
  decide(verdict: (event: ReceivedEvent, attempt: number) => Verdict): void;
  /** Answers every request still hanging (with a 503) and stops listening. */
  close(): Promise<void>;
}

/** Starts a receiver on 127.0.0.1 (a free port unless `port` is given) checking signatures made with `secret`. */
export async function startWebhookReceiver(secret: string, port = 0): Promise<WebhookReceiver> {
  const stored = new Map<string, ReceivedEvent>();
  let duplicates = 0;
  const attempts: Array<{ id: string; verdict: Verdict | 'bad-signature' }> = [];
  const attemptsOf = new Map<string, number>();
  const hanging = new Set<ServerResponse>();
  let verdictOf: (event: ReceivedEvent, attempt: number) => Verdict = () => 'ok';

  const store = (event: ReceivedEvent) => {
    if (stored.has(event.id)) duplicates++;
    else stored.set(event.id, event);
  };

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const signature = request.headers[SIGNATURE_HEADER];
    if (!verifySignature(secret, typeof signature === 'string' ? signature : undefined, body)) {
      attempts.push({ id: '', verdict: 'bad-signature' });
      response.writeHead(401).end('bad signature');
      return;
    }
    const event = JSON.parse(body) as ReceivedEvent;
    const attempt = (attemptsOf.get(event.id) ?? 0) + 1;
    attemptsOf.set(event.id, attempt);
    const verdict = verdictOf(event, attempt);
    attempts.push({ id: event.id, verdict });
    switch (verdict) {
      case 'ok':
        store(event);
        response.writeHead(204).end();
        return;
      case 'fail':
        response.writeHead(503).end('try again later');
        return;
      case 'lose-answer':
        store(event);
        response.writeHead(500).end('stored, but the answer is lost');
        return;
      case 'hang':
        hanging.add(response);
        response.once('close', () => hanging.delete(response));
    }
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.writeHead(400).end());
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}/usage`,
    secret,
    attempts,
    events: () => [...stored.values()],
    duplicates: () => duplicates,
    decide: (verdict) => {
      verdictOf = verdict;
    },
    close: async () => {
      for (const response of hanging) response.writeHead(503).end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
