import type { RequestContext } from '../../ingress/request-context.js';
import { cacheResult } from '../../policies/cache/request-state.js';

/**
 * What the access log keeps of one finished request, copied off the
 * context when it completes (the context is not touched afterwards). One
 * fixed shape for every request (V8 keeps a single hidden class); the
 * configured fields are picked when the batch is written.
 */
export class AccessRecord {
  time = 0;
  requestId = '';
  traceId = '';
  clientIp = '';
  consumer = '';
  method = '';
  host = '';
  path = '';
  /** Raw query (redacted when the line is written). */
  query = '';
  route = '';
  upstream = '';
  status = 0;
  bytesIn = 0;
  bytesOut = 0;
  durationMs = 0;
  /** -1: the request never went upstream. */
  upstreamMs = -1;
  cache = '';
  retries = 0;
  userAgent = '';
  referer = '';
}

/**
 * Fills `r` from a finished request.
 *
 * @param nowMs performance.now() at completion (the duration's end).
 * @param durationMs the request's duration.
 * @param headers whether to read User-Agent and Referer (only when configured).
 */
export function captureRecord(r: AccessRecord, ctx: RequestContext, nowMs: number, durationMs: number, status: number, headers: boolean): void {
  r.time = Date.now();
  r.requestId = ctx.requestId;
  r.traceId = ctx.traceId;
  // The peer was read while the response was open (RequestHandler reads it first when the access log wants it).
  r.clientIp = ctx.clientIp;
  r.consumer = ctx.consumer === null ? '' : ctx.consumer.id;
  r.method = ctx.method;
  r.host = ctx.rawHost;
  r.path = ctx.path;
  r.query = ctx.query;
  r.route = ctx.route === null ? '' : ctx.route.name;
  r.status = status;
  const body = ctx.bodyReader;
  r.bytesIn = body === null ? 0 : body.received;
  r.bytesOut = ctx.bytesOut;
  r.durationMs = durationMs;
  r.cache = ctx.cache === null ? '' : cacheResult(ctx);
  const call = ctx.call;
  if (call !== null) {
    const target = call.target ?? call.triedTarget;
    r.upstream = target !== null ? target.url : call.group.name;
    r.upstreamMs = call.startMs > 0 ? nowMs - call.startMs : -1;
    r.retries = call.attempts > 1 ? call.attempts - 1 : 0;
  } else {
    r.upstream = '';
    r.upstreamMs = -1;
    r.retries = 0;
  }
  if (headers) {
    r.userAgent = ctx.header('user-agent');
    r.referer = ctx.header('referer');
  }
}
