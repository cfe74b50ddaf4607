/**
 * A bounded map whose entries expire: the introspection results of one
 * policy, by token hash. At most `capacity` entries; when full, the least
 * recently used goes (a Map keeps insertion order, and a hit is re-inserted
 * at the end). Expired entries are dropped when looked up or evicted.
 */
export interface Expiring {
  /** Epoch ms after which the entry is not used. */
  readonly expiresAt: number;
}

/** The LRU of one policy's cached results. */
export class ExpiringLru<V extends Expiring> {
  private readonly map = new Map<string, V>();

  constructor(private readonly capacity: number) {}

  /** The live entry for `key` (marked most recently used), or undefined. */
  get(key: string, now: number): V | undefined {
    const v = this.map.get(key);
    if (v === undefined) return undefined;
    this.map.delete(key);
    if (v.expiresAt <= now) return undefined;
    // why: delete + set moves the key to the end of the Map's order, which is
    // all an LRU needs; no linked list of our own.
    this.map.set(key, v);
    return v;
  }

  /** Stores `value` unless it is already expired or the capacity is 0. */
  set(key: string, value: V, now: number): void {
    if (value.expiresAt <= now || this.capacity === 0) return;
    this.map.delete(key);
    if (this.map.size >= this.capacity) {
      // The oldest insertion is the least recently used.
      const oldest = this.map.keys().next();
      if (oldest.done !== true) this.map.delete(oldest.value);
    }
    this.map.set(key, value);
  }

  /** Entries held (expired ones not yet dropped included). */
  get size(): number {
    return this.map.size;
  }

  clear(): void {
    this.map.clear();
  }
}
