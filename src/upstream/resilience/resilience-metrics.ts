import type { Metric, Registry } from 'prom-client';
import { CIRCUIT_STATE_NAMES, type CircuitBreaker } from './circuit-breaker.js';
import type { ConcurrencyLimiter } from './concurrency-limiter.js';

/** What the metrics read of an upstream group (UpstreamGroup has these). */
export interface ResilienceSource {
  readonly name: string;
  readonly breaker: CircuitBreaker | null;
  readonly limiter: ConcurrencyLimiter | null;
  readonly panicPicks: number;
  /** The current targets (service discovery changes them). */
  readonly targets: readonly unknown[];
}

/** One value in prom-client's JSON form. */
interface Value {
  value: number;
  labels: Record<string, string>;
}

/** A prom-client metric whose values are read from the groups at scrape time. */
function scraped(name: string, help: string, type: 'counter' | 'gauge', aggregator: 'sum' | 'max', values: () => Value[]): Metric {
  const metric = {
    name, help, type, aggregator,
    get: async function get() {
      return { name, help, type, aggregator, values: values() };
    },
    reset: function reset() {},
  };
  return metric as unknown as Metric;
}

/**
 * Registers the upstream resilience metrics on a worker registry; they read
 * the groups `source()` returns at scrape time (nothing is recorded per
 * request: the breakers, limiters and groups keep plain counters).
 *
 * - `turnpike_upstream_circuit_state{upstream}`: 0 closed, 1 open, 2
 *   half-open; across workers the highest (non-zero: some worker's circuit
 *   is not closed; `GET /upstreams` has each worker's).
 * - `turnpike_upstream_circuit_transitions_total{upstream,to}`
 * - `turnpike_upstream_rejected_total{upstream,reason}`: reason
 *   `circuit_open`, `queue_full`, `queue_timeout`.
 * - `turnpike_upstream_inflight{upstream}` / `turnpike_upstream_queued{upstream}`:
 *   requests holding / waiting for a concurrency slot (upstreams with `limits`).
 * - `turnpike_upstream_panic_total{upstream}`: picks made in panic mode.
 * - `turnpike_upstream_targets{upstream}`: the upstream's targets (configured
 *   or discovered; across workers the highest).
 */
export function registerResilienceMetrics(registry: Registry, source: () => Iterable<ResilienceSource>): void {
  const each = (fn: (g: ResilienceSource, out: Value[]) => void) => (): Value[] => {
    const out: Value[] = [];
    for (const g of source()) fn(g, out);
    return out;
  };
  registry.registerMetric(scraped('turnpike_upstream_circuit_state',
    'Circuit breaker state by upstream: 0 closed, 1 open, 2 half-open (across workers the highest).', 'gauge', 'max',
    each((g, out) => { if (g.breaker !== null) out.push({ value: g.breaker.current(), labels: { upstream: g.name } }); })));
  registry.registerMetric(scraped('turnpike_upstream_circuit_transitions_total',
    'Circuit breaker transitions by upstream and the state entered.', 'counter', 'sum',
    each((g, out) => {
      if (g.breaker === null) return;
      for (let s = 0; s < CIRCUIT_STATE_NAMES.length; s++) {
        out.push({ value: g.breaker.transitions[s], labels: { upstream: g.name, to: CIRCUIT_STATE_NAMES[s] } });
      }
    })));
  registry.registerMetric(scraped('turnpike_upstream_rejected_total',
    'Requests refused without contacting the upstream, by reason (circuit_open, queue_full, queue_timeout).', 'counter', 'sum',
    each((g, out) => {
      if (g.breaker !== null) out.push({ value: g.breaker.rejected, labels: { upstream: g.name, reason: 'circuit_open' } });
      if (g.limiter !== null) {
        out.push({ value: g.limiter.rejectedFull, labels: { upstream: g.name, reason: 'queue_full' } });
        out.push({ value: g.limiter.rejectedTimeout, labels: { upstream: g.name, reason: 'queue_timeout' } });
      }
    })));
  registry.registerMetric(scraped('turnpike_upstream_inflight',
    'Requests holding a concurrency slot of the upstream (upstreams with limits).', 'gauge', 'sum',
    each((g, out) => { if (g.limiter !== null) out.push({ value: g.limiter.inflight, labels: { upstream: g.name } }); })));
  registry.registerMetric(scraped('turnpike_upstream_queued',
    'Requests waiting for a concurrency slot of the upstream (upstreams with limits).', 'gauge', 'sum',
    each((g, out) => { if (g.limiter !== null) out.push({ value: g.limiter.queued, labels: { upstream: g.name } }); })));
  registry.registerMetric(scraped('turnpike_upstream_panic_total',
    'Target picks made in panic mode (too few healthy targets: health ignored).', 'counter', 'sum',
    each((g, out) => { out.push({ value: g.panicPicks, labels: { upstream: g.name } }); })));
  registry.registerMetric(scraped('turnpike_upstream_targets',
    'Targets of the upstream: configured, or found by service discovery (across workers the highest).', 'gauge', 'max',
    each((g, out) => { out.push({ value: g.targets.length, labels: { upstream: g.name } }); })));
}
