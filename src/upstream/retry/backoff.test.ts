import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, retryRandom, setRetryRandom } from './backoff.js';

test('the nth retry waits within [0, min((2^n - 1) x base, max))', () => {
  // random 0.5 is half of each span: 25 → 12, 75 → 37, 175 → 87, then the 250 cap → 125.
  assert.deepEqual([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(25, 250, n, 0.5)), [12, 37, 87, 125, 125, 125]);
  // The ends of the range: 0 at random 0, just under the span at random → 1.
  assert.equal(backoffDelay(25, 250, 1, 0), 0);
  assert.equal(backoffDelay(25, 250, 1, 0.9999), 24);
  assert.equal(backoffDelay(25, 250, 3, 0.9999), 174);
  assert.equal(backoffDelay(25, 250, 10, 0.9999), 249);
});

test('every wait of many random draws stays in its range, and the draws spread over it', () => {
  for (let n = 1; n <= 8; n++) {
    const span = Math.min(250, (2 ** n - 1) * 25);
    let lo = Infinity; let hi = -Infinity;
    for (let i = 0; i < 2000; i++) {
      const d = backoffDelay(25, 250, n, Math.random());
      assert.ok(Number.isInteger(d) && d >= 0 && d < span, `retry ${n}: ${d} outside [0, ${span})`);
      lo = Math.min(lo, d); hi = Math.max(hi, d);
    }
    // 2000 uniform draws: both ends of the range are reached within 10% (failure odds ~ 1e-90).
    assert.ok(lo < span * 0.1 && hi >= span * 0.9, `retry ${n}: draws ${lo}..${hi} of [0, ${span})`);
  }
});

test('no base (or no max) means no wait; huge retry numbers do not overflow', () => {
  assert.equal(backoffDelay(0, 250, 3, 0.7), 0);
  assert.equal(backoffDelay(25, 0, 3, 0.7), 0);
  assert.equal(backoffDelay(1000, 5000, 1000, 0.5), 2500);
});

test('the jitter source can be pinned and restored', () => {
  setRetryRandom(() => 0.25);
  assert.equal(retryRandom(), 0.25);
  setRetryRandom(null);
  const r = retryRandom();
  assert.ok(r >= 0 && r < 1 && r !== 0.25);
});
