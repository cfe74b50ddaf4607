import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RetryBudget } from './retry-budget.js';

test('defaults: 20% of active requests, at least 3', () => {
  const b = new RetryBudget();
  assert.equal(b.ratio, 0.2);
  assert.equal(b.minRetries, 3);
  assert.deepEqual([0, 1, 10, 15, 16, 20, 50, 100, 1000].map((a) => b.limit(a)), [3, 3, 3, 3, 3, 4, 10, 20, 200]);
});

test('retries in flight are capped at the limit for the current load, and slots come back', () => {
  const b = new RetryBudget({ ratio: 0.2, minRetries: 3 });
  let granted = 0;
  for (let i = 0; i < 20; i++) if (b.tryAcquire(30)) granted++;
  assert.equal(granted, 6, '20% of 30 active');
  assert.equal(b.inFlight, 6);
  // The load fell: nothing more until enough slots came back.
  assert.equal(b.tryAcquire(10), false);
  for (let i = 0; i < 3; i++) b.release();
  assert.equal(b.tryAcquire(10), false, '3 in flight, limit max(3, 2) = 3');
  b.release();
  assert.equal(b.tryAcquire(10), true);
  assert.equal(b.inFlight, 3);
});

test('a zero budget refuses every retry; release never goes below zero', () => {
  const b = new RetryBudget({ ratio: 0, minRetries: 0 });
  assert.equal(b.tryAcquire(1000), false);
  b.release();
  b.release();
  assert.equal(b.inFlight, 0);
  assert.equal(b.tryAcquire(0), false);
});

test('percentages that are not exact binary fractions are not floored one short', () => {
  const b = new RetryBudget({ ratio: 0.29, minRetries: 0 });
  assert.equal(b.limit(100), 29); // 0.29 * 100 is 28.999999999999996 in floating point
  assert.equal(new RetryBudget({ ratio: 0.07, minRetries: 0 }).limit(100), 7);
  assert.equal(new RetryBudget({ ratio: 1, minRetries: 0 }).limit(7), 7);
});
