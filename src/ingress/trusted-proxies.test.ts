import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalisePeerAddress, TrustedProxies } from './trusted-proxies.js';

test('peer addresses as uWS spells them become their usual short forms', () => {
  assert.equal(normalisePeerAddress('127.0.0.1'), '127.0.0.1');
  assert.equal(normalisePeerAddress('0000:0000:0000:0000:0000:ffff:7f00:0001'), '127.0.0.1');
  assert.equal(normalisePeerAddress('::ffff:10.1.2.3'), '10.1.2.3');
  assert.equal(normalisePeerAddress('0000:0000:0000:0000:0000:0000:0000:0001'), '::1');
  assert.equal(normalisePeerAddress('2001:0db8:0000:0000:0000:ff00:0042:8329'), '2001:db8::ff00:42:8329');
  assert.equal(normalisePeerAddress('2001:0db8:0000:0000:0000:ff00:0042:8329'), '2001:db8::ff00:42:8329', 'memoised');
  assert.equal(normalisePeerAddress('::1'), '::1');
});

test('trusted proxies: the client is the right-most untrusted X-Forwarded-For entry', () => {
  const t = new TrustedProxies(['10.0.0.0/8', '::1']);
  assert.equal(t.has('::1'), true);
  assert.equal(t.clientIp('10.0.0.5', '203.0.113.9, 10.0.0.7'), '203.0.113.9');
  assert.equal(t.clientIp('192.0.2.1', '203.0.113.9'), '192.0.2.1', 'an untrusted peer\'s header is ignored');
});
