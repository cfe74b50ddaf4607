import type { Dispatcher } from 'undici';
import { Readable } from 'node:stream';
import type { RequestContext } from '../ingress/request-context.js';
import type { ResponseSink } from '../ingress/response-sink.js';
import { ErrorCodes } from '../errors/codes.js';
import { GatewayError } from '../errors/gateway-error.js';
import { failureKind, mapUpstreamError } from '../errors/map-error.js';
import { ProxyExchange, type ExchangeOwner } from './proxy-exchange.js';
import type { UpstreamCall } from './upstream-call.js';
import type { Verdict } from '../policies/types.js';

/** Observes upstream outcomes (metrics); optional. */
export interface UpstreamObserver {
  upstreamError(upstream: string, kind: string): void;
}

class RequestTimeoutError extends Error {
  readonly code = 'TURNPIKE_REQUEST_TIMEOUT';
  constructor() { super('request deadline exceeded'); }
}

/**
 * Sends a request to a target of its upstream group through the target's
 * undici pool, with the route's timeouts, passive-health reporting, and one
 * retry on another target when the connection could not be made (nothing
 * was sent, so any method is safe to retry).
 */
export class UpstreamDispatcher implements ExchangeOwner {
  private readonly sink: ResponseSink;
  readonly bufferBodyBytes: number;
  readonly maxBodyBytes: number;
  private readonly observer: UpstreamObserver | null;

  constructor(sink: ResponseSink, bufferBodyBytes: number, maxBodyBytes: number, observer: UpstreamObserver | null) {
    this.sink = sink;
    this.bufferBodyBytes = bufferBodyBytes;
    this.maxBodyBytes = maxBodyBytes;
    this.observer = observer;
  }

  closeAfter(ctx: RequestContext): boolean { return this.sink.closeAfter(ctx); }

  replaced(ctx: RequestContext, verdict: Exclude<Verdict, undefined>): void {
    this.sink.answer(ctx, verdict, false);
  }

  readonly policyError = (name: string, err: unknown): void => this.sink.policyError(name, err);

  /** Starts the call: picks a target and dispatches (or answers 503). */
  start(ctx: RequestContext, call: UpstreamCall, hashKey: string): void {
    ctx.call = call;
    call.startMs = performance.now();
    call.hashKey = hashKey;
    this.attempt(ctx, call, null);
  }

  /**
   * Picks a target and dispatches. `retryOf` is the error of the previous
   * attempt: when the balancer has no other target to offer, the client gets
   * that error (e.g. 502) rather than a 503.
   */
  private attempt(ctx: RequestContext, call: UpstreamCall, retryOf: unknown): void {
    const target = call.group.pick(call.hashKey);
    if (target === null || (retryOf !== null && call.triedTarget === target)) {
      this.sink.problem(ctx, retryOf !== null ? mapUpstreamError(retryOf)
        : new GatewayError(ErrorCodes.UPSTREAM_UNAVAILABLE, 'No healthy target in upstream "' + call.group.name + '"'), null, false);
      return;
    }
    call.attempts++;
    call.target = target;
    call.triedTarget = target;
    call.group.onStart(target);
    const exchange = new ProxyExchange(ctx, this, ctx.method === 'HEAD');
    call.exchange = exchange;
    const opts: Dispatcher.DispatchOptions = {
      path: call.path,
      method: ctx.method as Dispatcher.HttpMethod,
      headers: call.headers,
      body: call.body,
      // why: until the response starts, undici's own header timer enforces both
      // the header and the whole-request limits, so the common (small,
      // buffered) response needs no timer of ours at all.
      headersTimeout: firstLimit(call.route.timeout.headersMs, call.route.timeout.requestMs),
      bodyTimeout: call.route.timeout.requestMs,
    };
    target.pool.dispatch(opts, exchange);
  }

  streamingStarted(ctx: RequestContext): void {
    const call = ctx.call!;
    const requestMs = call.route.timeout.requestMs;
    if (requestMs <= 0 || call.timer !== null) return;
    const left = Math.max(1, requestMs - (performance.now() - call.startMs));
    call.timer = setTimeout(onDeadline, left, this, ctx);
  }

  upstreamResponded(ctx: RequestContext, status: number): void {
    const call = ctx.call!;
    call.group.reportSuccess(call.target!, status);
    if (status >= 500 && this.observer !== null) this.observer.upstreamError(call.group.name, '5xx');
  }

  upstreamFailed(ctx: RequestContext, err: unknown, responseStarted: boolean): void {
    const call = ctx.call!;
    const kind = failureKind(err);
    const target = call.target;
    if (target !== null) {
      call.group.onFinish(target);
      call.target = null;
      if (kind === 'connect' || kind === 'timeout') call.group.reportFailure(target, kind);
    }
    if (this.observer !== null) this.observer.upstreamError(call.group.name, kind);
    if (responseStarted || ctx.aborted) return;
    if (kind === 'connect' && call.attempts < 2 && !(call.body instanceof Readable)
      && call.group.targets.length > 1) {
      this.attempt(ctx, call, err);
      return;
    }
    this.sink.problem(ctx, mapUpstreamError(err), null, false);
  }

  finished(ctx: RequestContext): void {
    this.sink.complete(ctx);
  }

  /** Aborts the upstream side of a call (the gateway gave up on it) and releases the target. */
  abortUpstream(call: UpstreamCall, err: Error): void {
    if (call.exchange !== null) call.exchange.abort(err);
    this.release(call);
  }

  /** Client went away: abort the upstream request and release the target. */
  abort(ctx: RequestContext): void {
    if (ctx.call !== null) this.abortUpstream(ctx.call, new Error('client aborted'));
  }

  /** Releases the target and the deadline timer (idempotent). */
  release(call: UpstreamCall): void {
    if (call.timer !== null) { clearTimeout(call.timer); call.timer = null; }
    if (call.target !== null) { call.group.onFinish(call.target); call.target = null; }
    if (call.body instanceof Readable && !call.body.destroyed) call.body.destroy();
  }

  /**
   * The whole-request deadline passed while the response was streaming. If
   * no byte went to the client yet it gets a 504; otherwise the status line
   * is already out and the only signal left is to cut the connection (the
   * exchange's onError does that).
   */
  deadline(ctx: RequestContext): void {
    const call = ctx.call;
    if (call === null || ctx.finished || ctx.aborted || call.exchange === null) return;
    call.timer = null;
    const err = new RequestTimeoutError();
    if (this.observer !== null) this.observer.upstreamError(call.group.name, 'timeout');
    if (call.target !== null) call.group.reportFailure(call.target, 'timeout');
    if (call.exchange.responseStarted) {
      call.exchange.abort(err);
      return;
    }
    call.exchange.abort(err);
    this.sink.problem(ctx, mapUpstreamError(err), null, false);
  }
}

/** The smaller of two limits where 0 means none. */
function firstLimit(a: number, b: number): number {
  if (a <= 0) return b;
  if (b <= 0) return a;
  return a < b ? a : b;
}

function onDeadline(d: UpstreamDispatcher, ctx: RequestContext): void {
  d.deadline(ctx);
}
