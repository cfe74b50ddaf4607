import { test } from 'node:test';
import assert from 'node:assert/strict';
import { addVaryOrigin, allHeadersAllowed, isTokenList, stripCorsHeaders, VARY_COVERED, varyCoversOrigin } from './cors-headers.js';

test('varyCoversOrigin finds origin (any case) or * as a whole token', () => {
  for (const v of ['Origin', 'origin', 'Accept-Encoding, ORIGIN', ' accept ,origin ', '*', 'a,*', 'a,\tOrigin\t']) assert.equal(varyCoversOrigin(v), true, v);
  for (const v of ['', 'Accept-Encoding', 'origins', 'x-origin', 'origin-x', 'ori gin', '**']) assert.equal(varyCoversOrigin(v), false, v);
});

test('stripCorsHeaders drops upstream access-control-* and reports vary', () => {
  const list = ['content-type', 'text/plain', 'access-control-allow-origin', 'https://evil.test', 'vary', 'Accept-Encoding',
    'access-control-allow-credentials', 'true', 'x-a', '1', 'access-control-', 'kept'];
  const at = stripCorsHeaders(list);
  assert.deepEqual(list, ['content-type', 'text/plain', 'vary', 'Accept-Encoding', 'x-a', '1', 'access-control-', 'kept']);
  assert.equal(at, 2);
  addVaryOrigin(list, at);
  assert.equal(list[3], 'Accept-Encoding, Origin');

  const none = ['x-a', '1'];
  const n = stripCorsHeaders(none);
  assert.equal(n, -1);
  addVaryOrigin(none, n);
  assert.deepEqual(none, ['x-a', '1', 'vary', 'Origin']);

  const covered = ['vary', 'Accept', 'vary', 'origin'];
  const c = stripCorsHeaders(covered);
  assert.equal(c, VARY_COVERED);
  addVaryOrigin(covered, c);
  assert.deepEqual(covered, ['vary', 'Accept', 'vary', 'origin']);

  const star = ['vary', '*'];
  addVaryOrigin(star, stripCorsHeaders(star));
  assert.deepEqual(star, ['vary', '*']);

  const blank = ['vary', ' '];
  addVaryOrigin(blank, stripCorsHeaders(blank));
  assert.deepEqual(blank, ['vary', 'Origin']);

  const two = ['vary', 'Accept', 'x', 'y', 'vary', 'Cookie'];
  addVaryOrigin(two, stripCorsHeaders(two));
  assert.deepEqual(two, ['vary', 'Accept', 'x', 'y', 'vary', 'Cookie, Origin']);
});

test('isTokenList accepts header-name lists only', () => {
  for (const v of ['content-type', 'content-type,x-foo', 'Content-Type, X-Foo', ' a ,\tb']) assert.equal(isTokenList(v), true, v);
  for (const v of ['', ' , ', 'a\r\nx-evil: 1', 'a;b', 'a:b', 'a\u00e9', 'a"b', 'a/b']) assert.equal(isTokenList(v), false, JSON.stringify(v));
});

test('allHeadersAllowed checks every requested name case-insensitively', () => {
  const allowed = new Set(['content-type', 'authorization', 'x-foo']);
  for (const v of ['content-type', 'content-type,authorization', 'Content-Type, X-Foo', ' x-foo ', 'x-foo,,authorization']) assert.equal(allHeadersAllowed(v, allowed), true, v);
  for (const v of ['', ',', 'x-bar', 'content-type,x-bar', 'content-type x-foo', 'content-type\r\n', 'x-foo;', 'content-typ']) assert.equal(allHeadersAllowed(v, allowed), false, JSON.stringify(v));
  assert.equal(allHeadersAllowed('x-foo', new Set()), false);
});
