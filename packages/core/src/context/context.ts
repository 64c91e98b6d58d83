import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { isRetriableDbError } from '../db/errors.js';
import { RetryRequest } from '../errors/neutron-error.js';
import type { Runtime } from '../runtime.js';

/** Who is asking: the identity a request carries (from Keystone, or noauth's admin). */
export interface Identity {
  readonly userId?: string;
  readonly projectId?: string;
  /** Role names (`member`, `reader`, `admin`). */
  readonly roles: readonly string[];
  /** Whether the `context_is_admin` rule passes: admins see and change every project's resources. */
  readonly isAdmin: boolean;
  /** `all` for a system-scoped token. */
  readonly systemScope?: string;
}

interface TransactionState {
  readonly tx: Database;
  readonly afterCommit: Array<() => Promise<void> | void>;
  /** `resource:id` whose revision this transaction already bumped (once per transaction). */
  readonly bumped: Set<string>;
}

/** How often a unit of work that lost a race is run again before giving up. */
const MAX_ATTEMPTS = 10;

/**
 * The request context (neutron-lib's `Context`): identity, request id, logger and the unit of
 * work. Plugins pass it down every call; `ctx.db` is the open transaction when there is one.
 */
export class Context implements Identity {
  readonly requestId: string;
  readonly userId?: string;
  readonly projectId?: string;
  readonly roles: readonly string[];
  readonly isAdmin: boolean;
  readonly systemScope?: string;
  readonly log: Logger;
  /** `If-Match: revision_number=N` of the request, checked when the resource is changed. */
  revisionConstraint?: { resource: string; id: string; revision: number };
  private state?: TransactionState;

  constructor(
    readonly runtime: Runtime,
    identity: Identity,
    options: { requestId?: string; log?: Logger } = {},
  ) {
    this.requestId = options.requestId ?? `req-${randomUUID()}`;
    if (identity.userId !== undefined) this.userId = identity.userId;
    if (identity.projectId !== undefined) this.projectId = identity.projectId;
    this.roles = identity.roles;
    this.isAdmin = identity.isAdmin;
    if (identity.systemScope !== undefined) this.systemScope = identity.systemScope;
    this.log = options.log ?? runtime.log.child({ requestId: this.requestId });
  }

  /** An admin context for the runtime's own work (start-up tasks, janitors). */
  static admin(runtime: Runtime): Context {
    return new Context(runtime, { roles: ['admin'], isAdmin: true });
  }

  /** The context of an unauthenticated request (version discovery): no project, no roles. */
  static anonymous(runtime: Runtime, options: { requestId?: string; log?: Logger } = {}): Context {
    return new Context(runtime, { roles: [], isAdmin: false }, options);
  }

  /** An admin context sharing this one's request id and open transaction. */
  elevated(): Context {
    if (this.isAdmin) return this;
    const admin = new Context(this.runtime, { ...this, isAdmin: true, roles: [...this.roles, 'admin'] }, this);
    admin.state = this.state;
    return admin;
  }

  /** The open transaction, or the database when none is open. */
  get db(): Database {
    return this.state?.tx ?? this.runtime.db;
  }

  /** True while a transaction is open on this context. */
  get inTransaction(): boolean {
    return this.state !== undefined;
  }

  /**
   * Runs `work` in one transaction: joins the open one, or opens one, commits it, then runs the
   * after-commit callbacks. An outermost unit of work that loses a race (serialisation failure,
   * deadlock, duplicate insert, {@link RetryRequest}) is run again, as Neutron's DB retry does.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (this.state) return work();
    for (let attempt = 1; ; attempt++) {
      const afterCommit: TransactionState['afterCommit'] = [];
      try {
        const result = await this.runtime.db.transaction(async (tx) => {
          this.state = { tx: tx as unknown as Database, afterCommit, bumped: new Set() };
          try {
            return await work();
          } finally {
            this.state = undefined;
          }
        });
        for (const callback of afterCommit) await callback();
        return result;
      } catch (error) {
        const retriable = error instanceof RetryRequest || isRetriableDbError(error);
        if (!retriable || attempt >= MAX_ATTEMPTS) throw error;
        this.log.debug({ attempt, err: error }, 'unit of work lost a race; running it again');
        await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt));
      }
    }
  }

  /** Runs `callback` once the outermost transaction commits (right away when none is open). */
  afterCommit(callback: () => Promise<void> | void): void {
    if (this.state) this.state.afterCommit.push(callback);
    else
      Promise.resolve()
        .then(callback)
        .catch((err: unknown) => this.log.error({ err }, 'after-commit callback failed'));
  }

  /** True the first time `key` is marked in the open transaction (revision bumps happen once). */
  markOnce(key: string): boolean {
    if (!this.state) return true;
    if (this.state.bumped.has(key)) return false;
    this.state.bumped.add(key);
    return true;
  }
}
