import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { GatewayConfig } from '../config/types.js';
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Router } from '../router/index.js';
import { buildUpstreamPath, pickSplit, type CompiledRoute } from '../router/index.js';
import { writeProblem } from '../response/problem.js';
import { buildUpstreamHeaders } from '../upstream/forward-headers.js';
import { UpstreamCall } from '../upstream/upstream-call.js';
import { UpstreamDispatcher, type UpstreamObserver } from '../upstream/dispatcher.js';
import type { UpstreamGroup } from '../upstream/upstream-group.js';
import { BufferedBody, StreamedBody } from './request-body.js';
import { readRequest, RequestContext } from './request-context.js';
import { closeWithProblem } from './closing-problem.js';
import { deferStart, type DeferredStarter } from './deferred-start.js';
import type { ResponseSink } from './response-sink.js';
import { normalisePeerAddress, TrustedProxies } from './trusted-proxies.js';
import { RequestIdGenerator } from './request-id.js';
import { runAccess, runLog, type RouteChain } from '../policies/chain.js';
import type { Transcoder } from '../transcode/transcoder.js';

/** Per-request accounting hooks (metrics); implemented in observability/. */
export interface RequestObserver extends UpstreamObserver {
  observe(routeIndex: number, method: string, status: number, seconds: number): void;
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
const ERR_BODY_SHORT = new GatewayError(ErrorCodes.BAD_REQUEST, 'Request body longer than its Content-Length');

/**
 * The per-worker request path: ingress checks → route match → upstream
 * dispatch → response → accounting. One instance per worker; `handle` is
 * what uWS calls for every request.
 */
export class RequestHandler implements ResponseSink, DeferredStarter {
  draining = false;
  inflightCount = 0;
  /** performance.now() when the latest request started (drain waits for a quiet spell). */
  lastStartMs = -Infinity;
  private readonly router: Router;
  private readonly groups: Map<string, UpstreamGroup>;
  /** Per route index: its single upstream's group (null for splits), resolved once. */
  private readonly routeGroups: Array<UpstreamGroup | null>;
  /** Per upstream: the `hash` balancer's key spec, or null for other balancers. */
  private readonly hashOn: Map<string, KeySpec | null>;
  /** Per route index: its parsed `sticky` spec (null when none). */
  private readonly routeSticky: Array<KeySpec | null>;
  private readonly dispatcher: UpstreamDispatcher;
  private readonly trusted: TrustedProxies;
  private readonly ids = new RequestIdGenerator();
  private readonly observer: RequestObserver | null;
  private readonly maxBody: number;
  private readonly maxBacklog: number;
  private readonly maxHeader: number;
  private readonly bufferBody: number;
  private onIdle: (() => void) | null = null;
  /** Per route index: its compiled policy chain (null when no route has policies). */
  private readonly chains: readonly RouteChain[] | null;
  /** Reports a policy that threw in onLog (logging lives in observability/). */
  private readonly onPolicyError: (name: string, err: unknown) => void;
  /** REST→gRPC transcoding (null when the config has no grpc entries). */
  transcoder: Transcoder | null = null;
  /** TranscodeSink: the body limit. */
  get maxBodyBytes(): number {
    return this.maxBody;
  }

  constructor(
    config: GatewayConfig, router: Router, groups: Map<string, UpstreamGroup>, observer: RequestObserver | null,
    chains: readonly RouteChain[] | null = null, onPolicyError: (name: string, err: unknown) => void = ignorePolicyError,
  ) {
    this.router = router;
    this.chains = chains !== null && chains.some((c) => c.access !== null || c.onLog !== null) ? chains : null;
    this.onPolicyError = onPolicyError;
    this.groups = groups;
    this.routeGroups = config.routes.map((r) => (r.upstream === null ? null : groups.get(r.upstream) ?? null));
    this.routeSticky = config.routes.map((r) => keySpec(r.sticky));
    this.hashOn = new Map();
    for (const [name, u] of Object.entries(config.upstreams)) this.hashOn.set(name, u.balance === 'hash' ? keySpec(u.hashOn) : null);
    this.observer = observer;
    this.trusted = new TrustedProxies(config.server.trustedProxies);
    this.maxBody = config.server.maxBodyBytes;
    this.maxBacklog = config.server.maxBodyBacklogBytes;
    this.maxHeader = config.server.maxHeaderBytes;
    this.bufferBody = config.server.bufferBodyBytes;
    this.dispatcher = new UpstreamDispatcher(this, this.bufferBody, observer);
  }

  /** uWS entry point for every request. Bound once; never throws. */
  readonly handle = (res: HttpResponse, req: HttpRequest): void => {
    const ctx = new RequestContext(res);
    res.onAborted(() => this.aborted(ctx));
    ctx.startMs = performance.now();
    this.lastStartMs = ctx.startMs;
    this.inflightCount++;
    try {
      readRequest(ctx, req);
      this.route(ctx);
    } catch (err) {
      this.problem(ctx, new GatewayError(ErrorCodes.INTERNAL, undefined, { cause: err }), null, true);
    }
  };

  private route(ctx: RequestContext): void {
    const peer = normalisePeerAddress(Buffer.from(ctx.res.getRemoteAddressAsText()).toString('latin1'));
    ctx.peerIp = peer;
    // why: with no trusted proxies (the default) neither lookup can change anything.
    ctx.peerTrusted = !this.trusted.empty && this.trusted.has(peer);
    ctx.clientIp = ctx.peerTrusted ? this.trusted.clientIp(peer, ctx.header('x-forwarded-for')) : peer;
    const rid = ctx.requestIdIn;
    ctx.requestId = rid !== '' && rid.length <= 200 ? rid : this.ids.next();
    if (ctx.headerBytes > this.maxHeader) return this.problem(ctx, ERR_HEADERS, null, true);
    if (ctx.contentLength === -2) return this.problem(ctx, ERR_BAD_CL, null, true);
    if (ctx.transferEncoding !== '') {
      if (ctx.contentLength >= 0) return this.problem(ctx, ERR_SMUGGLE, null, true);
      if (ctx.transferEncoding.toLowerCase() !== 'chunked') return this.problem(ctx, ERR_BAD_TE, null, true);
    }
    if (this.maxBody > 0 && ctx.contentLength > this.maxBody) return this.problem(ctx, ERR_BODY, null, true);

    const match = this.router.match(ctx.method, ctx.rawHost, ctx.path, ctx, ctx.params);
    if (match === null) return this.problem(ctx, ERR_NOT_FOUND, null, false);
    if (match.kind === 'method-not-allowed') return this.problem(ctx, ERR_METHOD, match.allowHeader, false);
    if (match.kind === 'bad-path') return this.problem(ctx, ERR_BAD_PATH, null, false);
    this.proxy(ctx, match);
  }

  private proxy(ctx: RequestContext, route: CompiledRoute): void {
    ctx.routeIndex = route.index;
    const access = this.chains === null ? null : this.chains[route.index].access;
    if (access !== null) {
      const verdict = runAccess(access, ctx);
      if (verdict !== undefined) {
        // A body the client is still sending was never read: close after answering.
        if (!(verdict instanceof Promise)) return this.problem(ctx, verdict, null, hasBody(ctx));
        ctx.gated = true;
        verdict.then((err) => this.gateDone(ctx, err), (err: unknown) => this.gateDone(ctx, new GatewayError(ErrorCodes.INTERNAL, undefined, { cause: err })));
      }
    }
    if (route.transcode !== undefined && this.transcoder !== null) return this.transcoder.start(ctx, route, this);
    const upstreamName = route.upstream ?? pickSplit(route, stickyValue(ctx, this.routeSticky[route.index]), Math.random());
    const group = this.routeGroups[route.index] ?? this.groups.get(upstreamName)!;
    const path = buildUpstreamPath(route, ctx.params, ctx.path, ctx.query);
    const headers = buildUpstreamHeaders(ctx, route.preserveHost ? ctx.rawHost : '', 'http');
    const call = new UpstreamCall(route, group, path, headers);
    const hashKey = stickyValue(ctx, this.hashOn.get(upstreamName) ?? null) ?? '';
    const cl = ctx.contentLength;
    const chunked = ctx.transferEncoding !== '';
    if (cl <= 0 && !chunked) {
      this.startCall(ctx, call, hashKey);
    } else if (!chunked && cl <= this.bufferBody) {
      readBuffered(this, ctx, call, hashKey, new BufferedBody(cl));
    } else {
      const body = new StreamedBody(ctx);
      call.body = body;
      ctx.res.onData((chunk, isLast) => this.onBodyChunk(ctx, body, chunk, isLast));
      this.startCall(ctx, call, hashKey);
    }
  }

  /** One chunk of a streamed request body, with the size and backlog limits. */
  private onBodyChunk(ctx: RequestContext, body: StreamedBody, chunk: ArrayBuffer, isLast: boolean): void {
    if (ctx.finished || body.destroyed) return;
    body.feed(chunk, isLast);
    if (this.maxBody > 0 && body.received > this.maxBody) this.failBody(ctx, body, ERR_BODY);
    else if (this.maxBacklog > 0 && body.readableLength > this.maxBacklog) this.failBody(ctx, body, ERR_BACKLOG);
  }

  /** Abandons a streamed body: stop the upstream call, answer (or cut) the client, close. */
  private failBody(ctx: RequestContext, body: StreamedBody, err: GatewayError): void {
    body.destroy();
    if (ctx.call !== null) this.dispatcher.abortUpstream(ctx.call, err);
    if (ctx.call !== null && ctx.call.exchange !== null && ctx.call.exchange.responseStarted) {
      ctx.finished = true;
      ctx.res.close();
      this.complete(ctx);
    } else {
      this.problem(ctx, err, null, true);
    }
  }

  /** Starts the upstream call once a buffered body is complete. */
  startBuffered(ctx: RequestContext, call: UpstreamCall, hashKey: string, body: BufferedBody): void {
    if (!body.complete()) return this.problem(ctx, ERR_BODY_SHORT, null, true);
    call.body = body.data;
    this.startCall(ctx, call, hashKey);
  }

  /** Parks the call until the current read is parsed (deferred-start.ts) or a pending policy decision opens the gate. */
  private startCall(ctx: RequestContext, call: UpstreamCall, hashKey: string): void {
    ctx.pendingCall = call;
    ctx.pendingHashKey = hashKey;
    if (!ctx.gated) deferStart(this, ctx);
  }

  /** DeferredStarter: dispatches the call startCall parked, unless the request already ended. */
  startDeferred(ctx: RequestContext): void {
    const call = ctx.pendingCall;
    ctx.pendingCall = null;
    if (call === null) return;
    if (ctx.aborted || ctx.finished) {
      if (call.body instanceof StreamedBody) call.body.destroy();
      return;
    }
    this.dispatcher.start(ctx, call, ctx.pendingHashKey);
  }

  /** An asynchronous access phase finished: answer its problem, or start the parked call. */
  private gateDone(ctx: RequestContext, err: GatewayError | undefined): void {
    ctx.gated = false;
    const call = ctx.pendingCall;
    ctx.pendingCall = null;
    const body = call === null ? null : call.body;
    if (ctx.aborted || ctx.finished) {
      if (body instanceof StreamedBody) body.destroy();
      return;
    }
    if (err !== undefined) {
      if (body instanceof StreamedBody) body.destroy();
      // The body may be unread (buffered bodies still arriving, streamed ones dropped): close.
      this.problem(ctx, err, null, hasBody(ctx));
      return;
    }
    // A buffered body still arriving calls startCall itself when complete.
    if (call !== null) { ctx.pendingCall = call; deferStart(this, ctx); }
    else if (ctx.resume !== null) {
      const resume = ctx.resume;
      ctx.resume = null;
      resume();
    }
  }

  /** ResponseSink: writes a problem+json answer unless one was already sent. */
  problem(ctx: RequestContext, err: GatewayError, allow: string | null, close: boolean): void {
    if (ctx.finished || ctx.aborted) return;
    ctx.status = err.status;
    // Framing error, refused or unread body: nothing after this request may be read.
    if (close || bodyUnread(ctx)) return closeWithProblem(this, ctx, err, allow);
    problemArgs.ctx = ctx; problemArgs.err = err; problemArgs.allow = allow;
    problemArgs.close = this.draining;
    ctx.res.cork(writeProblemCorked);
    ctx.finished = true;
    this.complete(ctx);
  }

  /** ResponseSink: close when draining or when the request body was not read to the end. */
  closeAfter(ctx: RequestContext): boolean {
    return this.draining || bodyUnread(ctx);
  }

  /** ResponseSink: accounts for a finished request (idempotent per request). */
  complete(ctx: RequestContext): void {
    if (ctx.startMs < 0) return;
    const seconds = (performance.now() - ctx.startMs) / 1000;
    ctx.startMs = -1;
    ctx.finished = true;
    if (ctx.call !== null) this.dispatcher.release(ctx.call);
    if (this.chains !== null && ctx.routeIndex >= 0) {
      const log = this.chains[ctx.routeIndex].onLog;
      if (log !== null) runLog(log, ctx, this.onPolicyError);
    }
    if (this.observer !== null) this.observer.observe(ctx.routeIndex, ctx.method, ctx.aborted ? 499 : ctx.status, seconds);
    if (--this.inflightCount === 0 && this.onIdle !== null) this.onIdle();
  }

  private aborted(ctx: RequestContext): void {
    ctx.aborted = true;
    if (ctx.abortHook !== null) ctx.abortHook();
    if (ctx.call !== null) this.dispatcher.abort(ctx);
    this.complete(ctx);
  }

  /** Resolves when no request is in flight (used by drain). */
  whenIdle(): Promise<void> {
    if (this.inflightCount === 0) return Promise.resolve();
    return new Promise((resolve) => { this.onIdle = resolve; });
  }
}

/** Whether a streamed request body was not read to its end. */
function bodyUnread(ctx: RequestContext): boolean {
  const body = ctx.call === null ? null : ctx.call.body;
  return body instanceof StreamedBody && !body.complete;
}

/** Whether the request declared a body (Content-Length > 0 or chunked). */
function hasBody(ctx: RequestContext): boolean {
  return ctx.contentLength > 0 || ctx.transferEncoding !== '';
}

function ignorePolicyError(): void {}

function readBuffered(h: RequestHandler, ctx: RequestContext, call: UpstreamCall, hashKey: string, body: BufferedBody): void {
  ctx.res.onData((chunk, isLast) => {
    if (ctx.finished) return;
    if (!body.append(chunk)) { h.problem(ctx, ERR_BODY_SHORT, null, true); return; }
    if (isLast) h.startBuffered(ctx, call, hashKey, body);
  });
}

/** A parsed `ip` / `header:<name>` key spec (sticky splits, hash balancing). */
interface KeySpec {
  readonly ip: boolean;
  /** Lower-case header name ('' for ip). */
  readonly header: string;
}

// why: parsed once at construction so a request does no string slicing.
function keySpec(spec: string | null): KeySpec | null {
  if (spec === null) return null;
  return spec === 'ip' ? { ip: true, header: '' } : { ip: false, header: spec.slice('header:'.length) };
}

/** The request's value for a key spec, undefined when absent. */
function stickyValue(ctx: RequestContext, spec: KeySpec | null): string | undefined {
  if (spec === null) return undefined;
  if (spec.ip) return ctx.clientIp;
  const v = ctx.header(spec.header);
  return v === '' ? undefined : v;
}

// why: res.cork takes a callback; a module-level function reading these
// fields avoids a closure per error response. cork runs it synchronously.
const problemArgs = { ctx: null as unknown as RequestContext, err: ERR_NOT_FOUND, allow: null as string | null, close: false };
function writeProblemCorked(): void {
  const a = problemArgs;
  writeProblem(a.ctx.res, a.err, a.ctx.path, a.ctx.requestId, a.allow, a.close, a.ctx.method === 'HEAD', a.ctx.responseHeaders);
}
