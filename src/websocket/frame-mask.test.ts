import { test } from 'node:test';
import assert from 'node:assert/strict';
import { nonZeroMask } from './frame-mask.js';

test('masks are never all zero and vary', () => {
  const seen = new Set<string>();
  const mask = Buffer.alloc(4);
  for (let i = 0; i < 20_000; i++) {
    nonZeroMask(mask);
    assert.notEqual(mask.readUInt32BE(0), 0);
    seen.add(mask.toString('hex'));
  }
  assert.ok(seen.size > 19_000, `${seen.size} distinct masks in 20000`);
});
