import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { quotaPeriod, quotaTake, slidingWindowTake, tokenBucketTake } from './algorithms.js';
import { LocalStore } from './local-store.js';
import type { TakeResult } from './store.js';
import { quota, randomSequences, slidingWindow, tokenBucket } from './testing/sequences.js';

test('LocalStore gives the pure functions\' results on seeded sequences (all algorithms)', () => {
  const store = new LocalStore({ sweepIntervalMs: 0 });
  let steps = 0;
  for (const algorithm of ['token-bucket', 'sliding-window', 'quota'] as const) {
    for (const seq of randomSequences(algorithm, 100, 11, 'local')) {
      let state: unknown = null;
      for (const { n, now } of seq.ops) {
        const s = algorithm === 'token-bucket'
          ? tokenBucketTake(seq.spec, state as never, n, now)
          : algorithm === 'sliding-window'
            ? slidingWindowTake(seq.spec, state as never, n, now)
            : quotaTake(seq.spec, quotaPeriod(seq.spec.period ?? 'day', now), state as never, n, now);
        if (n !== 0) state = s.state;
        assert.deepEqual(store.take(seq.spec, 'k', n, now), s.result);
        steps++;
      }
    }
  }
  assert.ok(steps > 3000);
});

test('take is synchronous, per key and per limit name', () => {
  const store = new LocalStore({ sweepIntervalMs: 0 });
  const a = tokenBucket('a', 10, 1000, 5);
  const b = tokenBucket('b', 10, 1000, 5);
  const t = 1_800_000_000_000;
  const r: TakeResult = store.take(a, 'k1', 5, t);
  assert.equal(r.granted, 5);
  assert.equal(store.take(a, 'k1', 1, t).granted, 0);
  assert.equal(store.take(a, 'k2', 5, t).granted, 5, 'another key');
  assert.equal(store.take(b, 'k1', 5, t).granted, 5, 'another limit');
  assert.equal(store.take(a, 'k1', 1.9, t + 100).granted, 1, 'n is truncated');
});

test('expired entries read as absent and are swept; full buckets keep no entry', () => {
  const store = new LocalStore({ sweepIntervalMs: 0 });
  const sw = slidingWindow('sw', 3, 1000);
  const t = 1_800_000_000_000;
  store.take(sw, 'x', 3, t);
  store.take(quota('q', 3, 'day'), 'x', 1, t);
  store.take(tokenBucket('tb', 10, 1000, 5), 'x', 1, t);
  assert.equal(store.size, 3);
  assert.equal(store.take(sw, 'x', 1, t + 1000).granted, 0, 'window 1 starts with prev = 3 at weight 1');
  assert.equal(store.sweep(t + 1100), 1, 'the token bucket is full after 100 ms + 1 s slack');
  assert.equal(store.take(sw, 'x', 3, t + 2000).granted, 3, 'window 2: prev = window 1 = 0');
  assert.equal(store.sweep(t + 4000), 1, 'sliding window expires 2 windows after its last');
  assert.equal(store.size, 1, 'the quota lives to the end of its day + 1 h');
  assert.equal(store.sweep(Date.UTC(2026, 0, 1) + 86_400_000 * 10_000), 1);
  const tb = tokenBucket('tb', 10, 1000, 5);
  store.take(tb, 'y', 2, t);
  store.take(tb, 'y', -2, t);
  assert.equal(store.size, 0, 'a bucket given back to full is dropped');
});

test('memory is bounded by maxKeys; the least recently written key is evicted', () => {
  const store = new LocalStore({ maxKeys: 100, sweepIntervalMs: 0 });
  const spec = quota('q', 5, 'day');
  const t = Date.UTC(2026, 10, 22, 12);
  store.take(spec, 'hot', 5, t);
  for (let i = 0; i < 1000; i++) {
    store.take(spec, `k${i}`, 1, t);
    if (i % 50 === 0) {
      store.take(spec, 'hot', -1, t + i); // rewrites keep 'hot' recently written
      store.take(spec, 'hot', 1, t + i);
    }
  }
  assert.equal(store.size, 100);
  assert.equal(store.evictions, 901);
  assert.equal(store.take(spec, 'hot', 1, t).granted, 0, 'hot key survived with its count');
  assert.equal(store.take(spec, 'k0', 1, t).granted, 1, 'k0 was evicted: fresh budget');
});

test('a changed algorithm for the same limit name starts from a fresh state', () => {
  const store = new LocalStore({ sweepIntervalMs: 0 });
  const t = 1_800_000_000_000;
  store.take(tokenBucket('same', 2, 1000, 2), 'k', 2, t);
  assert.equal(store.take(slidingWindow('same', 2, 1000), 'k', 2, t).granted, 2);
});

test('the sweep timer removes expired entries on its own, and close() stops it', async () => {
  const store = new LocalStore({ sweepIntervalMs: 20 });
  const spec = tokenBucket('timer', 1000, 10, 1); // 1 token per 0.01 ms: reset ≈ 0, expiry 1 s + a tick
  store.take(spec, 'k', 1, Date.now() - 1001);
  assert.equal(store.size, 1);
  const deadline = Date.now() + 3000;
  while (store.size > 0 && Date.now() < deadline) await sleep(10);
  assert.equal(store.size, 0);
  store.close();
});
