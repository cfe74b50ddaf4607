/** Restart pacing for crashed workers. */
export interface BackoffPolicy {
  /** First delay after a crash (default 100 ms). */
  initialMs: number;
  /** Upper bound of the doubling delay (default 10 s). */
  maxMs: number;
  /** A worker that stayed up this long resets its slot's delay (default 30 s). */
  resetAfterMs: number;
}

/** The defaults: 100 ms doubling to 10 s, reset after 30 s of uptime. */
export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 100, maxMs: 10_000, resetAfterMs: 30_000 };

/**
 * Per-slot exponential backoff. Each worker slot (position in a generation)
 * has one; a crash asks it for the delay before the replacement is forked.
 */
export class Backoff {
  private failures = 0;

  constructor(private readonly policy: BackoffPolicy = DEFAULT_BACKOFF) {}

  /**
   * Records a crash of a worker that had been up `uptimeMs` and returns how
   * long to wait before forking its replacement.
   */
  nextDelay(uptimeMs: number): number {
    if (uptimeMs >= this.policy.resetAfterMs) this.failures = 0;
    const delay = Math.min(this.policy.maxMs, this.policy.initialMs * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return delay;
  }

  /** Consecutive crashes counted since the last reset. */
  get consecutiveFailures(): number {
    return this.failures;
  }
}
