import type { UpstreamLimitsConfig } from '../../config/types.js';
import { ErrorCodes } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';

/** A waiter's relation to the limiter (the waiter's `limitState`). */
export const NO_SLOT = 0;
export const QUEUED = 1;
export const HOLDING = 2;
/** {@link NO_SLOT}, {@link QUEUED} or {@link HOLDING}. */
export type LimitState = typeof NO_SLOT | typeof QUEUED | typeof HOLDING;

/** What {@link ConcurrencyLimiter.acquire} decided. */
export const GRANTED = 0;
export const WAITING = 1;
export const FULL = 2;
/** {@link GRANTED}, {@link WAITING} or {@link FULL}. */
export type Acquired = typeof GRANTED | typeof WAITING | typeof FULL;

/**
 * A request that takes a slot or waits for one. The limiter owns the queue
 * links and `limitState`; they start as null / {@link NO_SLOT}.
 */
export interface LimiterWaiter {
  qNext: LimiterWaiter | null;
  qPrev: LimiterWaiter | null;
  limitState: LimitState;
  /** The waiter was at the head of the queue and now holds a slot (called from a release). */
  slotGranted(): void;
}

/** A limiter's state for the admin API (`GET /upstreams`). */
export interface LimiterSnapshot {
  /** This worker's share of maxConcurrent / maxQueued. */
  maxConcurrent: number;
  maxQueued: number;
  queueTimeoutMs: number;
  inflight: number;
  queued: number;
  /** Refused so far: queue full, waited past queueTimeout. */
  rejectedQueueFull: number;
  rejectedQueueTimeout: number;
}

/**
 * One upstream's concurrency limit in one worker: at most `maxConcurrent`
 * requests hold a slot; up to `maxQueued` more wait in FIFO order; the rest
 * are refused (503 `upstream_overloaded`). Limits in the config are per
 * gateway instance: each of N workers enforces its share, ceil(value / N)
 * (not coordinated between workers, as Envoy's circuit-breaker thresholds
 * are per instance).
 *
 * The queue is an intrusive doubly-linked list threaded through the waiters
 * themselves (no allocation; removal of a waiter that timed out or went away
 * is O(1)). The queue timeout is the caller's to run (the dispatcher uses
 * the call's entry on the worker's deadline wheel) and to report with
 * {@link remove} and {@link countTimeout}.
 *
 * A slot belongs to a request, not an attempt: a retry keeps it. It is given
 * back exactly once, by {@link release}; a released slot goes straight to
 * the first waiter (`slotGranted`), so `inflight` never overshoots.
 */
export class ConcurrencyLimiter {
  readonly maxConcurrent: number;
  readonly maxQueued: number;
  readonly queueTimeoutMs: number;
  /** Refusal for a full queue (built once per upstream). */
  readonly errFull: GatewayError;
  /** Refusal for a wait past queueTimeout (built once per upstream). */
  readonly errTimeout: GatewayError;
  inflight = 0;
  queued = 0;
  rejectedFull = 0;
  rejectedTimeout = 0;
  private head: LimiterWaiter | null = null;
  private tail: LimiterWaiter | null = null;

  /**
   * @param upstream the upstream's name (problem details)
   * @param config the instance-wide limits
   * @param workers workers sharing them (each gets ceil(value / workers))
   */
  constructor(upstream: string, config: UpstreamLimitsConfig, workers = 1) {
    const n = Math.max(1, workers | 0);
    this.maxConcurrent = Math.max(1, Math.ceil(config.maxConcurrent / n));
    this.maxQueued = Math.ceil(config.maxQueued / n);
    this.queueTimeoutMs = config.queueTimeoutMs;
    this.errFull = new GatewayError(ErrorCodes.UPSTREAM_OVERLOADED,
      'Upstream "' + upstream + '" has ' + this.maxConcurrent + ' requests in flight and ' + this.maxQueued + ' waiting (per worker)');
    this.errTimeout = new GatewayError(ErrorCodes.UPSTREAM_OVERLOADED,
      'Upstream "' + upstream + '" had no free slot within the queue timeout of ' + this.queueTimeoutMs + ' ms');
  }

  /**
   * A request wants a slot: {@link GRANTED} (it holds one now), {@link WAITING}
   * (queued; `slotGranted` follows, unless it is removed first) or
   * {@link FULL} (refused, counted).
   */
  acquire(w: LimiterWaiter): Acquired {
    if (this.inflight < this.maxConcurrent) {
      this.inflight++;
      w.limitState = HOLDING;
      return GRANTED;
    }
    if (this.queued >= this.maxQueued) {
      this.rejectedFull++;
      return FULL;
    }
    w.limitState = QUEUED;
    w.qNext = null;
    w.qPrev = this.tail;
    if (this.tail !== null) this.tail.qNext = w;
    else this.head = w;
    this.tail = w;
    this.queued++;
    return WAITING;
  }

  /**
   * Gives `w`'s slot back, or takes it out of the queue; no-op when it has
   * neither. A freed slot passes to the first waiter.
   */
  release(w: LimiterWaiter): void {
    if (w.limitState === QUEUED) { this.remove(w); return; }
    if (w.limitState !== HOLDING) return;
    w.limitState = NO_SLOT;
    const next = this.head;
    if (next === null) {
      this.inflight--;
      return;
    }
    this.unlink(next);
    next.limitState = HOLDING;
    next.slotGranted();
  }

  /** Takes a waiting `w` out of the queue (timed out, or went away). */
  remove(w: LimiterWaiter): void {
    if (w.limitState !== QUEUED) return;
    this.unlink(w);
    w.limitState = NO_SLOT;
  }

  /** Counts a waiter refused for waiting past queueTimeout (after {@link remove}). */
  countTimeout(): void {
    this.rejectedTimeout++;
  }

  /** The state for the admin API. */
  snapshot(): LimiterSnapshot {
    return {
      maxConcurrent: this.maxConcurrent, maxQueued: this.maxQueued, queueTimeoutMs: this.queueTimeoutMs,
      inflight: this.inflight, queued: this.queued,
      rejectedQueueFull: this.rejectedFull, rejectedQueueTimeout: this.rejectedTimeout,
    };
  }

  private unlink(w: LimiterWaiter): void {
    const prev = w.qPrev;
    const next = w.qNext;
    if (prev === null) this.head = next;
    else prev.qNext = next;
    if (next === null) this.tail = prev;
    else next.qPrev = prev;
    w.qNext = null;
    w.qPrev = null;
    this.queued--;
  }
}
