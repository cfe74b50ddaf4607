/**
 * The concurrency limit of an upstream for the worker's own requests
 * (UpstreamClient.fetch: response aggregation, cache refreshes): the same
 * per-upstream limiter as proxied requests, so a call takes a slot, waits in
 * the same FIFO queue (up to `queueTimeout`, on the worker's deadline
 * wheel) or is refused with 503 `upstream_overloaded`. An open circuit
 * refuses before the call takes a queue place, as on the proxy path. One
 * guard per call, only for upstreams with `limits`.
 */
import type { GatewayError } from '../../errors/gateway-error.js';
import type { UpstreamGroup } from '../upstream-group.js';
import { QueuedAdmission } from './queued-admission.js';

/** See the file comment. */
export class FetchGuard extends QueuedAdmission {
  constructor(private readonly group: UpstreamGroup) {
    super(group);
  }

  /**
   * Admission: null when the call may go (now, or after waiting in the
   * queue), else the refusal (circuit open, queue full, waited past
   * queueTimeout). The caller checked `group.limiter !== null`.
   */
  admit(): GatewayError | null | Promise<GatewayError | null> {
    const breaker = this.group.breaker;
    if (breaker !== null && breaker.rejects()) return breaker.error;
    return this.takeSlot(this.group.limiter!);
  }

  /** The call is over or was abandoned: leaves the queue (its wait resolves with null) or releases the slot. Idempotent. */
  release(): void {
    this.releaseSlot();
  }
}
