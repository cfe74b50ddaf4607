import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallSlots } from './call-slots.js';

test('up to max calls run at once, maxQueued wait in order, the rest are refused', async () => {
  const slots = new CallSlots(2, 1, 1000, () => 0);
  assert.equal(slots.acquire(), true);
  assert.equal(slots.acquire(), true);
  const waiting = slots.acquire();
  assert.ok(waiting instanceof Promise);
  assert.equal(slots.acquire(), false);
  assert.equal(slots.refused, 1);
  assert.deepEqual(slots.load, { running: 2, queued: 1 });
  slots.release(); // handed to the waiter
  assert.equal(await waiting, true);
  assert.deepEqual(slots.load, { running: 2, queued: 0 });
  slots.release();
  slots.release();
  assert.deepEqual(slots.load, { running: 0, queued: 0 });
  assert.equal(slots.acquire(), true);
});

test('a waiter whose slot comes after maxWaitMs is refused and the slot goes to the next', async () => {
  let now = 0;
  const slots = new CallSlots(1, 2, 100, () => now);
  assert.equal(slots.acquire(), true);
  const old = slots.acquire() as Promise<boolean>;
  now = 90;
  const young = slots.acquire() as Promise<boolean>;
  now = 150;
  slots.release();
  assert.equal(await old, false);
  assert.equal(await young, true);
  assert.equal(slots.refused, 1);
  assert.deepEqual(slots.load, { running: 1, queued: 0 });
});

test('drain refuses every waiter', async () => {
  const slots = new CallSlots(1, 5, 1000);
  slots.acquire();
  const w = [slots.acquire(), slots.acquire()] as Array<Promise<boolean>>;
  slots.drain();
  assert.deepEqual(await Promise.all(w), [false, false]);
});
