/**
 * The rate-limit arithmetic: pure functions `(spec, state, n, now) → {result,
 * state}`. This file is the one source of truth; the local store calls it and
 * token-bucket.lua / sliding-window.lua / quota.lua mirror it line for line
 * (redis-store.test.ts runs both on the same seeded operation sequences and
 * asserts identical results).
 *
 * Exactness: every quantity is an integer below 2^53 (doubles are exact there,
 * in JS and in Redis's Lua alike), so no float rounding can differ between the
 * two. Preconditions, as the policy's schema guarantees: `limit`, `windowMs`,
 * `burst` are positive integers; `n` and `now` are integers (the stores
 * truncate them); `max(1, burst) · windowMs` and `limit · windowMs` < 2^53.
 *
 * Token bucket (GCRA). T = windowMs / limit ms per token, capacity C = max(1,
 * burst), tolerance τ = C·T. To keep T exact when limit does not divide
 * windowMs, time differences are counted in ticks of 1/limit ms: T = windowMs
 * ticks, τ = C·windowMs ticks. The state is the theoretical arrival time, kept
 * as an integer ms part plus a sub-ms remainder in ticks (`tatMs + tatTicks /
 * tickDen`; `tickDen` = the limit it was written with). With lag = max(tat, now)
 * − now (ticks, ≥ 0):
 *   available = clamp(floor((τ − lag) / T), 0, C)
 *   take n > 0: g = min(n, available); lag' = lag + g·T
 *   give back n < 0: lag' = max(0, lag − |n|·T)   (never beyond a full bucket)
 *   remaining = clamp(floor((τ − lag') / T), 0, C); resetMs = ceil(lag' / limit)
 *   retryAfterMs (g < n) = max(0, ceil((lag' − τ + T) / limit)): the least
 *     integer wait after which one token is available (at retryAfterMs − 1 it is not).
 *   A full bucket (lag' = 0) is stored as no state; else the key lives resetMs + 1000 ms.
 *
 * Sliding window (two-window weighted counter). W = windowMs; cur = floor(now /
 * W); e = now − cur·W; prev/curr = counts of windows cur−1/cur. With everything
 * multiplied by W to stay integral:
 *   available = max(0, floor((limit·W − prev·(W − e) − curr·W) / W))
 *     (= floor(limit − (prev·(W − e)/W + curr)))
 *   take: g = min(n, available); curr += g. Give back: curr = max(0, curr − |n|).
 *   resetMs = W − e (the current window's end).
 *   retryAfterMs (g < n): the least e' ≥ e in this window with prev·(W − e') ≤
 *     (limit − 1 − curr)·W, i.e. e' = W − floor((limit − 1 − curr)·W / prev);
 *     failing that, the next window (where prev becomes curr, curr = 0):
 *     (W − e) + max(0, W − floor((limit − 1)·W / curr)) (W when limit = 1: the
 *     window after next, where both counts are gone).
 *   A window's count matters for 2W (it is `prev` during the next window); the
 *   Redis key lives 2W + 1 s (slack for requests that reach Redis late).
 *
 * Quota (calendar counter, UTC). Period 'day' starts 00:00Z, 'month' the 1st
 * 00:00Z; the period id (`2026-11-22` / `2026-11`) is part of the key.
 *   available = max(0, limit − count); take: g = min(n, available); count += g;
 *   give back: count = max(0, count − |n|); resetMs = period end − now;
 *   retryAfterMs = resetMs when g < n. The key lives until period end + 1 h.
 */
import type { LimitSpec, TakeResult } from './store.js';

/** Token-bucket state: the theoretical arrival time `tatMs + tatTicks / tickDen` (epoch ms). */
export interface TokenBucketState {
  readonly tatMs: number;
  readonly tatTicks: number;
  /** The `limit` the remainder was counted with (ticks per ms). */
  readonly tickDen: number;
}

/** Sliding-window state: counts of window `window` and of the one before it. */
export interface SlidingWindowState {
  readonly window: number;
  readonly prev: number;
  readonly curr: number;
}

/** Quota state: the count of one calendar period. */
export interface QuotaState {
  readonly period: string;
  readonly count: number;
}

/** One step's outcome: the result, the new state (null = nothing to keep) and when that state may be dropped. */
export interface Step<S> {
  readonly result: TakeResult;
  readonly state: S | null;
  /** Epoch ms after which `state` is irrelevant (equal to no state). */
  readonly expiresAt: number;
}

/** A UTC calendar period. */
export interface QuotaPeriod {
  /** `YYYY-MM-DD` or `YYYY-MM`. */
  readonly id: string;
  readonly startMs: number;
  readonly endMs: number;
}

/** Extra life of a token-bucket key past its reset, ms. */
export const TOKEN_BUCKET_TTL_SLACK_MS = 1000;
/** Extra life of a quota key past its period's end, ms. */
export const QUOTA_TTL_SLACK_MS = 3_600_000;
const DAY_MS = 86_400_000;

function result(granted: number, remaining: number, resetMs: number, retryAfterMs: number): TakeResult {
  return { granted, remaining, resetMs, retryAfterMs };
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Token bucket (GCRA) step; `state` null = a full bucket. See the file's TSDoc for the formulas. */
export function tokenBucketTake(spec: LimitSpec, state: TokenBucketState | null, n: number, now: number): Step<TokenBucketState> {
  const limit = spec.limit;
  const T = spec.windowMs;
  const C = Math.max(1, spec.burst);
  const tau = C * T;
  let lag = 0;
  if (state !== null) {
    let tatMs = state.tatMs;
    let tatTicks = state.tatTicks;
    if (state.tickDen !== limit) {
      // The limit changed: round the remainder up to a whole ms (stricter by < 1 ms).
      if (tatTicks > 0) tatMs += 1;
      tatTicks = 0;
    }
    if (tatMs >= now) lag = (tatMs - now) * limit + tatTicks;
  }
  const available = clamp(Math.floor((tau - lag) / T), 0, C);
  let granted = 0;
  let retryAfterMs = 0;
  if (n > 0) {
    granted = Math.min(n, available);
    lag += granted * T;
    if (granted < n) retryAfterMs = Math.max(0, Math.ceil((lag - tau + T) / limit));
  } else if (n < 0) {
    lag = Math.max(0, lag + n * T);
  }
  const remaining = clamp(Math.floor((tau - lag) / T), 0, C);
  const resetMs = Math.ceil(lag / limit);
  const res = result(granted, remaining, resetMs, retryAfterMs);
  if (lag === 0) return { result: res, state: null, expiresAt: now };
  const next = { tatMs: now + Math.floor(lag / limit), tatTicks: lag % limit, tickDen: limit };
  return { result: res, state: next, expiresAt: now + resetMs + TOKEN_BUCKET_TTL_SLACK_MS };
}

/** The earliest wait (ms) until a sliding window has ≥ 1 token, given counts after a take; see the file's TSDoc. */
export function slidingWindowRetryAfter(limit: number, W: number, elapsed: number, prev: number, curr: number): number {
  const room = (limit - 1 - curr) * W;
  if (room >= 0 && prev > 0) {
    const e = Math.max(elapsed, W - Math.floor(room / prev));
    if (e < W) return e - elapsed;
  }
  const next = curr > 0 ? Math.max(0, W - Math.floor(((limit - 1) * W) / curr)) : 0;
  return W - elapsed + next;
}

/** Sliding-window step; see the file's TSDoc for the formulas. */
export function slidingWindowTake(spec: LimitSpec, state: SlidingWindowState | null, n: number, now: number): Step<SlidingWindowState> {
  const limit = spec.limit;
  const W = spec.windowMs;
  const cur = Math.floor(now / W);
  const elapsed = now - cur * W;
  let prev = 0;
  let curr = 0;
  if (state !== null && state.window === cur) {
    prev = state.prev;
    curr = state.curr;
  } else if (state !== null && state.window === cur - 1) {
    prev = state.curr;
  }
  const available = Math.max(0, Math.floor((limit * W - prev * (W - elapsed) - curr * W) / W));
  let granted = 0;
  let remaining = available;
  let retryAfterMs = 0;
  if (n > 0) {
    granted = Math.min(n, available);
    curr += granted;
    remaining = available - granted;
    if (granted < n) retryAfterMs = slidingWindowRetryAfter(limit, W, elapsed, prev, curr);
  } else if (n < 0) {
    curr = Math.max(0, curr + n);
    remaining = Math.max(0, Math.floor((limit * W - prev * (W - elapsed) - curr * W) / W));
  }
  const res = result(granted, remaining, W - elapsed, retryAfterMs);
  if (prev === 0 && curr === 0) return { result: res, state: null, expiresAt: now };
  return { result: res, state: { window: cur, prev, curr }, expiresAt: (cur + 2) * W };
}

function pad2(x: number): string {
  return x < 10 ? `0${x}` : `${x}`;
}

/** The UTC calendar period (day or month) containing `now`. */
export function quotaPeriod(period: 'day' | 'month', now: number): QuotaPeriod {
  if (period === 'day') {
    const startMs = Math.floor(now / DAY_MS) * DAY_MS;
    const d = new Date(startMs);
    const id = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
    return { id, startMs, endMs: startMs + DAY_MS };
  }
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  return { id: `${y}-${pad2(m + 1)}`, startMs: Date.UTC(y, m, 1), endMs: Date.UTC(y, m + 1, 1) };
}

/** Quota step within `p` (the period containing `now`, from quotaPeriod); see the file's TSDoc. */
export function quotaTake(spec: LimitSpec, p: QuotaPeriod, state: QuotaState | null, n: number, now: number): Step<QuotaState> {
  let count = state !== null && state.period === p.id ? state.count : 0;
  const available = Math.max(0, spec.limit - count);
  const resetMs = Math.max(0, p.endMs - now);
  let granted = 0;
  let retryAfterMs = 0;
  if (n > 0) {
    granted = Math.min(n, available);
    count += granted;
    if (granted < n) retryAfterMs = resetMs;
  } else if (n < 0) {
    count = Math.max(0, count + n);
  }
  const res = result(granted, Math.max(0, spec.limit - count), resetMs, retryAfterMs);
  if (count === 0) return { result: res, state: null, expiresAt: now };
  return { result: res, state: { period: p.id, count }, expiresAt: p.endMs + QUOTA_TTL_SLACK_MS };
}

/** The quota period kind of a spec (`day` when the spec leaves it null). */
export function quotaKind(spec: LimitSpec): 'day' | 'month' {
  return spec.period ?? 'day';
}

/** Remembers the last day and month period, so most calls skip the calendar math. */
export class QuotaPeriodCache {
  private day: QuotaPeriod | null = null;
  private month: QuotaPeriod | null = null;

  /** The period of kind `kind` containing `now`. */
  get(kind: 'day' | 'month', now: number): QuotaPeriod {
    const hit = kind === 'day' ? this.day : this.month;
    // why: Date objects per request would cost more than the whole take.
    if (hit !== null && now >= hit.startMs && now < hit.endMs) return hit;
    const p = quotaPeriod(kind, now);
    if (kind === 'day') this.day = p;
    else this.month = p;
    return p;
  }
}
