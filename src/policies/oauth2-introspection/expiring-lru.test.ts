import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExpiringLru } from './expiring-lru.js';

test('entries live until expiresAt, then are gone', () => {
  const lru = new ExpiringLru<{ expiresAt: number; v: number }>(10);
  lru.set('a', { expiresAt: 100, v: 1 }, 0);
  assert.equal(lru.get('a', 99)?.v, 1);
  assert.equal(lru.get('a', 100), undefined);
  assert.equal(lru.size, 0);
  lru.set('b', { expiresAt: 50, v: 2 }, 50); // already expired: not stored
  assert.equal(lru.size, 0);
});

test('when full, the least recently used entry goes', () => {
  const lru = new ExpiringLru<{ expiresAt: number }>(3);
  for (const k of ['a', 'b', 'c']) lru.set(k, { expiresAt: 1000 }, 0);
  assert.ok(lru.get('a', 1)); // a is now the most recent
  lru.set('d', { expiresAt: 1000 }, 1);
  assert.equal(lru.size, 3);
  assert.equal(lru.get('b', 1), undefined);
  assert.ok(lru.get('a', 1) && lru.get('c', 1) && lru.get('d', 1));
  lru.set('c', { expiresAt: 2000 }, 1); // replacing does not evict
  assert.equal(lru.size, 3);
  assert.equal(lru.get('c', 1500)?.expiresAt, 2000);
});

test('capacity 0 caches nothing', () => {
  const lru = new ExpiringLru<{ expiresAt: number }>(0);
  lru.set('a', { expiresAt: 1000 }, 0);
  assert.equal(lru.get('a', 1), undefined);
});
