/**
 * The worker's tracer: decides per request whether it is recorded, gives
 * it its ids (so the upstream request can name the gateway's span as its
 * parent), and turns a sampled request into one SERVER span, written as
 * OTLP/JSON when the request completes and exported in batches over
 * OTLP/HTTP off the request path (span-exporter.ts).
 *
 * why not the official SDK on the worker: measured (results/tracing.md) at
 * +11% CPU per request at 1% sampling against the ≤3% the gateway allows
 * itself; most of it was the SDK's batch serialisation blocking the loop
 * for milliseconds per export. The decisions are the SDK's (parent-based,
 * TraceIdRatioBasedSampler; a test holds them to the SDK's) and the wire
 * format is OTLP/JSON.
 */
import type { TracingConfig } from '../../config/types.js';
import type { RequestContext } from '../../ingress/request-context.js';
import { cacheResult } from '../../policies/cache/request-state.js';
import { boolAttr, encodeSpan, intAttr, SPAN_KIND_SERVER, STATUS_ERROR, stringAttr, type SpanText } from './otlp-json.js';
import { RequestTrace } from './request-trace.js';
import { SpanExporter, type ExportFailure } from './span-exporter.js';
import {
  formatTraceparent, lastTraceIdRatioKey, parseTraceparent, randomSpanId, randomTraceId, ratioUpperBound,
} from './trace-context.js';

/** Where the tracer reports a failed export (the worker's logger, rate-limited here). */
export type TracingWarn = (fields: Record<string, unknown>, msg: string) => void;

/** A failed export is logged at most this often (the rest are counted into the next line). */
const FAILURE_LOG_INTERVAL_MS = 60_000;

/** Per worker: sampling, ids, span encoding and one exporter. */
export class RequestTracer {
  /** The bound of TraceIdRatioBasedSampler for the configured ratio, applied to a new trace's id. */
  private readonly upperBound: number;
  private readonly shutdownCapMs: number;
  readonly exporter: SpanExporter;
  // why: one reusable record per worker; finish() fills it and encodes it at once.
  private readonly text: SpanText = {
    traceId: '', spanId: '', parentSpanId: '', traceState: '', name: '', kind: SPAN_KIND_SERVER,
    startMs: 0, endMs: 0, attributes: '', events: '', statusCode: 0,
  };
  private lastFailureLogMs = -Infinity;
  private failuresSinceLog = 0;

  constructor(config: TracingConfig, version = '', private readonly warn: TracingWarn | null = null) {
    this.upperBound = ratioUpperBound(config.sampleRatio);
    const resource: Record<string, string> = {
      'service.name': config.serviceName,
      'telemetry.sdk.name': 'turnpike',
      'telemetry.sdk.language': 'nodejs',
    };
    if (version !== '') resource['service.version'] = version;
    this.exporter = new SpanExporter(config, resource, version, (f) => this.exportFailed(f));
    this.shutdownCapMs = Math.min(config.batch.exportTimeoutMs, 5000);
  }

  /**
   * Starts a request's trace (`ctx.trace`, `ctx.traceId`): continues a valid
   * incoming `traceparent` (its sampled flag decides), else starts a new
   * trace (the sample ratio decides on its id).
   */
  begin(ctx: RequestContext): void {
    const t = new RequestTrace();
    const header = ctx.header('traceparent');
    const parent = header === '' ? null : parseTraceparent(header);
    t.spanId = randomSpanId();
    if (parent !== null) {
      t.traceId = parent.traceId;
      t.parentSpanId = parent.parentId;
      t.sampled = parent.sampled;
      t.traceState = joinedHeader(ctx, 'tracestate');
    } else {
      t.traceId = randomTraceId();
      // why: TraceIdRatioBasedSampler's decision on this trace id, from the
      // key that came with the id (trace-context.ts) instead of a parse of
      // the id string.
      t.sampled = lastTraceIdRatioKey() < this.upperBound;
    }
    t.recording = t.sampled;
    t.traceparent = formatTraceparent(t.traceId, t.spanId, t.sampled);
    ctx.trace = t;
    ctx.traceId = t.traceId;
  }

  /** Writes a sampled request's span with what became of the request (called once, from complete()). */
  finish(ctx: RequestContext): void {
    const t = ctx.trace!;
    if (!t.recording) return;
    t.recording = false;
    const status = ctx.aborted ? 499 : ctx.status;
    const s = this.text;
    s.traceId = t.traceId;
    s.spanId = t.spanId;
    s.parentSpanId = t.parentSpanId;
    s.traceState = t.parentSpanId !== '' ? t.traceState : '';
    s.startMs = performance.timeOrigin + ctx.startMs;
    s.endMs = performance.timeOrigin + performance.now();
    s.events = t.events;
    s.statusCode = status >= 500 ? STATUS_ERROR : 0;
    let a = stringAttr('http.request.method', ctx.method) + ',' + stringAttr('url.path', ctx.path) + ','
      + stringAttr('turnpike.request_id', ctx.requestId) + ',' + intAttr('http.response.status_code', status);
    const route = ctx.route;
    if (route !== null) {
      s.name = ctx.method + ' ' + route.match.path;
      a += ',' + stringAttr('http.route', route.match.path) + ',' + stringAttr('turnpike.route', route.name);
    } else {
      s.name = ctx.method;
    }
    if (ctx.aborted) a += ',' + boolAttr('turnpike.client_aborted', true);
    if (ctx.consumer !== null) a += ',' + stringAttr('turnpike.consumer.id', ctx.consumer.id);
    const call = ctx.call;
    if (call !== null) {
      a += ',' + stringAttr('turnpike.upstream', call.group.name);
      const target = call.triedTarget;
      if (target !== null) a += ',' + stringAttr('turnpike.upstream.target', target.url);
      a += ',' + intAttr('turnpike.upstream.attempts', call.attempts) + ','
        + intAttr('turnpike.retries', call.attempts > 1 ? call.attempts - 1 : 0);
    }
    const cache = cacheResult(ctx);
    if (cache !== '') a += ',' + stringAttr('turnpike.cache', cache);
    s.attributes = a;
    this.exporter.add(encodeSpan(s));
  }

  /** Exports what is queued and stops (worker drain); bounded, never rejects. */
  shutdown(): Promise<void> {
    return this.exporter.shutdown(this.shutdownCapMs);
  }

  private exportFailed(f: ExportFailure): void {
    this.failuresSinceLog++;
    const now = Date.now();
    if (this.warn === null || now - this.lastFailureLogMs < FAILURE_LOG_INTERVAL_MS) return;
    this.warn({ failedExports: this.failuresSinceLog, droppedSpans: this.exporter.stats.dropped, reason: f.reason },
      'span export failed; spans of failed exports are dropped');
    this.lastFailureLogMs = now;
    this.failuresSinceLog = 0;
  }
}

/** Every value of a request header, joined by ',' (tracestate may come on several lines). */
function joinedHeader(ctx: RequestContext, name: string): string {
  const names = ctx.headerNames;
  let out = '';
  for (let i = 0; i < names.length; i++) {
    if (names[i] !== name) continue;
    out = out === '' ? ctx.headerValues[i] : out + ',' + ctx.headerValues[i];
  }
  return out;
}
