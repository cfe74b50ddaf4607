/**
 * The metrics the rate-limit policy declares. Decisions are counted in plain
 * numbers on the request path and read into prom-client at scrape time.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { Verdict } from './leased-limiter.js';

const MODES: readonly Verdict['mode'][] = ['store', 'local', 'allow', 'deny'];

/** Per-limit decision counts: [mode][allowed ? 0 : 1]. */
export class RateLimitCounters {
  readonly counts = MODES.map(() => [0, 0]);
  constructor(readonly limit: string) {}

  /** Counts one decision. */
  count(allowed: boolean, mode: Verdict['mode']): void {
    // why: an index switch instead of a label lookup; this runs per request.
    const m = mode === 'store' ? 0 : mode === 'local' ? 1 : mode === 'allow' ? 2 : 3;
    this.counts[m][allowed ? 0 : 1]++;
  }
}

/** What the provider reports at scrape time. */
export interface RateLimitMetricSources {
  counters: readonly RateLimitCounters[];
  /** Store commands sent by this worker (takes, give-backs, script loads). */
  storeCommands(): number;
  /** Store calls that failed (timeouts, connection errors). */
  storeFailures(): number;
  /** 1 when this worker's store connection is ready, 0 when not, null without a store. */
  storeUp(): number | null;
}

/**
 * Registers `turnpike_ratelimit_decisions_total{limit,decided_by,result}`,
 * `turnpike_ratelimit_store_commands_total`, `turnpike_ratelimit_store_failures_total`
 * and `turnpike_ratelimit_store_up` (summed over workers by the primary).
 */
export function registerRateLimitMetrics(registry: Registry, src: RateLimitMetricSources): void {
  new Counter({
    name: 'turnpike_ratelimit_decisions_total',
    help: 'Rate-limit decisions by limit, who decided (store = shared Redis, local = per-worker limiter, allow/deny = store down) and result.',
    labelNames: ['limit', 'decided_by', 'result'],
    registers: [registry],
    collect() {
      this.reset();
      for (const c of src.counters) {
        for (let m = 0; m < MODES.length; m++) {
          const [ok, limited] = c.counts[m];
          if (ok > 0) this.inc({ limit: c.limit, decided_by: MODES[m], result: 'allowed' }, ok);
          if (limited > 0) this.inc({ limit: c.limit, decided_by: MODES[m], result: 'limited' }, limited);
        }
      }
    },
  });
  new Counter({
    name: 'turnpike_ratelimit_store_commands_total',
    help: 'Commands sent to the rate-limit store (Redis): lease takes, give-backs, script loads.',
    registers: [registry],
    collect() { this.reset(); this.inc(src.storeCommands()); },
  });
  new Counter({
    name: 'turnpike_ratelimit_store_failures_total',
    help: 'Rate-limit store calls that failed or timed out (the limit fell back to onRedisFailure).',
    registers: [registry],
    collect() { this.reset(); this.inc(src.storeFailures()); },
  });
  new Gauge({
    name: 'turnpike_ratelimit_store_up',
    help: 'Workers whose rate-limit store connection is ready (summed over workers).',
    registers: [registry],
    collect() { const up = src.storeUp(); if (up !== null) this.set(up); },
  });
}
