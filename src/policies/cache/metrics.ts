/**
 * The metrics the cache policy declares. Counted in plain numbers on the
 * request path and read into prom-client at scrape time; labels are the
 * policy name (from config) and fixed result names.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CacheStore } from './store.js';

/** How a request was served (the `result` label). */
export const RESULTS = ['hit', 'miss', 'stale', 'bypass', 'revalidated', 'coalesced'] as const;
/** What became of a background revalidation (the `outcome` label). */
export const REFRESH_OUTCOMES = ['updated', 'revalidated', 'removed', 'failed'] as const;

/** Index into RESULTS. */
export const HIT = 0;
export const MISS = 1;
export const STALE = 2;
export const BYPASS = 3;
export const REVALIDATED = 4;
export const COALESCED = 5;

/** One policy's counts. */
export class CacheCounters {
  /** Per RESULTS entry. */
  readonly results = RESULTS.map(() => 0);
  /** Per REFRESH_OUTCOMES entry. */
  readonly refreshes = REFRESH_OUTCOMES.map(() => 0);

  constructor(readonly policy: string, readonly store: CacheStore) {}
}

/**
 * Registers `turnpike_cache_requests_total{policy,result}`,
 * `turnpike_cache_refreshes_total{policy,outcome}`,
 * `turnpike_cache_store_errors_total{policy}`, and for memory stores
 * `turnpike_cache_bytes{policy}`, `turnpike_cache_entries{policy}` and
 * `turnpike_cache_evictions_total{policy}` (summed over workers by the primary).
 */
export function registerCacheMetrics(registry: Registry, counters: readonly CacheCounters[]): void {
  new Counter({
    name: 'turnpike_cache_requests_total',
    help: 'Requests on cached routes by result: hit (fresh entry), miss (went upstream), stale (stale entry: stale-while-revalidate or stale-if-error), '
      + 'bypass (not cacheable: method, Authorization, Range, no-store), revalidated (upstream 304 refreshed the entry), coalesced (answered from a concurrent request\'s fill).',
    labelNames: ['policy', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counters) {
        for (let i = 0; i < RESULTS.length; i++) if (c.results[i] > 0) this.inc({ policy: c.policy, result: RESULTS[i] }, c.results[i]);
      }
    },
  });
  new Counter({
    name: 'turnpike_cache_refreshes_total',
    help: 'Background revalidations (stale-while-revalidate) by outcome: updated (new response stored), revalidated (304), removed (no longer cacheable), failed (upstream error; the stale entry stays).',
    labelNames: ['policy', 'outcome'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counters) {
        for (let i = 0; i < REFRESH_OUTCOMES.length; i++) if (c.refreshes[i] > 0) this.inc({ policy: c.policy, outcome: REFRESH_OUTCOMES[i] }, c.refreshes[i]);
      }
    },
  });
  new Counter({
    name: 'turnpike_cache_store_errors_total',
    help: 'Cache store operations that failed (Redis down, slow or answering errors); each failed lookup was served as a miss.',
    labelNames: ['policy'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counters) if (c.store.errors > 0) this.inc({ policy: c.policy }, c.store.errors);
    },
  });
  const gauge = (name: string, help: string, pick: 'bytes' | 'entries'): void => {
    new Gauge({
      name, help, labelNames: ['policy'], registers: [registry],
      collect() {
        this.reset();
        for (const c of counters) {
          const s = c.store.stats();
          if (s !== null) this.set({ policy: c.policy }, s[pick]);
        }
      },
    });
  };
  gauge('turnpike_cache_bytes', 'Bytes held by memory cache stores (bodies, headers, keys, overhead; summed over workers).', 'bytes');
  gauge('turnpike_cache_entries', 'Records held by memory cache stores (entries and Vary markers; summed over workers).', 'entries');
  new Counter({
    name: 'turnpike_cache_evictions_total',
    help: 'Records the memory cache stores evicted to stay within maxSize (least recently used first).',
    labelNames: ['policy'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counters) {
        const s = c.store.stats();
        if (s !== null && s.evictions > 0) this.inc({ policy: c.policy }, s.evictions);
      }
    },
  });
}
