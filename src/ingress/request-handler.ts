import type { HttpRequest, HttpResponse, us_socket_context_t } from 'uWebSockets.js';
import type { Readable } from 'node:stream';
import type { GatewayConfig } from '../config/types.js';
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { CompiledRoute, Router } from '../router/index.js';
import type { RouteChain } from '../policies/chain.js';
import { policyFailure, runAccess, runLog, runRequestBody } from '../policies/run-phases.js';
import type { PhaseResult, Verdict } from '../policies/types.js';
import { ResponseWriter } from '../response/response-writer.js';
import { UpstreamDispatcher, type UpstreamObserver } from '../upstream/dispatcher.js';
import type { UpstreamGroup } from '../upstream/upstream-group.js';
import { ProxyTerminal } from '../terminals/proxy-terminal.js';
import type { Terminal } from '../terminals/terminal.js';
import { AppendResult, BufferedBody, StreamedBody } from './request-body.js';
import { readRequest, RequestContext } from './request-context.js';
import type { ResponseSink } from './response-sink.js';
import { deferStart, type DeferredStarter } from './deferred-start.js';
import { TrustedProxies } from './trusted-proxies.js';
import { RequestIdGenerator } from './request-id.js';
import { ClientCertCache, type TlsHttpResponse } from '../tls/client-certificate.js';
import { isWebSocketHandshake } from '../websocket/handshake.js';
import type { AccessLog } from '../observability/access-log/access-log.js';
import type { RequestTracer } from '../observability/tracing/request-tracer.js';

/** Per-request accounting hooks (metrics); implemented in observability/. */
export interface RequestObserver extends UpstreamObserver {
  observe(routeIndex: number, method: string, status: number, seconds: number): void;
  /** A finished request for which a policy identified a consumer (called only then). */
  observeConsumer(routeIndex: number, consumerId: string): void;
}

/** What the request handler is built from besides config, router and groups. */
export interface HandlerOptions {
  observer?: RequestObserver | null;
  /** Per route index: its compiled policy chain (null for a route without policies). */
  chains?: ReadonlyArray<RouteChain | null> | null;
  /** Reports a policy that threw where the answer can no longer change (onLog, responseHead on a problem). */
  onPolicyError?: (name: string, err: unknown) => void;
  /** Builds the terminal of transcoded routes (null when the config has no grpc entries). */
  transcodeTerminal?: ((sink: ResponseSink) => Terminal) | null;
  /**
   * Builds the terminal of `websocket` routes from the handler and the proxy
   * terminal (which serves their plain requests); null when no route has `websocket`.
   */
  websocketTerminal?: ((handler: RequestHandler, proxy: Terminal) => Terminal) | null;
  /** Builds the terminal of `aggregate` routes (null when no route has `aggregate`). */
  aggregateTerminal?: ((handler: RequestHandler) => Terminal) | null;
  /** The worker's access log (null: off). */
  accessLog?: AccessLog | null;
  /** The worker's tracer (null when tracing is off). */
  tracer?: RequestTracer | null;
}

const ERR_NOT_FOUND = new GatewayError(ErrorCodes.ROUTE_NOT_FOUND);
const ERR_METHOD = new GatewayError(ErrorCodes.METHOD_NOT_ALLOWED);
const ERR_BAD_PATH = new GatewayError(ErrorCodes.BAD_REQUEST, 'Malformed percent-encoding in the path');
const ERR_BAD_CL = new GatewayError(ErrorCodes.BAD_REQUEST, 'Invalid Content-Length');
const ERR_SMUGGLE = new GatewayError(ErrorCodes.BAD_REQUEST, 'Both Content-Length and Transfer-Encoding present');
const ERR_BAD_TE = new GatewayError(ErrorCodes.BAD_REQUEST, 'Unsupported Transfer-Encoding');
const ERR_HEADERS = new GatewayError(ErrorCodes.HEADERS_TOO_LARGE);
const ERR_BODY = new GatewayError(ErrorCodes.PAYLOAD_TOO_LARGE);
const ERR_BACKLOG = new GatewayError(ErrorCodes.UPSTREAM_BODY_BACKLOG,
  'The request body arrived faster than the upstream accepted it, beyond server.maxBodyBacklog');
const ERR_BODY_SHORT = new GatewayError(ErrorCodes.BAD_REQUEST, 'Request body does not match its Content-Length');
const ERR_CLIENT_CERT = new GatewayError(ErrorCodes.CLIENT_CERT_REQUIRED, 'This server requires a verified TLS client certificate');
const EMPTY_BODY = Buffer.alloc(0);

/**
 * The per-worker request path: ingress checks → route match → access phase →
 * body (buffered or streamed) → requestBody phase → terminal → response
 * writer → accounting. One instance per worker; `handle` is what uWS calls
 * for every request. A route without policies runs no phase at all.
 */
export class RequestHandler implements ResponseSink, DeferredStarter {
  draining = false;
  inflightCount = 0;
  /** performance.now() when the latest request started (drain waits for a quiet spell). */
  lastStartMs = -Infinity;
  /** Writes every answer the gateway makes itself (problems, local responses). */
  readonly writer: ResponseWriter;
  private readonly router: Router;
  private readonly dispatcher: UpstreamDispatcher;
  private readonly trusted: TrustedProxies;
  private readonly ids = new RequestIdGenerator();
  private readonly observer: RequestObserver | null;
  private readonly maxBody: number;
  private readonly maxBacklog: number;
  private readonly maxHeader: number;
  private readonly bufferBody: number;
  private onIdle: (() => void) | null = null;
  /** Per route index: its compiled policy chain; null when no route has policies. */
  private readonly chains: ReadonlyArray<RouteChain | null> | null;
  /** Per route index: its terminal. */
  private readonly terminals: Terminal[];
  private readonly onPolicyError: (name: string, err: unknown) => void;
  /** Parsed client certificates (null unless the listener requests them: server.tls.clientAuth optional or require). */
  private readonly clientCerts: ClientCertCache | null;
  /** server.tls.clientAuth is require: a request without a verified certificate gets 401. */
  private readonly requireClientCert: boolean;
  private readonly accessLog: AccessLog | null;
  /** The access log wants the client IP: read the peer before the response can end. */
  private readonly logPeer: boolean;
  /** Null when tracing is off: then the request path pays one null check here and one in complete(). */
  private readonly tracer: RequestTracer | null;

  constructor(config: GatewayConfig, router: Router, groups: Map<string, UpstreamGroup>, options: HandlerOptions = {}) {
    this.router = router;
    const chains = options.chains ?? null;
    this.chains = chains !== null && chains.some((c) => c !== null) ? chains : null;
    this.onPolicyError = options.onPolicyError ?? ignorePolicyError;
    this.observer = options.observer ?? null;
    this.accessLog = options.accessLog ?? null;
    this.logPeer = this.accessLog !== null && this.accessLog.needsPeer;
    this.tracer = options.tracer ?? null;
    this.trusted = new TrustedProxies(config.server.trustedProxies);
    this.maxBody = config.server.maxBodyBytes;
    this.maxBacklog = config.server.maxBodyBacklogBytes;
    this.maxHeader = config.server.maxHeaderBytes;
    this.bufferBody = config.server.bufferBodyBytes;
    const tls = config.server.tls;
    this.clientCerts = tls !== null && tls.clientAuth !== 'none' ? new ClientCertCache() : null;
    this.requireClientCert = tls !== null && tls.clientAuth === 'require';
    this.writer = new ResponseWriter((ctx) => this.complete(ctx), bodyUnread, () => this.draining, this.onPolicyError);
    this.dispatcher = new UpstreamDispatcher(this, this.bufferBody, this.maxBody, this.observer);
    const proxy = new ProxyTerminal(config, groups, this.dispatcher, router.routes.map((r) => r.paramNames));
    const transcode = options.transcodeTerminal ? options.transcodeTerminal(this) : null;
    const websocket = options.websocketTerminal ? options.websocketTerminal(this, proxy) : null;
    const aggregate = options.aggregateTerminal ? options.aggregateTerminal(this) : null;
    this.terminals = config.routes.map((r) => (r.transcode !== undefined && transcode !== null ? transcode
      : r.websocket !== undefined && websocket !== null ? websocket
        : r.aggregate !== undefined && aggregate !== null ? aggregate : proxy));
  }

  /** uWS entry point for every request of a listener that does not verify client certificates. Bound once; never throws. */
  readonly handle = (res: HttpResponse, req: HttpRequest): void => this.accept(res, req, false);

  /**
   * uWS entry point of a TLS listener that requests client certificates
   * (server.tls.clientCa): reads the verified certificate first. Bound once;
   * never throws.
   */
  readonly handleClientCert = (res: HttpResponse, req: HttpRequest): void => this.accept(res, req, true);

  /**
   * uWS `upgrade` handler of the WebSocket registration (listeners with
   * `websocket` routes): uWS hands it every GET with a Sec-WebSocket-Key.
   * The request takes the same path as any other; only a route with
   * `websocket` upgrades it (its terminal), every other route answers it as
   * a plain request. Bound once; never throws.
   */
  readonly handleUpgrade = (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void =>
    this.accept(res, req, false, context);

  /** {@link handleUpgrade} for a listener that requests client certificates. */
  readonly handleUpgradeClientCert = (res: HttpResponse, req: HttpRequest, context: us_socket_context_t): void =>
    this.accept(res, req, true, context);

  private accept(res: HttpResponse, req: HttpRequest, withCert: boolean, wsContext: us_socket_context_t | null = null): void {
    const ctx = new RequestContext(res);
    res.onAborted(() => this.aborted(ctx));
    ctx.startMs = performance.now();
    this.lastStartMs = ctx.startMs;
    this.inflightCount++;
    try {
      // why: uWS hands out the peer certificate only while the handler runs
      // synchronously, as PEM; the cache turns it into the parsed one with a
      // single lookup for a certificate seen before.
      if (withCert) {
        const pem = (res as TlsHttpResponse).getX509Certificate();
        if (pem) ctx.clientCert = this.clientCerts!.get(pem);
      }
      readRequest(ctx, req);
      // why: uWS forgets the peer once the response ends; a proxied request reads it anyway (X-Forwarded-For).
      if (this.logPeer) ctx.readPeer(this.trusted);
      if (wsContext !== null && isWebSocketHandshake(ctx)) ctx.wsContext = wsContext;
      this.route(ctx);
    } catch (err) {
      this.problem(ctx, new GatewayError(ErrorCodes.INTERNAL, undefined, { cause: err }), null, true);
    }
  }

  private route(ctx: RequestContext): void {
    ctx.trusted = this.trusted;
    const rid = ctx.requestIdIn;
    ctx.requestId = rid !== '' && rid.length <= 200 ? rid : this.ids.next();
    if (this.tracer !== null) this.tracer.begin(ctx);
    if (ctx.headerBytes > this.maxHeader) return this.problem(ctx, ERR_HEADERS, null, true);
    if (ctx.contentLength === -2) return this.problem(ctx, ERR_BAD_CL, null, true);
    if (ctx.transferEncoding !== '') {
      if (ctx.contentLength >= 0) return this.problem(ctx, ERR_SMUGGLE, null, true);
      if (ctx.transferEncoding.toLowerCase() !== 'chunked') return this.problem(ctx, ERR_BAD_TE, null, true);
    }
    // clientAuth: require. uWS fails the handshake for a certificate that does
    // not verify but lets a client that sends none through, so this is where
    // `require` is enforced, for every request and before routing.
    if (this.requireClientCert && ctx.clientCert === null) return this.problem(ctx, ERR_CLIENT_CERT, null, false);
    const match = this.router.match(ctx.method, ctx.rawHost, ctx.path, ctx, ctx.params);
    // why: uWS frames and discards a body no onData reads, so these can keep the connection.
    if (match === null) return this.problem(ctx, ERR_NOT_FOUND, null, false);
    if (match.kind === 'method-not-allowed') {
      const pre = this.preflightRoute(ctx);
      if (pre === null) return this.problem(ctx, ERR_METHOD, match.allowHeader, false);
      ctx.preflightAllow = match.allowHeader;
      return this.begin(ctx, pre);
    }
    if (match.kind === 'bad-path') return this.problem(ctx, ERR_BAD_PATH, null, false);
    this.begin(ctx, match);
  }

  /**
   * A CORS preflight (OPTIONS with Access-Control-Request-Method) on a path
   * whose routes do not list OPTIONS: the route the announced method would
   * match, when it has policies (its cors policy answers the preflight; if
   * none does, the request still gets the 405). Null otherwise.
   */
  private preflightRoute(ctx: RequestContext): CompiledRoute | null {
    if (ctx.method !== 'OPTIONS' || this.chains === null) return null;
    const wanted = ctx.header('access-control-request-method');
    if (wanted === '' || wanted === 'OPTIONS') return null;
    const m = this.router.match(wanted, ctx.rawHost, ctx.path, ctx, ctx.params);
    return m !== null && m.kind === 'route' && this.chains[m.index] !== null ? m : null;
  }

  /** A matched route: start reading the body (uWS wants it now), then run the access phase. */
  private begin(ctx: RequestContext, route: CompiledRoute): void {
    ctx.routeIndex = route.index;
    ctx.route = route;
    const chain = this.chains === null ? null : this.chains[route.index];
    ctx.chain = chain;
    const cl = ctx.contentLength;
    const chunked = ctx.transferEncoding !== '';
    if (cl > 0 || chunked) {
      const max = route.maxBodyBytes ?? this.maxBody;
      if (max > 0 && cl > max) return this.problem(ctx, ERR_BODY, null, true);
      const whole = this.terminals[route.index].needsWholeBody || (chain !== null && chain.requestBody !== null);
      if (whole || (!chunked && cl <= this.bufferBody)) {
        const body = new BufferedBody(chunked ? -1 : cl, max);
        ctx.bodyReader = body;
        ctx.res.onData((chunk, isLast) => this.onBufferedChunk(ctx, body, chunk, isLast));
      } else {
        const body = new StreamedBody(ctx);
        ctx.bodyReader = body;
        ctx.res.onData((chunk, isLast) => this.onStreamedChunk(ctx, body, chunk, isLast));
      }
    }
    if (chain !== null && chain.access !== null) {
      const v = runAccess(chain.access, ctx);
      if (v !== undefined) return this.verdict(ctx, v, 'access');
    }
    this.proceed(ctx);
  }

  /** One chunk of a buffered body; the last one lets the request go on. */
  private onBufferedChunk(ctx: RequestContext, body: BufferedBody, chunk: ArrayBuffer, isLast: boolean): void {
    if (ctx.finished) return;
    const r = body.append(chunk);
    if (r !== AppendResult.Ok) return this.problem(ctx, r === AppendResult.OverLimit ? ERR_BODY : ERR_BODY_SHORT, null, true);
    if (!isLast) return;
    body.done = true;
    if (!body.complete()) return this.problem(ctx, ERR_BODY_SHORT, null, true);
    this.proceed(ctx);
  }

  /** One chunk of a streamed request body, with the size and backlog limits. */
  private onStreamedChunk(ctx: RequestContext, body: StreamedBody, chunk: ArrayBuffer, isLast: boolean): void {
    if (ctx.finished || body.destroyed) return;
    body.feed(chunk, isLast);
    const max = ctx.route!.maxBodyBytes ?? this.maxBody;
    if (max > 0 && body.received > max) this.failBody(ctx, body, ERR_BODY);
    else if (this.maxBacklog > 0 && body.readableLength > this.maxBacklog) this.failBody(ctx, body, ERR_BACKLOG);
  }

  /** Abandons a streamed body: stop the upstream call, answer (or cut) the client, close. */
  private failBody(ctx: RequestContext, body: StreamedBody, err: GatewayError): void {
    body.destroy();
    if (ctx.call !== null) this.dispatcher.abortUpstream(ctx.call, err);
    if (ctx.call !== null && ctx.call.exchange !== null && ctx.call.exchange.responseStarted) {
      this.writer.cut(ctx);
    } else {
      this.problem(ctx, err, null, true);
    }
  }

  /** A phase did not simply continue: answer its verdict now, or hold the request until its Promise settles. */
  private verdict(ctx: RequestContext, v: Exclude<PhaseResult, undefined>, phase: string): void {
    if (!(v instanceof Promise)) return this.refuse(ctx, v);
    ctx.gated = true;
    v.then((r) => this.gateDone(ctx, r), (err: unknown) => this.gateDone(ctx, policyFailure(phase, err)));
  }

  /** An asynchronous phase finished: answer its verdict, or go on. */
  private gateDone(ctx: RequestContext, v: Verdict): void {
    ctx.gated = false;
    if (ctx.aborted || ctx.finished) { destroyStreamed(ctx); return; }
    if (v !== undefined) return this.refuse(ctx, v);
    this.proceed(ctx);
  }

  /**
   * Access passed: once a buffered body is complete, run the requestBody
   * phase (when the route has one) and start the terminal.
   */
  private proceed(ctx: RequestContext): void {
    if (ctx.gated || ctx.finished || ctx.aborted) return;
    // A preflight routed by its announced method that no policy answered: the route does not allow OPTIONS.
    if (ctx.preflightAllow !== null) return this.problem(ctx, ERR_METHOD, ctx.preflightAllow, false);
    const reader = ctx.bodyReader;
    let body: Buffer | Readable | null = null;
    if (reader instanceof BufferedBody) {
      if (!reader.done) return;
      body = reader.data;
    } else if (reader !== null) body = reader;
    const chain = ctx.chain;
    if (chain !== null && chain.requestBody !== null && ctx.requestBody === null) {
      ctx.requestBody = body === null ? EMPTY_BODY : body as Buffer;
      const v = runRequestBody(chain.requestBody, ctx);
      if (v !== undefined) return this.verdict(ctx, v, 'requestBody');
    }
    if (ctx.requestBody !== null) body = ctx.requestBody === EMPTY_BODY ? null : ctx.requestBody;
    ctx.startBody = body;
    deferStart(this, ctx);
  }

  /**
   * DeferredStarter: starts the terminal once uWS has parsed the whole read
   * the request came in (see deferred-start.ts: a pipelined request makes
   * uWS drop the connection, and nothing may have gone upstream by then).
   */
  startDeferred(ctx: RequestContext): void {
    const body = ctx.startBody;
    ctx.startBody = null;
    if (ctx.aborted || ctx.finished) { destroyStreamed(ctx); return; }
    ctx.terminalStarted = true;
    this.terminals[ctx.routeIndex].start(ctx, body);
  }

  /** A policy answered: a problem or a local response; close when the body was not read to its end. */
  private refuse(ctx: RequestContext, v: Exclude<Verdict, undefined>): void {
    // A policy that threw answers 500; its exception goes to the log.
    if (v instanceof GatewayError && v.status === 500 && v.cause !== undefined) this.onPolicyError(v.detail ?? 'policy', v.cause);
    const unread = bodyUnread(ctx);
    destroyStreamed(ctx);
    this.writer.answer(ctx, v, unread);
  }

  /** ResponseSink: writes a problem+json answer unless one was already sent. */
  problem(ctx: RequestContext, err: GatewayError, allow: string | null, close: boolean): void {
    this.writer.problem(ctx, err, allow, close);
  }

  /** ResponseSink: answers with a policy's verdict. */
  answer(ctx: RequestContext, v: Exclude<Verdict, undefined>, close: boolean): void {
    this.writer.answer(ctx, v, close);
  }

  /** ResponseSink: a policy threw where the answer can no longer change. */
  readonly policyError = (name: string, err: unknown): void => this.onPolicyError(name, err);

  /** ResponseSink: close when draining or when the request body was not read to the end. */
  closeAfter(ctx: RequestContext): boolean {
    return this.writer.closeAfter(ctx);
  }

  /** ResponseSink: accounts for a finished request (idempotent per request). */
  complete(ctx: RequestContext): void {
    if (ctx.startMs < 0) return;
    const now = performance.now();
    const ms = now - ctx.startMs;
    const status = ctx.aborted ? 499 : ctx.status;
    if (this.accessLog !== null) this.accessLog.record(ctx, now, ms, status);
    ctx.startMs = -1;
    if (ctx.call !== null) this.dispatcher.release(ctx.call);
    const chain = ctx.chain;
    if (chain !== null && chain.onLog !== null) runLog(chain.onLog, ctx, this.onPolicyError);
    if (this.observer !== null) {
      this.observer.observe(ctx.routeIndex, ctx.method, status, ms / 1000);
      // why: requests without a consumer pay this one null check.
      if (ctx.consumer !== null) this.observer.observeConsumer(ctx.routeIndex, ctx.consumer.id);
    }
    if (ctx.trace !== null) this.tracer!.finish(ctx);
    if (--this.inflightCount === 0 && this.onIdle !== null) this.onIdle();
  }

  private aborted(ctx: RequestContext): void {
    ctx.aborted = true;
    ctx.finished = true;
    if (ctx.abortHook !== null) ctx.abortHook();
    if (ctx.call !== null) this.dispatcher.abort(ctx);
    destroyStreamed(ctx);
    this.complete(ctx);
  }

  /** Resolves when no request is in flight (used by drain). */
  whenIdle(): Promise<void> {
    if (this.inflightCount === 0) return Promise.resolve();
    return new Promise((resolve) => { this.onIdle = resolve; });
  }
}

/** Whether the request declared a body that was not read to its end. */
function bodyUnread(ctx: RequestContext): boolean {
  const r = ctx.bodyReader;
  if (r === null) return false;
  return r instanceof BufferedBody ? !r.done : !r.complete;
}

function destroyStreamed(ctx: RequestContext): void {
  const r = ctx.bodyReader;
  if (r instanceof StreamedBody && !r.destroyed) r.destroy();
}

function ignorePolicyError(): void {}
