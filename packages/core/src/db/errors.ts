/** PostgreSQL error codes Nucleon reacts to (both PGlite and node-postgres expose `code`). */
export const PG_UNIQUE_VIOLATION = '23505';
export const PG_FOREIGN_KEY_VIOLATION = '23503';
const RETRIABLE = new Set(['40001', '40P01', PG_UNIQUE_VIOLATION]);

/** The PostgreSQL error behind `error` (drizzle wraps driver errors in `DrizzleQueryError`). */
export function pgError(error: unknown): { code: string; constraint?: string; detail?: string } | undefined {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
      return e as { code: string; constraint?: string; detail?: string };
    }
  }
  return undefined;
}

/** True for a unique-constraint violation, optionally of one named constraint. */
export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const pg = pgError(error);
  return pg?.code === PG_UNIQUE_VIOLATION && (constraint === undefined || pg.constraint === constraint);
}

/** Serialisation failures, deadlocks and lost insert races: running the unit of work again may succeed. */
export function isRetriableDbError(error: unknown): boolean {
  const pg = pgError(error);
  return pg !== undefined && RETRIABLE.has(pg.code);
}
