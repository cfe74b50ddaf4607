/**
 * Batches finished spans (already OTLP/JSON text) and POSTs them to an
 * OTLP/HTTP collector, off the request path: every `scheduledDelayMs`, or
 * as soon as a full batch (`maxExportBatchSize`) is waiting. One export is
 * in flight at a time; at most `maxQueueSize` spans wait, and spans beyond
 * that are dropped and counted (a collector that is down never grows the
 * worker's memory). The BatchSpanProcessor's contract, without its object
 * graph.
 */
import { Pool } from 'undici';
import type { TracingConfig } from '../../config/types.js';
import { exportEnvelope } from './otlp-json.js';

/** What the exporter reports to its owner (the worker logs it, rate-limited). */
export interface ExportFailure {
  /** Spans in the failed batch (dropped: OTLP/HTTP retries are the collector's job here). */
  spans: number;
  reason: string;
}

/** Counters for tests, the drain log line and metrics. */
export interface ExporterStats {
  /** Spans the collector took. */
  exported: number;
  /** Spans lost: queue full, failed exports, or still queued at shutdown. */
  dropped: number;
  failedExports: number;
}

/** The OTLP/HTTP span exporter of one worker. */
export class SpanExporter {
  private readonly queue: string[] = [];
  private readonly pool: Pool;
  private readonly path: string;
  private readonly headers: Record<string, string>;
  private readonly head: string;
  private readonly tail: string;
  private readonly batch: TracingConfig['batch'];
  private timer: NodeJS.Timeout | null = null;
  private immediate: NodeJS.Immediate | null = null;
  private inflight: Promise<void> | null = null;
  private closed = false;
  readonly stats: ExporterStats = { exported: 0, dropped: 0, failedExports: 0 };

  /**
   * @param resource the Resource's attributes (`service.name`, …).
   * @param onFailure called for each batch the collector did not take.
   */
  constructor(config: TracingConfig, resource: Record<string, string>, scopeVersion: string,
    private readonly onFailure: (failure: ExportFailure) => void = noFailureHook) {
    const url = new URL(config.endpoint);
    this.pool = new Pool(url.origin, {
      connections: 1, pipelining: 1,
      connectTimeout: Math.min(config.batch.exportTimeoutMs, 10_000),
      headersTimeout: config.batch.exportTimeoutMs, bodyTimeout: config.batch.exportTimeoutMs,
    });
    this.path = url.pathname + url.search;
    this.headers = { ...config.headers, 'content-type': 'application/json' };
    [this.head, this.tail] = exportEnvelope(resource, 'turnpike', scopeVersion);
    this.batch = config.batch;
  }

  /** Queues one span's OTLP/JSON text (dropped when the queue is full or the exporter closed). */
  add(span: string): void {
    if (this.closed || this.queue.length >= this.batch.maxQueueSize) {
      this.stats.dropped++;
      return;
    }
    this.queue.push(span);
    if (this.inflight !== null) return;
    // why: a full batch goes out on the next loop turn, not inside the
    // request's completion that queued it.
    if (this.queue.length >= this.batch.maxExportBatchSize) {
      if (this.immediate === null) this.immediate = setImmediate(exportNextBatch, this);
    } else if (this.timer === null) {
      this.timer = setTimeout(exportNextBatch, this.batch.scheduledDelayMs, this);
      this.timer.unref();
    }
  }

  /** Starts the next export unless one is in flight (timer and immediate callback). */
  exportNow(): void {
    this.clearTimers();
    if (this.inflight !== null || this.queue.length === 0) return;
    const n = Math.min(this.queue.length, this.batch.maxExportBatchSize);
    const body = this.head + this.queue.splice(0, n).join(',') + this.tail;
    this.inflight = this.send(body, n).finally(() => {
      this.inflight = null;
      if (this.queue.length === 0 || this.closed) return;
      if (this.queue.length >= this.batch.maxExportBatchSize) this.immediate = setImmediate(exportNextBatch, this);
      else if (this.timer === null) {
        this.timer = setTimeout(exportNextBatch, this.batch.scheduledDelayMs, this);
        this.timer.unref();
      }
    });
  }

  private async send(body: string, spans: number): Promise<void> {
    try {
      const res = await this.pool.request({ method: 'POST', path: this.path, headers: this.headers, body });
      // why: the body is read to the end so the connection is reused.
      const text = await res.body.text();
      if (res.statusCode >= 200 && res.statusCode < 300) {
        this.stats.exported += spans;
        return;
      }
      this.failed(spans, 'collector answered ' + res.statusCode + (text !== '' ? ': ' + text.slice(0, 200) : ''));
    } catch (err) {
      this.failed(spans, err instanceof Error ? err.message : String(err));
    }
  }

  private failed(spans: number, reason: string): void {
    this.stats.failedExports++;
    this.stats.dropped += spans;
    this.onFailure({ spans, reason });
  }

  /**
   * Exports everything queued (batch after batch) and closes; bounded by
   * `capMs`, never rejects. Spans added afterwards are dropped.
   */
  async shutdown(capMs: number): Promise<void> {
    this.closed = true;
    this.clearTimers();
    const deadline = Date.now() + capMs;
    let timer: NodeJS.Timeout | undefined;
    const cap = new Promise<void>((resolve) => { timer = setTimeout(resolve, capMs); });
    try {
      while (Date.now() < deadline) {
        if (this.inflight === null) {
          if (this.queue.length === 0) break;
          this.exportNow();
        }
        let done = false;
        await Promise.race([this.inflight!.then(() => { done = true; }), cap]);
        if (!done) break;
      }
    } finally {
      clearTimeout(timer);
      this.stats.dropped += this.queue.length;
      this.queue.length = 0;
      await this.pool.destroy().catch(ignore);
    }
  }

  private clearTimers(): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
    if (this.immediate !== null) { clearImmediate(this.immediate); this.immediate = null; }
  }
}

function exportNextBatch(exporter: SpanExporter): void {
  exporter.exportNow();
}

function noFailureHook(): void {
  // Failures are counted in stats only.
}

function ignore(): void {
  // A pool that fails to close is already gone.
}
