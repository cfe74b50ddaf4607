import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Backoff, DEFAULT_BACKOFF } from './backoff.js';

test('backoff doubles from 100 ms up to 10 s', () => {
  const b = new Backoff(DEFAULT_BACKOFF);
  const delays = Array.from({ length: 10 }, () => b.nextDelay(10));
  assert.deepEqual(delays, [100, 200, 400, 800, 1600, 3200, 6400, 10_000, 10_000, 10_000]);
  assert.equal(b.consecutiveFailures, 10);
});

test('a worker that stayed up 30 s resets the delay', () => {
  const b = new Backoff(DEFAULT_BACKOFF);
  b.nextDelay(0);
  b.nextDelay(0);
  assert.equal(b.nextDelay(0), 400);
  assert.equal(b.nextDelay(30_000), 100);
  assert.equal(b.nextDelay(29_999), 200);
});
