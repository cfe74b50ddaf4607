import type { MetricsJson } from '../../observability/cluster-metrics.js';

/** One value of prom-client's JSON form. */
interface JsonValue {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** A route's cumulative counts: requests, 5xx answers, and its latency histogram. */
export interface RouteTotals {
  requests: number;
  errors: number;
  /** Cumulative bucket counts by upper bound in seconds (`+Inf` as Infinity), ascending. */
  buckets: Array<[number, number]>;
}

/** The cumulative counters the dashboard turns into rates (one aggregated scrape). */
export interface MetricTotals {
  routes: Map<string, RouteTotals>;
  /** `turnpike_upstream_errors_total` by upstream, then by kind. */
  upstreamErrors: Map<string, Map<string, number>>;
  /** `turnpike_upstream_rejected_total` by upstream (every reason). */
  upstreamRejected: Map<string, number>;
  /** `turnpike_upstream_circuit_state` by upstream (0 closed, 1 open, 2 half-open; highest over workers). */
  circuitState: Map<string, number>;
  /** `turnpike_ratelimit_decisions_total` by limit: [allowed, limited]. */
  rateLimits: Map<string, [number, number]>;
  /** `turnpike_cache_requests_total` by result (every policy). */
  cache: Map<string, number>;
  /** `turnpike_upstream_target_available` by upstream, then target (minimum over workers). */
  targetAvailable: Map<string, Map<string, number>>;
}

function valuesOf(json: MetricsJson, name: string): JsonValue[] {
  const m = json.find((x) => x.name === name);
  return m === undefined ? [] : (m.values as JsonValue[]);
}

function nested<V>(outer: Map<string, Map<string, V>>, key: string): Map<string, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

function add(map: Map<string, number>, key: string, v: number): void {
  map.set(key, (map.get(key) ?? 0) + v);
}

function route(routes: Map<string, RouteTotals>, name: string): RouteTotals {
  let r = routes.get(name);
  if (r === undefined) {
    r = { requests: 0, errors: 0, buckets: [] };
    routes.set(name, r);
  }
  return r;
}

/** Reads the dashboard's counters out of an aggregated scrape (prom-client JSON). */
export function metricTotals(json: MetricsJson): MetricTotals {
  const t: MetricTotals = {
    routes: new Map(), upstreamErrors: new Map(), upstreamRejected: new Map(), circuitState: new Map(),
    rateLimits: new Map(), cache: new Map(), targetAvailable: new Map(),
  };
  for (const v of valuesOf(json, 'turnpike_requests_total')) {
    const r = route(t.routes, String(v.labels.route));
    r.requests += v.value;
    if (Number(v.labels.status) >= 500) r.errors += v.value;
  }
  for (const v of valuesOf(json, 'turnpike_request_duration_seconds')) {
    if (v.metricName !== 'turnpike_request_duration_seconds_bucket') continue;
    const le = v.labels.le === '+Inf' ? Infinity : Number(v.labels.le);
    route(t.routes, String(v.labels.route)).buckets.push([le, v.value]);
  }
  for (const r of t.routes.values()) r.buckets.sort((a, b) => a[0] - b[0]);
  for (const v of valuesOf(json, 'turnpike_upstream_errors_total')) add(nested(t.upstreamErrors, String(v.labels.upstream)), String(v.labels.kind), v.value);
  for (const v of valuesOf(json, 'turnpike_upstream_rejected_total')) add(t.upstreamRejected, String(v.labels.upstream), v.value);
  for (const v of valuesOf(json, 'turnpike_upstream_circuit_state')) t.circuitState.set(String(v.labels.upstream), v.value);
  for (const v of valuesOf(json, 'turnpike_ratelimit_decisions_total')) {
    const key = String(v.labels.limit);
    const pair = t.rateLimits.get(key) ?? [0, 0];
    pair[v.labels.result === 'limited' ? 1 : 0] += v.value;
    t.rateLimits.set(key, pair);
  }
  for (const v of valuesOf(json, 'turnpike_cache_requests_total')) add(t.cache, String(v.labels.result), v.value);
  for (const v of valuesOf(json, 'turnpike_upstream_target_available')) nested(t.targetAvailable, String(v.labels.upstream)).set(String(v.labels.target), v.value);
  return t;
}

/** One worker's gauge `name` (no labels), or null when it does not report it. */
export function workerGauge(json: MetricsJson | undefined, name: string): number | null {
  if (json === undefined) return null;
  const v = valuesOf(json, name)[0];
  return v === undefined ? null : v.value;
}

/**
 * The `q` quantile (0..1) of the observations between two cumulative
 * histograms (`now` minus `before`, same bounds), interpolated linearly
 * inside the bucket as Prometheus' `histogram_quantile` does; an answer in
 * the `+Inf` bucket is the highest finite bound. Null without observations.
 */
export function intervalQuantile(q: number, now: Array<[number, number]>, before: Array<[number, number]> | undefined): number | null {
  const counts = now.map(([le, c], i) => [le, c - (before?.[i]?.[0] === le ? before[i][1] : 0)] as [number, number]);
  const total = counts.length > 0 ? counts[counts.length - 1][1] : 0;
  if (total <= 0) return null;
  const rank = q * total;
  let prevBound = 0;
  let prevCount = 0;
  for (const [le, c] of counts) {
    if (c >= rank) {
      if (le === Infinity) return prevBound;
      if (c === prevCount) return le;
      return prevBound + (le - prevBound) * ((rank - prevCount) / (c - prevCount));
    }
    prevBound = le;
    prevCount = c;
  }
  return prevBound;
}
