/**
 * The Redis store: entries shared by every worker and instance that uses the
 * same Redis and namespace. Layout (all names under `tp:c:<namespace>:`):
 *
 * - `v:<h>`: one string per record (entry-codec.ts), `h` = base64url of the
 *   SHA-256 of its store key, so key names hold no request data and have a
 *   fixed length; it expires (PX) at the record's keepUntil (freshness plus
 *   the stale windows);
 * - `i`: the purge index, a sorted set with two members per record,
 *   `k:<primary key>\n<t><h>` and `p:<request path>\n<t><h>` (`t` = `e` for
 *   an entry, `m` for a Vary marker), scored by keepUntil.
 *   Members past their score are trimmed every 100 stores
 *   (ZREMRANGEBYSCORE); a purge ZSCANs it with MATCH `k:<prefix>*` or
 *   `p:<prefix>*` (glob characters escaped) and UNLINKs the values found.
 *
 * Every failure (not connected, a reply slower than redis.commandTimeout, an
 * error reply, a value that does not decode) is a miss for the request and
 * counts in `errors`; after a timeout the store is not asked for 1 s (a
 * lookup then is a miss at once), so a hanging Redis costs one timeout per
 * second per worker, not one per request. Entries are not held in the
 * worker: each hit is one GET round trip.
 */
import { createHash } from 'node:crypto';
import type { RedisClientHandle } from '../../stores/redis-client.js';
import { VaryMarker, type StoredRecord } from './cache-entry.js';
import { decodeRecord, encodeRecord } from './entry-codec.js';
import type { CacheStore, PurgeMatch, StoreStats } from './store.js';

/** How long the store is skipped after a timed-out command, ms. */
const PAUSE_AFTER_TIMEOUT_MS = 1000;

/** Members scanned per ZSCAN call during a purge. */
const SCAN_COUNT = 1000;

/** Escapes Redis glob characters (`* ? [ ] \`) so a prefix matches literally. */
export function escapeGlob(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/** A cache store in Redis under one namespace; shares its connection with the worker's other Redis cache policies. */
export class RedisStore implements CacheStore {
  errors = 0;
  private readonly prefix: string;
  private readonly index: string;
  private sets = 0;
  private pausedUntil = 0;

  /**
   * @param redis the connection (createRedisClient with a commandTimeoutMs)
   * @param namespace the policy's namespace
   * @param onError told about each failure (for throttled logging)
   */
  constructor(private readonly redis: RedisClientHandle, readonly namespace: string, private readonly onError: (err: unknown) => void) {
    this.prefix = 'tp:c:' + namespace + ':';
    this.index = this.prefix + 'i';
  }

  /** The Redis key of a store key's value. */
  valueKey(storeKey: string): string {
    return this.prefix + 'v:' + hashKey(storeKey);
  }

  private usable(now: number): boolean {
    return this.redis.health.state === 'ready' && now >= this.pausedUntil;
  }

  private fail(err: unknown): void {
    this.errors++;
    if (err instanceof Error && /timed out/i.test(err.message)) this.pausedUntil = Date.now() + PAUSE_AFTER_TIMEOUT_MS;
    this.onError(err);
  }

  get(storeKey: string, now: number): StoredRecord | undefined | Promise<StoredRecord | undefined> {
    if (!this.usable(now)) {
      this.errors++;
      return undefined;
    }
    return this.redis.client.getBuffer(this.valueKey(storeKey)).then(
      (buf) => {
        if (buf === null) return undefined;
        const r = decodeRecord(buf);
        if (r === null) {
          this.fail(new Error('undecodable cache value under ' + this.valueKey(storeKey)));
          return undefined;
        }
        if (r.keepUntil <= now) return undefined;
        r.storeKey = storeKey;
        return r;
      },
      (err: unknown) => {
        this.fail(err);
        return undefined;
      },
    );
  }

  set(storeKey: string, record: StoredRecord, now: number): void {
    if (!this.usable(now)) {
      this.errors++;
      return;
    }
    const ttl = Math.max(1, Math.ceil(record.keepUntil - now));
    const h = hashKey(storeKey);
    const client = this.redis.client;
    const onError = (err: unknown): void => this.fail(err);
    client.set(this.prefix + 'v:' + h, encodeRecord(record), 'PX', ttl).catch(onError);
    const tail = '\n' + (record instanceof VaryMarker ? 'm' : 'e') + h;
    client.zadd(this.index, record.keepUntil, 'k:' + record.key + tail, record.keepUntil, 'p:' + record.path + tail).catch(onError);
    if (++this.sets % 100 === 0) client.zremrangebyscore(this.index, '-inf', now).catch(onError);
  }

  delete(storeKey: string): void {
    if (this.redis.health.state !== 'ready') return;
    this.redis.client.unlink(this.valueKey(storeKey)).catch((err: unknown) => this.fail(err));
  }

  /**
   * Scans the index for the prefix and removes the values found (and their
   * index members). Rejects when Redis fails (the admin answer says so).
   */
  async purge(match: PurgeMatch): Promise<number> {
    const pattern = ('keyPrefix' in match ? 'k:' + escapeGlob(match.keyPrefix) : 'p:' + escapeGlob(match.pathPrefix)) + '*';
    const client = this.redis.client;
    // Each value's hash, and whether it is an entry (counted) or a Vary marker.
    const found = new Map<string, boolean>();
    const members: string[] = [];
    let cursor = '0';
    do {
      const [next, items] = await client.zscan(this.index, cursor, 'MATCH', pattern, 'COUNT', SCAN_COUNT);
      for (let i = 0; i < items.length; i += 2) {
        const m = items[i];
        members.push(m);
        const at = m.lastIndexOf('\n');
        found.set(m.slice(at + 2), m.charCodeAt(at + 1) === 101 /* e */);
      }
      cursor = next;
    } while (cursor !== '0');
    let removed = 0;
    const list = [...found];
    for (let i = 0; i < list.length; i += 100) {
      // why: one UNLINK per key, so keys in different cluster slots are fine.
      const batch = list.slice(i, i + 100);
      const results = await Promise.all(batch.map(([h]) => client.unlink(this.prefix + 'v:' + h)));
      for (let j = 0; j < results.length; j++) if (batch[j][1]) removed += results[j];
    }
    for (let i = 0; i < members.length; i += 500) await client.zrem(this.index, ...members.slice(i, i + 500));
    return removed;
  }

  stats(): StoreStats | null {
    return null;
  }

  status(): unknown {
    const h = this.redis.health;
    return { store: this.redis.cluster ? 'redis-cluster' : 'redis', namespace: this.namespace, state: h.state, since: new Date(h.since).toISOString(), lastError: h.lastError, errors: this.errors };
  }

  /** The shared connection is closed by the provider. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function hashKey(storeKey: string): string {
  return createHash('sha256').update(storeKey).digest('base64url');
}
