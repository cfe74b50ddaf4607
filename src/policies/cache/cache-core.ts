/**
 * One cache policy's worker-wide state and the operations its stages share:
 * its settings, store, fills, counters, key spec, and how an entry is stored
 * (with its Vary marker), answered (full, or 304 to a client conditional) and
 * purged.
 */
import type { RequestContext } from '../../ingress/request-context.js';
import type { LocalResponse } from '../local-response.js';
import { randomBytes } from 'node:crypto';
import { CacheEntry, VaryMarker, type CacheOutcome, type VaryRef } from './cache-entry.js';
import { noneMatchHits, parseHttpDate } from './cache-control.js';
import { CacheKey, variantKey } from './cache-key.js';
import { Fills } from './fills.js';
import type { StorePlan } from './freshness.js';
import type { CacheCounters } from './metrics.js';
import type { CacheRequestState } from './request-state.js';
import type { CacheSettings } from './settings.js';
import type { CacheStore, PurgeMatch } from './store.js';

/** How much longer than its variants a Vary marker is kept, ms. */
const MARKER_EXTRA_MS = 3_600_000;

/** The shared state of one cache policy in one worker. */
export class CacheCore {
  readonly fills = new Fills();
  readonly key: CacheKey;
  /** Bumped by every purge: a fill that started before one does not store its response. */
  generation = 0;

  constructor(
    readonly settings: CacheSettings, readonly store: CacheStore, readonly counters: CacheCounters, readonly now: () => number,
  ) {
    this.key = new CacheKey(settings.key);
  }

  /**
   * Builds the entry of a response and stores it (with a Vary marker under
   * the primary key when it varies), unless a purge happened since
   * `generation`; returns the entry either way (its fill's waiters are
   * answered from it). `marker` is the key's current Vary marker as the
   * request found it (its variants keep their epoch when the names are the
   * same; otherwise a new epoch starts).
   */
  storeEntry(
    key: string, path: string, status: number, plan: StorePlan, body: Buffer, varyValues: string, generation: number, marker: VaryRef | null,
  ): CacheEntry {
    const names = plan.varyNames;
    const epoch = names === null ? '' : marker !== null && sameNames(marker.names, names) ? marker.epoch : randomBytes(6).toString('base64url');
    const entry = new CacheEntry(key, path, status, plan.headers, body, plan.times, names, varyValues, epoch);
    if (generation !== this.generation) return entry;
    const now = this.now();
    if (names !== null) {
      this.store.set(key, new VaryMarker(key, path, plan.times.keepUntil + MARKER_EXTRA_MS, names, epoch), now);
      this.store.set(variantKey(key, epoch, varyValues), entry, now);
    } else {
      this.store.set(key, entry, now);
    }
    return entry;
  }

  /** Drops what a key holds (an unsafe request succeeded, or the origin stopped allowing storage). */
  delete(key: string): void {
    this.store.delete(key);
  }

  /**
   * The answer to a request from an entry: a 304 when the client's
   * If-None-Match (or, without it, If-Modified-Since) matches a 200/203
   * entry, else the full response. Records the outcome for the access log.
   */
  answer(ctx: RequestContext, entry: CacheEntry, now: number, outcome: CacheOutcome, ifNoneMatch: string, ifModifiedSince: string): LocalResponse {
    ctx.cacheStatus = outcome;
    if ((ifNoneMatch !== '' || ifModifiedSince !== '') && (entry.status === 200 || entry.status === 203)) {
      if (ifNoneMatch !== '') {
        if (noneMatchHits(ifNoneMatch, entry.times.etag)) return entry.notModified(now, outcome);
      } else {
        const since = parseHttpDate(ifModifiedSince);
        if (!Number.isNaN(since) && entry.times.lastModifiedMs <= since) return entry.notModified(now, outcome);
      }
    }
    return entry.answer(now, outcome);
  }

  /** Ends the fill a request leads, if any (waiters get `entry`, or go upstream on null). */
  settle(st: CacheRequestState, entry: CacheEntry | null, stale: boolean): void {
    const fill = st.fill;
    if (fill === null) return;
    st.fill = null;
    this.fills.settle(fill, entry, stale);
  }

  /** Removes matching entries; fills in progress will not store. */
  purge(match: PurgeMatch): Promise<number> {
    this.generation++;
    return this.store.purge(match);
  }

  /** How long a fill's waiters wait: the route's request timeout (60 s when it has none). */
  static waitMs(requestMs: number): number {
    return requestMs > 0 ? requestMs : 60_000;
  }
}

/** Same Vary names in the same order. */
export function sameNames(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
