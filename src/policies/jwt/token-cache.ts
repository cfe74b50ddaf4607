/**
 * A bounded map of verified tokens (keyed by the whole token string), so a
 * token seen again costs one Map lookup instead of a signature check.
 * Eviction is CLOCK (second chance), an approximation of LRU: a hit only
 * sets a flag on the entry (no reordering, no allocation); when the map is
 * full, the oldest entries whose flag is set get it cleared and move to the
 * back, and the first one without it is dropped.
 */

/** What the cache stores: anything with a `used` flag it may set and clear. */
export interface Cacheable {
  used: boolean;
}

/** A bounded token → entry map with CLOCK eviction. */
export class TokenCache<V extends Cacheable> {
  private readonly map = new Map<string, V>();

  /** @param max most entries (0 = cache nothing). */
  constructor(readonly max: number) {}

  /** Entries held. */
  get size(): number {
    return this.map.size;
  }

  /** The entry of `token` (marked as used), or undefined. */
  get(token: string): V | undefined {
    const v = this.map.get(token);
    // why: a flag instead of delete+set keeps a hit free of Map reordering.
    if (v !== undefined) v.used = true;
    return v;
  }

  /** Stores `entry` for `token`, evicting one entry first when full. */
  set(token: string, entry: V): void {
    if (this.max === 0) return;
    if (!this.map.has(token) && this.map.size >= this.max) this.evict();
    this.map.set(token, entry);
  }

  /** Drops the entry of `token`. */
  delete(token: string): void {
    this.map.delete(token);
  }

  /** Drops every entry. */
  clear(): void {
    this.map.clear();
  }

  /** CLOCK: give used entries a second chance (oldest first), drop the first unused one. */
  private evict(): void {
    const map = this.map;
    // Bounded: after one full pass every flag is clear.
    for (let n = map.size; n >= 0; n--) {
      const oldest = map.keys().next();
      if (oldest.done === true) return;
      const token = oldest.value;
      const e = map.get(token)!;
      map.delete(token);
      if (!e.used || n === 0) return;
      e.used = false;
      map.set(token, e);
    }
  }
}
