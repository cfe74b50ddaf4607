import { Readable } from 'node:stream';
import type { Pool } from 'undici';
import { ErrorCodes } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { failureKind } from '../../errors/map-error.js';
import type { Target } from '../target.js';
import type { UpstreamGroup } from '../upstream-group.js';
import type { UpstreamCall } from '../upstream-call.js';
import { backoffDelay, retryRandom } from './backoff.js';
import { LEGACY_RETRY, RetryReason, retriesMethod, retriesStatus } from './retry-policy.js';
import { RetryState, type RetryOwner } from './retry-state.js';

/** Counts retries and refusals by the budget (metrics); the dispatcher's observer. */
export interface RetryObserver {
  /** A retry starts on `upstream`; `reason` is `connect-failure`, `reset`, `timeout` or the status (`503`). */
  upstreamRetry(upstream: string, reason: string): void;
  /** The retry budget of `upstream` refused a retry. */
  retryBudgetExhausted(upstream: string): void;
}

/**
 * Classifies a failed try for retry policies. A failure after the response
 * headers arrived is never retryable (`headersReceived`); nor is the
 * route's whole-request deadline (it bounds the whole try sequence) or a
 * malformed response.
 */
export function failureReason(err: unknown, headersReceived: boolean): RetryReason {
  if (headersReceived) return RetryReason.None;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return RetryReason.ConnectTimeout;
  // The headers limit and perTryTimeout (the dispatcher raises the same undici error for both).
  if (code === 'UND_ERR_HEADERS_TIMEOUT') return RetryReason.Timeout;
  switch (failureKind(err)) {
    case 'connect': case 'tls': return RetryReason.Connect;
    case 'reset': return RetryReason.Reset;
    default: return RetryReason.None;
  }
}

/** The `reason` label of a failure retry in `turnpike_upstream_retries_total`. */
export function reasonLabel(reason: RetryReason): string {
  switch (reason) {
    case RetryReason.Reset: return 'reset';
    case RetryReason.Timeout: return 'timeout';
    default: return 'connect-failure';
  }
}

/**
 * Decides whether the call gets another try, in order: retries left, the
 * method (unless nothing was sent), a body that can be sent again (a
 * streamed one cannot), a target to send it to, time left for the backoff
 * within the route's request timeout, and the upstream's retry budget. On
 * yes, takes a budget slot, counts the retry and returns the backoff wait
 * in ms (0 for the legacy retry); on no, returns -1.
 *
 * @param label the metric reason (`reset`, `503`, ...)
 * @param unsent the try failed to connect: the upstream saw nothing, so any method is safe to send again
 */
export function planRetry(state: RetryState, call: UpstreamCall, method: string, label: string,
  observer: RetryObserver | null, unsent: boolean, now = performance.now()): number {
  const policy = state.policy;
  if (state.retries >= policy.retries) return -1;
  if (!unsent && !retriesMethod(policy, method)) return -1;
  // why: a streamed body was read (or may have been) by the failed try; it cannot be sent again.
  if (call.body instanceof Readable) return -1;
  const group = call.group;
  if (policy.legacy ? group.targets.length < 2 : !group.hasAvailableTarget()) return -1;
  const delay = policy.legacy ? 0 : backoffDelay(policy.baseMs, policy.maxMs, state.retries + 1, retryRandom());
  const requestMs = call.route.timeout.requestMs;
  if (requestMs > 0 && now + delay >= call.startMs + requestMs) return -1;
  if (!takeRetryBudget(group, observer, label)) return -1;
  state.hold(group.retryBudget);
  state.retries++;
  return delay;
}

/**
 * Takes a slot of the upstream's retry budget for one retry, counted under
 * `label`; false (counted as exhausted) when the budget refuses. Shared by
 * proxied requests and the worker's own (UpstreamClient) calls.
 */
export function takeRetryBudget(group: Pick<UpstreamGroup, 'name' | 'retryBudget' | 'inflight'>, observer: RetryObserver | null, label: string): boolean {
  if (!group.retryBudget.tryAcquire(group.inflight)) {
    if (observer !== null) observer.retryBudgetExhausted(group.name);
    return false;
  }
  if (observer !== null) observer.upstreamRetry(group.name, label);
  return true;
}

/**
 * The target of a retry: another one than the last try's when the balancer
 * offers one within a few picks (round-robin moves on, least-request samples
 * again; `hash` keeps its choice). The legacy retry goes nowhere else: null
 * when only the same target comes up.
 */
export function retryTarget(call: UpstreamCall): Target<Pool> | null {
  const group = call.group;
  const tried = call.triedTarget;
  const picks = group.targets.length < 2 ? 1 : Math.max(3, group.targets.length);
  let t: Target<Pool> | null = group.pick(call.hashKey);
  for (let i = 1; t !== null && t === tried && i < picks; i++) t = group.pick(call.hashKey);
  if (t === tried && call.retry !== null && call.retry.policy.legacy) return null;
  return t;
}

/**
 * A try's response headers arrived (the try is over for the budget and its
 * perTryTimeout). Returns the backoff wait in ms when the status is to be
 * retried (the caller drops the response), else -1: the response goes to
 * the client as it is, also when the budget or the retries ran out.
 */
export function statusRetry(retry: RetryState, call: UpstreamCall, method: string, status: number, observer: RetryObserver | null): number {
  retry.tryEnded();
  if (!retriesStatus(retry.policy, status)) return -1;
  const delay = planRetry(retry, call, method, String(status), observer, false);
  if (delay >= 0) {
    retry.lastError = new GatewayError(ErrorCodes.UPSTREAM_UNAVAILABLE,
      'No healthy target left in upstream "' + call.group.name + '" to retry a ' + status + ' response on');
  }
  return delay;
}

/**
 * A try failed before the response started. Returns the backoff wait in ms
 * (0 for the legacy retry, which goes at once) when it is to be tried
 * again, else -1. A route without `retry` gets its state here, only when a
 * refused connection or failed handshake on a multi-target upstream makes
 * the legacy retry possible.
 *
 * @param kind the error's failure kind (see errors/map-error.ts)
 */
export function failureRetry(call: UpstreamCall, method: string, err: unknown, kind: string, owner: RetryOwner,
  observer: RetryObserver | null): number {
  let retry = call.retry;
  if (retry === null) {
    // A failed TLS handshake is a connect failure too: the upstream's application saw nothing.
    if ((kind !== 'connect' && kind !== 'tls') || call.group.targets.length < 2) return -1;
    retry = call.retry = new RetryState(LEGACY_RETRY, call, owner);
  }
  retry.tryEnded();
  const reason = failureReason(err, call.exchange !== null && call.exchange.headersReceived);
  if ((reason & retry.policy.reasons) === 0) return -1;
  const delay = planRetry(retry, call, method, reasonLabel(reason), observer,
    (reason & (RetryReason.Connect | RetryReason.ConnectTimeout)) !== 0);
  if (delay >= 0) retry.lastError = err;
  return delay;
}
