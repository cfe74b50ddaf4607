/**
 * The dispatcher's hooks into an upstream's circuit breaker and concurrency
 * limit, kept here so that dispatcher.ts only calls them (behind a null
 * check that is all an upstream without `circuitBreaker`/`limits` pays).
 *
 * Life of a call:
 * - start: {@link admitCall} (upstreams with `limits`): an open circuit
 *   answers 503 `circuit_open` at once; otherwise the call takes a slot, or
 *   waits in the queue (its deadline-wheel entry is the queue timeout), or is
 *   refused with 503 `upstream_overloaded`. The slot belongs to the request
 *   and is held across its attempts.
 * - each attempt (each dispatch to the upstream): {@link admitAttempt} asks
 *   the breaker; the outcome is recorded once per attempt,
 *   {@link recordResponse} at the response head or {@link recordFailure}
 *   when it failed before it.
 * - end (complete, client abort, deadline, refused body): {@link releaseGuards}
 *   releases the slot (or leaves the queue) and cancels an attempt that got
 *   no verdict; idempotent, so the in-flight count cannot leak.
 */
import type { FailureKind } from '../../errors/map-error.js';
import { mapUpstreamError } from '../../errors/map-error.js';
import type { RequestContext } from '../../ingress/request-context.js';
import type { ResponseSink } from '../../ingress/response-sink.js';
import { upstreamDeadlines } from '../deadline-wheel.js';
import type { UpstreamCall } from '../upstream-call.js';
import type { CircuitBreaker } from './circuit-breaker.js';
import { GRANTED, NO_SLOT, WAITING } from './concurrency-limiter.js';

const RETRY_AFTER = 'retry-after';

/** Answers 503 `circuit_open` with Retry-After (whole seconds until half-open, ≥ 1). */
export function refuseOpen(ctx: RequestContext, breaker: CircuitBreaker, sink: ResponseSink): void {
  ctx.addResponseHeader(RETRY_AFTER, String(breaker.retryAfterSeconds()));
  sink.problem(ctx, breaker.error, null, false);
}

/**
 * Admits a new call of an upstream with `limits` (the caller checked
 * `group.limiter !== null`). True: it holds a slot, dispatch it now. False:
 * it was answered (circuit open, queue full) or queued (the owner's
 * `slotGranted` or the queue-timeout deadline carries on).
 */
export function admitCall(ctx: RequestContext, call: UpstreamCall, sink: ResponseSink): boolean {
  const group = call.group;
  const breaker = group.breaker;
  // why: an open circuit answers at once; it must not take a queue place first.
  if (breaker !== null && breaker.rejects()) {
    refuseOpen(ctx, breaker, sink);
    return false;
  }
  const limiter = group.limiter!;
  const r = limiter.acquire(call);
  if (r === GRANTED) return true;
  if (r === WAITING) {
    // why: a queued call has no upstream deadline yet, so its wheel entry is free for the queue timeout.
    upstreamDeadlines.schedule(call, call.startMs + limiter.queueTimeoutMs);
    return false;
  }
  sink.problem(ctx, limiter.errFull, null, false);
  return false;
}

/**
 * Asks the breaker for one attempt. False: refused and answered (503
 * `circuit_open`; for a retry, the previous attempt's error, as when no
 * other target is left).
 */
export function admitAttempt(ctx: RequestContext, call: UpstreamCall, breaker: CircuitBreaker, retryOf: unknown, sink: ResponseSink): boolean {
  const epoch = breaker.admit();
  if (epoch >= 0) {
    call.cbEpoch = epoch;
    return true;
  }
  if (retryOf !== null) sink.problem(ctx, mapUpstreamError(retryOf), null, false);
  else refuseOpen(ctx, breaker, sink);
  return false;
}

/** The attempt got its response head with `status` (caller checked `call.cbEpoch >= 0`). */
export function recordResponse(call: UpstreamCall, status: number): void {
  call.group.breaker!.recordStatus(call.cbEpoch, status);
  call.cbEpoch = -1;
}

/** The attempt failed before its response head (caller checked `call.cbEpoch >= 0`). */
export function recordFailure(call: UpstreamCall, kind: FailureKind): void {
  call.group.breaker!.recordError(call.cbEpoch, kind);
  call.cbEpoch = -1;
}

/**
 * The call is over (or its upstream side was abandoned): an attempt without
 * an outcome gives its probe place back, and the slot is released (handed
 * to the first waiter) or the call leaves the queue. Idempotent.
 */
export function releaseGuards(call: UpstreamCall): void {
  if (call.cbEpoch >= 0) {
    call.group.breaker!.cancel(call.cbEpoch);
    call.cbEpoch = -1;
  }
  if (call.limitState !== NO_SLOT) call.group.limiter!.release(call);
}

/** A queued call waited `queueTimeout`: out of the queue, 503 `upstream_overloaded`. */
export function queueTimedOut(call: UpstreamCall, sink: ResponseSink): void {
  const limiter = call.group.limiter!;
  limiter.remove(call);
  limiter.countTimeout();
  const ctx = call.ctx;
  if (ctx !== null) sink.problem(ctx, limiter.errTimeout, null, false);
}
