/**
 * Closed-loop load (autocannon's programmatic API): N connections each send
 * the next request as soon as the previous answer arrives, for a fixed time.
 * This finds the maximum sustainable requests/s; its latency is the
 * closed-loop view (no coordinated-omission correction: use the open loop
 * for latency claims).
 */
import autocannon from 'autocannon';
import { newLatencyHistogram, percentilesMs, recordLatencyMs, latencyCurveMs } from './latency-percentiles.js';
import type { LatencyPercentiles } from './latency-percentiles.js';
import { classifyError } from './request-errors.js';
import type { CurvePoint, ErrorCounts } from './result-types.js';
import type { ScenarioRequest } from './scenarios/types.js';

/** What to send and for how long. */
export interface ClosedLoopOptions {
  /** Origin, e.g. http://127.0.0.1:8080. */
  url: string;
  connections: number;
  durationS: number;
  /** Cycled in order (per connection). */
  requests: ScenarioRequest[];
  /**
   * TLS server name for an https `url` (autocannon does not verify the
   * certificate; naming a host avoids node's warning about an IP as SNI).
   */
  servername?: string;
  /** For an https `url`: a client certificate and key (PEM) to present. */
  clientCert?: { cert: Buffer; key: Buffer };
  /** Per-request timeout, s (default 10). */
  timeoutS?: number;
  /** Called about every 250 ms with the elapsed time. */
  onProgress?: (elapsedMs: number, responses: number) => void;
}

/** Outcome of a closed-loop run. */
export interface ClosedLoopResult {
  /** Responses received (any status). */
  requests: number;
  rps: number;
  /** Wall time of the run, s. */
  elapsedS: number;
  latency: LatencyPercentiles;
  curve: CurvePoint[];
  errors: ErrorCounts;
}

/** Runs autocannon against `url`; latency is recorded at µs resolution from its per-response times. */
export async function runClosedLoop(o: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const histogram = newLatencyHistogram();
  const errors: ErrorCounts = { connect: 0, timeout: 0, status5xx: 0, status4xx: 0, other: 0, unfinished: 0 };
  let responses = 0;
  const started = Date.now();
  const instance = autocannon({
    url: o.url,
    connections: o.connections,
    duration: o.durationS,
    timeout: o.timeoutS ?? 10,
    ...(o.servername === undefined ? {} : { servername: o.servername }),
    ...(o.clientCert === undefined ? {} : { tlsOptions: o.clientCert }),
    requests: o.requests.map((r) => ({ method: r.method, path: r.path, headers: r.headers, body: r.body })),
  });
  instance.on('response', function onResponse(_client: unknown, status: number, _bytes: number, ms: number): void {
    responses++;
    recordLatencyMs(histogram, ms);
    if (status >= 500) errors.status5xx++;
    else if (status >= 400) errors.status4xx++;
  });
  instance.on('reqError', function onReqError(err: Error & { code?: string }): void {
    if (/timed out/i.test(err.message)) errors.timeout++;
    else errors[classifyError(err)]++;
  });
  const progress = o.onProgress === undefined ? undefined
    : setInterval(() => o.onProgress!(Date.now() - started, responses), 250);
  try {
    const result = await instance;
    const elapsedS = result.duration > 0 ? result.duration : (Date.now() - started) / 1000;
    return {
      requests: responses,
      rps: responses / elapsedS,
      elapsedS,
      latency: percentilesMs(histogram),
      curve: latencyCurveMs(histogram),
      errors,
    };
  } finally {
    clearInterval(progress);
  }
}
