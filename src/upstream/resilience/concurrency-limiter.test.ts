import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConcurrencyLimiter, FULL, GRANTED, HOLDING, NO_SLOT, QUEUED, WAITING, type LimiterWaiter, type LimitState,
} from './concurrency-limiter.js';

/** A waiter that logs when it is granted its slot. */
class Waiter implements LimiterWaiter {
  qNext: LimiterWaiter | null = null;
  qPrev: LimiterWaiter | null = null;
  limitState: LimitState = NO_SLOT;
  constructor(readonly name: string, private readonly granted: string[]) {}
  slotGranted(): void {
    this.granted.push(this.name);
  }
}

function setup(maxConcurrent: number, maxQueued: number, workers = 1) {
  const granted: string[] = [];
  const limiter = new ConcurrencyLimiter('orders', { maxConcurrent, maxQueued, queueTimeoutMs: 1000 }, workers);
  const w = (name: string): Waiter => new Waiter(name, granted);
  return { limiter, granted, w };
}

test('up to maxConcurrent hold a slot, up to maxQueued wait, the rest are refused', () => {
  const { limiter, w } = setup(2, 1);
  const [a, b, c, d] = [w('a'), w('b'), w('c'), w('d')];
  assert.equal(limiter.acquire(a), GRANTED);
  assert.equal(limiter.acquire(b), GRANTED);
  assert.equal(limiter.acquire(c), WAITING);
  assert.equal(limiter.acquire(d), FULL);
  assert.deepEqual([a.limitState, c.limitState, d.limitState], [HOLDING, QUEUED, NO_SLOT]);
  assert.deepEqual([limiter.inflight, limiter.queued, limiter.rejectedFull], [2, 1, 1]);
  assert.equal(limiter.errFull.code, 'upstream_overloaded');
  assert.equal(limiter.errFull.status, 503);
});

test('a released slot goes to the first waiter, in FIFO order; inflight never overshoots', () => {
  const { limiter, granted, w } = setup(1, 3);
  const [a, b, c, d] = [w('a'), w('b'), w('c'), w('d')];
  limiter.acquire(a);
  limiter.acquire(b);
  limiter.acquire(c);
  limiter.acquire(d);
  limiter.release(a);
  assert.deepEqual(granted, ['b']);
  assert.deepEqual([a.limitState, b.limitState, limiter.inflight, limiter.queued], [NO_SLOT, HOLDING, 1, 2]);
  limiter.release(a); // twice: no effect
  assert.deepEqual([limiter.inflight, limiter.queued, granted.length], [1, 2, 1]);
  limiter.release(b);
  limiter.release(c);
  assert.deepEqual(granted, ['b', 'c', 'd']);
  limiter.release(d);
  assert.deepEqual([limiter.inflight, limiter.queued], [0, 0]);
  assert.equal(limiter.acquire(w('e')), GRANTED);
});

test('waiters can leave the queue from anywhere (timeout, client gone) in O(1)', () => {
  const { limiter, granted, w } = setup(1, 4);
  const [a, b, c, d] = [w('a'), w('b'), w('c'), w('d')];
  limiter.acquire(a);
  for (const x of [b, c, d]) limiter.acquire(x);
  limiter.remove(c); // middle
  limiter.countTimeout();
  limiter.release(d); // tail, through release: leaves the queue
  assert.deepEqual([c.limitState, d.limitState, limiter.queued, limiter.rejectedTimeout], [NO_SLOT, NO_SLOT, 1, 1]);
  limiter.release(a);
  assert.deepEqual(granted, ['b']);
  limiter.remove(b); // holding, not queued: no-op
  assert.equal(b.limitState, HOLDING);
  limiter.release(b);
  assert.deepEqual([limiter.inflight, limiter.queued], [0, 0]);
  // The queue is empty and consistent: new waiters line up again.
  limiter.acquire(a);
  limiter.acquire(b);
  limiter.acquire(c);
  limiter.release(a);
  limiter.release(b);
  assert.deepEqual(granted, ['b', 'b', 'c']);
});

test('maxQueued 0 refuses at once; each worker enforces ceil(limit / workers)', () => {
  const { limiter, w } = setup(1, 0);
  limiter.acquire(w('a'));
  assert.equal(limiter.acquire(w('b')), FULL);
  const shared = setup(5, 3, 2).limiter;
  assert.deepEqual([shared.maxConcurrent, shared.maxQueued], [3, 2]);
  const many = setup(1, 1, 8).limiter;
  assert.deepEqual([many.maxConcurrent, many.maxQueued], [1, 1]);
  assert.deepEqual(shared.snapshot(), {
    maxConcurrent: 3, maxQueued: 2, queueTimeoutMs: 1000, inflight: 0, queued: 0, rejectedQueueFull: 0, rejectedQueueTimeout: 0,
  });
});
