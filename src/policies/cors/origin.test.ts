import { test } from 'node:test';
import assert from 'node:assert/strict';
import { OriginMatcher, parseOriginEntry, validSubdomain, asciiLower } from './origin.js';

function matcher(...origins: string[]): OriginMatcher {
  return new OriginMatcher(origins.map(parseOriginEntry));
}

test('origins are normalised: lower case, default ports dropped, wildcards split into prefix and suffix', () => {
  assert.deepEqual(parseOriginEntry('*'), { kind: 'any' });
  assert.deepEqual(parseOriginEntry('null'), { kind: 'exact', origin: 'null' });
  assert.deepEqual(parseOriginEntry('HTTPS://App.Example.COM'), { kind: 'exact', origin: 'https://app.example.com' });
  assert.deepEqual(parseOriginEntry('https://app.example.com:443'), { kind: 'exact', origin: 'https://app.example.com' });
  assert.deepEqual(parseOriginEntry('http://app.example.com:80'), { kind: 'exact', origin: 'http://app.example.com' });
  assert.deepEqual(parseOriginEntry('http://localhost:03000'), { kind: 'exact', origin: 'http://localhost:3000' });
  assert.deepEqual(parseOriginEntry('https://app.example.com:8443'), { kind: 'exact', origin: 'https://app.example.com:8443' });
  assert.deepEqual(parseOriginEntry('http://[::1]:8080'), { kind: 'exact', origin: 'http://[::1]:8080' });
  assert.deepEqual(parseOriginEntry('http://127.0.0.1'), { kind: 'exact', origin: 'http://127.0.0.1' });
  assert.deepEqual(parseOriginEntry('capacitor://localhost'), { kind: 'exact', origin: 'capacitor://localhost' });
  assert.deepEqual(parseOriginEntry('https://*.Example.com'), { kind: 'wildcard', prefix: 'https://', suffix: '.example.com' });
  assert.deepEqual(parseOriginEntry('https://*.example.com:8443'), { kind: 'wildcard', prefix: 'https://', suffix: '.example.com:8443' });
  assert.deepEqual(parseOriginEntry('https://*.example.com:443'), { kind: 'wildcard', prefix: 'https://', suffix: '.example.com' });
});

test('malformed origins are refused with a reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['app.example.com', /is not an origin/],
    ['https://app.example.com/', /must not have a path/],
    ['https://app.example.com/x', /must not have a path/],
    ['https://app.example.com?q', /must not have a path, query/],
    ['https://user@app.example.com', /user info/],
    ['https://app.example.com:0', /invalid port/],
    ['https://app.example.com:70000', /invalid port/],
    ['https://app.example.com:', /invalid port/],
    ['https://app.exa mple.com', /whitespace/],
    ['https://app.example.com\r\nx-evil: 1', /control characters/],
    ['https://bücher.example', /punycode/],
    ['https://*.com', /at least two labels/],
    ['https://*', /only allowed as the whole first label/],
    ['https://*.', /invalid host after/],
    ['https://a.*.example.com', /only allowed as the whole first label/],
    ['https://*example.com', /only allowed as the whole first label/],
    ['https://app..example.com', /invalid host/],
    ['https://-app.example.com', /invalid host/],
    ['https://', /invalid host/],
    ['NULL', /is not an origin/],
  ];
  for (const [text, want] of cases) {
    const e = parseOriginEntry(text);
    assert.equal(e.kind, 'invalid', text);
    assert.match((e as { message: string }).message, want, text);
  }
});

test('exact origins match exactly, up to ASCII case of what the client sent', () => {
  const m = matcher('https://app.example.com', 'http://localhost:3000');
  assert.equal(m.allows('https://app.example.com'), true);
  assert.equal(m.allows('HTTPS://APP.EXAMPLE.COM'), true);
  assert.equal(m.allows('http://localhost:3000'), true);
  for (const o of [
    'https://app.example.com.evil.com', 'https://evil-app.example.com', 'http://app.example.com', 'https://app.example.com:8443',
    'https://app.example.co', 'https://app.example.com/', 'https://app.example.com ', 'http://localhost:30000', 'http://localhost',
    'null', '*', 'https://app.example.\u212Aom', 'https://app.example.com\r\n',
  ]) assert.equal(m.allows(o), false, o);
});

test('wildcard subdomains: any depth of labels, never the apex, lookalikes, other schemes or ports', () => {
  const m = matcher('https://*.example.com');
  for (const o of ['https://a.example.com', 'https://a.b.example.com', 'https://x-1_y.example.com', 'https://A.Example.Com']) assert.equal(m.allows(o), true, o);
  for (const o of [
    'https://example.com', 'https://example.com.evil.com', 'https://evil-example.com', 'https://evilexample.com', 'https://.example.com',
    'https://a..example.com', 'http://a.example.com', 'https://a.example.com:8443', 'https://a.example.com.', 'wss://a.example.com',
    'https://x.evil.com:1@a.example.com', 'https://evil.com/.example.com', 'https://a b.example.com', 'https://a\u212A.example.com', 'null',
  ]) assert.equal(m.allows(o), false, o);
  const p = matcher('https://*.example.com:8443');
  assert.equal(p.allows('https://a.example.com:8443'), true);
  assert.equal(p.allows('https://a.example.com'), false);
  assert.equal(p.allows('https://a.example.com:84431'), false);
});

test('"*" allows every origin but null; null only when listed', () => {
  const any = matcher('*');
  assert.equal(any.any, true);
  assert.equal(any.allows('https://whatever.test'), true);
  assert.equal(any.allows('null'), false);
  assert.equal(matcher('*', 'null').allows('null'), true);
  assert.equal(matcher('null').allows('null'), true);
  assert.equal(matcher('https://*.example.com').allows('null'), false);
});

test('validSubdomain and asciiLower', () => {
  assert.equal(validSubdomain('xa.bx', 1, 4), true);
  assert.equal(validSubdomain('x.ax', 1, 3), false);
  assert.equal(validSubdomain('xa.x', 1, 3), false);
  assert.equal(validSubdomain('xx', 1, 1), false);
  assert.equal(asciiLower('abc'), 'abc');
  assert.equal(asciiLower('AbC'), 'abc');
  assert.equal(asciiLower('a\u212A'), null);
  assert.equal(asciiLower('a b'), null);
});

test('an invalid entry cannot reach the matcher', () => {
  assert.throws(() => matcher('https://x.com/'), /invalid origin entry/);
});
