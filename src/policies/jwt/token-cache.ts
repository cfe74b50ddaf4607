/**
 * A bounded map of verified tokens, so a token seen again costs one Map
 * lookup and one string compare instead of a signature check.
 *
 * Keyed by a 30-bit FNV-1a hash of the token's last 32 characters (its
 * signature) with the whole token stored in the entry and compared on every
 * hit: V8 hashes a string key by walking all of it, about 2 µs for a fresh
 * 500-character token sliced out of a header, against ~0.1 µs here. Two
 * tokens with the same hash simply take turns in one slot (a miss, never a
 * wrong hit: the compare is on the whole token); only verified tokens are
 * ever stored.
 *
 * Eviction is CLOCK (second chance), an approximation of LRU: a hit only
 * sets a flag on the entry (no reordering, no allocation); when the map is
 * full, the oldest entries whose flag is set get it cleared and move to the
 * back, and the first one without it is dropped.
 */

/** What the cache stores: the token it is for, and a `used` flag the cache sets and clears. */
export interface Cacheable {
  readonly token: string;
  used: boolean;
}

/** Characters of the token's end that are hashed (all of a short token). */
const HASHED_CHARS = 32;

/** The slot of `token`: FNV-1a over its last characters and its length, kept a small integer (Smi). */
export function tokenSlot(token: string): number {
  const n = token.length;
  let h = 0x811c9dc5 ^ n;
  for (let i = n > HASHED_CHARS ? n - HASHED_CHARS : 0; i < n; i++) {
    h ^= token.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h & 0x3fffffff;
}

/** A bounded token → entry map with CLOCK eviction. */
export class TokenCache<V extends Cacheable> {
  private readonly map = new Map<number, V>();

  /** @param max most entries (0 = cache nothing). */
  constructor(readonly max: number) {}

  /** Entries held. */
  get size(): number {
    return this.map.size;
  }

  /** The entry of `token` (marked as used), or undefined. */
  get(token: string): V | undefined {
    const v = this.map.get(tokenSlot(token));
    if (v === undefined || v.token !== token) return undefined;
    // why: a flag instead of delete+set keeps a hit free of Map reordering.
    v.used = true;
    return v;
  }

  /** Stores `entry` (for `entry.token`), evicting one entry first when full. */
  set(entry: V): void {
    if (this.max === 0) return;
    const slot = tokenSlot(entry.token);
    if (!this.map.has(slot) && this.map.size >= this.max) this.evict();
    this.map.set(slot, entry);
  }

  /** Drops the entry of `token` (if that is the token in its slot). */
  delete(token: string): void {
    const slot = tokenSlot(token);
    if (this.map.get(slot)?.token === token) this.map.delete(slot);
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
      const slot = oldest.value;
      const e = map.get(slot)!;
      map.delete(slot);
      if (!e.used || n === 0) return;
      e.used = false;
      map.set(slot, e);
    }
  }
}
