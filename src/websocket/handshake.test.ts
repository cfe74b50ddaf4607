import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HttpResponse } from 'uWebSockets.js';
import { RequestContext } from '../ingress/request-context.js';
import { isWebSocketHandshake, offeredSubprotocols, upstreamHandshakeHeaders, upstreamWebSocketUrl } from './handshake.js';

function ctx(headers: Array<[string, string]>): RequestContext {
  const c = new RequestContext(null as unknown as HttpResponse);
  for (const [n, v] of headers) c.addHeader(n, v);
  c.peerIp = '10.1.2.3';
  c.requestId = 'rid-1';
  c.rawHost = headers.find(([n]) => n === 'host')?.[1] ?? '';
  c.connection = headers.find(([n]) => n === 'connection')?.[1] ?? '';
  return c;
}

test('a handshake is a request whose Upgrade lists websocket (any case)', () => {
  assert.equal(isWebSocketHandshake(ctx([['upgrade', 'websocket']])), true);
  assert.equal(isWebSocketHandshake(ctx([['upgrade', 'WebSocket']])), true);
  assert.equal(isWebSocketHandshake(ctx([['upgrade', 'h2c, websocket']])), true);
  assert.equal(isWebSocketHandshake(ctx([['upgrade', 'h2c']])), false);
  assert.equal(isWebSocketHandshake(ctx([['upgrade', 'websockets']])), false);
  assert.equal(isWebSocketHandshake(ctx([])), false);
});

test('offered subprotocols: every line, in order, duplicates dropped; a non-token refuses', () => {
  assert.deepEqual(offeredSubprotocols(ctx([])), []);
  assert.deepEqual(offeredSubprotocols(ctx([['sec-websocket-protocol', 'chat.v2, chat.v1'], ['sec-websocket-protocol', 'chat.v1,mqtt']])), ['chat.v2', 'chat.v1', 'mqtt']);
  assert.deepEqual(offeredSubprotocols(ctx([['sec-websocket-protocol', ' a ,, b ']])), ['a', 'b']);
  assert.equal(offeredSubprotocols(ctx([['sec-websocket-protocol', 'a b']])), null);
  assert.equal(offeredSubprotocols(ctx([['sec-websocket-protocol', 'a;b']])), null);
  assert.equal(offeredSubprotocols(ctx([['sec-websocket-protocol', 'a/b']])), null);
});

test('upstream headers: forwarding headers set, hop-by-hop and Sec-WebSocket-* and spoofed identity dropped, repeats grouped', () => {
  const h = upstreamHandshakeHeaders(ctx([
    ['host', 'api.example.com'], ['connection', 'Upgrade'], ['upgrade', 'websocket'], ['sec-websocket-key', 'k'],
    ['sec-websocket-version', '13'], ['sec-websocket-extensions', 'permessage-deflate'], ['sec-websocket-protocol', 'chat'],
    ['x-forwarded-for', '6.6.6.6'], ['x-consumer-id', 'admin'], ['cookie', 'a=1'], ['cookie', 'b=2'], ['origin', 'https://app'],
    ['__proto__', 'x'],
  ]), '', 'https');
  assert.equal(Object.getPrototypeOf(h), null);
  assert.deepEqual({ ...h }, {
    cookie: ['a=1', 'b=2'], origin: 'https://app', ['__proto__']: 'x',
    'x-forwarded-for': '10.1.2.3', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'api.example.com', 'x-request-id': 'rid-1',
  });
  const kept = upstreamHandshakeHeaders(ctx([['host', 'api.example.com']]), 'api.example.com', 'http');
  assert.equal(kept.host, 'api.example.com', 'preserveHost sends the client Host');
});

test('target origins become ws:// and wss:// URLs', () => {
  assert.equal(upstreamWebSocketUrl('http://10.0.0.1:3000', '/chat?x=1'), 'ws://10.0.0.1:3000/chat?x=1');
  assert.equal(upstreamWebSocketUrl('https://api.internal', '/'), 'wss://api.internal/');
});
