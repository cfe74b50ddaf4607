import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheEntry, VaryMarker, type EntryTimes } from './cache-entry.js';
import { MemoryStore } from './memory-store.js';

const times = (keepUntil: number): EntryTimes => ({
  responseTime: 0, initialAgeMs: 0, freshUntil: keepUntil, swrMs: 0, sieMs: 0, keepUntil,
  etag: '', lastModified: '', lastModifiedMs: NaN, noCache: false, mustRevalidate: false,
});

function entry(key: string, path: string, bytes: number, keepUntil = 1e15, vary: string[] | null = null, values = '', epoch = vary === null ? '' : 'e1'): CacheEntry {
  return new CacheEntry(key, path, 200, ['content-type', 'text/plain'], Buffer.alloc(bytes), times(keepUntil), vary, values, epoch);
}

test('LRU by bytes: the least recently used entries go first; a get refreshes recency', () => {
  const size = entry('k0', '/0', 1000).size;
  const store = new MemoryStore(size * 3);
  for (let i = 0; i < 3; i++) store.set('k' + i, entry('k' + i, '/' + i, 1000), 0);
  assert.ok(store.get('k0', 0) !== undefined); // k0 is now the most recent; k1 the least
  store.set('k3', entry('k3', '/3', 1000), 0);
  assert.equal(store.get('k1', 0), undefined);
  assert.ok(store.get('k0', 0) && store.get('k2', 0) && store.get('k3', 0));
  assert.deepEqual(store.stats(), { bytes: size * 3, entries: 3, evictions: 1 });
  // Replacing an entry accounts for the difference only.
  store.set('k3', entry('k3', '/3', 1000), 0);
  assert.equal(store.stats().bytes, size * 3);
});

test('a record larger than the whole store is not stored (and removes what the key held)', () => {
  const store = new MemoryStore(5000);
  store.set('a', entry('a', '/a', 100), 0);
  store.set('a', entry('a', '/a', 10_000), 0);
  assert.equal(store.get('a', 0), undefined);
  assert.equal(store.stats().entries, 0);
});

test('records past keepUntil are gone on lookup', () => {
  const store = new MemoryStore(1e6);
  store.set('a', entry('a', '/a', 10, 1000), 0);
  assert.ok(store.get('a', 999));
  assert.equal(store.get('a', 1000), undefined);
  assert.equal(store.stats().bytes, 0);
});

test('a Vary marker takes its variants along (replaced, purged, deleted), and keeps them when re-set with the same epoch', () => {
  const store = new MemoryStore(1e6);
  const names = ['accept-language'];
  store.set('k', new VaryMarker('k', '/p', 1e15, names, 'e1'), 0);
  store.set('k\nen', entry('k', '/p', 10, 1e15, names, '\nen'), 0);
  store.set('k\nde', entry('k', '/p', 10, 1e15, names, '\nde'), 0);
  store.set('k', new VaryMarker('k', '/p', 1e15, names, 'e1'), 0);
  assert.ok(store.get('k\nen', 0) && store.get('k\nde', 0));
  store.set('k', entry('k', '/p', 10), 0); // the origin stopped varying
  assert.equal(store.get('k\nen', 0), undefined);
  assert.equal(store.stats().entries, 1);
  store.set('k', new VaryMarker('k', '/p', 1e15, names, 'e1'), 0);
  store.set('k\nen', entry('k', '/p', 10, 1e15, names, '\nen'), 0);
  store.delete('k');
  assert.equal(store.stats().entries, 0);
  // A marker of another epoch replaces the old one and its variants.
  store.set('k', new VaryMarker('k', '/p', 1e15, names, 'e1'), 0);
  store.set('k\nen', entry('k', '/p', 10, 1e15, names, '\nen'), 0);
  store.set('k', new VaryMarker('k', '/p', 1e15, names, 'e2'), 0);
  assert.equal(store.get('k\nen', 0), undefined);
});

test('storing a variant keeps its marker recent; an evicted variant leaves the marker; an evicted marker takes its variants', () => {
  const one = entry('k', '/p', 1000, 1e15, ['a'], '\n1');
  const marker = new VaryMarker('k', '/p', 1e15, ['a'], 'e1');
  const store = new MemoryStore(marker.size + one.size * 2 + 100);
  store.set('k', marker, 0);
  store.set('k\n1', one, 0);
  store.set('k\n2', entry('k', '/p', 1000, 1e15, ['a'], '\n2'), 0);
  store.set('z', entry('z', '/z', 1000 + 4), 0); // evicts the least recent: variant 1, not the marker
  assert.equal(store.get('k\n1', 0), undefined);
  assert.deepEqual([...marker.variants], ['k\n2']);
  assert.ok(store.get('k', 0) === marker);
  store.get('z', 0);
  store.get('k\n2', 0); // recency now: variant 2, z, marker (least recent)
  store.set('y', entry('y', '/y', 1000 + 4), 0);
  assert.equal(store.get('k', 0), undefined);
  assert.equal(store.get('k\n2', 0), undefined, 'the variant went with its marker');
  assert.deepEqual(store.stats().entries, 2);
});

test('purge by key prefix and by path prefix; counts what went', async () => {
  const store = new MemoryStore(1e6);
  store.set('GET h /catalog/1 ', entry('GET h /catalog/1 ', '/catalog/1', 1), 0);
  store.set('GET h /catalog/2 ', entry('GET h /catalog/2 ', '/catalog/2', 1), 0);
  store.set('GET h /other ', entry('GET h /other ', '/other', 1), 0);
  store.set('GET h /catalog/v ', new VaryMarker('GET h /catalog/v ', '/catalog/v', 1e15, ['a'], 'e1'), 0);
  store.set('GET h /catalog/v \nx', entry('GET h /catalog/v ', '/catalog/v', 1, 1e15, ['a'], '\nx'), 0);
  assert.equal(await store.purge({ keyPrefix: 'GET h /catalog/1' }), 1);
  assert.equal(await store.purge({ pathPrefix: '/catalog/' }), 2, 'entries, not the Vary marker');
  assert.equal(store.stats().entries, 1);
  assert.ok(store.get('GET h /other ', 0));
  assert.equal(await store.purge({ keyPrefix: 'POST' }), 0);
});
