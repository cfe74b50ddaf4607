import { test } from 'node:test';
import assert from 'node:assert/strict';
import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { accepts, Coding, codingOf, decode, encode, isJsonType, TooLarge } from './body-codec.js';

test('JSON content types: application/json and +json, parameters and case ignored', () => {
  for (const t of ['application/json', 'Application/JSON; charset=utf-8', 'application/problem+json', 'application/vnd.api+json ; x=1']) assert.ok(isJsonType(t), t);
  for (const t of ['', 'text/plain', 'application/jsonp', 'text/json-seq', '+json', 'application/x-www-form-urlencoded']) assert.ok(!isJsonType(t), t);
});

test('content codings', () => {
  assert.deepEqual(['', 'identity', 'GZIP', 'x-gzip', 'deflate', ' br ', 'zstd', 'gzip, br'].map(codingOf),
    [Coding.Identity, Coding.Identity, Coding.Gzip, Coding.Gzip, Coding.Deflate, Coding.Br, Coding.Unsupported, Coding.Unsupported]);
});

test('decode: gzip, zlib and raw deflate, br; bounded; corrupt data throws', () => {
  const text = Buffer.from(JSON.stringify({ a: 'x'.repeat(1000) }));
  assert.ok(decode(gzipSync(text), Coding.Gzip, 2000).equals(text));
  assert.ok(decode(deflateSync(text), Coding.Deflate, 2000).equals(text));
  assert.ok(decode(deflateRawSync(text), Coding.Deflate, 2000).equals(text));
  assert.ok(decode(brotliCompressSync(text), Coding.Br, 2000).equals(text));
  for (const c of [Coding.Gzip, Coding.Deflate, Coding.Br]) {
    assert.throws(() => decode(encode(text, c), c, 100), TooLarge, `coding ${c}`);
    assert.ok(decode(encode(text, c), c, 2000).equals(text), `round trip ${c}`);
  }
  assert.throws(() => decode(Buffer.from('not gzip'), Coding.Gzip, 2000), (e: unknown) => !(e instanceof TooLarge));
});

test('Accept-Encoding: named with q > 0, or * not excluded', () => {
  assert.ok(accepts('gzip, deflate, br', Coding.Br));
  assert.ok(accepts('br;q=0.1', Coding.Br));
  assert.ok(!accepts('br;q=0', Coding.Br));
  assert.ok(!accepts('gzip;q=0, *', Coding.Gzip));
  assert.ok(accepts('*', Coding.Deflate));
  assert.ok(!accepts('*;q=0', Coding.Deflate));
  assert.ok(accepts('x-gzip', Coding.Gzip));
  assert.ok(!accepts('', Coding.Gzip));
  assert.ok(!accepts('identity', Coding.Gzip));
});
