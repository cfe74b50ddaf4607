// The body collector, the fills (coalescing) and the purge arguments.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BodyCollector } from './body-collector.js';
import { CacheEntry } from './cache-entry.js';
import { Fills } from './fills.js';
import { parsePurgeArgs } from './purge-args.js';

function sink(): { got: Buffer[]; failed: string[]; sink: ConstructorParameters<typeof BodyCollector>[1] } {
  const got: Buffer[] = [];
  const failed: string[] = [];
  return { got, failed, sink: { collected: (b) => got.push(b), failed: (r) => failed.push(r) } };
}

test('the collector copies the chunks once into a buffer of its own', () => {
  const s = sink();
  const c = new BodyCollector(10, s.sink);
  const pool = Buffer.from('xxabcdefyy');
  assert.equal(c.chunk(pool.subarray(2, 5)), true);
  assert.equal(c.chunk(pool.subarray(5, 8)), true);
  c.end();
  assert.equal(s.got.length, 1);
  assert.equal(s.got[0].toString(), 'abcdef');
  assert.notEqual(s.got[0].buffer, pool.buffer);
  assert.equal(s.got[0].buffer.byteLength, 6, 'exactly sized, not a pool slice');
  c.abort();
  assert.deepEqual(s.failed, [], 'a finished collector ignores a late abort');
});

test('past maxBytes the collector lets go and detaches; an abort is a failure', () => {
  const s = sink();
  const c = new BodyCollector(4, s.sink);
  assert.equal(c.chunk(Buffer.from('abc')), true);
  assert.equal(c.chunk(Buffer.from('de')), false);
  c.end();
  assert.deepEqual([s.got.length, s.failed], [0, ['too-large']]);
  const t = sink();
  const d = new BodyCollector(4, t.sink);
  d.chunk(Buffer.from('a'));
  d.abort();
  assert.deepEqual(t.failed, ['aborted']);
  const e = sink();
  new BodyCollector(4, e.sink).end();
  assert.equal(e.got[0].length, 0, 'an empty body (204) is a body');
});

test('fills: waiters get the settled entry once; a fill that does not settle in time releases them', async () => {
  const fills = new Fills();
  const f = fills.start('k', 10_000);
  assert.equal(fills.get('k'), f);
  const seen: Array<[CacheEntry | null, boolean]> = [];
  fills.wait(f, (e, s) => seen.push([e, s]));
  fills.wait(f, () => { throw new Error('one bad waiter'); });
  fills.wait(f, (e, s) => seen.push([e, s]));
  const entry = new CacheEntry('k', '/', 200, [], Buffer.alloc(0), {
    responseTime: 0, initialAgeMs: 0, freshUntil: 1, swrMs: 0, sieMs: 0, keepUntil: 1, etag: '', lastModified: '', lastModifiedMs: NaN, noCache: false, mustRevalidate: false,
  }, null, '');
  fills.settle(f, entry, true);
  fills.settle(f, null, false);
  assert.deepEqual(seen, [[entry, true], [entry, true]]);
  assert.equal(fills.get('k'), undefined);
  const g = fills.start('k', 20);
  const released = new Promise<CacheEntry | null>((resolve) => fills.wait(g, (e) => resolve(e)));
  // The fill's timer does not hold the process open (unref): keep it alive meanwhile.
  const alive = setTimeout(() => undefined, 5000);
  assert.equal(await released, null);
  clearTimeout(alive);
  assert.equal(fills.size, 0);
});

test('purge arguments: exactly one non-empty prefix, optionally a policy', () => {
  assert.deepEqual(parsePurgeArgs({ 'key-prefix': 'GET h /a' }), { match: { keyPrefix: 'GET h /a' }, policy: null });
  assert.deepEqual(parsePurgeArgs({ 'path-prefix': '/catalog/', policy: 'c' }), { match: { pathPrefix: '/catalog/' }, policy: 'c' });
  assert.equal(parsePurgeArgs({}), 'give exactly one of key-prefix and path-prefix');
  assert.equal(parsePurgeArgs({ 'key-prefix': 'a', 'path-prefix': '/b' }), 'give exactly one of key-prefix and path-prefix, not both');
  assert.equal(parsePurgeArgs({ 'path-prefix': '' }), 'path-prefix must not be empty');
  assert.equal(parsePurgeArgs({ 'key-prefix': '' }), 'key-prefix must not be empty');
  assert.equal(parsePurgeArgs({ prefix: '/a' }), 'unknown parameter "prefix" (use key-prefix or path-prefix, and optionally policy)');
  assert.equal(parsePurgeArgs({ 'path-prefix': '/a', policy: '' }), 'policy must not be empty');
});
