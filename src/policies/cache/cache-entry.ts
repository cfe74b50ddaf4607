/**
 * What the cache stores: a response (status, the origin's headers without
 * per-hop and per-request fields, the body in one Buffer, its freshness and
 * validators), or a Vary marker saying which request headers select among a
 * key's variants. Entries are immutable once built; a revalidation makes a
 * new entry that shares the body Buffer.
 */
import { LocalResponse } from '../local-response.js';

/** Fixed per-record overhead counted into its size (objects, map slot, list links). */
const RECORD_OVERHEAD = 256;

/** Fields every stored record has (the memory store's LRU links live here too). */
export abstract class StoredRecord {
  /** The store key it is held under (primary key, or primary + Vary values); set by the store. */
  storeKey = '';
  /** Memory store LRU links. */
  lruPrev: StoredRecord | null = null;
  lruNext: StoredRecord | null = null;

  /**
   * @param key the primary cache key (what key-prefix purges match)
   * @param path the request path (what path-prefix purges match)
   * @param keepUntil epoch ms after which the record is useless (freshness plus stale windows)
   * @param size bytes counted against the memory store's maxSize
   */
  constructor(readonly key: string, readonly path: string, readonly keepUntil: number, readonly size: number) {}
}

/** Which Vary marker a variant belongs to: its header names and epoch. */
export interface VaryRef {
  readonly names: readonly string[];
  /**
   * Random per marker, part of every variant's store key: a marker stored
   * anew (after the key was invalidated, or with other names) never makes
   * the variants of an earlier one reachable again (the Redis store cannot
   * delete them along with their marker).
   */
  readonly epoch: string;
}

/** A Vary marker: the key's responses vary on these request headers (lower-case). */
export class VaryMarker extends StoredRecord implements VaryRef {
  /** Memory store: the store keys of this key's variants (so they go with the marker). */
  readonly variants = new Set<string>();

  constructor(key: string, path: string, keepUntil: number, readonly names: readonly string[], readonly epoch: string) {
    super(key, path, keepUntil, RECORD_OVERHEAD + 2 * (key.length + path.length + names.join('').length + epoch.length));
  }
}

/** How an entry is being used for an answer (the X-Cache value). */
export type CacheOutcome = 'HIT' | 'STALE';

/** Freshness and validators of an entry (what planStore computes). */
export interface EntryTimes {
  /** Epoch ms when the response was received (RFC 9111 response_time). */
  readonly responseTime: number;
  /** corrected_initial_age, ms. */
  readonly initialAgeMs: number;
  /** Epoch ms until which the entry is fresh. */
  readonly freshUntil: number;
  readonly swrMs: number;
  readonly sieMs: number;
  readonly keepUntil: number;
  /** ETag ('' none). */
  readonly etag: string;
  /** Last-Modified as sent ('' none) and in epoch ms (NaN none). */
  readonly lastModified: string;
  readonly lastModifiedMs: number;
  /** The response said no-cache: every use needs a successful revalidation. */
  readonly noCache: boolean;
  /** must-revalidate, proxy-revalidate or s-maxage: never served stale. */
  readonly mustRevalidate: boolean;
}

/** Headers a 304 carries over from the stored response (RFC 9110 §15.4.5). */
const NOT_MODIFIED_HEADERS = new Set(['cache-control', 'content-location', 'etag', 'expires', 'vary', 'last-modified']);

/** A stored response. */
export class CacheEntry extends StoredRecord {
  readonly status: number;
  /** Flat lower-case list as stored (no Date, Age, X-Cache, X-Request-Id, framing or hop-by-hop fields). */
  readonly headers: readonly string[];
  readonly body: Buffer;
  readonly times: EntryTimes;
  /** The Vary header names (null: the response does not vary), this variant's values (varyKey) and its marker's epoch. */
  readonly varyNames: readonly string[] | null;
  readonly varyValues: string;
  readonly varyEpoch: string;
  // why: a hit reuses the last answer built for the same Age second (no
  // array or object per hit); LocalResponse is immutable and the writer copies its headers.
  private hitAge = -1;
  private hitAnswer: LocalResponse | null = null;

  constructor(
    key: string, path: string, status: number, headers: readonly string[], body: Buffer, times: EntryTimes,
    varyNames: readonly string[] | null, varyValues: string, varyEpoch = '',
  ) {
    let chars = key.length + path.length + varyValues.length + varyEpoch.length;
    for (let i = 0; i < headers.length; i++) chars += headers[i].length;
    super(key, path, times.keepUntil, RECORD_OVERHEAD + body.length + 2 * chars);
    this.status = status;
    this.headers = headers;
    this.body = body;
    this.times = times;
    this.varyNames = varyNames;
    this.varyValues = varyValues;
    this.varyEpoch = varyEpoch;
  }

  /** Current age in whole seconds (RFC 9111 §4.2.3 current_age). */
  ageSeconds(now: number): number {
    const ms = this.times.initialAgeMs + now - this.times.responseTime;
    return ms <= 0 ? 0 : Math.floor(ms / 1000);
  }

  /** The answer for a hit (shared per Age second). */
  hit(now: number): LocalResponse {
    const age = this.ageSeconds(now);
    if (age !== this.hitAge || this.hitAnswer === null) {
      this.hitAnswer = new LocalResponse(this.status, [...this.headers, 'age', String(age), 'x-cache', 'HIT'], this.body, true);
      this.hitAge = age;
    }
    return this.hitAnswer;
  }

  /** A full answer from the entry with the given X-Cache value. */
  answer(now: number, outcome: CacheOutcome): LocalResponse {
    if (outcome === 'HIT') return this.hit(now);
    return new LocalResponse(this.status, [...this.headers, 'age', String(this.ageSeconds(now)), 'x-cache', outcome], this.body, true);
  }

  /** A 304 for a client whose conditional matched (validators and caching fields only). */
  notModified(now: number, outcome: CacheOutcome): LocalResponse {
    const h: string[] = [];
    for (let i = 0; i < this.headers.length; i += 2) if (NOT_MODIFIED_HEADERS.has(this.headers[i])) h.push(this.headers[i], this.headers[i + 1]);
    h.push('age', String(this.ageSeconds(now)), 'x-cache', outcome);
    return new LocalResponse(304, h);
  }

  /** Whether a stale-if-error answer may use it at `now`. */
  usableOnError(now: number): boolean {
    const t = this.times;
    return !t.noCache && !t.mustRevalidate && now < t.freshUntil + t.sieMs;
  }

  /** The marker it belongs to (null: not varied). */
  get varyRef(): VaryRef | null {
    return this.varyNames === null ? null : { names: this.varyNames, epoch: this.varyEpoch };
  }

  /** Whether it has a validator for a conditional request. */
  get revalidatable(): boolean {
    return this.times.etag !== '' || this.times.lastModified !== '';
  }
}
