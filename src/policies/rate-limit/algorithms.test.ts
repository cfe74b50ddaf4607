import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quotaPeriod, quotaTake, slidingWindowTake, tokenBucketTake } from './algorithms.js';
import type { LimitSpec, TakeResult } from './store.js';
import { quota, randomSequences, slidingWindow, tokenBucket } from './testing/sequences.js';

/** Threads one key's state through the pure functions. */
function machine(spec: LimitSpec): (n: number, now: number) => TakeResult {
  let state: unknown = null;
  return function step(n: number, now: number): TakeResult {
    const s = spec.algorithm === 'token-bucket'
      ? tokenBucketTake(spec, state as never, n, now)
      : spec.algorithm === 'sliding-window'
        ? slidingWindowTake(spec, state as never, n, now)
        : quotaTake(spec, quotaPeriod(spec.period ?? 'day', now), state as never, n, now);
    if (n !== 0) state = s.state;
    return s.result;
  };
}

/** Result of a take of 1 at `now` on a copy of the state reached by `ops`. */
function probe(spec: LimitSpec, ops: ReadonlyArray<{ n: number; now: number }>, now: number): TakeResult {
  const m = machine(spec);
  for (const op of ops) m(op.n, op.now);
  return m(1, now);
}

test('token bucket: limit 10/s burst 5 grants 5 at once, then 1 per 100 ms', () => {
  const take = machine(tokenBucket('tb', 10, 1000, 5));
  const t0 = 1_800_000_000_000;
  assert.deepEqual(take(5, t0), { granted: 5, remaining: 0, resetMs: 500, retryAfterMs: 0 });
  assert.deepEqual(take(1, t0), { granted: 0, remaining: 0, resetMs: 500, retryAfterMs: 100 });
  assert.equal(take(1, t0 + 99).granted, 0);
  assert.deepEqual(take(1, t0 + 100), { granted: 1, remaining: 0, resetMs: 500, retryAfterMs: 0 });
  assert.equal(take(1, t0 + 150).granted, 0);
  assert.equal(take(3, t0 + 200).granted, 1);
  assert.deepEqual(take(0, t0 + 700), { granted: 0, remaining: 5, resetMs: 0, retryAfterMs: 0 }, 'full again after 500 ms idle');
});

test('token bucket: a rate that does not divide the window does not drift (3 per 1000 ms, burst 2, 10 s)', () => {
  const take = machine(tokenBucket('tb3', 3, 1000, 2));
  const t0 = 1_800_000_000_123;
  const grants: number[] = [];
  for (let t = 0; t < 10_000; t++) if (take(1, t0 + t).granted === 1) grants.push(t);
  // The burst's 2, then one at every ceil(k · 333.33 ms): no ms rounding accumulates.
  assert.deepEqual(grants.slice(0, 8), [0, 1, 334, 667, 1000, 1334, 1667, 2000]);
  assert.equal(grants.length, 31);
});

test('token bucket: give-back never exceeds a full bucket', () => {
  const take = machine(tokenBucket('tb', 10, 1000, 5));
  const t0 = 1_800_000_000_000;
  assert.equal(take(3, t0).remaining, 2);
  assert.deepEqual(take(-10, t0), { granted: 0, remaining: 5, resetMs: 0, retryAfterMs: 0 });
  assert.equal(take(10, t0).granted, 5);
  assert.equal(take(-2, t0).remaining, 2);
  assert.equal(take(3, t0).granted, 2);
});

test('sliding window: weighted roll-over into the next window', () => {
  const take = machine(slidingWindow('sw', 10, 1000));
  const w0 = 1_800_000_000_000; // a window start (divisible by 1000)
  assert.deepEqual(take(10, w0), { granted: 10, remaining: 0, resetMs: 1000, retryAfterMs: 0 });
  // Nothing left this window; next window starts with prev = 10 at weight 1 → 900 ms later 9.
  assert.deepEqual(take(1, w0 + 400), { granted: 0, remaining: 0, resetMs: 600, retryAfterMs: 700 });
  assert.equal(take(1, w0 + 1099).granted, 0);
  assert.deepEqual(take(1, w0 + 1100), { granted: 1, remaining: 0, resetMs: 900, retryAfterMs: 0 });
  assert.equal(take(10, w0 + 1500).granted, 4, '10·0.5 + 1 used');
  assert.equal(take(0, w0 + 2000).remaining, 5, 'prev = 5 at weight 1');
  assert.equal(take(0, w0 + 3000).remaining, 10, 'both windows gone');
});

test('sliding window: retry within the window as prev decays; give-back floors at 0', () => {
  const take = machine(slidingWindow('sw', 4, 1000));
  const w0 = 1_800_000_000_000;
  take(4, w0 + 999);
  // window 1: prev = 4, at e = 0 estimate 4; one token once 4·(1000 − e)/1000 ≤ 3 → e ≥ 250.
  assert.deepEqual(take(1, w0 + 1000), { granted: 0, remaining: 0, resetMs: 1000, retryAfterMs: 250 });
  assert.equal(take(2, w0 + 1250).granted, 1);
  assert.equal(take(-5, w0 + 1250).remaining, 1, 'curr back to 0, prev still weighs 3');
});

test('quota: a UTC day boundary and a month boundary', () => {
  const day = machine(quota('q', 3, 'day'));
  const t = Date.UTC(2026, 10, 22, 23, 59, 59, 500);
  assert.equal(quotaPeriod('day', t).id, '2026-11-22');
  assert.deepEqual(day(5, t), { granted: 3, remaining: 0, resetMs: 500, retryAfterMs: 500 });
  assert.equal(day(1, t + 499).granted, 0);
  assert.equal(quotaPeriod('day', t + 500).id, '2026-11-23');
  assert.deepEqual(day(1, t + 500), { granted: 1, remaining: 2, resetMs: 86_400_000, retryAfterMs: 0 });

  const month = machine(quota('q', 2, 'month'));
  const m = Date.UTC(2026, 11, 31, 23, 59, 0);
  assert.equal(quotaPeriod('month', m).id, '2026-12');
  assert.deepEqual(month(3, m), { granted: 2, remaining: 0, resetMs: 60_000, retryAfterMs: 60_000 });
  assert.equal(month(-5, m).remaining, 2, 'give-back floors at 0 used');
  assert.equal(month(2, m + 1).granted, 2);
  assert.equal(month(1, m + 60_000).granted, 1, '2027-01 is a new period');
  assert.equal(quotaPeriod('month', m + 60_000).id, '2027-01');
  const feb = quotaPeriod('month', Date.UTC(2028, 1, 29, 12));
  assert.deepEqual([feb.id, feb.endMs], ['2028-02', Date.UTC(2028, 2, 1)]);
});

test('retryAfterMs is exact: one token at now + retryAfterMs, none at now + retryAfterMs − 1', () => {
  let checked = 0;
  for (const algorithm of ['token-bucket', 'sliding-window', 'quota'] as const) {
    for (const seq of randomSequences(algorithm, 300, 7, 'exact')) {
      const m = machine(seq.spec);
      for (let i = 0; i < seq.ops.length; i++) {
        const { n, now } = seq.ops[i];
        const r = m(n, now);
        assert.ok(r.granted >= 0 && r.granted <= Math.max(0, n) && r.remaining >= 0 && r.resetMs >= 0, JSON.stringify(r));
        if (r.granted >= n) continue;
        const done = seq.ops.slice(0, i + 1);
        assert.ok(r.retryAfterMs > 0, `${algorithm} ${JSON.stringify(seq.spec)} retry ${r.retryAfterMs}`);
        assert.equal(probe(seq.spec, done, now + r.retryAfterMs).granted, 1, `${algorithm} at retry ${JSON.stringify(seq.spec)}`);
        assert.equal(probe(seq.spec, done, now + r.retryAfterMs - 1).granted, 0, `${algorithm} at retry − 1 ${JSON.stringify(seq.spec)}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 500, `only ${checked} denials checked`);
});

test('give-back never exceeds a full budget (all algorithms)', () => {
  for (const spec of [tokenBucket('g', 7, 1000, 3), slidingWindow('g', 7, 1000), quota('g', 7, 'day')]) {
    const take = machine(spec);
    const t0 = 1_800_000_000_000;
    take(2, t0);
    const full = spec.algorithm === 'token-bucket' ? 3 : 7;
    assert.equal(take(-100, t0 + 1).remaining, full, spec.algorithm);
    assert.equal(take(100, t0 + 1).granted, full, spec.algorithm);
  }
});
