import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import type { RequestLookup } from '../router/types.js';
import type { UpstreamCall } from '../upstream/upstream-call.js';
import type { BufferedBody, StreamedBody } from './request-body.js';
import type { Readable } from 'node:stream';
import type { CompiledRoute } from '../router/compiled-route.js';
import type { RouteChain } from '../policies/chain.js';
import type { Consumer } from '../policies/consumer.js';
import type { ClientCertificate } from '../tls/client-certificate.js';
import type { BodyTap } from '../upstream/body-tap.js';
import type { CacheRequestState } from '../policies/cache/request-state.js';
import type { RequestTrace } from '../observability/tracing/request-trace.js';
import { normalisePeerAddress, type TrustedProxies } from './trusted-proxies.js';

/**
 * Everything the pipeline needs from one request, copied off uWS's
 * stack-allocated HttpRequest in the synchronous part of the handler (uWS
 * invalidates `req` once the handler returns). Fixed fields only, so V8 keeps
 * one hidden class; policies get typed slots in `state` (later issues).
 */
export class RequestContext implements RequestLookup {
  readonly res: HttpResponse;
  /** Upper-case method as sent. */
  method = '';
  /** Raw path, without the query string. */
  path = '';
  /** Raw query string without `?` ('' when none). */
  query = '';
  /** Host header exactly as sent ('' when absent); the router normalises it for matching. */
  rawHost = '';
  /** Header names (lower-case, as uWS gives them) and values, index-aligned. */
  readonly headerNames: string[] = [];
  readonly headerValues: string[] = [];
  /** Total bytes of header names and values, for the 431 check. */
  headerBytes = 0;
  /**
   * The listener's trusted proxies (set by the request handler); with the
   * connection's peer address they give {@link peerIp}, {@link peerTrusted}
   * and {@link clientIp}, resolved on first use.
   */
  trusted: TrustedProxies | null = null;
  // why: reading the peer address from uWS allocates an ArrayBuffer (~1 µs on
  // this VM); a request answered without it (a cache hit, a local answer, a
  // 404) never pays. Resolved lazily while the response is open.
  private peer: string | null = null;
  private peerIsTrusted = false;
  private client = '';
  requestId = '';
  /** Incoming X-Request-Id ('' when absent). */
  requestIdIn = '';
  /** Connection header value ('' when absent). */
  connection = '';
  /** Declared Content-Length: -1 when absent, -2 when invalid or repeated. */
  contentLength = -1;
  /** Transfer-Encoding header value, repeated lines joined with ', ' ('' when absent). */
  transferEncoding = '';
  /** process.hrtime.bigint() is slow; performance.now() in ms is enough here. */
  startMs = 0;
  /** Route index for metrics (-1 when unmatched). */
  routeIndex = -1;
  /** Status code sent to the client (0 until then). */
  status = 0;
  aborted = false;
  /** Set once the response is complete or the connection was aborted. */
  finished = false;
  /** Request path params, filled by the router (reused array). */
  readonly params: string[] = [];
  /** The upstream side of the exchange, once dispatched (typed slot). */
  call: UpstreamCall | null = null;
  /**
   * Response header names and values that policies add (index-aligned pairs
   * in one array, e.g. RateLimit fields); written on the upstream response
   * and on problem responses. Null until a policy adds one.
   */
  responseHeaders: string[] | null = null;
  /** A policy phase is still deciding (asynchronously); the terminal waits for it. */
  gated = false;
  /** The body the terminal starts with, parked until the current uWS read is parsed (deferred-start.ts). */
  startBody: Buffer | Readable | null = null;
  /** How the request body is being read (null when the request has none). */
  bodyReader: BufferedBody | StreamedBody | null = null;
  /** Called when the client goes away (transcoding cancels its gRPC call). */
  abortHook: (() => void) | null = null;
  /**
   * Set when a CORS preflight was routed by its Access-Control-Request-Method
   * because no route allows OPTIONS on the path: the Allow header of the 405
   * it gets unless a policy answers it (null otherwise).
   */
  preflightAllow: string | null = null;
  /** The matched route (null until matched). */
  route: CompiledRoute | null = null;
  /** The matched route's policy chain (null when the route has none). */
  chain: RouteChain | null = null;
  /**
   * The verified TLS client certificate (parsed, shared by every request that
   * presents it); null when the client sent none or the listener does not
   * request them (only listeners with server.tls.clientCa read it).
   */
  clientCert: ClientCertificate | null = null;
  /** The authenticated consumer, set by an authentication policy (null until then). */
  consumer: Consumer | null = null;
  /**
   * Identity headers for the upstream set by authentication policies (flat
   * name/value pairs, e.g. `x-client-cert-subject`): appended after the
   * gateway strips every client-sent identity header (forward-headers.ts).
   * Null until a policy sets one.
   */
  upstreamIdentity: string[] | null = null;
  /** The whole request body, when the route's chain buffered it (requestBody phase); a policy may replace it. */
  requestBody: Buffer | null = null;
  /**
   * Set when the terminal (upstream proxy or transcoder) was started: a
   * problem answered from then on is the terminal's (an upstream failure),
   * which a responseHead policy may replace (see ResponseHead.problem).
   */
  terminalStarted = false;
  /** A responseHead policy's tap on the upstream body (upstream/body-tap.ts); null when none. */
  bodyTap: BodyTap | null = null;
  /** The response cache's state for this request (policies/cache; null on routes without a cache). */
  cache: CacheRequestState | null = null;
  /**
   * uWS's WebSocket context when the request is a WebSocket handshake (a GET
   * with `Upgrade: websocket` and a Sec-WebSocket-Key, through the upgrade
   * handler of a listener with WebSocket routes); null otherwise.
   */
  wsContext: us_socket_context_t | null = null;
  /** The response cache's verdict as sent in X-Cache (HIT, MISS, STALE, BYPASS); '' when no cache policy ran. */
  cacheStatus = '';
  /** Response body bytes handed to uWS (the access log's bytesOut). */
  bytesOut = 0;
  /** The request's trace id (32 lower-case hex; '' when tracing is off): access log, problem bodies. */
  traceId = '';
  /** The request's place in its trace (observability/tracing); null when tracing is off. */
  trace: RequestTrace | null = null;
  private queryParsed: URLSearchParams | null = null;

  /**
   * Peer address of the TCP connection. Read it while the response is open
   * (any policy phase before the answer, the terminal): once the response is
   * finished or aborted uWS no longer has the connection and it reads ''.
   */
  get peerIp(): string {
    if (this.peer === null) this.resolvePeer();
    return this.peer!;
  }

  /** Sets the peer (tests, and a context built without a connection); the client address defaults to it. */
  set peerIp(ip: string) {
    this.peer = ip;
    if (this.client === '') this.client = ip;
  }

  /** Whether the peer is a configured trusted proxy. */
  get peerTrusted(): boolean {
    if (this.peer === null) this.resolvePeer();
    return this.peerIsTrusted;
  }

  set peerTrusted(trusted: boolean) {
    if (this.peer === null) this.peer = '';
    this.peerIsTrusted = trusted;
  }

  /** Client address after trusted-proxy resolution of X-Forwarded-For (same life as {@link peerIp}). */
  get clientIp(): string {
    if (this.peer === null) this.resolvePeer();
    return this.client;
  }

  set clientIp(ip: string) {
    if (this.peer === null) this.peer = '';
    this.client = ip;
  }

  /**
   * Reads the peer now (the access log: uWS forgets it once the response
   * ends). `trusted` is the listener's trusted proxies (set again by routing).
   */
  readPeer(trusted: TrustedProxies): void {
    if (this.peer !== null) return;
    this.trusted = trusted;
    this.resolvePeer();
  }

  private resolvePeer(): void {
    // A context without a connection (tests) or whose response is over has no peer to read.
    if (this.aborted || this.finished || (this.res as HttpResponse | null) === null) {
      this.peer = '';
      this.client = '';
      return;
    }
    const peer = normalisePeerAddress(Buffer.from(this.res.getRemoteAddressAsText()).toString('latin1'));
    this.peer = peer;
    const t = this.trusted;
    // why: with no trusted proxies (the default) neither lookup can change anything.
    this.peerIsTrusted = t !== null && !t.empty && t.has(peer);
    this.client = this.peerIsTrusted ? t!.clientIp(peer, this.header('x-forwarded-for')) : peer;
  }

  constructor(res: HttpResponse) {
    this.res = res;
  }

  /** Adds a response header (policies). */
  addResponseHeader(name: string, value: string): void {
    if (this.responseHeaders === null) this.responseHeaders = [name, value];
    else this.responseHeaders.push(name, value);
  }

  /**
   * Sets a request header (lower-case name) for the upstream, replacing every
   * value the client sent. Policies call it in the access phase.
   */
  setHeader(name: string, value: string): void {
    this.removeHeader(name);
    this.headerNames.push(name);
    this.headerValues.push(value);
  }

  /** Appends a request header value (lower-case name), keeping existing ones. */
  addHeader(name: string, value: string): void {
    this.headerNames.push(name);
    this.headerValues.push(value);
  }

  /** Adds an identity header for the upstream (see {@link upstreamIdentity}). */
  addUpstreamIdentity(name: string, value: string): void {
    if (this.upstreamIdentity === null) this.upstreamIdentity = [name, value];
    else this.upstreamIdentity.push(name, value);
  }

  /**
   * Removes every occurrence of a query parameter (decoded name) from the
   * query sent upstream, keeping the others byte for byte (hideCredentials).
   */
  removeQueryParam(name: string): void {
    if (this.query === '') return;
    const parts = this.query.split('&');
    let kept = '';
    let removed = false;
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i];
      const eq = part.indexOf('=');
      const raw = eq < 0 ? part : part.slice(0, eq);
      if (decodeQueryName(raw) === name) { removed = true; continue; }
      kept = kept === '' ? part : kept + '&' + part;
    }
    if (!removed) return;
    this.query = kept;
    this.queryParsed = null;
  }

  /** Removes every value of a request header (lower-case name). */
  removeHeader(name: string): void {
    const names = this.headerNames;
    const values = this.headerValues;
    let w = 0;
    for (let r = 0; r < names.length; r++) {
      if (names[r] === name) continue;
      if (w !== r) { names[w] = names[r]; values[w] = values[r]; }
      w++;
    }
    // why: assigning length costs even when nothing was removed.
    if (w !== names.length) { names.length = w; values.length = w; }
  }

  /** RequestLookup: header value by lower-case name, '' when absent. */
  header(name: string): string {
    const names = this.headerNames;
    for (let i = 0; i < names.length; i++) if (names[i] === name) return this.headerValues[i];
    return '';
  }

  /** Every value of a query parameter, decoded (empty when absent); shares the parse with {@link queryParam}. */
  queryParamAll(name: string): string[] {
    if (this.query === '') return [];
    if (this.queryParsed === null) this.queryParsed = new URLSearchParams(this.query);
    return this.queryParsed.getAll(name);
  }

  /** RequestLookup: first query parameter value, decoded. */
  queryParam(name: string): string | undefined {
    if (this.query === '') return undefined;
    // why: parsed lazily and only for routes with query predicates.
    if (this.queryParsed === null) this.queryParsed = new URLSearchParams(this.query);
    const v = this.queryParsed.get(name);
    return v === null ? undefined : v;
  }
}

/** A query parameter name as URLSearchParams decodes it (`+` is a space; bad escapes stay as sent). */
export function decodeQueryName(raw: string): string {
  const plus = raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  try { return decodeURIComponent(plus); } catch { return plus; }
}

let collecting: RequestContext;

// why: req.forEach needs a callback; one module-level function that writes
// into the context being read avoids allocating a closure per request.
function collectHeader(name: string, value: string): void {
  const ctx = collecting;
  ctx.headerNames.push(name);
  ctx.headerValues.push(value);
  ctx.headerBytes += name.length + value.length + 4;
  // why: the headers the gateway itself always needs are caught here, in the
  // one pass uWS makes anyway, instead of a linear search each (first wins).
  switch (name.length) {
    case 4: if (name === 'host' && ctx.rawHost === '') ctx.rawHost = value; break;
    case 10: if (name === 'connection' && ctx.connection === '') ctx.connection = value; break;
    case 12: if (name === 'x-request-id' && ctx.requestIdIn === '') ctx.requestIdIn = value; break;
    case 14: if (name === 'content-length') ctx.contentLength = ctx.contentLength === -1 ? parseContentLength(value) : -2; break;
    // Repeated Transfer-Encoding lines form one list (RFC 9110 §5.3), so
    // `chunked` + `identity` is `chunked, identity`, which the ingress refuses
    // (uWS itself only looks at the first line).
    case 17: if (name === 'transfer-encoding') ctx.transferEncoding = ctx.transferEncoding === '' ? value : ctx.transferEncoding + ', ' + value; break;
    default: break;
  }
}

/**
 * Copies method, path, query and all headers off `req`. Must run before the
 * first await: uWS's HttpRequest is only valid synchronously.
 */
export function readRequest(ctx: RequestContext, req: HttpRequest): void {
  ctx.method = req.getCaseSensitiveMethod();
  ctx.path = req.getUrl();
  ctx.query = req.getQuery() ?? '';
  collecting = ctx;
  req.forEach(collectHeader);
}

/**
 * Strict Content-Length parse (RFC 9110 §8.6): digits only; -2 when invalid
 * (including a comma-joined list of differing values).
 */
export function parseContentLength(text: string): number {
  if (text.length === 0 || text.length > 15) return -2;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -2;
    n = n * 10 + c;
  }
  return n;
}
