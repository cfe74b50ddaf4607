import assert from 'node:assert/strict';
import { test } from 'node:test';
import { adminTokenSha256, BEARER_TOKEN_SYNTAX, checkBearer, isLoopbackHost, isOpenAdminPath } from './admin-auth.js';

test('checkBearer: ok for the token, invalid for another, missing without a Bearer header', () => {
  const digest = adminTokenSha256('tok-en.1~+/=');
  assert.equal(checkBearer('Bearer tok-en.1~+/=', digest), 'ok');
  assert.equal(checkBearer('bearer   tok-en.1~+/=', digest), 'ok');
  assert.equal(checkBearer('Bearer tok-en.1~+/', digest), 'invalid');
  assert.equal(checkBearer('Bearer a-much-longer-token-than-the-real-one-to-compare', digest), 'invalid');
  assert.equal(checkBearer(undefined, digest), 'missing');
  assert.equal(checkBearer('Basic dXNlcjpwYXNz', digest), 'missing');
  assert.equal(checkBearer('Bearer', digest), 'missing');
});

test('bearer token syntax is RFC 6750 b64token', () => {
  for (const ok of ['abc', 'A-Z_0.9~+/', 'abc==']) assert.ok(BEARER_TOKEN_SYNTAX.test(ok), ok);
  for (const bad of ['', 'a b', 'a=b', 'tok!', 'ü']) assert.ok(!BEARER_TOKEN_SYNTAX.test(bad), bad);
});

test('open paths: probes and the dashboard shell, not the data', () => {
  for (const p of ['/healthz', '/readyz', '/ui', '/ui/', '/ui/assets/dashboard.js', '/ui/api/session']) assert.ok(isOpenAdminPath(p), p);
  for (const p of ['/metrics', '/routes', '/upstreams', '/consumers', '/cache', '/ui/api/snapshot', '/uix']) assert.ok(!isOpenAdminPath(p), p);
});

test('isLoopbackHost', () => {
  for (const h of ['127.0.0.1', '127.8.9.10', 'localhost', '::1', '[::1]', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com', '::ffff:10.0.0.1']) assert.ok(!isLoopbackHost(h), h);
});
