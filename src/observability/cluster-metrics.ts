import { AggregatorRegistry, collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** prom-client's JSON form of one registry (`getMetricsAsJSON()`). */
export type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** What the collector needs of a worker: its cluster id and a way to message it. */
export interface MetricsPeer {
  readonly id: number;
  send(message: { type: 'turnpike:metrics-request'; requestId: number }): void;
}

/** Worker states counted by `turnpike_workers{state}`. */
export const WORKER_STATES = ['starting', 'listening', 'draining'] as const;

/** Metrics owned by the primary itself. */
export interface PrimaryMetrics {
  readonly registry: Registry;
  /** `turnpike_worker_restarts_total`: replacements of crashed workers. */
  readonly workerRestarts: Counter;
  /** `turnpike_config_reloads_total{result}`: result = `ok` | `error`. */
  readonly configReloads: Counter<'result'>;
  /** Sets the function read at scrape time for `turnpike_workers{state}`. */
  setWorkerCounts(source: () => Record<string, number>): void;
  /**
   * Sets the function read at scrape time for
   * `turnpike_config_revision{state="applied"|"rejected"}` (a series only
   * when the config source has revisions, i.e. etcd).
   */
  setConfigRevisions(source: () => { revision: number | null; rejectedRevision: number | null }): void;
}

/**
 * Creates the primary's registry: its own counters plus its default process
 * metrics under the `turnpike_primary_` prefix (so they never sum with the
 * workers' `process_*` series).
 */
export function createPrimaryMetrics(options: { defaultMetrics?: boolean } = {}): PrimaryMetrics {
  const registry = new Registry();
  let counts: () => Record<string, number> = function none() {
    return {};
  };
  const workerRestarts = new Counter({
    name: 'turnpike_worker_restarts_total',
    help: 'Workers replaced after an unexpected exit.',
    registers: [registry],
  });
  const configReloads = new Counter({
    name: 'turnpike_config_reloads_total',
    help: 'Configuration reloads (SIGHUP) by result.',
    labelNames: ['result'] as const,
    registers: [registry],
  });
  configReloads.inc({ result: 'ok' }, 0);
  configReloads.inc({ result: 'error' }, 0);
  new Gauge({
    name: 'turnpike_workers',
    help: 'Worker processes by state.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const c = counts();
      for (const state of WORKER_STATES) this.set({ state }, c[state] ?? 0);
    },
  });
  let revisions: () => { revision: number | null; rejectedRevision: number | null } = function none() {
    return { revision: null, rejectedRevision: null };
  };
  new Gauge({
    name: 'turnpike_config_revision',
    help: 'Config revision (etcd mod revision) applied, and the last one rejected.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const r = revisions();
      this.reset();
      if (r.revision !== null) this.set({ state: 'applied' }, r.revision);
      if (r.rejectedRevision !== null) this.set({ state: 'rejected' }, r.rejectedRevision);
    },
  });
  if (options.defaultMetrics !== false) collectDefaultMetrics({ register: registry, prefix: 'turnpike_primary_' });
  return {
    registry,
    workerRestarts,
    configReloads,
    setWorkerCounts(source) {
      counts = source;
    },
    setConfigRevisions(source) {
      revisions = source;
    },
  };
}

/** One scrape in progress. */
interface PendingScrape {
  readonly waiting: Set<number>;
  readonly responses: Map<number, MetricsJson>;
  readonly timer: NodeJS.Timeout;
  readonly finish: () => void;
}

/** One metric family of the retired baseline. */
interface RetiredFamily {
  readonly name: string;
  readonly help: string;
  readonly type: MetricsJson[number]['type'];
  readonly values: Map<string, { value: number; labels: Record<string, string | number>; metricName?: string }>;
}

/**
 * Aggregates every worker's registry for the primary's `GET /metrics`, over
 * turnpike's own IPC messages and prom-client's `AggregatorRegistry.aggregate`
 * (which sums counters, histogram buckets and, by default, gauges).
 *
 * Why not `AggregatorRegistry.clusterMetrics()`: it asks every connected
 * worker, including ones still loading (they never answer), and fails the
 * whole scrape after 5 s when a worker dies mid-request. Here only workers
 * known to be up are asked, a slow worker is left out after `timeoutMs`, and
 * the last counts of workers that exited (drained on reload, or crashed) are
 * kept, so `turnpike_*` counters do not fall back when a generation is replaced.
 */
export class ClusterMetricsCollector {
  private nextId = 1;
  private readonly pending = new Map<number, PendingScrape>();
  private readonly lastSnapshot = new Map<number, MetricsJson>();
  /** Summed final counters/histograms of exited workers, by metric name. */
  private readonly retired = new Map<string, RetiredFamily>();

  constructor(
    private readonly primary: Registry,
    private readonly timeoutMs = 1000,
  ) {}

  /** Scrapes `peers` and resolves with the aggregated Prometheus text. */
  async collect(peers: Iterable<MetricsPeer>): Promise<string> {
    const lists = await this.gather(peers);
    lists.push(await this.primary.getMetricsAsJSON());
    return AggregatorRegistry.aggregate(lists).metrics();
  }

  /**
   * Scrapes `peers` like {@link collect} and resolves with prom-client's JSON
   * form: the aggregate (workers, retired baseline and primary) plus each
   * answering worker's own metrics by worker id (for per-worker values such
   * as `process_resident_memory_bytes`, which the aggregate sums).
   */
  async collectJson(peers: Iterable<MetricsPeer>): Promise<{ aggregate: MetricsJson; workers: Map<number, MetricsJson> }> {
    const workers = new Map<number, MetricsJson>();
    const lists = await this.gather(peers, workers);
    lists.push(await this.primary.getMetricsAsJSON());
    return { aggregate: await AggregatorRegistry.aggregate(lists).getMetricsAsJSON(), workers };
  }

  /** Feeds a `turnpike:metrics-response` from worker `workerId`. */
  onResponse(workerId: number, requestId: number, metrics: unknown[]): void {
    const json = metrics as MetricsJson;
    this.lastSnapshot.set(workerId, json);
    const scrape = this.pending.get(requestId);
    if (scrape === undefined || !scrape.waiting.delete(workerId)) return;
    scrape.responses.set(workerId, json);
    if (scrape.waiting.size === 0) scrape.finish();
  }

  /**
   * A worker is gone: its last known counters and histograms move to the
   * retired baseline (and out of any scrape in progress, so nothing counts twice).
   */
  onWorkerExit(workerId: number): void {
    const last = this.lastSnapshot.get(workerId);
    this.lastSnapshot.delete(workerId);
    for (const scrape of this.pending.values()) {
      scrape.responses.delete(workerId);
      if (scrape.waiting.delete(workerId) && scrape.waiting.size === 0) scrape.finish();
    }
    if (last !== undefined) this.retire(last);
  }

  /** Asks every peer; resolves (on all answers or the timeout) with the answers plus the baseline. */
  private gather(peers: Iterable<MetricsPeer>, byWorker?: Map<number, MetricsJson>): Promise<MetricsJson[]> {
    const requestId = this.nextId++;
    return new Promise<MetricsJson[]>((resolve) => {
      const scrape: PendingScrape = {
        waiting: new Set<number>(),
        responses: new Map(),
        timer: setTimeout(() => scrape.finish(), this.timeoutMs),
        finish: () => {
          clearTimeout(scrape.timer);
          if (!this.pending.delete(requestId)) return;
          // why: taken synchronously, so a worker exiting later cannot be counted twice.
          const lists = [...scrape.responses.values()];
          if (byWorker !== undefined) for (const [id, json] of scrape.responses) byWorker.set(id, json);
          if (this.retired.size > 0) lists.push(this.retiredJson());
          resolve(lists);
        },
      };
      this.pending.set(requestId, scrape);
      for (const peer of peers) {
        try {
          peer.send({ type: 'turnpike:metrics-request', requestId });
          scrape.waiting.add(peer.id);
        } catch {
          // The channel closed under us; the worker's exit handler retires it.
        }
      }
      if (scrape.waiting.size === 0) scrape.finish();
    });
  }

  private retire(snapshot: MetricsJson): void {
    for (const metric of snapshot) {
      // why: prom-client's typings declare `type` as a numeric enum; at run time it is the string.
      const type = metric.type as unknown as string;
      if (!metric.name.startsWith('turnpike_') || (type !== 'counter' && type !== 'histogram')) continue;
      let family = this.retired.get(metric.name);
      if (family === undefined) {
        family = { name: metric.name, help: metric.help, type: metric.type, values: new Map() };
        this.retired.set(metric.name, family);
      }
      for (const v of metric.values as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>) {
        const key = `${v.metricName ?? ''}\u0000${JSON.stringify(v.labels)}`;
        const have = family.values.get(key);
        if (have === undefined) family.values.set(key, { value: v.value, labels: v.labels, metricName: v.metricName });
        else have.value += v.value;
      }
    }
  }

  private retiredJson(): MetricsJson {
    const out: unknown[] = [];
    for (const f of this.retired.values()) {
      out.push({ name: f.name, help: f.help, type: f.type, aggregator: 'sum', values: [...f.values.values()].map((v) => ({ ...v })) });
    }
    return out as MetricsJson;
  }
}
