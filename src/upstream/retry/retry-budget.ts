import type { RetryBudgetConfig } from '../../config/types.js';
import { RETRY_DEFAULTS } from '../../config/retry-config.js';

/**
 * An upstream's retry budget in one worker (Envoy's `retry_budget`): a
 * retry may start only while the retries in flight (from the decision,
 * through the backoff wait, until that try's response headers or failure)
 * stay below `max(minRetries, floor(ratio × active))`, where `active` is the
 * upstream's requests in flight in this worker. When the upstream is down
 * and every request fails, retries thereby add at most `ratio` (plus
 * `minRetries`) to its load instead of multiplying it by `attempts + 1`.
 */
export class RetryBudget {
  /** Fraction of active requests, 0..1. */
  readonly ratio: number;
  /** Retries in flight always allowed. */
  readonly minRetries: number;
  /** Retries in flight now (waiting in backoff included). */
  inFlight = 0;

  /** @param config the upstream's `retryBudget` (absent: 20%, minRetries 3). */
  constructor(config?: RetryBudgetConfig) {
    this.ratio = config?.ratio ?? RETRY_DEFAULTS.budgetRatio;
    this.minRetries = config?.minRetries ?? RETRY_DEFAULTS.budgetMinRetries;
  }

  /** Most retries in flight allowed with `active` requests in flight to the upstream. */
  limit(active: number): number {
    // why: + 1e-9 so that e.g. 29% of 100 is 29, not floor(28.999999999999996).
    return Math.max(this.minRetries, Math.floor(this.ratio * active + 1e-9));
  }

  /** Takes a slot for one retry; false (nothing taken) when the budget is exhausted. */
  tryAcquire(active: number): boolean {
    if (this.inFlight >= this.limit(active)) return false;
    this.inFlight++;
    return true;
  }

  /** Gives a slot back (the retry's try ended, or its request did). */
  release(): void {
    if (this.inFlight > 0) this.inFlight--;
  }
}
