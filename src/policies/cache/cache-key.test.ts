import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../ingress/request-context.js';
import { CacheKey, escapePart, snapshotLookup, varyKey, contextLookup } from './cache-key.js';

function ctx(method: string, host: string, path: string, query: string, headers: Record<string, string | string[]> = {}): RequestContext {
  const c = new RequestContext(null as never);
  c.method = method;
  c.rawHost = host;
  c.path = path;
  c.query = query;
  for (const [n, v] of Object.entries(headers)) for (const x of Array.isArray(v) ? v : [v]) c.addHeader(n, x);
  return c;
}

test('parts are joined by single spaces in the configured order; HEAD keys as GET; host lower-cased', () => {
  const k = new CacheKey(['method', 'host', 'path', 'query', 'header:accept-language']);
  assert.equal(k.build(ctx('GET', 'Shop.Example.com', '/catalog/1', 'a=1&b=2', { 'accept-language': 'en' })), 'GET shop.example.com /catalog/1 a=1&b=2 en');
  assert.equal(k.build(ctx('HEAD', 'shop.example.com', '/catalog/1', '', {})), 'GET shop.example.com /catalog/1  ');
  assert.equal(k.build(ctx('POST', 'h', '/x', ''), 'GET'), 'GET h /x  ');
  assert.equal(new CacheKey(['path']).build(ctx('GET', 'h', '/catalog/2', 'q=1')), '/catalog/2');
  assert.equal(new CacheKey(['query', 'path']).build(ctx('GET', 'h', '/p', 'z=1')), 'z=1 /p');
});

test('header values cannot imitate part boundaries (space and % are encoded); repeated headers are joined', () => {
  const k = new CacheKey(['header:a', 'header:b']);
  const one = k.build(ctx('GET', 'h', '/', '', { a: 'x y', b: 'z' }));
  const two = k.build(ctx('GET', 'h', '/', '', { a: 'x', b: 'y z' }));
  assert.notEqual(one, two);
  assert.equal(one, 'x%20y z');
  assert.equal(k.build(ctx('GET', 'h', '/', '', { a: '100%', b: ['1', '2'] })), '100%25 1,%202');
  assert.equal(escapePart('plain'), 'plain');
});

test('credential headers enter keys as a digest only', () => {
  const k = new CacheKey(['path', 'header:authorization', 'header:cookie']);
  const key = k.build(ctx('GET', 'h', '/me', '', { authorization: 'Bearer secret-token', cookie: 'sid=abc' }));
  assert.ok(!key.includes('secret') && !key.includes('sid=abc'), key);
  assert.match(key, /^\/me sha256:[A-Za-z0-9_-]{22} sha256:[A-Za-z0-9_-]{22}$/);
  const other = k.build(ctx('GET', 'h', '/me', '', { authorization: 'Bearer other', cookie: 'sid=abc' }));
  assert.notEqual(key, other);
  assert.equal(k.build(ctx('GET', 'h', '/me', '')), '/me  ');
});

test('consumer part: the identified consumer id, or empty', () => {
  const k = new CacheKey(['consumer', 'path']);
  const c = ctx('GET', 'h', '/p', '');
  assert.equal(k.build(c), ' /p');
  c.consumer = { id: 'acme', username: '', groups: [], credential: null, claims: null } as never;
  assert.equal(k.build(c), 'acme /p');
});

test('the Vary part lists the request values of each named header after a newline', () => {
  const c = ctx('GET', 'h', '/', '', { 'accept-language': ' de ', accept: ['a', 'b'] });
  assert.equal(varyKey(['accept-language', 'accept', 'x-missing'], contextLookup(c)), '\nde\na, b\n');
  const snap = snapshotLookup(c);
  c.removeHeader('accept');
  assert.equal(snap('accept'), 'a, b', 'a snapshot outlives changes to the request');
});
