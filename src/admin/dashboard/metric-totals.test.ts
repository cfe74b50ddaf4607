import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intervalQuantile } from './metric-totals.js';
import { mergeUpstreams } from './upstream-view.js';

const BOUNDS = [0.001, 0.01, 0.1, Infinity];
const cumulative = (counts: number[]): Array<[number, number]> => {
  let acc = 0;
  return counts.map((c, i) => [BOUNDS[i], (acc += c)]);
};

function near(actual: number | null, expected: number, message?: string): void {
  assert.ok(actual !== null && Math.abs(actual - expected) < 1e-12, `${message ?? ''} ${actual} vs ${expected}`);
}

test('intervalQuantile interpolates inside a bucket over the difference of two samples', () => {
  const before = cumulative([10, 0, 0, 0]);
  const now = cumulative([10, 100, 0, 0]); // the interval: 100 observations in (1 ms, 10 ms]
  near(intervalQuantile(0.5, now, before), 0.001 + 0.009 * 0.5);
  near(intervalQuantile(0.99, now, before), 0.001 + 0.009 * 0.99);
  near(intervalQuantile(0.5, now, undefined), 0.001 + 0.009 * (55 - 10) / 100, 'without a before sample: everything so far');
});

test('intervalQuantile: null without observations, the highest finite bound for the +Inf bucket', () => {
  assert.equal(intervalQuantile(0.5, cumulative([1, 2, 3, 0]), cumulative([1, 2, 3, 0])), null);
  assert.equal(intervalQuantile(0.5, [], undefined), null);
  assert.equal(intervalQuantile(0.99, cumulative([0, 0, 0, 5]), undefined), 0.1);
});

test('mergeUpstreams falls back to the circuit-state gauge when no worker answered', () => {
  const views = mergeUpstreams([{ worker: 1, pid: 1, error: 'no answer within 2000 ms' }], new Map([['users', 2], ['orders', 0]]));
  assert.deepEqual([...views.values()].map((v) => [v.name, v.circuit, v.targets.length]), [['users', 'half-open', 0], ['orders', 'closed', 0]]);
});
