import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deferWrite, pendingWrites } from './write-batch.js';

function recorder(log: string[], name: string, fail = false): { flushWrite(): void } {
  return {
    flushWrite(): void {
      log.push(name);
      if (fail) throw new Error('boom');
    },
  };
}

test('deferred writes run in order after the current I/O callbacks, in one batch', async () => {
  const log: string[] = [];
  deferWrite(recorder(log, 'a'));
  deferWrite(recorder(log, 'b'));
  assert.equal(pendingWrites(), 2);
  process.nextTick(() => log.push('tick'));
  await Promise.resolve();
  log.push('microtask');
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(log.slice(2), ['a', 'b']);
  assert.deepEqual(log.slice(0, 2).sort(), ['microtask', 'tick']);
  assert.equal(pendingWrites(), 0);
});

test('a write queued while a batch runs goes out in the next turn', async () => {
  const log: string[] = [];
  deferWrite({
    flushWrite(): void {
      log.push('first');
      deferWrite(recorder(log, 'queued-during-flush'));
      assert.equal(pendingWrites(), 1);
    },
  });
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(log, ['first']);
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(log, ['first', 'queued-during-flush']);
});

test('a write that throws does not drop the rest of its batch', async () => {
  const log: string[] = [];
  deferWrite(recorder(log, 'a', true));
  deferWrite(recorder(log, 'b'));
  await new Promise<void>((resolve) => setImmediate(resolve));
  assert.deepEqual(log, ['a', 'b']);
  assert.equal(pendingWrites(), 0);
});
