import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../../ingress/request-context.js';
import { RequestKey } from './request-key.js';

function context(headers: Array<[string, string]>): RequestContext {
  const ctx = new RequestContext(null as never);
  ctx.clientIp = '10.1.2.3';
  for (const [n, v] of headers) { ctx.headerNames.push(n); ctx.headerValues.push(v); }
  return ctx;
}

test('header and consumer-header parts count by digest: a credential never appears in a limit key', () => {
  const key = new RequestKey(['consumer', 'header:x-tenant', 'route'], 'x-api-key');
  const secret = 'sk_live_0123456789abcdef';
  const a = key.build(context([['x-api-key', secret], ['x-tenant', 'acme']]), 'orders');
  assert.ok(!a.includes(secret) && !a.includes('acme'), a);
  assert.equal(a, key.build(context([['x-api-key', secret], ['x-tenant', 'acme']]), 'orders'), 'stable');
  assert.notEqual(a, key.build(context([['x-api-key', secret + 'x'], ['x-tenant', 'acme']]), 'orders'), 'distinct keys count apart');
  // Without the header the client address counts; an authenticated consumer counts by id.
  assert.equal(key.build(context([]), 'orders'), 'ip:10.1.2.3\nip:10.1.2.3\norders');
  const authed = context([['x-api-key', secret]]);
  authed.consumer = { id: 'acme', username: '', groups: [], credential: { kind: 'api-key', id: 'ci' }, claims: null };
  assert.ok(key.build(authed, 'orders').startsWith('c:acme\n'));
});
