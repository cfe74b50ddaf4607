import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestContext } from '../ingress/request-context.js';
import { buildForwardingHeaders, buildUpstreamHeaders, isDroppedResponseHeader } from './forward-headers.js';

const FORWARDING = new Set(['x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id']);

function context(peerTrusted: boolean, headers: Array<[string, string]>): RequestContext {
  // No response is written in this file, so the context needs none.
  const ctx = new RequestContext(null as never);
  ctx.peerIp = '10.0.0.9';
  ctx.peerTrusted = peerTrusted;
  ctx.requestId = 'rid-1';
  for (const [n, v] of headers) {
    ctx.headerNames.push(n);
    ctx.headerValues.push(v);
    if (n === 'host') ctx.rawHost = v;
  }
  return ctx;
}

/** The forwarding part of the full HTTP header list, as pairs. */
function forwardingOf(list: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < list.length; i += 2) if (FORWARDING.has(list[i])) out.push([list[i], list[i + 1]]);
  return out;
}

function pairs(list: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < list.length; i += 2) out.push([list[i], list[i + 1]]);
  return out;
}

const CLIENT_CHAIN: Array<[string, string]> = [
  ['host', 'api.example.com'], ['x-forwarded-for', '1.2.3.4'], ['x-forwarded-for', '5.6.7.8'],
  ['x-forwarded-proto', 'https'], ['x-forwarded-host', 'edge.example.com'], ['x-request-id', 'client-id'], ['accept', '*/*'],
];

test('buildForwardingHeaders: untrusted peer → the client chain is replaced by the peer (no spoofing)', () => {
  const ctx = context(false, CLIENT_CHAIN);
  assert.deepEqual(pairs(buildForwardingHeaders(ctx, 'http')), [
    ['x-forwarded-for', '10.0.0.9'], ['x-forwarded-proto', 'http'], ['x-forwarded-host', 'api.example.com'], ['x-request-id', 'rid-1'],
  ]);
});

test('buildForwardingHeaders: trusted peer → the chain is kept (repeated headers joined) and the peer appended', () => {
  const ctx = context(true, CLIENT_CHAIN);
  assert.deepEqual(pairs(buildForwardingHeaders(ctx, 'http')), [
    ['x-forwarded-for', '1.2.3.4, 5.6.7.8, 10.0.0.9'], ['x-forwarded-proto', 'https'], ['x-forwarded-host', 'edge.example.com'], ['x-request-id', 'rid-1'],
  ]);
});

test('buildForwardingHeaders equals the forwarding part of buildUpstreamHeaders', () => {
  const cases: Array<[boolean, Array<[string, string]>]> = [
    [false, CLIENT_CHAIN], [true, CLIENT_CHAIN], [true, [['accept', '*/*']]], [false, []], [true, [['host', 'h'], ['x-forwarded-for', '9.9.9.9']]],
  ];
  for (const [trusted, headers] of cases) {
    const ctx = context(trusted, headers);
    assert.deepEqual(pairs(buildForwardingHeaders(ctx, 'http')), forwardingOf(buildUpstreamHeaders(ctx, '', 'http')), JSON.stringify([trusted, headers]));
  }
  // No Host: no X-Forwarded-Host.
  assert.deepEqual(pairs(buildForwardingHeaders(context(false, []), 'http')).map(([n]) => n), ['x-forwarded-for', 'x-forwarded-proto', 'x-request-id']);
});

test('client-sent identity headers never reach the upstream; the gateway adds the consumer it established', () => {
  const spoofed: Array<[string, string]> = [['x-consumer-id', 'admin'], ['x-consumer-username', 'root'], ['x-consumer-groups', 'admins'],
    ['x-anonymous-consumer', 'false'], ['x-client-cert-subject', 'CN=admin'], ['x-client-cert-fingerprint', 'ab'], ['accept', '*/*']];
  const anonymous = context(true, spoofed);
  assert.deepEqual(pairs(buildUpstreamHeaders(anonymous, '', 'http')).filter(([n]) => !FORWARDING.has(n)), [['accept', '*/*']]);
  assert.deepEqual(pairs(buildForwardingHeaders(anonymous, 'http')).map(([n]) => n), ['x-forwarded-for', 'x-forwarded-proto', 'x-request-id']);

  const authed = context(false, spoofed);
  authed.consumer = { id: 'acme', username: 'acme-corp', groups: ['partners', 'beta'], credential: { kind: 'api-key', id: 'ci' }, claims: null };
  authed.addUpstreamIdentity('x-client-cert-subject', 'CN=partner-1');
  const expected = [['x-consumer-id', 'acme'], ['x-consumer-username', 'acme-corp'], ['x-consumer-groups', 'partners,beta'], ['x-client-cert-subject', 'CN=partner-1']];
  assert.deepEqual(pairs(buildUpstreamHeaders(authed, '', 'http')).filter(([n]) => !FORWARDING.has(n) && n !== 'accept'), expected);
  assert.deepEqual(pairs(buildForwardingHeaders(authed, 'http')).filter(([n]) => !FORWARDING.has(n)), expected);

  const anon = context(false, []);
  anon.consumer = { id: 'guest', username: '', groups: [], credential: { kind: 'anonymous', id: '' }, claims: null, anonymous: true };
  assert.deepEqual(pairs(buildUpstreamHeaders(anon, '', 'http')).filter(([n]) => !FORWARDING.has(n)), [['x-consumer-id', 'guest'], ['x-anonymous-consumer', 'true']]);
});

test('isDroppedResponseHeader: hop-by-hop, framing, and the Date / uWebSockets headers uWS writes itself, any case', () => {
  for (const n of ['Connection', 'keep-alive', 'TE', 'Trailer', 'upgrade', 'Content-Length', 'Transfer-Encoding', 'proxy-connection', 'Date', 'uWebSockets', 'UWEBSOCKETS']) {
    assert.equal(isDroppedResponseHeader(Buffer.from(n)), true, n);
  }
  for (const n of ['content-type', 'etag', 'x-request-id', 'set-cookie', 'uwebsocket', 'dates']) {
    assert.equal(isDroppedResponseHeader(Buffer.from(n)), false, n);
  }
});
