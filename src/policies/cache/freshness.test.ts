import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mergeNotModified, planStore, type StorePlan } from './freshness.js';
import { cacheSettings } from './settings.js';
import type { CacheConfig } from './schema.js';

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);
const DATE = new Date(T0).toUTCString();
const rc = { requestTime: T0, responseTime: T0, authorized: false };
const s = (c: CacheConfig = {}) => cacheSettings('p', c);

function plan(status: number, headers: string[], c: CacheConfig = {}, r = rc): StorePlan {
  const p = planStore(status, headers, r, s(c));
  assert.ok(typeof p !== 'string', `not stored: ${p as string}`);
  return p;
}

test('explicit freshness: s-maxage over max-age over Expires − Date; ttl only when the upstream says nothing', () => {
  assert.equal(plan(200, ['date', DATE, 'cache-control', 'max-age=10, s-maxage=20']).times.freshUntil, T0 + 20_000);
  assert.equal(plan(200, ['date', DATE, 'cache-control', 'max-age=10', 'expires', new Date(T0 + 99_000).toUTCString()]).times.freshUntil, T0 + 10_000);
  assert.equal(plan(200, ['date', DATE, 'expires', new Date(T0 + 30_000).toUTCString()]).times.freshUntil, T0 + 30_000);
  assert.equal(plan(200, ['date', DATE], { ttl: '5s' }).times.freshUntil, T0 + 5_000);
  // 404 gets no default freshness unless listed; with explicit freshness it is stored.
  assert.equal(planStore(404, ['date', DATE], rc, s()), 'no-freshness');
  assert.equal(plan(404, ['date', DATE], { ttlStatuses: [404] }).times.freshUntil, T0 + 60_000);
  assert.equal(plan(404, ['cache-control', 'max-age=5']).times.freshUntil, T0 + 5_000);
  assert.equal(planStore(200, ['date', DATE], rc, s({ ttl: 0 })), 'no-freshness');
});

test('an invalid Expires means already expired: stored only with a validator, for ttl', () => {
  assert.equal(planStore(200, ['expires', '0'], rc, s()), 'stale');
  const p = plan(200, ['expires', '0', 'etag', '"a"']);
  assert.equal(p.times.freshUntil, T0);
  assert.equal(p.times.keepUntil, T0 + 60_000);
});

test('what is never stored', () => {
  assert.equal(planStore(206, ['cache-control', 'max-age=60'], rc, s()), 'status');
  assert.equal(planStore(500, ['cache-control', 'max-age=60'], rc, s()), 'status');
  assert.equal(planStore(302, ['cache-control', 'max-age=60'], rc, s()), 'status');
  assert.equal(planStore(200, ['cache-control', 'max-age=60, no-store'], rc, s()), 'no-store');
  assert.equal(planStore(200, ['cache-control', 'private, max-age=60'], rc, s()), 'private');
  assert.equal(planStore(200, ['vary', 'accept, *'], rc, s()), 'vary-star');
  assert.equal(planStore(200, ['set-cookie', 'a=1'], rc, s()), 'set-cookie');
  assert.equal(planStore(200, ['cache-control', 'no-cache'], rc, s()), 'no-cache-without-validator');
});

test('Set-Cookie: strip stores without it, store keeps it', () => {
  const h = ['content-type', 'text/plain', 'set-cookie', 'a=1', 'set-cookie', 'b=2'];
  assert.deepEqual(plan(200, h, { setCookie: 'strip' }).headers, ['content-type', 'text/plain']);
  assert.deepEqual(plan(200, h, { setCookie: 'store' }).headers, h);
});

test('authorized requests: stored only when public, s-maxage or must-revalidate say so (RFC 9111 §3.5)', () => {
  const a = { ...rc, authorized: true };
  assert.equal(planStore(200, ['cache-control', 'max-age=60'], a, s({ cacheAuthorized: true })), 'authorization');
  for (const cc of ['public, max-age=60', 's-maxage=60', 'must-revalidate, max-age=60']) {
    assert.equal(typeof planStore(200, ['cache-control', cc], a, s({ cacheAuthorized: true })), 'object', cc);
  }
});

test('age: the larger of Date-based apparent age and Age + response delay (RFC 9111 §4.2.3)', () => {
  const r = { requestTime: T0 - 2_000, responseTime: T0, authorized: false };
  assert.equal(plan(200, ['date', DATE, 'age', '10', 'cache-control', 'max-age=60'], {}, r).times.initialAgeMs, 12_000);
  assert.equal(plan(200, ['date', new Date(T0 - 30_000).toUTCString(), 'cache-control', 'max-age=60'], {}, r).times.initialAgeMs, 30_000);
  const p = plan(200, ['age', '50', 'cache-control', 'max-age=60'], {}, rc);
  assert.equal(p.times.freshUntil, T0 + 10_000);
});

test('stale windows: the config, overridden by the response; none with must-revalidate, s-maxage or no-cache', () => {
  const c: CacheConfig = { staleWhileRevalidate: '30s', staleIfError: '5m' };
  const p = plan(200, ['cache-control', 'max-age=10'], c);
  assert.deepEqual([p.times.swrMs, p.times.sieMs, p.times.keepUntil], [30_000, 300_000, T0 + 310_000]);
  const q = plan(200, ['cache-control', 'max-age=10, stale-while-revalidate=5, stale-if-error=7'], c);
  assert.deepEqual([q.times.swrMs, q.times.sieMs], [5_000, 7_000]);
  for (const cc of ['max-age=10, must-revalidate', 'max-age=10, proxy-revalidate', 's-maxage=10']) {
    const m = plan(200, ['cache-control', cc], c);
    assert.deepEqual([m.times.swrMs, m.times.sieMs, m.times.mustRevalidate], [0, 0, true], cc);
  }
  const n = plan(200, ['cache-control', 'no-cache, max-age=10', 'etag', '"x"'], c);
  assert.deepEqual([n.times.noCache, n.times.swrMs, n.times.sieMs], [true, 0, 0]);
});

test('validators, Vary names and stored headers', () => {
  const p = plan(200, [
    'date', DATE, 'age', '0', 'content-length', '5', 'transfer-encoding', 'chunked', 'x-request-id', 'up-1', 'x-cache', 'HIT',
    'etag', '"v1"', 'last-modified', 'Sun, 06 Nov 1994 08:49:37 GMT', 'vary', 'Accept-Language, accept-language', 'vary', 'accept',
    'content-type', 'text/plain', 'cache-control', 'max-age=60',
  ]);
  assert.equal(p.times.etag, '"v1"');
  assert.equal(p.times.lastModifiedMs, Date.UTC(1994, 10, 6, 8, 49, 37));
  assert.deepEqual(p.varyNames, ['accept-language', 'accept']);
  assert.deepEqual(p.headers, [
    'etag', '"v1"', 'last-modified', 'Sun, 06 Nov 1994 08:49:37 GMT', 'vary', 'Accept-Language, accept-language', 'vary', 'accept',
    'content-type', 'text/plain', 'cache-control', 'max-age=60',
  ]);
});

test('a 304 updates the stored fields it carries, except framing and encoding', () => {
  const stored = ['content-type', 'text/plain', 'etag', '"v1"', 'cache-control', 'max-age=10', 'content-encoding', 'gzip'];
  const merged = mergeNotModified(stored, ['date', DATE, 'cache-control', 'max-age=99', 'content-length', '0', 'content-encoding', 'br', 'x-new', '1']);
  assert.deepEqual(merged, ['content-type', 'text/plain', 'etag', '"v1"', 'content-encoding', 'gzip', 'date', DATE, 'cache-control', 'max-age=99', 'x-new', '1']);
  assert.equal(plan(200, merged).times.freshUntil, T0 + 99_000);
});
