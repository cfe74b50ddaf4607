import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROLLING_BUCKETS, RollingWindow } from './rolling-window.js';

test('counts attempts and failures inside the window', () => {
  const w = new RollingWindow(10_000);
  assert.equal(w.bucketMs, 1000);
  w.add(0, false);
  w.add(500, true);
  w.add(9_999, true);
  assert.deepEqual([w.total, w.failures], [3, 2]);
});

test('the window slides a bucket at a time: old buckets drop out, newer ones stay', () => {
  const w = new RollingWindow(10_000);
  w.add(100, true); // bucket 0
  w.add(1_100, false); // bucket 1
  w.add(5_100, true); // bucket 5
  w.advance(9_999); // bucket 9: all still inside
  assert.deepEqual([w.total, w.failures], [3, 2]);
  w.advance(10_000); // bucket 10 replaces bucket 0
  assert.deepEqual([w.total, w.failures], [2, 1]);
  w.advance(11_000); // bucket 11 replaces bucket 1
  assert.deepEqual([w.total, w.failures], [1, 1]);
  w.advance(15_000); // bucket 15 replaces bucket 5
  assert.deepEqual([w.total, w.failures], [0, 0]);
});

test('a long gap clears every bucket at once; a clock that goes back counts into the newest bucket', () => {
  const w = new RollingWindow(1_000);
  for (let t = 0; t < 1_000; t += 10) w.add(t, t % 20 === 0);
  assert.deepEqual([w.total, w.failures], [100, 50]);
  w.add(1_000_000, true);
  assert.deepEqual([w.total, w.failures], [1, 1]);
  w.add(999_000, false); // earlier than the newest bucket
  assert.deepEqual([w.total, w.failures], [2, 1]);
  w.advance(1_000_000 + 100 * ROLLING_BUCKETS);
  assert.deepEqual([w.total, w.failures], [0, 0]);
});

test('reset forgets everything; tiny windows get 1 ms buckets', () => {
  const w = new RollingWindow(5);
  assert.equal(w.bucketMs, 1);
  w.add(1, true);
  w.reset();
  assert.deepEqual([w.total, w.failures], [0, 0]);
  w.add(2, false);
  assert.deepEqual([w.total, w.failures], [1, 0]);
});
