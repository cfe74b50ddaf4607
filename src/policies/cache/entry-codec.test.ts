import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CacheEntry, VaryMarker } from './cache-entry.js';
import { decodeRecord, encodeRecord } from './entry-codec.js';

test('an entry survives the round trip; the decoded body is a view of the value (no copy)', () => {
  const body = Buffer.from('héllo wörld');
  const e = new CacheEntry('GET h /p ', '/p', 203, ['content-type', 'text/plain; charset=utf-8', 'x-ü', 'ä'], body, {
    responseTime: 1, initialAgeMs: 2, freshUntil: 3, swrMs: 4, sieMs: 5, keepUntil: 6, etag: '"e"', lastModified: 'x', lastModifiedMs: NaN,
    noCache: true, mustRevalidate: false,
  }, ['accept'], '\ntext/html', 'ep0ch');
  const buf = encodeRecord(e);
  const d = decodeRecord(buf) as CacheEntry;
  assert.ok(d instanceof CacheEntry);
  assert.deepEqual([d.key, d.path, d.status, d.headers, d.varyNames, d.varyValues, d.varyEpoch], [e.key, e.path, e.status, e.headers, e.varyNames, e.varyValues, 'ep0ch']);
  assert.deepEqual({ ...d.times, lastModifiedMs: 0 }, { ...e.times, lastModifiedMs: 0 });
  assert.ok(Number.isNaN(d.times.lastModifiedMs));
  assert.ok(d.body.equals(body));
  assert.equal(d.body.buffer, buf.buffer, 'the body is a slice of the reply');
  assert.equal(d.size, e.size);
});

test('a marker survives the round trip', () => {
  const m = decodeRecord(encodeRecord(new VaryMarker('k', '/p', 99, ['a', 'b'], 'x1'))) as VaryMarker;
  assert.ok(m instanceof VaryMarker);
  assert.deepEqual([m.key, m.path, m.keepUntil, m.names, m.epoch], ['k', '/p', 99, ['a', 'b'], 'x1']);
});

test('values this format did not write decode to null', () => {
  assert.equal(decodeRecord(Buffer.from('hello world')), null);
  assert.equal(decodeRecord(Buffer.alloc(3)), null);
  const good = encodeRecord(new VaryMarker('k', '/p', 99, ['a'], 'x1'));
  assert.equal(decodeRecord(good.subarray(0, good.length - 2)), null);
  const bad = Buffer.from(good);
  bad.write('{', 8);
  bad.write('}', 9);
  assert.equal(decodeRecord(bad), null);
});
