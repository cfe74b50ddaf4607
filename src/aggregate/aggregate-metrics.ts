/**
 * Response aggregation metrics of a worker:
 * `turnpike_aggregate_calls_total{route,call,outcome}` (outcome: see
 * {@link CALL_OUTCOMES}) and `turnpike_aggregate_duration_seconds{route,result}`
 * (result: see {@link RESULTS}). Each call and route counts into plain
 * numbers bound at worker start (no label lookup per request); prom-client
 * reads them when the registry is scraped.
 */
import { Counter, Histogram, type Registry } from 'prom-client';
import { DURATION_BUCKETS } from '../observability/metrics.js';

/** How one call ended (label `outcome`). */
export const CALL_OUTCOMES = [
  /** A 2xx answer with a JSON body (or none). */
  'ok',
  /** The upstream answered with a non-2xx status. */
  'status',
  /** The answer's body is not JSON, or a value its path needs from an earlier call is missing. */
  'invalid',
  /** No answer: connect failure, TLS, reset, no healthy target, circuit open, limit reached. */
  'error',
  /** The call's own timeout expired. */
  'timeout',
  /** Abandoned: the aggregate ended first (another call failed, the aggregate timed out, the client left). */
  'cancelled',
] as const;

/** Index into {@link CALL_OUTCOMES}. */
export const OK = 0;
export const STATUS = 1;
export const INVALID = 2;
export const ERROR = 3;
export const TIMEOUT = 4;
export const CANCELLED = 5;

/** How an aggregate ended (label `result`). */
export const RESULTS = ['ok', 'partial', 'failed', 'timeout', 'aborted'] as const;
/** Index into {@link RESULTS}. */
export const R_OK = 0;
export const R_PARTIAL = 1;
export const R_FAILED = 2;
export const R_TIMEOUT = 3;
export const R_ABORTED = 4;

/** The counters of one call of one route. */
export class CallSeries {
  readonly outcomes = new Float64Array(CALL_OUTCOMES.length);
  constructor(readonly route: string, readonly call: string) {}
}

/** Every aggregate route's series of one registry. */
export class AggregateMetrics {
  readonly calls: CallSeries[] = [];
  readonly duration: Histogram<'route' | 'result'>;

  constructor(registry: Registry) {
    const calls = this.calls;
    new Counter({
      name: 'turnpike_aggregate_calls_total', help: 'Calls made by response aggregation, by route, call and outcome.',
      labelNames: ['route', 'call', 'outcome'] as const, registers: [registry],
      collect() {
        this.reset();
        for (const s of calls) {
          for (let i = 0; i < CALL_OUTCOMES.length; i++) if (s.outcomes[i] > 0) this.inc({ route: s.route, call: s.call, outcome: CALL_OUTCOMES[i] }, s.outcomes[i]);
        }
      },
    });
    this.duration = new Histogram({
      name: 'turnpike_aggregate_duration_seconds', help: 'Time from the first call of an aggregate to its answer, by route and result.',
      labelNames: ['route', 'result'] as const, buckets: [...DURATION_BUCKETS], registers: [registry],
    });
  }

  /** The series of a call (worker start). */
  call(route: string, call: string): CallSeries {
    let s = this.calls.find((c) => c.route === route && c.call === call);
    if (s === undefined) {
      s = new CallSeries(route, call);
      this.calls.push(s);
    }
    return s;
  }
}

const byRegistry = new WeakMap<Registry, AggregateMetrics>();

/** The aggregation metrics of `registry`, registered on first use. */
export function aggregateMetrics(registry: Registry): AggregateMetrics {
  let m = byRegistry.get(registry);
  if (m === undefined) {
    m = new AggregateMetrics(registry);
    byRegistry.set(registry, m);
  }
  return m;
}
