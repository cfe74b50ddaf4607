import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeasedLimiter, StoreCircuit, windowOf, type Verdict } from './leased-limiter.js';
import { LocalStore } from './local-store.js';
import type { LimitSpec, RateLimitStore, TakeResult } from './store.js';

/** A LocalStore standing in for the shared store (several limiters = several workers), counting calls. */
class SharedStore implements RateLimitStore {
  calls = 0;
  giveBacks = 0;
  readonly inner = new LocalStore({ sweepIntervalMs: 0 });
  take(spec: LimitSpec, key: string, n: number, nowMs: number): Promise<TakeResult> {
    this.calls++;
    if (n < 0) this.giveBacks++;
    // Asynchronous like Redis, so leases really are pending for a moment.
    return new Promise((resolve) => setImmediate(() => resolve(this.inner.take(spec, key, n, nowMs))));
  }
}

function spec(over: Partial<LimitSpec> = {}): LimitSpec {
  return { name: 'l', algorithm: 'token-bucket', limit: 1000, windowMs: 3_600_000, burst: 1000, period: null, ...over };
}

function limiter(store: SharedStore, s: LimitSpec, holders: number, clock: { t: number }, leaseTtlMs = 1000): LeasedLimiter {
  return new LeasedLimiter({
    spec: s, store, local: new LocalStore({ sweepIntervalMs: 0 }), localSpec: s, holders, onStoreFailure: 'local',
    circuit: new StoreCircuit(() => true), now: () => clock.t, leaseTtlMs,
  });
}

async function decide(l: LeasedLimiter, key: string): Promise<Verdict> {
  const v = l.acquire(key);
  return v instanceof Promise ? v : { ...v };
}

test('two holders sharing a store never admit more than the budget, and few requests reach the store', async () => {
  const store = new SharedStore();
  const clock = { t: 1_000_000 };
  const a = limiter(store, spec(), 2, clock);
  const b = limiter(store, spec(), 2, clock);
  assert.equal(a.leaseCap, 25, '5% of 1000 over 2 holders');
  let allowed = 0;
  const all: Promise<Verdict>[] = [];
  for (let i = 0; i < 1500; i++) all.push(decide(i % 2 === 0 ? a : b, 'k'));
  for (const v of await Promise.all(all)) if (v.allowed) allowed++;
  assert.ok(allowed <= 1000, `allowed ${allowed}`);
  assert.ok(allowed >= 1000 - 2 * 25, `allowed ${allowed}: at most 2 leases of 25 held back`);
  assert.ok(store.calls < 300, `${store.calls} store calls for 1500 decisions`);
  await a.close();
  await b.close();
});

test('an expired lease is given back, so another holder can use the rest of the budget', async () => {
  const store = new SharedStore();
  const clock = { t: 5_000_000 };
  const s = spec({ limit: 400, burst: 400 });
  const a = limiter(store, s, 2, clock, 100);
  const b = limiter(store, s, 2, clock, 100);
  // Grow a's lease: each fully used lease doubles the next one.
  for (let i = 0; i < 40; i++) assert.equal((await decide(a, 'k')).allowed, true);
  clock.t += 200; // a's lease (with unused tokens) has expired
  let fromB = 0;
  for (let i = 0; i < 400; i++) if ((await decide(b, 'k')).allowed) fromB++;
  // a's next acquire returns its expired tokens first.
  await decide(a, 'k');
  for (let i = 0; i < 50; i++) if ((await decide(b, 'k')).allowed) fromB++;
  assert.ok(40 + fromB >= 400 - 10 && 40 + fromB <= 400 + 1, `a 40 (+1) and b ${fromB} of 400`);
  assert.ok(store.giveBacks >= 1, 'a gave its unused lease back');
});

test('a denied key is answered locally until its retry time (no store call per denied request)', async () => {
  const store = new SharedStore();
  const clock = { t: 9_000_000 };
  const l = limiter(store, spec({ limit: 60, windowMs: 60_000, burst: 2 }), 1, clock);
  assert.equal((await decide(l, 'k')).allowed, true);
  assert.equal((await decide(l, 'k')).allowed, true);
  const denied = await decide(l, 'k');
  assert.equal(denied.allowed, false);
  assert.ok(denied.retryAfterMs > 0 && denied.retryAfterMs <= 1000, `retry after ${denied.retryAfterMs} ms (1 token per s)`);
  const calls = store.calls;
  for (let i = 0; i < 100; i++) assert.equal((await decide(l, 'k')).allowed, false);
  assert.equal(store.calls, calls, 'denials inside the retry time cost no store call');
  clock.t += denied.retryAfterMs;
  assert.equal((await decide(l, 'k')).allowed, true, 'a token is back at the retry time');
});

test('tokens of a sliding window that rolled over are not credited to the new window', async () => {
  const store = new SharedStore();
  const W = 10_000;
  const clock = { t: 100 * W + W - 300 }; // 300 ms before a window boundary
  const s = spec({ algorithm: 'sliding-window', limit: 4000, windowMs: W });
  const l = limiter(store, s, 1, clock, 500);
  for (let i = 0; i < 200; i++) assert.equal((await decide(l, 'k')).allowed, true);
  clock.t += 600; // next window; the held lease expired
  await decide(l, 'k');
  assert.equal(store.giveBacks, 0, 'nothing given back across the boundary');
  assert.equal(windowOf(s, clock.t), 101);
  assert.equal(windowOf(spec({ algorithm: 'quota', period: 'month' }), Date.UTC(2026, 11, 31)), 2026 * 12 + 11);
  assert.equal(windowOf(spec(), clock.t), 0);
});
