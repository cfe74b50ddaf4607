/**
 * The cache stores' one interface: the per-worker memory store
 * (memory-store.ts) and the shared Redis store (redis-store.ts). The memory
 * store answers synchronously; the Redis store with Promises that never
 * reject (a store failure is a miss, counted, never a failed request).
 */
import type { StoredRecord } from './cache-entry.js';

/** What a purge removes: entries whose primary key, or whose request path, starts with the prefix. */
export type PurgeMatch = { readonly keyPrefix: string } | { readonly pathPrefix: string };

/** Whether a record matches a purge. */
export function purgeMatches(record: { readonly key: string; readonly path: string }, m: PurgeMatch): boolean {
  return 'keyPrefix' in m ? record.key.startsWith(m.keyPrefix) : record.path.startsWith(m.pathPrefix);
}

/** Sizes for metrics (null where the store cannot tell, e.g. Redis). */
export interface StoreStats {
  readonly bytes: number;
  readonly entries: number;
  readonly evictions: number;
}

/** A cache store. */
export interface CacheStore {
  /** The record under `storeKey`, unless it is past its keepUntil at `now`. */
  get(storeKey: string, now: number): StoredRecord | undefined | Promise<StoredRecord | undefined>;
  /** Stores `record` under `storeKey` (replacing what was there). Fire and forget. */
  set(storeKey: string, record: StoredRecord, now: number): void;
  /** Removes what is under `storeKey` (a Vary marker takes its variants along where the store tracks them). */
  delete(storeKey: string): void;
  /** Removes every matching record; resolves with how many entries went (Vary markers are not counted). */
  purge(match: PurgeMatch): Promise<number>;
  /** Store failures so far (Redis: timeouts, refused connections, bad replies). */
  readonly errors: number;
  stats(): StoreStats | null;
  /** For `/readyz` details. */
  status(): unknown;
  close(): Promise<void>;
}
