/**
 * The concurrency-limit half of a call's admission, shared by the guards of
 * calls that do not go through the proxy dispatcher (the worker's own
 * requests in fetch-guard.ts, transcoded gRPC calls in
 * transcode/grpc-call-guard.ts): take a slot of the upstream's limiter, or a
 * place in its FIFO queue, waiting on the worker's deadline wheel up to
 * `queueTimeout`; give the slot (or the queue place) back when the call ends.
 */
import type { GatewayError } from '../../errors/gateway-error.js';
import { upstreamDeadlines, type DeadlineEntry } from '../deadline-wheel.js';
import { FULL, GRANTED, NO_SLOT, QUEUED, type ConcurrencyLimiter, type LimiterWaiter, type LimitState } from './concurrency-limiter.js';

/** What holds the limiter: an upstream group (http or grpc). */
export interface LimiterOwner {
  readonly limiter: ConcurrencyLimiter | null;
}

/** See the file comment. Subclasses add the breaker's part of the admission. */
export class QueuedAdmission implements LimiterWaiter, DeadlineEntry {
  qNext: LimiterWaiter | null = null;
  qPrev: LimiterWaiter | null = null;
  limitState: LimitState = NO_SLOT;
  dlNext: DeadlineEntry | null = null;
  dlPrev: DeadlineEntry | null = null;
  dlTick = -1;
  /** Resolves the queue wait: null = slot granted (or the call left the queue), else the refusal. */
  private wake: ((refusal: GatewayError | null) => void) | null = null;

  constructor(private readonly owner: LimiterOwner) {}

  /** A slot now (null), the refusal of a full queue, or a Promise of either once the queue wait ends. */
  protected takeSlot(limiter: ConcurrencyLimiter): GatewayError | null | Promise<GatewayError | null> {
    const r = limiter.acquire(this);
    if (r === GRANTED) return null;
    if (r === FULL) return limiter.errFull;
    upstreamDeadlines.schedule(this, performance.now() + limiter.queueTimeoutMs);
    return new Promise<GatewayError | null>((resolve) => { this.wake = resolve; });
  }

  /** Leaves the queue (its wait resolves with null) or releases the slot. Idempotent. */
  protected releaseSlot(): void {
    if (this.limitState === NO_SLOT) return;
    const queued = this.limitState === QUEUED;
    upstreamDeadlines.cancel(this);
    this.owner.limiter!.release(this);
    if (queued) this.resume(null);
  }

  /** LimiterWaiter: the slot is ours; the call goes on. */
  slotGranted(): void {
    upstreamDeadlines.cancel(this);
    this.resume(null);
  }

  /** DeadlineEntry: waited queueTimeout. */
  onDeadline(): void {
    const limiter = this.owner.limiter;
    if (this.limitState !== QUEUED || limiter === null) return;
    limiter.remove(this);
    limiter.countTimeout();
    this.resume(limiter.errTimeout);
  }

  private resume(refusal: GatewayError | null): void {
    const wake = this.wake;
    this.wake = null;
    if (wake !== null) wake(refusal);
  }
}
