/**
 * The in-process rate-limit store: the same arithmetic as the Redis store
 * (algorithms.ts), state in a Map, synchronous take. Used alone (single
 * gateway) and as the fallback when Redis is down.
 *
 * Expiry: an entry past its `expiresAt` counts as absent when read (lazy), and
 * an unref'd timer sweeps expired entries every `sweepIntervalMs`.
 *
 * Memory bound: at most `maxKeys` entries (default 100 000). The Map is kept
 * in least-recently-written order, and inserting a new key into a full store
 * evicts the least recently written one (whose budget thus resets: the store
 * turns permissive for that key rather than growing). One entry costs about
 * 150 B plus the key string (limit name + key), so the default bound is
 * roughly 20–30 MB for 50-character keys.
 */
import {
  QuotaPeriodCache, quotaKind, quotaTake, slidingWindowTake, tokenBucketTake,
  type QuotaState, type SlidingWindowState, type Step, type TokenBucketState,
} from './algorithms.js';
import type { LimitSpec, RateLimitAlgorithm, RateLimitStore, TakeResult } from './store.js';

/** Options of LocalStore. */
export interface LocalStoreOptions {
  /** Most entries kept (default 100 000); see the file's TSDoc. */
  readonly maxKeys?: number;
  /** Period of the expired-entry sweep, ms (default 10 000; 0 = no timer). */
  readonly sweepIntervalMs?: number;
}

interface Entry {
  algorithm: RateLimitAlgorithm;
  state: TokenBucketState | SlidingWindowState | QuotaState;
  expiresAt: number;
}

/** An in-memory rate-limit store with bounded memory. */
export class LocalStore implements RateLimitStore {
  /** Entries evicted because the store was full. */
  evictions = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly maxKeys: number;
  private readonly periods = new QuotaPeriodCache();
  private readonly timer: NodeJS.Timeout | null;

  /** Creates an empty store and starts its sweep timer (unref'd). */
  constructor(opts: LocalStoreOptions = {}) {
    this.maxKeys = Math.max(1, opts.maxKeys ?? 100_000);
    const every = opts.sweepIntervalMs ?? 10_000;
    this.timer = every > 0 ? setInterval(() => this.sweep(Date.now()), every) : null;
    this.timer?.unref();
  }

  /** Entries currently held (expired ones included until swept or read). */
  get size(): number {
    return this.entries.size;
  }

  /** Deletes entries expired at `now`; returns how many. */
  sweep(now: number): number {
    let removed = 0;
    for (const [k, e] of this.entries) {
      if (e.expiresAt <= now) {
        this.entries.delete(k);
        removed++;
      }
    }
    return removed;
  }

  /** Stops the sweep timer. */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
  }

  /** Atomically (single-threaded) takes (n > 0) or gives back (n < 0) tokens of `key`. */
  take(spec: LimitSpec, key: string, n: number, nowMs: number): TakeResult {
    const count = Math.trunc(n);
    const now = Math.floor(nowMs);
    const k = `${spec.name}\u0000${key}`;
    const entry = this.entries.get(k);
    const state = entry !== undefined && entry.algorithm === spec.algorithm && entry.expiresAt > now ? entry.state : null;
    let step: Step<TokenBucketState | SlidingWindowState | QuotaState>;
    switch (spec.algorithm) {
      case 'token-bucket':
        step = tokenBucketTake(spec, state as TokenBucketState | null, count, now);
        break;
      case 'sliding-window':
        step = slidingWindowTake(spec, state as SlidingWindowState | null, count, now);
        break;
      case 'quota':
        step = quotaTake(spec, this.periods.get(quotaKind(spec), now), state as QuotaState | null, count, now);
        break;
      default:
        throw new TypeError(`unknown rate-limit algorithm ${String((spec as LimitSpec).algorithm)}`);
    }
    if (count !== 0) this.write(k, entry, spec.algorithm, step);
    return step.result;
  }

  private write(k: string, entry: Entry | undefined, algorithm: RateLimitAlgorithm, step: Step<Entry['state']>): void {
    if (step.state === null) {
      if (entry !== undefined) this.entries.delete(k);
      return;
    }
    if (entry !== undefined) {
      // why: delete + set moves the key to the Map's end, so iteration order is least-recently-written first.
      this.entries.delete(k);
      entry.algorithm = algorithm;
      entry.state = step.state;
      entry.expiresAt = step.expiresAt;
      this.entries.set(k, entry);
      return;
    }
    if (this.entries.size >= this.maxKeys) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) {
        this.entries.delete(oldest.value);
        this.evictions++;
      }
    }
    this.entries.set(k, { algorithm, state: step.state, expiresAt: step.expiresAt });
  }
}
