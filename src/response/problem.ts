import type { HttpResponse } from 'uWebSockets.js';
import type { GatewayError } from '../errors/gateway-error.js';
import { statusLine } from './status-lines.js';

/** Media type of every error body the gateway writes (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** Prefix of the `type` member: `urn:turnpike:problem:<code>`. */
export const PROBLEM_TYPE_PREFIX = 'urn:turnpike:problem:';

/**
 * Serialises a problem document (RFC 9457) with the stable `code` extension
 * member. Only `detail` and `instance` vary per occurrence, so the rest is
 * plain concatenation of known-safe strings. `traceId` (the request's trace,
 * when tracing is on) adds a `traceId` member.
 */
export function problemBody(err: GatewayError, instance: string, requestId: string, traceId = ''): string {
  return '{"type":"' + PROBLEM_TYPE_PREFIX + err.code + '","title":' + JSON.stringify(err.title)
    + ',"status":' + err.status
    + (err.detail !== undefined ? ',"detail":' + JSON.stringify(err.detail) : '')
    + ',"instance":' + JSON.stringify(instance)
    + ',"code":"' + err.code + '","requestId":' + JSON.stringify(requestId)
    // a trace id is 32 hex characters (RequestTracer): no escaping needed
    + (traceId !== '' ? ',"traceId":"' + traceId + '"' : '') + err.extraMembers + '}';
}

/**
 * Writes a complete problem+json response. Call inside a cork (or the
 * synchronous part of the uWS handler). `allow` adds an Allow header (405);
 * `close` closes the connection after the response (used when the request
 * body was not read, so the connection cannot be reused safely). `extra`
 * holds name/value pairs policies added (e.g. Retry-After, RateLimit).
 * Returns the body bytes written (0 for HEAD).
 */
export function writeProblem(
  res: HttpResponse, err: GatewayError, instance: string, requestId: string,
  allow: string | null, close: boolean, head: boolean, extra: readonly string[] | null = null, traceId = '',
): number {
  const body = problemBody(err, instance, requestId, traceId);
  writeProblemHead(res, err, requestId, allow, extra);
  const n = Buffer.byteLength(body);
  if (head) { res.endWithoutBody(n, close); return 0; }
  res.end(body, close);
  return n;
}

/**
 * Writes the status line and headers of a problem response (inside a cork);
 * the caller ends it. `extra` as in {@link writeProblem}.
 */
export function writeProblemHead(
  res: HttpResponse, err: GatewayError, requestId: string, allow: string | null, extra: readonly string[] | null,
): void {
  res.writeStatus(statusLine(err.status));
  res.writeHeader('content-type', PROBLEM_CONTENT_TYPE);
  res.writeHeader('cache-control', 'no-store');
  if (requestId !== '') res.writeHeader('x-request-id', requestId);
  if (allow !== null) res.writeHeader('allow', allow);
  if (extra !== null) for (let i = 0; i < extra.length; i += 2) res.writeHeader(extra[i], extra[i + 1]);
}
