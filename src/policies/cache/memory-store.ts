/**
 * The memory store: one per cache policy per worker, LRU by bytes. A Map
 * from store key to record plus an intrusive doubly linked list through the
 * records (most recently used at the head), so get, set, delete and evicting
 * the least recently used record are O(1). Sizes count the body, the
 * headers, the keys and a fixed per-record overhead (cache-entry.ts).
 * Records past their keepUntil are dropped when met (lookup) and otherwise
 * age out through the LRU order.
 *
 * Vary: a key whose responses vary holds a VaryMarker; its variants are kept
 * under secondary keys and leave with the marker (replaced, evicted, purged,
 * invalidated), and an evicted variant leaves the marker's list.
 */
import { CacheEntry, VaryMarker, type StoredRecord } from './cache-entry.js';
import { purgeMatches, type CacheStore, type PurgeMatch, type StoreStats } from './store.js';

/** An LRU-by-bytes store of cache records. */
export class MemoryStore implements CacheStore {
  readonly errors = 0;
  private readonly map = new Map<string, StoredRecord>();
  private head: StoredRecord | null = null;
  private tail: StoredRecord | null = null;
  private bytes = 0;
  private evictions = 0;

  /** @param maxBytes the most bytes held (records larger than this are not stored). */
  constructor(private readonly maxBytes: number) {}

  get(storeKey: string, now: number): StoredRecord | undefined {
    const r = this.map.get(storeKey);
    if (r === undefined) return undefined;
    if (r.keepUntil <= now) {
      this.remove(r);
      return undefined;
    }
    // why: the common case (a hot entry already first) skips the relinking.
    if (this.head !== r) {
      this.unlink(r);
      this.linkFirst(r);
    }
    return r;
  }

  set(storeKey: string, record: StoredRecord, _now: number): void {
    if (record.size > this.maxBytes) {
      this.delete(storeKey);
      return;
    }
    const old = this.map.get(storeKey);
    if (old !== undefined) {
      // A marker of the same epoch keeps its variants; anything else replaces them.
      if (old instanceof VaryMarker && record instanceof VaryMarker && old.epoch === record.epoch) {
        for (const v of old.variants) record.variants.add(v);
        old.variants.clear();
      }
      this.remove(old);
    }
    record.storeKey = storeKey;
    this.map.set(storeKey, record);
    this.linkFirst(record);
    this.bytes += record.size;
    if (record instanceof CacheEntry && record.varyNames !== null) {
      const marker = this.map.get(record.key);
      if (marker instanceof VaryMarker && marker.epoch === record.varyEpoch) {
        marker.variants.add(storeKey);
        // why: every variant is reached through its marker, so the marker is
        // at least as recent as its newest variant (else evicting it would
        // take the variant just stored along).
        this.unlink(marker);
        this.linkFirst(marker);
      }
    }
    while (this.bytes > this.maxBytes && this.tail !== null && this.tail !== record) {
      this.evictions++;
      this.remove(this.tail);
    }
  }

  delete(storeKey: string): void {
    const r = this.map.get(storeKey);
    if (r !== undefined) this.remove(r);
  }

  purge(match: PurgeMatch): Promise<number> {
    let n = 0;
    for (const r of [...this.map.values()]) {
      if (r.storeKey === '' || !purgeMatches(r, match)) continue;
      // A marker's variants may already have gone with an earlier match.
      if (this.map.get(r.storeKey) !== r) continue;
      n += this.remove(r);
    }
    return Promise.resolve(n);
  }

  stats(): StoreStats {
    return { bytes: this.bytes, entries: this.map.size, evictions: this.evictions };
  }

  status(): unknown {
    return { store: 'memory', entries: this.map.size, bytes: this.bytes, maxBytes: this.maxBytes };
  }

  close(): Promise<void> {
    this.map.clear();
    this.head = this.tail = null;
    this.bytes = 0;
    return Promise.resolve();
  }

  /** Removes a record (a marker with its variants); returns how many entries (not markers) went. */
  private remove(r: StoredRecord): number {
    if (this.map.get(r.storeKey) !== r) return 0;
    this.map.delete(r.storeKey);
    this.unlink(r);
    this.bytes -= r.size;
    let n = r instanceof CacheEntry ? 1 : 0;
    if (r instanceof VaryMarker) {
      for (const v of r.variants) {
        const variant = this.map.get(v);
        if (variant !== undefined) n += this.remove(variant);
      }
      r.variants.clear();
    } else if (r instanceof CacheEntry && r.varyNames !== null) {
      const marker = this.map.get(r.key);
      if (marker instanceof VaryMarker) marker.variants.delete(r.storeKey);
    }
    r.storeKey = '';
    return n;
  }

  private linkFirst(r: StoredRecord): void {
    r.lruPrev = null;
    r.lruNext = this.head;
    if (this.head !== null) this.head.lruPrev = r;
    this.head = r;
    if (this.tail === null) this.tail = r;
  }

  private unlink(r: StoredRecord): void {
    if (r.lruPrev !== null) r.lruPrev.lruNext = r.lruNext;
    else if (this.head === r) this.head = r.lruNext;
    if (r.lruNext !== null) r.lruNext.lruPrev = r.lruPrev;
    else if (this.tail === r) this.tail = r.lruPrev;
    r.lruPrev = r.lruNext = null;
  }
}
