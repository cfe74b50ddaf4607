import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestIdGenerator } from './request-id.js';

test('request ids are unique within a worker and across generators', () => {
  const a = new RequestIdGenerator();
  const b = new RequestIdGenerator();
  const seen = new Set<string>();
  for (let i = 0; i < 10_000; i++) { seen.add(a.next()); seen.add(b.next()); }
  assert.equal(seen.size, 20_000);
});

test('request ids are a 96-bit random prefix and a base-36 counter', () => {
  const g = new RequestIdGenerator('abc');
  assert.equal(g.next(), 'abc-1');
  assert.equal(g.next(), 'abc-2');
  assert.match(new RequestIdGenerator().next(), /^[0-9a-f]{24}-1$/);
});
