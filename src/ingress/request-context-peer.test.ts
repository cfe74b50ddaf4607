import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpResponse } from 'uWebSockets.js';
import { RequestContext } from './request-context.js';
import { TrustedProxies } from './trusted-proxies.js';

/** A response stand-in that only answers the peer address, counting reads. */
function res(address: string): { res: HttpResponse; reads: () => number } {
  let n = 0;
  const fake = { getRemoteAddressAsText() { n++; return new TextEncoder().encode(address).buffer; } };
  return { res: fake as unknown as HttpResponse, reads: () => n };
}

test('the peer address is read from uWS once, on first use, and resolved through the trusted proxies', () => {
  const r = res('0000:0000:0000:0000:0000:ffff:0a00:0005');
  const ctx = new RequestContext(r.res);
  ctx.trusted = new TrustedProxies(['10.0.0.0/8']);
  ctx.headerNames.push('x-forwarded-for');
  ctx.headerValues.push('203.0.113.7, 10.0.0.9');
  assert.equal(r.reads(), 0, 'nothing read until asked');
  assert.equal(ctx.clientIp, '203.0.113.7');
  assert.equal(ctx.peerIp, '10.0.0.5');
  assert.equal(ctx.peerTrusted, true);
  assert.equal(r.reads(), 1);
});

test('an untrusted peer is the client; a response already finished or aborted reads no address', () => {
  const r = res('192.0.2.1');
  const ctx = new RequestContext(r.res);
  ctx.trusted = new TrustedProxies([]);
  ctx.headerNames.push('x-forwarded-for');
  ctx.headerValues.push('203.0.113.7');
  assert.deepEqual([ctx.peerIp, ctx.clientIp, ctx.peerTrusted], ['192.0.2.1', '192.0.2.1', false]);
  for (const end of ['finished', 'aborted'] as const) {
    const late = new RequestContext(r.res);
    late[end] = true;
    assert.deepEqual([late.peerIp, late.clientIp], ['', ''], end);
  }
  assert.equal(r.reads(), 1);
});
