import { errors, type Dispatcher } from 'undici';
import { Readable } from 'node:stream';
import { StreamedBody } from '../ingress/request-body.js';
import type { RequestContext } from '../ingress/request-context.js';
import type { ResponseSink } from '../ingress/response-sink.js';
import { failureKind, mapUpstreamError } from '../errors/map-error.js';
import { noTargetError } from './no-target.js';
import { upstreamDeadlines } from './deadline-wheel.js';
import { ProxyExchange, type ExchangeOwner } from './proxy-exchange.js';
import type { DeadlineOwner, UpstreamCall } from './upstream-call.js';
import type { Verdict } from '../policies/types.js';
import { failureRetry, retryTarget, statusRetry, type RetryObserver } from './retry/retry-decision.js';
import type { RetryOwner } from './retry/retry-state.js';
import { deferStart, type DeferredStarter } from '../ingress/deferred-start.js';
import {
  admitAttempt, admitCall, queueTimedOut, recordFailure, recordResponse, releaseGuards,
} from './resilience/call-guard.js';
import { NO_SLOT, QUEUED } from './resilience/concurrency-limiter.js';

/** Observes upstream outcomes (metrics); optional. */
export interface UpstreamObserver extends RetryObserver {
  upstreamError(upstream: string, kind: string): void;
}

/** Aborts a try whose response a retry replaces (the exchange ignores the error its own abort causes). */
const ERR_DROPPED = new Error('response dropped for a retry');

class RequestTimeoutError extends Error {
  readonly code = 'TURNPIKE_REQUEST_TIMEOUT';
  constructor() { super('request deadline exceeded'); }
}

/**
 * Sends a request to a target of its upstream group through the target's
 * undici pool, with the route's timeouts, passive-health reporting, and
 * retries: the route's `retry` policy, or (routes without one) one retry on
 * another target when the connection could not be made (nothing was sent,
 * so any method is safe to retry). Decisions, budget and backoff live in
 * src/upstream/retry/; here are only the hooks (a null check per request
 * on routes without `retry`).
 *
 * Timeouts (the connect timeout is the pool's, see target.ts): one deadline
 * per call on the worker's deadline wheel (10 ms precision), never undici's
 * header/body timers, whose coarse "fast timers" fire up to ~1 s late (and
 * can fire early). The deadline is `start + request` from the first dispatch;
 * once the request is sent it becomes `min(sent + headers, start + request)`;
 * when the headers arrive in time it reverts to `start + request` (lazily:
 * only if the headers deadline fires). `request` is thereby also the idle
 * limit between response body chunks. While a streamed request body is being
 * sent, `headers` is also the limit on an upstream that stops reading it: the
 * deadline is checked every `headers` ms and fires when the body stayed
 * paused on the upstream (no pull) for a whole period.
 *
 * Resilience (resilience/call-guard.ts): an upstream with `limits` admits
 * the call to its concurrency limit first (the slot is the request's, held
 * across attempts, released once when it ends; a queued call starts with
 * its first dispatch, so its deadlines count from there); an upstream with
 * a `circuitBreaker` admits every attempt and records every attempt's
 * outcome.
 */
export class UpstreamDispatcher implements ExchangeOwner, DeadlineOwner, RetryOwner, DeferredStarter {
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
    call.ctx = ctx;
    call.owner = this;
    call.startMs = performance.now();
    call.hashKey = hashKey;
    // why: an upstream without `limits` pays this one null check.
    if (call.group.limiter !== null && !admitCall(ctx, call, this.sink)) return;
    this.attempt(ctx, call, null);
  }

  /** DeadlineOwner: a queued call holds a slot now; it is dispatched after this loop turn's I/O. */
  slotGranted(call: UpstreamCall): void {
    upstreamDeadlines.cancel(call);
    if (call.ctx !== null) deferStart(this, call.ctx);
  }

  /** DeferredStarter: dispatches a call that waited for a slot, unless it ended meanwhile (that released the slot). */
  startDeferred(ctx: RequestContext): void {
    const call = ctx.call;
    if (call === null || ctx.aborted || ctx.finished) return;
    call.startMs = performance.now();
    this.attempt(ctx, call, null);
  }

  /**
   * Picks a target and dispatches. `retryOf` is the error of the previous
   * attempt: when the balancer has no other target to offer, the client gets
   * that error (e.g. 502) rather than a 503.
   */
  private attempt(ctx: RequestContext, call: UpstreamCall, retryOf: unknown): void {
    const target = retryOf === null ? call.group.pick(call.hashKey) : retryTarget(call);
    if (target === null) {
      this.sink.problem(ctx, retryOf !== null ? mapUpstreamError(retryOf)
        : noTargetError(call.group), null, false);
      return;
    }
    const breaker = call.group.breaker;
    // why: an upstream without a circuit breaker pays this one null check.
    if (breaker !== null && !admitAttempt(ctx, call, breaker, retryOf, this.sink)) return;
    call.attempts++;
    call.target = target;
    call.triedTarget = target;
    call.group.onStart(target);
    const exchange = new ProxyExchange(ctx, this, ctx.method === 'HEAD');
    call.exchange = exchange;
    call.attemptMs = retryOf === null ? call.startMs : performance.now();
    // A retry keeps the deadline of the first dispatch (same tick: a no-op).
    const requestMs = call.route.timeout.requestMs;
    call.headersDeadline = false;
    call.uploadDeadline = false;
    if (call.body instanceof StreamedBody && !call.body.complete && call.route.timeout.headersMs > 0) {
      this.scheduleUploadCheck(call, call.body, call.attemptMs);
    } else if (requestMs > 0) upstreamDeadlines.schedule(call, call.startMs + requestMs);
    else upstreamDeadlines.cancel(call);
    const retry = call.retry;
    if (retry !== null && retry.policy.perTryMs > 0) {
      retry.armPerTry(call.attemptMs + retry.policy.perTryMs, requestMs > 0 ? call.startMs + requestMs : Infinity);
    }
    const opts: Dispatcher.DispatchOptions & { servername: string } = {
      path: call.path,
      method: ctx.method as Dispatcher.HttpMethod,
      headers: call.headers,
      body: call.body,
      // why: 0 disables undici's per-socket header/body timers (they would fire
      // late, or early, with their own error); the deadline wheel enforces
      // both, and the request skips undici's FastTimer allocation.
      headersTimeout: 0,
      bodyTimeout: 0,
      // why: undici derives a request's TLS server name from its Host header
      // (the client's with preserveHost) and re-dials a pool connection when
      // it changes; the target's fixed name keeps connections reused (the
      // connector sends the configured SNI either way, see target.ts).
      servername: target.servername,
    };
    call.dispatching = true;
    target.pool.dispatch(opts, exchange);
    call.dispatching = false;
  }

  /** The request (and its body) went out: the headers limit starts now. */
  requestSent(ctx: RequestContext): void {
    const call = ctx.call!;
    const headersMs = call.route.timeout.headersMs;
    if (headersMs <= 0) return;
    const requestMs = call.route.timeout.requestMs;
    // why: a request without a body on an idle keep-alive connection is written
    // inside pool.dispatch(); its send time is then the attempt's start (a few
    // µs earlier), which saves a clock read (~90 ns on this VM) per request.
    const at = (call.dispatching ? call.attemptMs : performance.now()) + headersMs;
    call.uploadDeadline = false;
    if (requestMs > 0 && call.startMs + requestMs <= at) {
      upstreamDeadlines.schedule(call, call.startMs + requestMs);
      return;
    }
    call.headersDeadline = true;
    upstreamDeadlines.schedule(call, at);
  }

  /**
   * Schedules the next upload-stall check `headers` ms from `now` (or the
   * whole-request deadline when that comes first).
   */
  private scheduleUploadCheck(call: UpstreamCall, body: StreamedBody, now: number): void {
    const at = now + call.route.timeout.headersMs;
    const requestMs = call.route.timeout.requestMs;
    if (requestMs > 0 && call.startMs + requestMs <= at) {
      call.uploadDeadline = false;
      upstreamDeadlines.schedule(call, call.startMs + requestMs);
      return;
    }
    call.uploadDeadline = true;
    call.uploadPulls = body.pulls;
    upstreamDeadlines.schedule(call, at);
  }

  upstreamResponded(ctx: RequestContext, status: number): void {
    const call = ctx.call!;
    if (call.cbEpoch >= 0) recordResponse(call, status);
    call.group.reportSuccess(call.target!, status);
    if (status >= 500 && this.observer !== null) this.observer.upstreamError(call.group.name, '5xx');
    if (call.retry !== null) {
      const delay = statusRetry(call.retry, call, ctx.method, status, this.observer);
      if (delay >= 0) this.dropForRetry(call, delay);
    }
  }

  /**
   * Drops a try's response for a retry: the exchange is aborted, so no byte
   * of it reaches the client and its body is never read (the connection
   * closes, as Envoy resets the stream); the next try waits its backoff.
   */
  private dropForRetry(call: UpstreamCall, delay: number): void {
    call.group.onFinish(call.target!);
    call.target = null;
    call.exchange!.abort(ERR_DROPPED);
    this.backoff(call, delay);
  }

  /** Waits `delay` ms before the next try; the call's own deadline is off meanwhile (the retry checked the time left). */
  private backoff(call: UpstreamCall, delay: number): void {
    upstreamDeadlines.cancel(call);
    call.retry!.waitUntil(performance.now() + delay);
  }

  /** RetryOwner: a backoff wait ended (send the next try) or a try's perTryTimeout passed. */
  retryTimer(call: UpstreamCall, backoff: boolean): void {
    const ctx = call.ctx;
    if (ctx === null || ctx.finished || ctx.aborted) return;
    if (backoff) { this.attempt(ctx, call, call.retry!.lastError); return; }
    const exchange = call.exchange;
    if (exchange === null || exchange.headersReceived) return;
    const err = new errors.HeadersTimeoutError('no response headers within retry.perTryTimeout');
    exchange.abort(err); // silent: the exchange ignores the error its own abort causes
    this.upstreamFailed(ctx, err, false);
  }

  upstreamFailed(ctx: RequestContext, err: unknown, responseStarted: boolean): void {
    const call = ctx.call!;
    const kind = failureKind(err);
    if (call.cbEpoch >= 0) recordFailure(call, kind);
    const target = call.target;
    if (target !== null) {
      call.group.onFinish(target);
      call.target = null;
      if (kind === 'connect' || kind === 'tls' || kind === 'timeout') call.group.reportFailure(target, kind);
    }
    if (this.observer !== null) this.observer.upstreamError(call.group.name, kind);
    if (responseStarted || ctx.aborted) return;
    const delay = failureRetry(call, ctx.method, err, kind, this, this.observer);
    if (delay >= 0) {
      if (call.retry!.policy.legacy) this.attempt(ctx, call, err);
      else this.backoff(call, delay);
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

  /** Releases the target, the concurrency slot and the deadline (idempotent). */
  release(call: UpstreamCall): void {
    upstreamDeadlines.cancel(call);
    if (call.retry !== null) call.retry.end();
    if (call.target !== null) { call.group.onFinish(call.target); call.target = null; }
    if (call.cbEpoch >= 0 || call.limitState !== NO_SLOT) releaseGuards(call);
    if (call.body instanceof Readable && !call.body.destroyed) call.body.destroy();
  }

  /**
   * DeadlineOwner: the call's deadline passed. Before the response started
   * (no byte went to the client) the client gets a 504 problem; afterwards
   * the status line is out and the only signal left is to cut the
   * connection (the exchange's onError does that, and accounts the failure).
   */
  deadline(call: UpstreamCall): void {
    if (call.limitState === QUEUED) { queueTimedOut(call, this.sink); return; }
    const ctx = call.ctx;
    const exchange = call.exchange;
    if (ctx === null || exchange === null || ctx.finished || ctx.aborted) return;
    if (call.uploadDeadline) {
      call.uploadDeadline = false;
      const body = call.body as StreamedBody;
      // why: checked lazily every `headers` ms instead of rescheduling per
      // chunk; progress (a pull) or a body waiting on the client (not paused)
      // only pushes the next check out.
      if (!exchange.headersReceived && (body.pulls !== call.uploadPulls || !body.paused)) {
        this.scheduleUploadCheck(call, body, performance.now());
        return;
      }
      if (exchange.headersReceived) {
        const requestMs = call.route.timeout.requestMs;
        if (requestMs > 0) upstreamDeadlines.schedule(call, call.startMs + requestMs);
        return;
      }
      call.headersDeadline = true; // the upstream stopped reading: a headers-class timeout
    }
    let headers = call.headersDeadline;
    if (headers && exchange.headersReceived) {
      // The headers came in time: what is left is the whole-request limit.
      headers = call.headersDeadline = false;
      const requestMs = call.route.timeout.requestMs;
      if (requestMs <= 0) return;
      const at = call.startMs + requestMs;
      if (at > performance.now()) { upstreamDeadlines.schedule(call, at); return; }
    }
    const err = headers ? new errors.HeadersTimeoutError() : new RequestTimeoutError();
    if (exchange.responseStarted) {
      exchange.abort(err);
      return;
    }
    exchange.abort(err); // silent: the exchange ignores the error its own abort causes
    this.upstreamFailed(ctx, err, false);
  }
}
