import type { DeadlineEntry } from '../deadline-wheel.js';
import { upstreamDeadlines } from '../deadline-wheel.js';
import type { UpstreamCall } from '../upstream-call.js';
import type { RetryBudget } from './retry-budget.js';
import type { RetryPolicy } from './retry-policy.js';

/** Who acts when a retry timer fires (the dispatcher). */
export interface RetryOwner {
  /**
   * A timer of `call` fired: the end of a backoff wait (`backoff`: send the
   * next try) or the current try's perTryTimeout.
   */
  retryTimer(call: UpstreamCall, backoff: boolean): void;
}

/**
 * The retry side of one call: how many retries ran, the budget slot the
 * current retry holds, and one timer on the worker's deadline wheel (no
 * allocation, O(1)) that is either the running try's perTryTimeout or the
 * backoff wait before the next try (never both: no try runs during a wait).
 *
 * Made per request only on routes with `retry` (and, on other routes, when
 * the connect-failure retry actually happens).
 */
export class RetryState implements DeadlineEntry {
  readonly policy: RetryPolicy;
  readonly call: UpstreamCall;
  private readonly owner: RetryOwner;
  /** Retries started so far. */
  retries = 0;
  /** What the next try reports when no target is left for it (the last try's error, or a stand-in for a dropped response). */
  lastError: unknown = null;
  /** Whether the scheduled timer is a backoff wait (else the try's perTryTimeout). */
  private waiting = false;
  /** The budget whose slot the current retry holds (null: none held). */
  private held: RetryBudget | null = null;
  dlNext: DeadlineEntry | null = null;
  dlPrev: DeadlineEntry | null = null;
  dlTick = -1;

  constructor(policy: RetryPolicy, call: UpstreamCall, owner: RetryOwner) {
    this.policy = policy;
    this.call = call;
    this.owner = owner;
  }

  /** Records the budget slot the retry just granted holds (released by {@link tryEnded} or {@link end}). */
  hold(budget: RetryBudget): void {
    if (this.held !== null) this.held.release();
    this.held = budget;
  }

  /** Arms the try's perTryTimeout at `atMs`, unless the request deadline (`deadlineMs`) comes first. */
  armPerTry(atMs: number, deadlineMs: number): void {
    this.waiting = false;
    if (atMs < deadlineMs) upstreamDeadlines.schedule(this, atMs);
    else upstreamDeadlines.cancel(this);
  }

  /** Waits until `atMs` before the next try. */
  waitUntil(atMs: number): void {
    this.waiting = true;
    upstreamDeadlines.schedule(this, atMs);
  }

  /**
   * The running try ended (response headers or failure): its perTryTimeout
   * is off and a retry's budget slot is given back.
   */
  tryEnded(): void {
    if (!this.waiting) upstreamDeadlines.cancel(this);
    if (this.held !== null) { this.held.release(); this.held = null; }
  }

  /** The call is over (answered, or the client went away): no timer, no slot. Idempotent. */
  end(): void {
    upstreamDeadlines.cancel(this);
    this.waiting = false;
    if (this.held !== null) { this.held.release(); this.held = null; }
  }

  /** DeadlineEntry: the perTryTimeout passed, or the backoff wait is over. */
  onDeadline(): void {
    const backoff = this.waiting;
    this.waiting = false;
    this.owner.retryTimer(this.call, backoff);
  }
}
