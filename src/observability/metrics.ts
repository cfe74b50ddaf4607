import { collectDefaultMetrics, Counter, Gauge, Registry, type Metric } from 'prom-client';
import { ConsumerRecorder, ConsumerStore } from './consumer-metrics.js';
import { registerResilienceMetrics, type ResilienceSource } from '../upstream/resilience/resilience-metrics.js';

/** Latency buckets (seconds) for a gateway: sub-millisecond proxying up to slow upstreams. */
export const DURATION_BUCKETS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Route label used for requests that matched no route (route index -1). */
export const NO_ROUTE_LABEL = '(none)';

/** One value in prom-client's JSON form (what `getMetricsAsJSON()` yields). */
interface MetricJsonValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** Per-worker metrics: one prom-client registry that the primary aggregates. */
export interface WorkerMetrics {
  /** The registry the worker answers metric requests from. */
  readonly registry: Registry;
  /** `turnpike_upstream_errors_total{upstream,kind}` (rare path: use `.inc({upstream, kind})`). */
  readonly upstreamErrors: Counter<'upstream' | 'kind'>;
  /** `turnpike_upstream_retries_total{upstream,reason}` (rare path: use `.inc({upstream, reason})`). */
  readonly upstreamRetries: Counter<'upstream' | 'reason'>;
  /** `turnpike_upstream_retry_budget_exhausted_total{upstream}`. */
  readonly retryBudgetExhausted: Counter<'upstream'>;
  /** `turnpike_upstream_target_available{upstream,target}`: 1 = usable, 0 = ejected/unhealthy. */
  readonly targetAvailable: Gauge<'upstream' | 'target'>;
  /** Sets the function read at scrape time for `turnpike_inflight_requests`. */
  setInflightSource(source: () => number): void;
  /** Sets the upstream groups the resilience metrics (circuit state, rejections, queue, panic) read at scrape time. */
  setUpstreamSource(source: () => Iterable<ResilienceSource>): void;
  /** Shared storage behind `turnpike_requests_total` and `turnpike_request_duration_seconds`. */
  readonly requests: RequestStore;
  /** Storage behind `turnpike_consumer_requests_total`. */
  readonly consumers: ConsumerStore;
}

/** The hot-path recorder returned by {@link createRequestMetrics}. */
export interface RequestMetrics {
  /**
   * Records one finished request. `routeIndex` indexes the `routeNames` given
   * at creation (-1 = no route matched); `seconds` is the total duration.
   */
  observe(routeIndex: number, method: string, status: number, seconds: number): void;
}

/** One (method, status) counter cell of a route; labels prebuilt for export. */
interface CountCell {
  value: number;
  readonly labels: { route: string; method: string; status: string };
}

/** Everything recorded for one route label. */
class RouteSeries {
  readonly counts = new Map<number, CountCell>();
  /** Non-cumulative bucket counts; the last slot is +Inf. */
  readonly buckets = new Float64Array(DURATION_BUCKETS.length + 1);
  sum = 0;
  count = 0;
  constructor(readonly route: string) {}
}

/**
 * Plain-number storage for the two per-request metrics, exported to
 * prom-client as custom metric objects.
 *
 * why: prom-client's `labels(...).inc()` hashes the label set and validates it
 * on every call; here a request costs two Map lookups and a few increments,
 * and label objects are only built once per series.
 */
export class RequestStore {
  private readonly series = new Map<string, RouteSeries>();

  /** The series for a route label, created on first use. */
  route(name: string): RouteSeries {
    let s = this.series.get(name);
    if (s === undefined) {
      s = new RouteSeries(name);
      this.series.set(name, s);
    }
    return s;
  }

  /** Counter values in prom-client JSON form. */
  counterValues(): MetricJsonValue[] {
    const out: MetricJsonValue[] = [];
    for (const s of this.series.values()) {
      for (const cell of s.counts.values()) out.push({ value: cell.value, labels: cell.labels });
    }
    return out;
  }

  /** Histogram values (`_bucket` cumulative, `_sum`, `_count`) in prom-client JSON form. */
  histogramValues(name: string): MetricJsonValue[] {
    const out: MetricJsonValue[] = [];
    for (const s of this.series.values()) {
      if (s.count === 0) continue;
      let acc = 0;
      for (let i = 0; i < DURATION_BUCKETS.length; i++) {
        acc += s.buckets[i];
        out.push({ value: acc, labels: { route: s.route, le: DURATION_BUCKETS[i] }, metricName: `${name}_bucket` });
      }
      out.push({ value: s.count, labels: { route: s.route, le: '+Inf' }, metricName: `${name}_bucket` });
      out.push({ value: s.sum, labels: { route: s.route }, metricName: `${name}_sum` });
      out.push({ value: s.count, labels: { route: s.route }, metricName: `${name}_count` });
    }
    return out;
  }

  /** Forgets every recorded value (tests, registry reset). */
  reset(): void {
    this.series.clear();
  }
}

const METHOD_LABELS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE', 'OTHER'];

/**
 * Maps a method (either case, as uWS may report lower case) to a small index;
 * anything unusual becomes `OTHER` so clients cannot explode label cardinality.
 */
function methodIndex(method: string): number {
  switch (method) {
    case 'GET': case 'get': return 0;
    case 'HEAD': case 'head': return 1;
    case 'POST': case 'post': return 2;
    case 'PUT': case 'put': return 3;
    case 'DELETE': case 'delete': return 4;
    case 'PATCH': case 'patch': return 5;
    case 'OPTIONS': case 'options': return 6;
    case 'CONNECT': case 'connect': return 7;
    case 'TRACE': case 'trace': return 8;
    default: return 9;
  }
}

/** A prom-client-compatible metric object backed by a values function. */
function customMetric(name: string, help: string, type: 'counter' | 'histogram', values: () => MetricJsonValue[], reset: () => void): Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async function get() {
      return { name, help, type, aggregator: 'sum', values: values() };
    },
    reset,
  };
  return metric as unknown as Metric;
}

/**
 * Creates a worker registry with every turnpike worker metric, and (unless
 * `defaultMetrics: false`) prom-client's default process metrics.
 */
export function createWorkerMetrics(options: { defaultMetrics?: boolean } = {}): WorkerMetrics {
  const registry = new Registry();
  const requests = new RequestStore();
  const consumers = new ConsumerStore();
  let inflightSource: () => number = function none() {
    return 0;
  };
  const durationName = 'turnpike_request_duration_seconds';
  registry.registerMetric(customMetric('turnpike_requests_total', 'Requests answered, by route, method and status.', 'counter',
    () => requests.counterValues(), () => requests.reset()));
  registry.registerMetric(customMetric(durationName, 'Request duration in seconds (receipt to response end), by route.', 'histogram',
    () => requests.histogramValues(durationName), () => requests.reset()));
  registry.registerMetric(customMetric('turnpike_consumer_requests_total',
    'Requests answered for an identified consumer, by consumer id and route (ids beyond the configured ones and a per-worker cap count as "(other)").',
    'counter', () => consumers.counterValues(), () => consumers.reset()));
  const upstreamErrors = new Counter({
    name: 'turnpike_upstream_errors_total',
    help: 'Upstream failures by upstream and kind (connect, timeout, reset, bad_response, ...).',
    labelNames: ['upstream', 'kind'] as const,
    registers: [registry],
  });
  const upstreamRetries = new Counter({
    name: 'turnpike_upstream_retries_total',
    help: 'Retries sent to an upstream, by upstream and reason (connect-failure, reset, timeout, or the retried status such as 503).',
    labelNames: ['upstream', 'reason'] as const,
    registers: [registry],
  });
  const retryBudgetExhausted = new Counter({
    name: 'turnpike_upstream_retry_budget_exhausted_total',
    help: 'Retries the upstream\'s retry budget refused (the client got the failed try\'s answer).',
    labelNames: ['upstream'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'turnpike_inflight_requests',
    help: 'Requests currently in flight.',
    registers: [registry],
    collect() {
      this.set(inflightSource());
    },
  });
  const targetAvailable = new Gauge({
    name: 'turnpike_upstream_target_available',
    help: 'Whether a target is usable (1) or ejected/unhealthy (0); across workers the minimum is reported.',
    labelNames: ['upstream', 'target'] as const,
    // why: summing 0/1 flags across workers is meaningless; "usable in every worker" is what operators want.
    aggregator: 'min',
    registers: [registry],
  });
  let upstreamSource: () => Iterable<ResilienceSource> = function none() {
    return [];
  };
  registerResilienceMetrics(registry, () => upstreamSource());
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry });
  return {
    registry,
    upstreamErrors,
    upstreamRetries,
    retryBudgetExhausted,
    targetAvailable,
    requests,
    consumers,
    setInflightSource(source: () => number) {
      inflightSource = source;
    },
    setUpstreamSource(source: () => Iterable<ResilienceSource>) {
      upstreamSource = source;
    },
  };
}

let processMetrics: WorkerMetrics | undefined;

/** The process-wide worker metrics (created on first use, with default metrics). */
export function workerMetrics(): WorkerMetrics {
  processMetrics ??= createWorkerMetrics();
  return processMetrics;
}

/**
 * Builds the per-request recorder for one compiled config. Series are resolved
 * once per route here, so `observe` does no string work beyond a Map lookup.
 * Uses the process-wide registry unless `metrics` is given.
 */
export function createRequestMetrics(routeNames: string[], metrics: WorkerMetrics = workerMetrics()): RequestMetrics {
  const routes: RouteSeries[] = [metrics.requests.route(NO_ROUTE_LABEL)];
  for (const name of routeNames) routes.push(metrics.requests.route(name));
  return new RouteRecorder(routes);
}

/**
 * Builds the per-consumer recorder for one compiled config
 * (`turnpike_consumer_requests_total`): the configured consumer ids have
 * their series; others are admitted up to a cap. Uses the process-wide
 * registry unless `metrics` is given.
 */
export function createConsumerMetrics(routeNames: readonly string[], consumerIds: readonly string[],
  metrics: WorkerMetrics = workerMetrics()): ConsumerRecorder {
  return new ConsumerRecorder(metrics.consumers, [NO_ROUTE_LABEL, ...routeNames], consumerIds);
}

/** Implementation of {@link RequestMetrics}: slot 0 is "no route", slot i+1 is route i. */
class RouteRecorder implements RequestMetrics {
  constructor(private readonly routes: RouteSeries[]) {}

  observe(routeIndex: number, method: string, status: number, seconds: number): void {
    const s = this.routes[routeIndex + 1] ?? this.routes[0];
    const m = methodIndex(method);
    const code = status >= 100 && status <= 999 ? status | 0 : 0;
    const key = m * 1000 + code;
    let cell = s.counts.get(key);
    if (cell === undefined) {
      cell = { value: 0, labels: { route: s.route, method: METHOD_LABELS[m], status: String(code) } };
      s.counts.set(key, cell);
    }
    cell.value++;
    let i = 0;
    while (i < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[i]) i++;
    s.buckets[i]++;
    s.sum += seconds;
    s.count++;
  }
}
