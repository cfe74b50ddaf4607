import type { MetricsJson } from '../../observability/cluster-metrics.js';
import { intervalQuantile, metricTotals, workerGauge, type MetricTotals } from './metric-totals.js';
import { mergeUpstreams, type UpstreamView, type WorkerUpstreams } from './upstream-view.js';

/** A worker as the supervisor lists it. */
export interface WorkerInfo {
  id: number;
  pid: number;
  generation: number;
  state: string;
}

/** What a {@link DashboardSampler} reads, once per sample. */
export interface DashboardSources {
  /** One aggregated scrape: the aggregate and each worker's own metrics. */
  collect(): Promise<{ aggregate: MetricsJson; workers: Map<number, MetricsJson> }>;
  /** The workers the supervisor knows of. */
  workers(): WorkerInfo[];
  /** Each worker's `GET /upstreams` answer. */
  upstreams(): Promise<WorkerUpstreams[]>;
  /** The applied config (generation, and revision/source when a provider gives them). */
  config(): Record<string, unknown>;
  /** Clock (ms); default Date.now. */
  now?(): number;
}

/** Rates over the last interval (null on the first sample). */
export interface Rates {
  perSecond: number | null;
  errorsPerSecond: number | null;
  /** Share of answers that were 5xx, 0..1. */
  errorRate: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

/** The JSON `GET /ui/api/snapshot` answers (README, "Dashboard"). */
export interface DashboardSnapshot {
  time: number;
  /** Seconds between this sample and the one the rates are relative to (null: first sample). */
  intervalSeconds: number | null;
  requests: Rates & { total: number; errorsTotal: number };
  routes: Array<Rates & { route: string; total: number; errorsTotal: number }>;
  upstreams: Array<UpstreamView & { errorsTotal: number; errorsPerSecond: number | null; errorsByKind: Record<string, number>;
    rejectedTotal: number; rejectedPerSecond: number | null }>;
  rateLimits: Array<{ limit: string; allowedTotal: number; limitedTotal: number; allowedPerSecond: number | null; limitedPerSecond: number | null }>;
  cache: { results: Record<string, number>; hitRatio: number | null; hitRatioTotal: number | null };
  workers: Array<WorkerInfo & { residentBytes: number | null; heapUsedBytes: number | null }>;
  primary: { pid: number; residentBytes: number | null; heapUsedBytes: number | null };
  config: Record<string, unknown>;
}

/** One kept sample. */
interface Sample {
  time: number;
  totals: MetricTotals;
}

/** Cache results that were answered from the cache (the rest of hit/miss: `miss`; `bypass` is neither). */
const CACHE_HITS = ['hit', 'stale', 'revalidated', 'coalesced'];
/** Reuse a sample this recent instead of scraping again. */
const REUSE_MS = 500;
/** Rates are taken against the newest kept sample at least this old. */
const MIN_INTERVAL_MS = 800;
/** Samples older than this are dropped. */
const KEEP_MS = 30_000;

function sumOf(values: Iterable<number>): number {
  let n = 0;
  for (const v of values) n += v;
  return n;
}

function rate(now: number, before: number | undefined, seconds: number | null): number | null {
  if (seconds === null) return null;
  return Math.max(0, now - (before ?? 0)) / seconds;
}

/**
 * Builds the dashboard's snapshots in the primary: totals from the
 * aggregated metrics, rates and p50/p99 over the interval since an earlier
 * sample (kept here, so every open page sees the same rates), upstream and
 * target health from the workers' `upstreams` command, worker memory from
 * each worker's own metrics.
 */
export class DashboardSampler {
  private readonly history: Sample[] = [];
  private last: { time: number; result: Promise<DashboardSnapshot> } | null = null;

  constructor(private readonly sources: DashboardSources) {}

  /** The current snapshot (shared with callers within {@link REUSE_MS}). */
  snapshot(): Promise<DashboardSnapshot> {
    const now = this.sources.now?.() ?? Date.now();
    // why: several open pages polling every second must not each scrape every worker.
    if (this.last !== null && now - this.last.time < REUSE_MS) return this.last.result;
    const result = this.take(now);
    this.last = { time: now, result };
    result.catch(() => {
      if (this.last?.result === result) this.last = null;
    });
    return result;
  }

  private async take(time: number): Promise<DashboardSnapshot> {
    const [scrape, upstreamAnswers] = await Promise.all([this.sources.collect(), this.sources.upstreams()]);
    const totals = metricTotals(scrape.aggregate);
    let ref: Sample | undefined;
    for (const s of this.history) if (time - s.time >= MIN_INTERVAL_MS) ref = s;
    this.history.push({ time, totals });
    while (this.history.length > 0 && time - this.history[0].time > KEEP_MS) this.history.shift();
    const seconds = ref === undefined ? null : (time - ref.time) / 1000;
    const before = ref?.totals;

    const routes: DashboardSnapshot['routes'] = [];
    let all = 0;
    let allErrors = 0;
    let allBefore = 0;
    let allErrorsBefore = 0;
    let merged: Array<[number, number]> = [];
    let mergedBefore: Array<[number, number]> = [];
    for (const [name, r] of totals.routes) {
      const b = before?.routes.get(name);
      all += r.requests;
      allErrors += r.errors;
      allBefore += b?.requests ?? 0;
      allErrorsBefore += b?.errors ?? 0;
      merged = addBuckets(merged, r.buckets);
      if (b !== undefined) mergedBefore = addBuckets(mergedBefore, b.buckets);
      routes.push({ route: name, total: r.requests, errorsTotal: r.errors, ...rates(r.requests, b?.requests, r.errors, b?.errors, r.buckets, b?.buckets, seconds) });
    }
    routes.sort((x, y) => x.route.localeCompare(y.route));
    const requests = { total: all, errorsTotal: allErrors, ...rates(all, allBefore, allErrors, allErrorsBefore, merged, mergedBefore, seconds) };

    const views = mergeUpstreams(upstreamAnswers, totals.circuitState);
    const names = new Set([...views.keys(), ...totals.upstreamErrors.keys(), ...totals.upstreamRejected.keys()]);
    const upstreams: DashboardSnapshot['upstreams'] = [...names].sort().map((name) => {
      const kinds = totals.upstreamErrors.get(name) ?? new Map<string, number>();
      const errorsTotal = sumOf(kinds.values());
      const rejectedTotal = totals.upstreamRejected.get(name) ?? 0;
      const view = views.get(name) ?? { name, protocol: null, circuit: null, panic: false, targets: [] };
      return {
        ...view, errorsTotal, errorsByKind: Object.fromEntries(kinds),
        errorsPerSecond: rate(errorsTotal, before === undefined ? undefined : sumOf(before.upstreamErrors.get(name)?.values() ?? []), seconds),
        rejectedTotal, rejectedPerSecond: rate(rejectedTotal, before?.upstreamRejected.get(name), seconds),
      };
    });

    const rateLimits = [...totals.rateLimits].map(([limit, [allowed, limited]]) => {
      const b = before?.rateLimits.get(limit);
      return { limit, allowedTotal: allowed, limitedTotal: limited, allowedPerSecond: rate(allowed, b?.[0], seconds), limitedPerSecond: rate(limited, b?.[1], seconds) };
    });

    const hits = (t: MetricTotals | undefined): number => sumOf(CACHE_HITS.map((k) => t?.cache.get(k) ?? 0));
    const misses = (t: MetricTotals | undefined): number => t?.cache.get('miss') ?? 0;
    const ratio = (h: number, m: number): number | null => (h + m > 0 ? h / (h + m) : null);
    const cache = {
      results: Object.fromEntries(totals.cache),
      hitRatio: seconds === null ? null : ratio(hits(totals) - hits(before), misses(totals) - misses(before)),
      hitRatioTotal: ratio(hits(totals), misses(totals)),
    };

    const workers = this.sources.workers().map((w) => {
      const own = scrape.workers.get(w.id);
      return { ...w, residentBytes: workerGauge(own, 'process_resident_memory_bytes'), heapUsedBytes: workerGauge(own, 'nodejs_heap_size_used_bytes') };
    });
    const mem = process.memoryUsage();
    return {
      time, intervalSeconds: seconds, requests, routes, upstreams, rateLimits, cache, workers,
      primary: { pid: process.pid, residentBytes: mem.rss, heapUsedBytes: mem.heapUsed },
      config: this.sources.config(),
    };
  }
}

/**
 * The dashboard's config block: the serving generation, merged with the
 * `config` readiness detail when a config source provides one (revision,
 * source, rejected revision); a failing provider is left out.
 */
export function configSummary(generation: number, detail: (() => unknown) | undefined): Record<string, unknown> {
  const base: Record<string, unknown> = { generation, source: 'file' };
  if (detail === undefined) return base;
  try {
    const d = detail();
    return typeof d === 'object' && d !== null && !Array.isArray(d) ? { ...base, ...d } : base;
  } catch {
    return base;
  }
}

/** Rates of one series between two samples. */
function rates(requests: number, requestsBefore: number | undefined, errors: number, errorsBefore: number | undefined,
  buckets: Array<[number, number]>, bucketsBefore: Array<[number, number]> | undefined, seconds: number | null): Rates {
  if (seconds === null) return { perSecond: null, errorsPerSecond: null, errorRate: null, p50Ms: null, p99Ms: null };
  const n = Math.max(0, requests - (requestsBefore ?? 0));
  const e = Math.max(0, errors - (errorsBefore ?? 0));
  const p50 = intervalQuantile(0.5, buckets, bucketsBefore);
  const p99 = intervalQuantile(0.99, buckets, bucketsBefore);
  return {
    perSecond: n / seconds, errorsPerSecond: e / seconds, errorRate: n > 0 ? e / n : null,
    p50Ms: p50 === null ? null : p50 * 1000, p99Ms: p99 === null ? null : p99 * 1000,
  };
}

/** Sums two cumulative histograms with the same bounds (an empty one is zero). */
function addBuckets(a: Array<[number, number]>, b: Array<[number, number]>): Array<[number, number]> {
  if (a.length === 0) return b.map(([le, c]) => [le, c]);
  if (b.length === 0) return a;
  return a.map(([le, c], i) => [le, c + (b[i]?.[0] === le ? b[i][1] : 0)]);
}
