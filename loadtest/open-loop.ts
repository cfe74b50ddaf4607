/**
 * Open-loop load generator: requests are sent on a fixed schedule whatever the
 * server does, and latency is charged from the scheduled send time, so a stall
 * shows up in every request it delays (coordinated omission corrected, as wrk2).
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import type { Dispatcher } from 'undici';
import type { Histogram } from 'hdr-histogram-js';
import { newLatencyHistogram, percentilesMs, recordLatencyMs } from './latency-percentiles.js';
import type { LatencyPercentiles } from './latency-percentiles.js';
import { classifyError } from './request-errors.js';
import type { OpenLoopErrors } from './request-errors.js';

export type { OpenLoopErrors } from './request-errors.js';

/** What to send, how fast, for how long. */
export interface OpenLoopOptions {
  /** Origin (and, if `path` is absent, path + query) of the target, e.g. `http://127.0.0.1:8080/api`. */
  url: string;
  /** Target send rate, requests per second. */
  rate: number;
  /** Length of the sending window, ms. Requests due at t0 + i/rate for every i with i/rate < durationMs. */
  durationMs: number;
  /** Keep-alive connections in the undici Pool (each with pipelining 1). */
  connections: number;
  /** HTTP method, default GET. */
  method?: Dispatcher.HttpMethod;
  /** Request path + query; default taken from `url`. */
  path?: string;
  headers?: Record<string, string>;
  /** Request body, sent with every request. */
  body?: string | Buffer;
  /**
   * Several requests to cycle through (request i is `requests[i % length]`);
   * when given, `method`/`path`/`headers`/`body` above are ignored.
   */
  requests?: OpenLoopRequest[];
  /** Headers/body/connect timeout per request, ms (default 10 000). */
  timeoutMs?: number;
  /** How long to wait for outstanding requests after sending stops, ms (default 5 000). */
  drainTimeoutMs?: number;
  /** Keep per-request latencies in `samples` (memory: 16 bytes per request). */
  keepSamples?: boolean;
  /** For an https `url`: the CA certificate (PEM) to trust. */
  ca?: Buffer;
  /**
   * Open every connection before the clock starts, with `connections`
   * concurrent unrecorded requests of the first kind (default false). The
   * load-test runs set it: a steady-state measurement must not charge
   * connection set-up (a TLS handshake burst) to the first requests.
   */
  warmConnections?: boolean;
  /** For an https `url`: a client certificate and key (PEM) to present. */
  clientCert?: { cert: Buffer; key: Buffer };
}

/** One request of a cycled request list. */
export interface OpenLoopRequest {
  method?: Dispatcher.HttpMethod;
  /** Path + query. */
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
}

/** Outcome of one open-loop run. */
export interface OpenLoopResult {
  /** Latency in µs from each request's scheduled send time to its response end (CO-corrected). */
  histogram: Histogram;
  /** Latency in µs from the moment the request was written to a socket (the naive, closed-loop view). */
  naiveHistogram: Histogram;
  /** Percentiles of `histogram`, ms. */
  percentiles: LatencyPercentiles;
  /** Percentiles of `naiveHistogram`, ms. */
  naivePercentiles: LatencyPercentiles;
  targetRate: number;
  /** Requests handed to the pool. */
  sent: number;
  /** Responses received in full (any status). */
  completed: number;
  errors: OpenLoopErrors;
  /** Requests still outstanding when the drain timeout expired (aborted, not in any histogram). */
  unfinished: number;
  /** sent / (time of last send − t0 + 1/rate): equals `rate` when the scheduler kept up. */
  achievedRate: number;
  /** completed / (time of last completion − t0). */
  completedRate: number;
  /** Delay between each request's due time and its hand-off to the pool, ms (generator/timer lag, part of `percentiles`). */
  sendLagPercentiles: LatencyPercentiles;
  /** Per-request latencies in ms, indexed by request number (NaN if no response); only with `keepSamples`. */
  samples?: { corrected: Float64Array; naive: Float64Array };
}

/** Mutable state of one run, shared by the scheduler and the request handlers. */
class RunState {
  readonly histogram = newLatencyHistogram();
  readonly naiveHistogram = newLatencyHistogram();
  readonly errors: OpenLoopErrors = { connect: 0, timeout: 0, status5xx: 0, status4xx: 0, other: 0 };
  sent = 0;
  completed = 0;
  failed = 0;
  lastDoneAt = 0;
  /** Set when the run is over; late callbacks from aborted requests are ignored. */
  closed = false;
  onIdle: (() => void) | null = null;
  constructor(readonly samples: { corrected: Float64Array; naive: Float64Array } | undefined) {}

  settle(): void {
    if (this.onIdle !== null && this.completed + this.failed === this.sent) this.onIdle();
  }
}

/** undici dispatch handler for one request; records both latencies on completion. */
class RequestHandler implements Dispatcher.DispatchHandler {
  private sentAt = 0;
  private status = 0;
  constructor(private readonly run: RunState, private readonly index: number, private readonly dueAt: number) {}

  onRequestStart(): void {
    // why: called by undici right before the request is written to a socket,
    // so it is the send time a closed-loop tool would measure from.
    this.sentAt = performance.now();
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    const run = this.run;
    if (run.closed) return;
    const now = performance.now();
    const corrected = now - this.dueAt;
    const naive = now - this.sentAt;
    recordLatencyMs(run.histogram, corrected);
    recordLatencyMs(run.naiveHistogram, naive);
    if (run.samples !== undefined) {
      run.samples.corrected[this.index] = corrected;
      run.samples.naive[this.index] = naive;
    }
    if (this.status >= 500) run.errors.status5xx++;
    else if (this.status >= 400) run.errors.status4xx++;
    run.completed++;
    run.lastDoneAt = now;
    run.settle();
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    const run = this.run;
    if (run.closed) return;
    run.errors[classifyError(err)]++;
    run.failed++;
    run.settle();
  }
}

/**
 * Runs an open-loop load test: request i is due at t0 + i/rate and is handed
 * to an undici Pool (`connections` keep-alive connections, pipelining 1) at
 * that time even if earlier requests are still outstanding (they queue in the
 * pool, and the queueing time counts as latency). One timer drives the
 * schedule: each tick sends every request that is due, then sleeps until the
 * next due time. After `durationMs` it stops sending, waits up to
 * `drainTimeoutMs` for outstanding requests, and closes the pool.
 *
 * Node timers have 1 ms granularity, so each request is handed over ~0.5 ms
 * (p50) after its due time; that lag is part of the corrected latency (see
 * `sendLagPercentiles`) and is the same for every target, so it cancels in
 * `addedLatency` comparisons. Latency is recorded for every
 * response, 5xx included; transport errors are counted, not recorded.
 */
export async function runOpenLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const { rate, durationMs, connections } = options;
  if (!(rate > 0) || !(durationMs > 0) || !(connections >= 1)) {
    throw new RangeError('rate, durationMs and connections must be positive');
  }
  const target = new URL(options.url);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const total = Math.ceil((durationMs * rate) / 1000);
  const samples = options.keepSamples === true
    ? { corrected: new Float64Array(total).fill(NaN), naive: new Float64Array(total).fill(NaN) }
    : undefined;
  const run = new RunState(samples);
  const pool = new Pool(target.origin, {
    connections,
    pipelining: 1,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    connect: { timeout: timeoutMs, ...(options.ca === undefined ? {} : { ca: options.ca }), ...options.clientCert },
  });
  const list: OpenLoopRequest[] = options.requests !== undefined && options.requests.length > 0
    ? options.requests
    : [{ method: options.method, path: options.path ?? target.pathname + target.search, headers: options.headers, body: options.body }];
  const dispatchList: Dispatcher.DispatchOptions[] = list.map((r) => ({
    origin: target.origin, method: r.method ?? 'GET', path: r.path, headers: r.headers, body: r.body,
  }));
  const cycle = dispatchList.length;
  if (options.warmConnections === true) await preconnect(pool, dispatchList[0], connections);

  const intervalMs = 1000 / rate;
  let next = 0;
  let lastSendAt = 0;
  const sendLag = newLatencyHistogram();
  const t0 = performance.now();

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const now = performance.now();
      const dueCount = Math.min(total, Math.floor((now - t0) / intervalMs) + 1);
      for (; next < dueCount; next++) {
        const dueAt = t0 + next * intervalMs;
        recordLatencyMs(sendLag, now - dueAt);
        run.sent++;
        pool.dispatch(dispatchList[next % cycle], new RequestHandler(run, next, dueAt));
      }
      if (dueCount > 0) lastSendAt = now;
      if (next >= total) {
        resolve();
        return;
      }
      // why: sleep until the next due time instead of polling every ms; an
      // early wake-up only costs an empty tick, a late one is charged to latency.
      const wait = t0 + next * intervalMs - performance.now();
      setTimeout(tick, wait > 1 ? Math.round(wait) : 1);
    };
    tick();
  });

  await drain(run, options.drainTimeoutMs ?? 5_000);
  const unfinished = run.sent - run.completed - run.failed;
  run.closed = true;
  if (unfinished > 0) await pool.destroy();
  else await pool.close();

  return {
    histogram: run.histogram,
    naiveHistogram: run.naiveHistogram,
    percentiles: percentilesMs(run.histogram),
    naivePercentiles: percentilesMs(run.naiveHistogram),
    targetRate: rate,
    sent: run.sent,
    completed: run.completed,
    errors: run.errors,
    unfinished,
    achievedRate: run.sent / ((lastSendAt - t0 + intervalMs) / 1000),
    completedRate: run.lastDoneAt > t0 ? run.completed / ((run.lastDoneAt - t0) / 1000) : 0,
    sendLagPercentiles: percentilesMs(sendLag),
    samples,
  };
}

/**
 * Opens the pool's connections before the clock starts: `connections`
 * concurrent requests, not recorded. A steady-state measurement must not
 * charge connection set-up to the first requests; over TLS that set-up (one
 * handshake per connection, all at once) held the first ~200 ms of a run and
 * alone made its p99.
 */
async function preconnect(pool: Pool, request: Dispatcher.DispatchOptions, connections: number): Promise<void> {
  const one = async (): Promise<void> => {
    try {
      const res = await pool.request({ method: request.method, path: request.path, headers: request.headers, body: request.body as string | Buffer | undefined });
      await res.body.dump();
    } catch {
      // the measured run reports errors; the warm-up only opens connections
    }
  };
  await Promise.all(Array.from({ length: connections }, one));
}

/** Resolves when every sent request has settled or `timeoutMs` has passed. */
function drain(run: RunState, timeoutMs: number): Promise<void> {
  if (run.completed + run.failed === run.sent) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, timeoutMs);
    function done(): void {
      clearTimeout(timer);
      run.onIdle = null;
      resolve();
    }
    run.onIdle = done;
  });
}
