import { test } from 'node:test';
import assert from 'node:assert/strict';
import { headerValues, noneMatchHits, parseCacheControl, parseDelta, parseHttpDate, splitList } from './cache-control.js';

test('parseCacheControl reads names case-insensitively, token and quoted arguments, and several field lines', () => {
  const d = parseCacheControl('Public, MAX-AGE=60, s-maxage="120", stale-while-revalidate=30, stale-if-error=300, must-revalidate');
  assert.deepEqual([d.public, d.maxAge, d.sMaxAge, d.staleWhileRevalidate, d.staleIfError, d.mustRevalidate], [true, 60, 120, 30, 300, true]);
  parseCacheControl('no-cache="set-cookie", private="x-a, x-b", no-store', d);
  assert.deepEqual([d.noCache, d.private, d.noStore], [true, true, true]);
  const r = parseCacheControl('max-age=0, min-fresh=5, only-if-cached, proxy-revalidate');
  assert.deepEqual([r.maxAge, r.minFresh, r.onlyIfCached, r.proxyRevalidate], [0, 5, true, true]);
});

test('repeated delta directives keep the smallest; invalid ones count as 0; huge ones are capped at 2^31', () => {
  assert.equal(parseCacheControl('max-age=60, max-age=30').maxAge, 30);
  assert.equal(parseCacheControl('max-age=abc').maxAge, 0);
  assert.equal(parseCacheControl('max-age').maxAge, 0);
  assert.equal(parseCacheControl('max-age=99999999999999').maxAge, 2_147_483_648);
  assert.equal(parseCacheControl('').maxAge, -1);
  assert.equal(parseCacheControl('unknown-ext="a,b", max-age=5').maxAge, 5);
});

test('splitList keeps commas inside quoted strings and drops empty members', () => {
  assert.deepEqual(splitList(' "a,b" , W/"c" ,, d '), ['"a,b"', 'W/"c"', 'd']);
  assert.deepEqual(splitList('"x\\"y,z", w'), ['"x\\"y,z"', 'w']);
  assert.deepEqual(splitList(''), []);
});

test('parseDelta: digits only', () => {
  assert.deepEqual(['0', '42', '', '-1', '1.5', ' 3'].map(parseDelta), [0, 42, -1, -1, -1, -1]);
});

test('parseHttpDate reads the three HTTP-date forms; junk is NaN', () => {
  const t = Date.UTC(1994, 10, 6, 8, 49, 37);
  assert.equal(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT'), t);
  assert.equal(parseHttpDate('Sunday, 06-Nov-94 08:49:37 GMT'), t);
  assert.equal(parseHttpDate('Sun Nov  6 08:49:37 1994 GMT'), t);
  assert.ok(Number.isNaN(parseHttpDate('0')) || parseHttpDate('0') !== t);
  assert.ok(Number.isNaN(parseHttpDate('not a date')));
  assert.ok(Number.isNaN(parseHttpDate('')));
});

test('If-None-Match uses the weak comparison and understands * and lists', () => {
  assert.equal(noneMatchHits('"v1"', '"v1"'), true);
  assert.equal(noneMatchHits('W/"v1"', '"v1"'), true);
  assert.equal(noneMatchHits('"v1"', 'W/"v1"'), true);
  assert.equal(noneMatchHits('"a", "v1,x"', '"v1,x"'), true);
  assert.equal(noneMatchHits('"v2"', '"v1"'), false);
  assert.equal(noneMatchHits('*', '"v1"'), true);
  assert.equal(noneMatchHits('*', ''), true);
  assert.equal(noneMatchHits('"v1"', ''), false);
});

test('headerValues joins repeated fields in order', () => {
  assert.equal(headerValues(['vary', 'accept', 'x', '1', 'vary', 'accept-language'], 'vary'), 'accept, accept-language');
  assert.equal(headerValues([], 'vary'), '');
});
