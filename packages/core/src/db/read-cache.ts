import { LRUCache } from 'lru-cache';

/** A cached rendering and the change counter it was read at. */
interface Entry {
  readonly generation: number;
  readonly value: unknown;
  readonly size: number;
}

/**
 * Rendered reads of an embedded database, kept until its data changes. PGlite lives in this
 * process and only this process writes it, so its change counter (see `PgliteConnection`) says
 * exactly when a cached answer may be stale: any write statement or finished transaction moves it.
 * Under PostgreSQL, where other processes write too, there is no such cache.
 */
export class ReadCache {
  private readonly entries: LRUCache<string, Entry>;

  constructor(
    private readonly changes: () => number,
    maxBytes: number,
  ) {
    this.entries = new LRUCache({ maxSize: maxBytes, sizeCalculation: (entry) => Math.max(1, entry.size) });
  }

  /**
   * The cached value for `key`, or `load()`'s — kept when nothing changed while it ran. `size`
   * is what the value weighs against the cache's budget (the length of its JSON text).
   */
  async through<T>(key: string, load: () => Promise<T>, size: (value: T) => number): Promise<T> {
    const generation = this.changes();
    const hit = this.entries.get(key);
    if (hit && hit.generation === generation) return hit.value as T;
    const value = await load();
    if (value !== undefined && this.changes() === generation) this.entries.set(key, { generation, value, size: size(value) });
    return value;
  }
}
