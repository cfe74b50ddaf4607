/**
 * Request contexts for the micro-benchmarks, filled the way the gateway
 * fills them: `readRequest` (method, path, query, headers via the per-header
 * collector) and then the prelude of `RequestHandler.route` (peer, trusted
 * proxy, client IP, request id). `readRequest` needs a live uWS HttpRequest,
 * which only exists inside a uWS handler, so the same fields are written
 * directly here; request-fixtures.test.ts checks them against what
 * `readRequest` reads from a real uWS request.
 */
import type { HttpResponse } from 'uWebSockets.js';
import { parseContentLength, RequestContext } from '../../src/ingress/request-context.js';
import type { RequestIdGenerator } from '../../src/ingress/request-id.js';
import type { TrustedProxies } from '../../src/ingress/trusted-proxies.js';

/** A request as it arrives: what uWS would hand the handler. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  url: string;
  /** Query string without `?` ('' when none). */
  query: string;
  /** Header names (lower-case, as uWS gives them) and values, in wire order. */
  headers: ReadonlyArray<readonly [string, string]>;
  /** Peer address of the TCP connection. */
  peer: string;
}

/** Addresses the browser request passes through (documentation ranges; text only, never contacted). */
export const BROWSER_CLIENT_IP = '203.0.113.7';
/** The TLS-terminating proxy in front of the gateway, listed in trustedProxies. */
export const TRUSTED_PROXY_IP = '127.0.0.1';
/** The curl client's address (not a trusted proxy). */
export const CURL_CLIENT_IP = '198.51.100.23';

/** A typical browser navigation relayed by a trusted TLS proxy (13 headers). */
export const BROWSER_REQUEST: RecordedRequest = {
  method: 'GET',
  url: '/v1/users/12345/items',
  query: 'expand=owner&limit=20',
  headers: [
    ['host', 'api.example.com'],
    ['connection', 'keep-alive'],
    ['user-agent', 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'],
    ['accept', 'text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8'],
    ['accept-encoding', 'gzip, deflate, br, zstd'],
    ['accept-language', 'en-US,en;q=0.9,de;q=0.8'],
    ['cookie', 'session=8f14e45fceea167a5a36dedd4bea2543; theme=dark; _ga=GA1.1.1234567890.1700000000; csrftoken=Zm9vYmFyYmF6cXV4'],
    ['referer', 'https://app.example.com/dashboard'],
    ['sec-fetch-dest', 'document'],
    ['sec-fetch-mode', 'navigate'],
    ['sec-fetch-site', 'same-site'],
    ['x-forwarded-for', BROWSER_CLIENT_IP],
    ['x-forwarded-proto', 'https'],
  ],
  peer: TRUSTED_PROXY_IP,
};

/** A minimal `curl` request straight from a client (3 headers). */
export const CURL_REQUEST: RecordedRequest = {
  method: 'GET',
  url: '/v1/health',
  query: '',
  headers: [
    ['host', 'api.example.com'],
    ['user-agent', 'curl/8.5.0'],
    ['accept', '*/*'],
  ],
  peer: CURL_CLIENT_IP,
};

// why: the benchmarked functions never touch ctx.res; RequestContext only
// stores it. A real HttpResponse exists only inside a live uWS handler.
const NO_RESPONSE = null as unknown as HttpResponse;

/**
 * Fills `ctx` from `rec` exactly as `readRequest` + its header collector do:
 * header lists, header byte count, and the first Host / Connection /
 * X-Request-Id / Transfer-Encoding, Content-Length (-2 when repeated/invalid).
 */
export function fillFromRecorded(ctx: RequestContext, rec: RecordedRequest): void {
  ctx.method = rec.method;
  ctx.path = rec.url;
  ctx.query = rec.query;
  for (const [name, value] of rec.headers) {
    ctx.headerNames.push(name);
    ctx.headerValues.push(value);
    ctx.headerBytes += name.length + value.length + 4;
    if (name === 'host' && ctx.rawHost === '') ctx.rawHost = value;
    else if (name === 'connection' && ctx.connection === '') ctx.connection = value;
    else if (name === 'x-request-id' && ctx.requestIdIn === '') ctx.requestIdIn = value;
    else if (name === 'content-length') ctx.contentLength = ctx.contentLength === -1 ? parseContentLength(value) : -2;
    else if (name === 'transfer-encoding' && ctx.transferEncoding === '') ctx.transferEncoding = value;
  }
}

/**
 * A request context as `RequestHandler.route` has it just before matching:
 * fields read off the request, peer and trust resolved with the real
 * TrustedProxies, request id from the real generator (or the incoming one).
 */
export function contextFor(rec: RecordedRequest, trusted: TrustedProxies, ids: RequestIdGenerator): RequestContext {
  const ctx = new RequestContext(NO_RESPONSE);
  fillFromRecorded(ctx, rec);
  ctx.peerIp = rec.peer;
  ctx.peerTrusted = !trusted.empty && trusted.has(rec.peer);
  ctx.clientIp = ctx.peerTrusted ? trusted.clientIp(rec.peer, ctx.header('x-forwarded-for')) : rec.peer;
  const rid = ctx.requestIdIn;
  ctx.requestId = rid !== '' && rid.length <= 200 ? rid : ids.next();
  return ctx;
}
