import { KeystoneSignInError, type KeystoneSession } from '@nucleon/core';
import { DnsDriverError } from '../driver.js';

/** How requests leave: per-request timeout, and the driver's close signal. */
export interface HttpSettings {
  readonly timeoutMs: number;
  readonly closing: AbortSignal;
}

/** A Designate answer outside 2xx; `status` and Designate's error `type` let callers tell 404s and 409s apart. */
export class DesignateApiError extends DnsDriverError {
  constructor(
    message: string,
    readonly status: number,
    readonly type: string | undefined,
  ) {
    // Server-side and throttling failures may pass; other 4xx need someone to change something.
    super(message, status >= 500 || status === 408 || status === 429);
    this.name = 'DesignateApiError';
  }
}

/** `fetch` with the per-request timeout and the close signal; network failures become retryable driver errors. */
async function send(
  url: string,
  init: RequestInit,
  http: HttpSettings,
  what: string,
): Promise<{ status: number; headers: Headers; text: string }> {
  const signal = AbortSignal.any([http.closing, AbortSignal.timeout(http.timeoutMs)]);
  try {
    const response = await fetch(url, { ...init, signal });
    return { status: response.status, headers: response.headers, text: await response.text() };
  } catch (error) {
    if (http.closing.aborted) throw new DnsDriverError(`${what}: the driver is closed`, true);
    if (signal.aborted) throw new DnsDriverError(`${what}: no answer within ${http.timeoutMs} ms`, true);
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const detail = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new DnsDriverError(`${what}: ${new URL(url).host} unreachable (${detail})`, true);
  }
}

/** The message of Designate's error body (`{code, type, message, request_id}`). */
function explain(text: string): { type?: string; message: string } {
  try {
    const body = JSON.parse(text) as { type?: unknown; message?: unknown };
    const type = typeof body.type === 'string' ? body.type : undefined;
    if (typeof body.message === 'string') return { type, message: body.message };
    if (type) return { type, message: type };
  } catch {
    // not JSON: fall through to the raw text
  }
  return { message: text.trim().slice(0, 300) || '(empty body)' };
}

/** What a call sends besides the token. */
export interface CallOptions {
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Designate's v2 REST API as the service user; a refused token is renewed once. */
export class DesignateClient {
  private readonly base: string;

  constructor(
    url: string,
    private readonly session: KeystoneSession,
    private readonly http: HttpSettings,
  ) {
    const trimmed = url.replace(/\/+$/, '');
    this.base = /\/v2$/.test(trimmed) ? trimmed : `${trimmed}/v2`;
  }

  /** `path` is relative to the versioned endpoint (`/zones?name=…`), or an absolute `links.next`. */
  async call<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
    const url = /^https?:\/\//.test(path) ? path : `${this.base}${path}`;
    const what = `Designate ${method} ${new URL(url).pathname}${new URL(url).search}`;
    let token = await this.token();
    let reply = await this.send(method, url, token, options, what);
    if (reply.status === 401) {
      this.session.invalidate(token);
      token = await this.token();
      reply = await this.send(method, url, token, options, what);
    }
    if (reply.status >= 200 && reply.status < 300) {
      if (reply.text === '') return undefined as T;
      try {
        return JSON.parse(reply.text) as T;
      } catch {
        throw new DnsDriverError(`${what}: Designate answered ${reply.status} with a body that is not JSON`, true);
      }
    }
    const { type, message } = explain(reply.text);
    const requestId = reply.headers.get('x-openstack-request-id');
    throw new DesignateApiError(
      `${what} failed: ${reply.status} ${type ? `${type}: ` : ''}${message}${requestId ? ` (request ${requestId})` : ''}`,
      reply.status,
      type,
    );
  }

  /** The service user's token; a sign-in that fails is a driver error (retryable unless refused). */
  private async token(): Promise<string> {
    try {
      return await this.session.token();
    } catch (error) {
      if (error instanceof KeystoneSignInError) throw new DnsDriverError(error.message, error.retryable);
      throw error;
    }
  }

  private send(method: string, url: string, token: string, options: CallOptions, what: string) {
    const headers: Record<string, string> = { accept: 'application/json', 'x-auth-token': token, ...options.headers };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    return send(url, { method, headers, ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }) }, this.http, what);
  }
}
