import { PGlite, parse as wire, protocol, TransactionAbortedError, types, type QueryOptions, type Results } from '@electric-sql/pglite';

/**
 * Types drizzle's PGlite driver wants as text (it maps them itself). drizzle passes parsers saying
 * so with every query, and PGlite merges those into its ~300 default parsers on each call, which
 * costs about as much as a small query. They are installed once on the instance instead.
 */
const DRIZZLE_TEXT_TYPES = [types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE, 1231, 1115, 1185, 1187, 1182];
const asText = (value: string) => value;

/** Statements worth preparing: DML, which the API runs over and over with new parameters. */
const PREPARABLE = /^\s*(select|insert|update|delete|with)\b/i;
const READ_ONLY = /^\s*select\b/i;
/** Prepared statements kept per database; past this, statements run unnamed. */
const MAX_STATEMENTS = 2000;
const NO_SYNC = { syncToFs: false };

function withoutInstalledParsers(options?: QueryOptions): QueryOptions | undefined {
  const parsers = options?.parsers;
  if (!parsers || !Object.keys(parsers).every((oid) => DRIZZLE_TEXT_TYPES.includes(Number(oid)))) return options;
  const { parsers: _installed, ...rest } = options;
  return rest;
}

/** The query interface drizzle's PGlite driver uses (a PGlite instance or a transaction). */
export interface PgliteQueryable {
  query<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>>;
}

/**
 * Nucleon's session on an embedded PGlite database, handed to drizzle in place of the PGlite
 * instance. PGlite is one PostgreSQL session; this class owns it:
 *
 * - Statements and transactions run one at a time, in arrival order.
 * - DML is prepared once per SQL text (a named statement) and then only bound and executed:
 *   PostgreSQL parses and plans it once, which more than halves the cost of a typical query.
 * - `generation` counts changes: it moves on every statement that may write, and when a
 *   transaction that wrote ends, so readers can cache what they rendered until it moves (this
 *   process is the only writer of an embedded database).
 */
export class PgliteConnection implements PgliteQueryable {
  private tail: Promise<unknown> = Promise.resolve();
  private readonly statements = new Map<string, { name: string; types: number[] }>();
  /** Moves whenever the database may have changed. */
  generation = 0;

  constructor(readonly pg: PGlite) {
    for (const oid of DRIZZLE_TEXT_TYPES) pg.parsers[oid] = asText;
  }

  /** Runs `work` when everything queued before it has finished. */
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** One statement over the wire protocol (the caller holds the session). */
  private execute<T>(text: string, params: readonly unknown[] = [], queryOptions?: QueryOptions): Promise<Results<T>> {
    const options = withoutInstalledParsers(queryOptions);
    const serialize = protocol.serialize;
    return this.pg.runExclusive(async () => {
      const messages = [];
      try {
        if (params.length === 0 && !PREPARABLE.test(text)) {
          messages.push(...(await this.pg.execProtocolStream(serialize.query(text), NO_SYNC)));
        } else {
          let statement = this.statements.get(text);
          let name = statement?.name ?? '';
          if (!statement) {
            const named = PREPARABLE.test(text) && this.statements.size < MAX_STATEMENTS;
            name = named ? `nucleon_${this.statements.size}` : '';
            await this.pg.execProtocolStream(serialize.parse({ name, text }), NO_SYNC);
            const types = wire.parseDescribeStatementResults(
              await this.pg.execProtocolStream(serialize.describe({ type: 'S', name }), NO_SYNC),
            );
            statement = { name, types };
            if (named) this.statements.set(text, statement);
          }
          const values = params.map((value, i) => {
            if (value === null || value === undefined) return null;
            const serializer = this.pg.serializers[statement!.types[i]!];
            return serializer ? serializer(value) : String(value);
          });
          messages.push(...(await this.pg.execProtocolStream(serialize.bind({ statement: name, values }), NO_SYNC)));
          messages.push(...(await this.pg.execProtocolStream(serialize.describe({ type: 'P' }), NO_SYNC)));
          messages.push(...(await this.pg.execProtocolStream(serialize.execute({}), NO_SYNC)));
        }
      } finally {
        messages.push(...(await this.pg.execProtocolStream(serialize.sync(), NO_SYNC)));
      }
      const results = wire.parseResults(messages, this.pg.parsers, options);
      return results[results.length - 1] as Results<T>;
    });
  }

  /** A statement on its own (autocommit). */
  query<T>(text: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
    return this.exclusive(async () => {
      try {
        return await this.execute<T>(text, params, options);
      } finally {
        if (!READ_ONLY.test(text)) this.generation++;
      }
    });
  }

  /** A transaction: nothing else runs on the session until it commits or rolls back. */
  transaction<T>(work: (tx: PgliteQueryable) => Promise<T>): Promise<T> {
    return this.exclusive(async () => {
      let open = true;
      let wrote = false;
      const tx: PgliteQueryable = {
        query: (text, params, options) => {
          if (!open) throw new Error('Transaction is closed');
          if (!READ_ONLY.test(text)) wrote = true;
          return this.execute(text, params, options);
        },
      };
      await this.execute('BEGIN');
      try {
        const result = await work(tx);
        open = false;
        const commit = await this.execute('COMMIT');
        if ((commit as Results & { command?: string }).command === 'ROLLBACK') throw new TransactionAbortedError();
        return result;
      } catch (error) {
        if (open) {
          open = false;
          await this.execute('ROLLBACK');
        }
        throw error;
      } finally {
        // A transaction that only read changed nothing cached readers depend on.
        if (wrote) {
          this.generation++;
          await this.pg.syncToFs();
        }
      }
    });
  }

  /** Closes the database once queued work has finished. */
  close(): Promise<void> {
    return this.exclusive(() => this.pg.close());
  }
}
