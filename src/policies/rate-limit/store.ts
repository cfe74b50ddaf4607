/**
 * The rate-limit backends' one-method interface, and the limit spec they
 * share. A backend atomically takes (n > 0) or gives back (n < 0) tokens of
 * one key; the Redis store does it in a Lua script, the local store in
 * memory, with the same arithmetic (see algorithms.ts).
 */

/** token-bucket = GCRA with burst; sliding-window = two-window weighted counter; quota = calendar day/month counter (UTC). */
export type RateLimitAlgorithm = 'token-bucket' | 'sliding-window' | 'quota';

/** A compiled limit, as the stores see it. */
export interface LimitSpec {
  /** The limit's config name; part of every key. */
  readonly name: string;
  readonly algorithm: RateLimitAlgorithm;
  /** Requests per window (token-bucket: the refill rate is limit / windowMs). */
  readonly limit: number;
  /** Window length, ms (token-bucket, sliding-window). For quota: the period's nominal length (86 400 000 or 2 592 000 000). */
  readonly windowMs: number;
  /** token-bucket: requests that may pass at once from a full bucket (≥ 1). Others: unused. */
  readonly burst: number;
  /** quota: the calendar period, in UTC. */
  readonly period: 'day' | 'month' | null;
}

/** The outcome of one take. */
export interface TakeResult {
  /** Tokens granted, 0..n (0 when n ≤ 0). */
  granted: number;
  /** Tokens still available right after this call (≥ 0). */
  remaining: number;
  /** ms until the key's budget is fully restored (token bucket full, window/period over). */
  resetMs: number;
  /** When granted < n: ms until at least one token is available again; else 0. */
  retryAfterMs: number;
}

/** A rate-limit backend. */
export interface RateLimitStore {
  /**
   * Atomically takes up to `n` tokens of `key` under `spec` at time `nowMs`
   * (epoch ms, from the gateway's clock so tests can inject one); a negative
   * `n` gives `-n` unused tokens back (never beyond a full budget).
   */
  take(spec: LimitSpec, key: string, n: number, nowMs: number): TakeResult | Promise<TakeResult>;
}
