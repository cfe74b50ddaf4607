/**
 * A transcoded call's circuit breaker and concurrency limit: the same
 * per-upstream guards as proxied requests (src/upstream/resilience/), for a
 * grpc upstream with `circuitBreaker` or `limits`. One guard per call, only
 * for such upstreams.
 */
import type { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../ingress/request-context.js';
import type { CircuitBreaker } from '../upstream/resilience/circuit-breaker.js';
import { QueuedAdmission } from '../upstream/resilience/queued-admission.js';
import { GrpcCode, type GrpcStatus } from './grpc-client/index.js';
import { httpStatusFromGrpc } from './grpc-client/status-map.js';
import type { GrpcUpstreamGroup } from './grpc-upstream.js';

/**
 * Whether a finished gRPC attempt failed as far as the breaker is concerned,
 * or null for no verdict: UNAVAILABLE is a connect failure when the request
 * never went out and a reset otherwise, DEADLINE_EXCEEDED a timeout,
 * CANCELLED (the client went away) says nothing, any other status counts by
 * the HTTP status it maps to (e.g. INTERNAL → 500, a `5xx` failure).
 */
export function grpcAttemptFailed(breaker: CircuitBreaker, st: GrpcStatus): boolean | null {
  switch (st.status) {
    case GrpcCode.OK: return false;
    case GrpcCode.CANCELLED: return null;
    case GrpcCode.UNAVAILABLE: return breaker.policy.errorFails(st.sent ? 'reset' : 'connect');
    case GrpcCode.DEADLINE_EXCEEDED: return breaker.policy.errorFails('timeout');
    default: return breaker.policy.statusFails(httpStatusFromGrpc(st.status));
  }
}

/** See the file comment. */
export class GrpcCallGuard extends QueuedAdmission {
  /** Why the latest attempt was refused (circuit open), else null. */
  refusal: GatewayError | null = null;
  /** Breaker epoch of the attempt in flight; -1 when none or settled. */
  private epoch = -1;
  constructor(private readonly ctx: RequestContext, private readonly group: GrpcUpstreamGroup) {
    super(group);
  }

  /**
   * Admission of the call to the concurrency limit: null when it may go (now,
   * or after waiting in the queue), else the refusal to answer (circuit
   * open, queue full, waited past queueTimeout).
   */
  admit(): GatewayError | null | Promise<GatewayError | null> {
    const limiter = this.group.limiter;
    if (limiter === null) return null;
    const breaker = this.group.breaker;
    if (breaker !== null && breaker.rejects()) return this.openRefusal(breaker);
    return this.takeSlot(limiter);
  }

  /**
   * Admission of one attempt by the breaker; false: refused (see `refusal`,
   * which the first attempt answers, with Retry-After; a refused retry
   * answers the previous attempt's error instead).
   */
  admitAttempt(first: boolean): boolean {
    this.refusal = null;
    const breaker = this.group.breaker;
    if (breaker === null) return true;
    const epoch = breaker.admit();
    if (epoch < 0) {
      if (first) this.refusal = this.openRefusal(breaker);
      return false;
    }
    this.epoch = epoch;
    return true;
  }

  /** Records the attempt's outcome (null: no verdict, a probe place is given back). */
  settle(st: GrpcStatus | null): void {
    const breaker = this.group.breaker;
    if (this.epoch < 0 || breaker === null) return;
    const failed = st === null ? null : grpcAttemptFailed(breaker, st);
    if (failed === null) breaker.cancel(this.epoch);
    else breaker.record(this.epoch, failed);
    this.epoch = -1;
  }

  /** The call is over or its client went away: leaves the queue or releases the slot. Idempotent. */
  release(): void {
    this.settle(null);
    this.releaseSlot();
  }

  private openRefusal(breaker: CircuitBreaker): GatewayError {
    this.ctx.addResponseHeader('retry-after', String(breaker.retryAfterSeconds()));
    return breaker.error;
  }
}
