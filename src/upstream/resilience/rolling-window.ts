/**
 * Attempt and failure counts over a sliding time window, kept as a ring of
 * fixed-width buckets (the window in {@link ROLLING_BUCKETS} slices): adding
 * an outcome is O(1) and allocates nothing; the window slides a bucket at a
 * time, so it covers between `windowMs - bucketMs` and `windowMs` of history.
 *
 * why: a ring of counters instead of a list of timestamps keeps memory fixed
 * (three small typed arrays) however many requests the upstream serves.
 */

/** Buckets per window. */
export const ROLLING_BUCKETS = 10;

/** The ring; see the module comment. */
export class RollingWindow {
  /** Width of one bucket in ms. */
  readonly bucketMs: number;
  /** Bucket number (`floor(t / bucketMs)`) each slot counts for; -1 = empty. */
  private readonly ids = new Float64Array(ROLLING_BUCKETS).fill(-1);
  private readonly attempts = new Uint32Array(ROLLING_BUCKETS);
  private readonly fails = new Uint32Array(ROLLING_BUCKETS);
  /** Newest bucket number seen. */
  private head = -1;
  /** Attempts in the window. */
  total = 0;
  /** Failed attempts in the window. */
  failures = 0;

  /** @param windowMs the window (> 0) */
  constructor(windowMs: number) {
    this.bucketMs = Math.max(1, Math.ceil(windowMs / ROLLING_BUCKETS));
  }

  /** Records one attempt at time `now` (ms). */
  add(now: number, failed: boolean): void {
    const slot = this.advance(now);
    this.attempts[slot]++;
    this.total++;
    if (failed) {
      this.fails[slot]++;
      this.failures++;
    }
  }

  /**
   * Drops the buckets that slid out of the window at `now` and returns the
   * slot of the current bucket. A clock that went back counts into the
   * newest bucket.
   */
  advance(now: number): number {
    const id = Math.floor(now / this.bucketMs);
    if (id <= this.head) return this.head % ROLLING_BUCKETS;
    // At most ROLLING_BUCKETS slots to clear, however long the gap: O(1).
    const from = Math.max(this.head + 1, id - ROLLING_BUCKETS + 1);
    for (let b = from; b <= id; b++) {
      const s = b % ROLLING_BUCKETS;
      if (this.ids[s] >= 0) {
        this.total -= this.attempts[s];
        this.failures -= this.fails[s];
        this.attempts[s] = 0;
        this.fails[s] = 0;
      }
      this.ids[s] = b;
    }
    this.head = id;
    return id % ROLLING_BUCKETS;
  }

  /** Forgets every count (the breaker closes with a fresh window). */
  reset(): void {
    this.ids.fill(-1);
    this.attempts.fill(0);
    this.fails.fill(0);
    this.total = 0;
    this.failures = 0;
    this.head = -1;
  }
}
