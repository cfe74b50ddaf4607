/**
 * One limit's decisions in one worker. With a shared (Redis) store, each
 * worker leases a share of a key's budget and decides locally until the
 * lease is used up or expires; unused tokens go back to the store. Without
 * Redis, or while it is failing, the limit's `onRedisFailure` applies.
 *
 * Accuracy: a token is taken from the store before a request is allowed, so
 * the limit is never exceeded while Redis answers. The error is the other
 * way: tokens sitting unused in other workers' leases, at most
 * `holders × maxLease` (holders = workers × instances), with maxLease =
 * max(1, floor(budget × 5% / holders)): at most 5% of the budget (or one
 * token per holder for small limits) is held back, and only until those
 * leases expire (≤ leaseTtlMs) or shrink as the budget runs out (a lease is
 * never more than remaining / (2 × holders)).
 *
 * Cost: a key with steady traffic touches the store about once per lease
 * (maxLease requests) plus one give-back per expired lease; a key that is over
 * its limit is denied locally until its retry time (no store call per denied
 * request).
 */
import type { LimitSpec, RateLimitStore, TakeResult } from './store.js';

/** Share of a key's budget that all leases together may hold. */
export const LEASE_FRACTION = 0.05;

/** What one acquire decided. The sync path returns a shared object: read it at once. */
export interface Verdict {
  allowed: boolean;
  /** Tokens left for the key as this worker sees it. */
  remaining: number;
  /** ms until the budget is fully restored. */
  resetMs: number;
  /** When denied: ms until a request may pass. */
  retryAfterMs: number;
  /** Who decided: the shared store, the local fallback/limiter, or the failure policy. */
  mode: 'store' | 'local' | 'allow' | 'deny';
}

/** Redis reachability shared by every limit of a worker: trips on an error, retries after a pause. */
export class StoreCircuit {
  private trippedUntil = 0;
  /** Store errors seen (for metrics). */
  failures = 0;

  constructor(private readonly isConnected: () => boolean, private readonly pauseMs = 1000) {}

  /** Whether to try the store now. */
  usable(now: number): boolean {
    return now >= this.trippedUntil && this.isConnected();
  }

  /** A store call failed: use the fallback for a while. */
  trip(now: number): void {
    this.failures++;
    this.trippedUntil = now + this.pauseMs;
  }

  /** The connection came back: try the store at once. */
  reset(): void {
    this.trippedUntil = 0;
  }
}

/** How a limiter is set up. */
export interface LeasedLimiterOptions {
  spec: LimitSpec;
  /** The shared store, or null for in-process limits only. */
  store: RateLimitStore | null;
  /** The per-worker store (in-process mode and the `local` fallback); synchronous. */
  local: { take(spec: LimitSpec, key: string, n: number, nowMs: number): TakeResult };
  /** `spec` scaled to this worker's share (limit and burst ÷ holders, at least 1). */
  localSpec: LimitSpec;
  /** Processes sharing the store: workers × instances. */
  holders: number;
  onStoreFailure: 'local' | 'allow' | 'deny';
  circuit: StoreCircuit;
  now: () => number;
  /** Lease lifetime, ms (default min(1 s, max(50 ms, window / 20))). */
  leaseTtlMs?: number;
  /** Store errors are reported here (logging lives in observability/). */
  onStoreError?: (err: unknown) => void;
}

class Lease {
  tokens = 0;
  /** The sliding window / quota period the tokens were taken in (give-backs only go to the same one). */
  window = 0;
  expiresAt = 0;
  remaining = -1;
  resetAt = 0;
  deniedUntil = 0;
  size = 1;
  pending: Promise<void> | null = null;
  lastUse = 0;
}

/** A limit's per-worker decisions (see the file comment). */
export class LeasedLimiter {
  /** Give-backs sent to the store. */
  giveBacks = 0;
  private readonly leases = new Map<string, Lease>();
  private readonly verdict: Verdict = { allowed: true, remaining: 0, resetMs: 0, retryAfterMs: 0, mode: 'store' };
  private readonly maxLease: number;
  private readonly leaseTtlMs: number;
  private readonly timer: NodeJS.Timeout | null;

  constructor(private readonly o: LeasedLimiterOptions) {
    const spec = o.spec;
    const budget = spec.algorithm === 'token-bucket' ? Math.min(spec.limit, Math.max(1, spec.burst)) : spec.limit;
    this.maxLease = Math.max(1, Math.floor((budget * LEASE_FRACTION) / o.holders));
    this.leaseTtlMs = o.leaseTtlMs ?? Math.min(1000, Math.max(50, Math.floor(spec.windowMs / 20)));
    this.timer = o.store !== null ? setInterval(() => this.sweep(o.now()), this.leaseTtlMs) : null;
    this.timer?.unref();
  }

  /** Largest lease one worker takes. */
  get leaseCap(): number {
    return this.maxLease;
  }

  /** Decides one request for `key`. */
  acquire(key: string): Verdict | Promise<Verdict> {
    const o = this.o;
    const now = o.now();
    if (o.store === null) return this.fromLocal(key, now, 'local');
    if (!o.circuit.usable(now)) return this.onFailure(key, now);
    let l = this.leases.get(key);
    if (l === undefined) {
      l = new Lease();
      this.leases.set(key, l);
    }
    l.lastUse = now;
    const v = this.fromLease(l, now);
    if (v !== null) return v;
    return this.refillThenDecide(key, l, now);
  }

  /** Stops the sweep timer and gives back every unused lease. */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    const now = this.o.now();
    const backs: Promise<unknown>[] = [];
    for (const [key, l] of this.leases) if (l.tokens > 0) backs.push(this.giveBack(key, l, now));
    await Promise.all(backs);
  }

  /** A decision from the current lease, or null when the store must be asked. */
  private fromLease(l: Lease, now: number): Verdict | null {
    if (l.tokens > 0) {
      if (now < l.expiresAt) {
        l.tokens--;
        if (l.tokens === 0) l.size = Math.min(this.maxLease, l.size * 2);
        return this.set(true, l.remaining + l.tokens, l.resetAt - now, 0, 'store');
      }
      return null; // expired: refillThenDecide gives the rest back first
    }
    if (now < l.deniedUntil) return this.set(false, 0, l.resetAt - now, l.deniedUntil - now, 'store');
    return null;
  }

  private async refillThenDecide(key: string, l: Lease, now: number): Promise<Verdict> {
    if (l.pending === null) l.pending = this.refill(key, l, now).finally(() => { l.pending = null; });
    try {
      await l.pending;
    } catch (err) {
      return { ...(await this.failed(key, err)) };
    }
    const later = this.o.now();
    const v = this.fromLease(l, later);
    if (v !== null) return { ...v };
    // Others drained the new lease first: ask again (each round grants ≥ 1 or sets a denial).
    return this.refillThenDecide(key, l, later);
  }

  private async refill(key: string, l: Lease, now: number): Promise<void> {
    const o = this.o;
    if (l.tokens > 0) {
      l.size = Math.max(1, l.size >> 1);
      await this.giveBack(key, l, now);
    }
    let n = l.size;
    if (l.remaining >= 0) n = Math.min(n, Math.max(1, Math.floor(l.remaining / (2 * o.holders))));
    const r = await o.store!.take(o.spec, key, n, now);
    const at = o.now();
    l.window = windowOf(o.spec, now);
    l.tokens += r.granted;
    l.expiresAt = at + this.leaseTtlMs;
    l.remaining = r.remaining;
    l.resetAt = at + r.resetMs;
    l.deniedUntil = r.granted === 0 ? at + Math.max(1, r.retryAfterMs) : 0;
  }

  private giveBack(key: string, l: Lease, now: number): Promise<unknown> {
    const n = l.tokens;
    l.tokens = 0;
    // A sliding window or quota period that has rolled over since the take
    // would be credited with tokens it never gave: drop them instead (errs
    // towards admitting fewer).
    if (windowOf(this.o.spec, now) !== l.window) return Promise.resolve();
    this.giveBacks++;
    return Promise.resolve(this.o.store!.take(this.o.spec, key, -n, now)).catch((err: unknown) => this.o.onStoreError?.(err));
  }

  private async failed(key: string, err: unknown): Promise<Verdict> {
    const now = this.o.now();
    this.o.circuit.trip(now);
    this.o.onStoreError?.(err);
    return this.onFailure(key, now);
  }

  private onFailure(key: string, now: number): Verdict {
    const mode = this.o.onStoreFailure;
    if (mode === 'local') return this.fromLocal(key, now, 'local');
    return this.set(mode === 'allow', 0, 0, mode === 'allow' ? 0 : 1000, mode);
  }

  private fromLocal(key: string, now: number, mode: Verdict['mode']): Verdict {
    const r = this.o.local.take(this.o.localSpec, key, 1, now);
    return this.set(r.granted > 0, r.remaining, r.resetMs, r.retryAfterMs, mode);
  }

  private set(allowed: boolean, remaining: number, resetMs: number, retryAfterMs: number, mode: Verdict['mode']): Verdict {
    const v = this.verdict;
    v.allowed = allowed;
    v.remaining = remaining < 0 ? 0 : remaining;
    v.resetMs = resetMs < 0 ? 0 : resetMs;
    v.retryAfterMs = retryAfterMs < 0 ? 0 : retryAfterMs;
    v.mode = mode;
    return v;
  }

  /** Gives back expired leases and forgets idle keys (bounded memory). */
  private sweep(now: number): void {
    for (const [key, l] of this.leases) {
      if (l.pending !== null) continue;
      if (l.tokens > 0 && now >= l.expiresAt) {
        l.size = Math.max(1, l.size >> 1);
        void this.giveBack(key, l, now);
      }
      if (l.tokens === 0 && now - l.lastUse > 10 * this.leaseTtlMs && now >= l.deniedUntil) this.leases.delete(key);
    }
  }
}

/** Which sliding window or quota period `now` falls in (0 for token buckets, which have none). */
export function windowOf(spec: LimitSpec, now: number): number {
  if (spec.algorithm === 'sliding-window') return Math.floor(now / spec.windowMs);
  if (spec.algorithm !== 'quota') return 0;
  if (spec.period === 'day') return Math.floor(now / 86_400_000);
  const d = new Date(now);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
}
