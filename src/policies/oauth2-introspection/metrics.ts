/**
 * The metrics the oauth2-introspection policy declares. Counted in plain
 * numbers on the request path and read into prom-client at scrape time;
 * labels are the policy name (from config) and fixed result names.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CallFailure } from './introspection-client.js';

/** Results of an introspection call (the `result` label). */
export const CALL_RESULTS = ['active', 'inactive', 'timeout', 'unreachable', 'http_status', 'bad_response'] as const;
/** What a cache lookup found (the `result` label). */
export const LOOKUP_RESULTS = ['hit', 'negative_hit', 'joined', 'miss'] as const;

/** One policy's counts. */
export class IntrospectionCounters {
  /** Per CALL_RESULTS entry. */
  readonly calls = CALL_RESULTS.map(() => 0);
  /** Per LOOKUP_RESULTS entry. */
  readonly lookups = LOOKUP_RESULTS.map(() => 0);
  /** Tokens refused 503 because no call slot was free. */
  overloaded = 0;

  constructor(readonly policy: string, readonly cacheEntries: () => number) {}

  /** Counts one finished call. */
  call(result: 'active' | 'inactive' | CallFailure): void {
    this.calls[CALL_RESULTS.indexOf(result)]++;
  }
}

/**
 * Registers `turnpike_introspection_calls_total{policy,result}`,
 * `turnpike_introspection_cache_lookups_total{policy,result}`,
 * `turnpike_introspection_overloaded_total{policy}` and
 * `turnpike_introspection_cache_entries{policy}` (summed over workers by the primary).
 */
export function registerIntrospectionMetrics(registry: Registry, counters: readonly IntrospectionCounters[]): void {
  new Counter({
    name: 'turnpike_introspection_calls_total',
    help: 'Token introspection calls by policy and result (active, inactive, or why there was no answer: timeout, unreachable, http_status, bad_response).',
    labelNames: ['policy', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counters) {
        for (let i = 0; i < CALL_RESULTS.length; i++) if (c.calls[i] > 0) this.inc({ policy: c.policy, result: CALL_RESULTS[i] }, c.calls[i]);
      }
    },
  });
  new Counter({
    name: 'turnpike_introspection_cache_lookups_total',
    help: 'Token cache lookups by policy and result: hit (cached active), negative_hit (cached inactive), joined (waited for a call already in flight for the same token), miss (started a call).',
    labelNames: ['policy', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counters) {
        for (let i = 0; i < LOOKUP_RESULTS.length; i++) if (c.lookups[i] > 0) this.inc({ policy: c.policy, result: LOOKUP_RESULTS[i] }, c.lookups[i]);
      }
    },
  });
  new Counter({
    name: 'turnpike_introspection_overloaded_total',
    help: 'Requests answered 503 because the policy\'s introspection calls (maxInFlight) and queue (maxQueued) were full.',
    labelNames: ['policy'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counters) if (c.overloaded > 0) this.inc({ policy: c.policy }, c.overloaded);
    },
  });
  new Gauge({
    name: 'turnpike_introspection_cache_entries',
    help: 'Cached introspection results (summed over workers).',
    labelNames: ['policy'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of counters) this.set({ policy: c.policy }, c.cacheEntries());
    },
  });
}
