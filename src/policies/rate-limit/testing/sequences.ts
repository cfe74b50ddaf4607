/**
 * Test helper: seeded random operation sequences per algorithm (specs with
 * awkward rates, takes, give-backs, peeks, clock jumps across window and
 * calendar boundaries), and spec builders.
 */
import { mulberry32 } from '../../../lib/mulberry32.js';
import type { LimitSpec, RateLimitAlgorithm } from '../store.js';

/** One operation: take `n` (negative = give back) at `now`. */
export interface Op {
  readonly n: number;
  readonly now: number;
}

/** A spec and the operations to run on one key. */
export interface Sequence {
  readonly spec: LimitSpec;
  readonly ops: readonly Op[];
}

/** A token-bucket spec. */
export function tokenBucket(name: string, limit: number, windowMs: number, burst: number): LimitSpec {
  return { name, algorithm: 'token-bucket', limit, windowMs, burst, period: null };
}

/** A sliding-window spec. */
export function slidingWindow(name: string, limit: number, windowMs: number): LimitSpec {
  return { name, algorithm: 'sliding-window', limit, windowMs, burst: limit, period: null };
}

/** A quota spec. */
export function quota(name: string, limit: number, period: 'day' | 'month'): LimitSpec {
  return { name, algorithm: 'quota', limit, windowMs: period === 'day' ? 86_400_000 : 2_592_000_000, burst: limit, period };
}

/** A random unique limit name, so tests on a shared Redis never meet each other's keys. */
export function uniqueName(prefix = 'test'): string {
  return `${prefix}-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
}

const WINDOWS = [7, 100, 333, 1000, 1001, 60_000];
/** 2026-11-30T23:58:00Z: a day and a month boundary two minutes later. */
const NEAR_MONTH_END = Date.UTC(2026, 10, 30, 23, 58, 0);

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

function int(rnd: () => number, lo: number, hi: number): number {
  return lo + Math.floor(rnd() * (hi - lo + 1));
}

/** `count` seeded sequences for `algorithm`, each of 8–24 operations with a nondecreasing clock. */
export function randomSequences(algorithm: RateLimitAlgorithm, count: number, seed: number, name: string): Sequence[] {
  const rnd = mulberry32(seed);
  const out: Sequence[] = [];
  for (let s = 0; s < count; s++) {
    const limit = rnd() < 0.15 ? int(rnd, 100, 5000) : int(rnd, 1, 20);
    const windowMs = pick(rnd, WINDOWS);
    const specName = `${name}-${s}`;
    const spec = algorithm === 'token-bucket'
      ? tokenBucket(specName, limit, windowMs, rnd() < 0.3 ? 1 : int(rnd, 1, limit * 2))
      : algorithm === 'sliding-window'
        ? slidingWindow(specName, limit, windowMs)
        : quota(specName, limit, rnd() < 0.5 ? 'day' : 'month');
    const step = algorithm === 'quota' ? 15_000 : Math.max(1, Math.round((windowMs / limit) * 2));
    let now = algorithm === 'quota' ? NEAR_MONTH_END + int(rnd, 0, 60_000) : int(rnd, 1.7e12, 1.8e12);
    const ops: Op[] = [];
    const len = int(rnd, 8, 24);
    const big = Math.max(2, Math.min(limit + 3, 50));
    for (let i = 0; i < len; i++) {
      const r = rnd();
      now += r < 0.3 ? 0 : r < 0.8 ? int(rnd, 1, step) : r < 0.95 ? int(rnd, step, windowMs * 2) : windowMs * 3;
      const k = rnd();
      const n = k < 0.55 ? 1 : k < 0.8 ? int(rnd, 2, big) : k < 0.95 ? -int(rnd, 1, big) : 0;
      ops.push({ n, now });
    }
    out.push({ spec, ops });
  }
  return out;
}
