// WebSocket proxying end to end: a real gateway worker, real ws upstreams and
// clients. Relay (text, 1 MiB binary, pings both ways), subprotocols, the
// headers of both handshakes, path rewriting, what non-websocket routes and
// plain requests do, refusals and failures before the upgrade, and metrics.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type Server } from 'node:net';
import { WebSocketServer } from 'ws';
import { Registry } from 'prom-client';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { configFromYaml, deadPort, nodeRequest, rawRequest } from './helpers.js';
import { messages, nextMessage, openClient, refusal, sleep, startWsUpstream, waitFor, whenClosed, type WsUpstream } from './websocket-helpers.js';

describe('WebSocket proxying: relay, handshakes, routing', () => {
  let up: WsUpstream; let picky: WsUpstream; let refusing: WsUpstream;
  let silent: Server; let legacy: WebSocketServer;
  let gw: GatewayWorker;
  let base = '';
  const registry = new Registry();

  before(async () => {
    up = await startWsUpstream({ upgradeHeaders: ['Set-Cookie: ws=1', 'X-Upstream-Hello: yes'] });
    picky = await startWsUpstream({ handleProtocols: (offered) => (offered.has('v2') ? 'v2' : false) });
    refusing = await startWsUpstream({
      refuse: (req, socket) => {
        const body = JSON.stringify({ error: 'nope', path: req.url });
        socket.end(`HTTP/1.1 403 Forbidden\r\nContent-Type: application/json\r\nX-Why: policy\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
        return true;
      },
    });
    // Accepts TCP, never answers the handshake.
    silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const silentPort = (silent.address() as { port: number }).port;
    // A plain ws server: it answers a request without Upgrade with 426.
    legacy = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => legacy.once('listening', () => r()));
    const legacyPort = (legacy.address() as { port: number }).port;
    const dead = await deadPort();
    gw = await startWorker(configFromYaml(`
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
  picky: { targets: [ { url: "${picky.url}" } ] }
  refusing: { targets: [ { url: "${refusing.url}" } ] }
  silent: { targets: [ { url: "http://127.0.0.1:${silentPort}" } ] }
  dead: { targets: [ { url: "http://127.0.0.1:${dead}" } ] }
  legacy: { targets: [ { url: "http://127.0.0.1:${legacyPort}" } ] }
routes:
  - { name: chat, match: { path: /chat/*, methods: [GET, POST] }, upstream: up, stripPrefix: /chat, websocket: true }
  - { name: rooms, match: { path: /rooms/:id }, upstream: up, rewrite: /v1/rooms/:id/socket, websocket: { maxPayload: 2mb } }
  - { name: picky, match: { path: /picky }, upstream: picky, websocket: true }
  - { name: refusing, match: { path: /refusing }, upstream: refusing, websocket: true }
  - { name: silent, match: { path: /silent }, upstream: silent, websocket: true, timeout: { connect: 1s, headers: 500ms } }
  - { name: dead, match: { path: /dead }, upstream: dead, websocket: true }
  - { name: plain, match: { path: /plain/* }, upstream: up }
  - { name: legacy, match: { path: /legacy }, upstream: legacy }
`), { metricsRegistry: registry });
    base = `ws://127.0.0.1:${gw.port}`;
  });

  after(async () => {
    await gw.drain(500);
    await Promise.all([up.close(), picky.close(), refusing.close()]);
    silent.close();
    legacy.close();
  });

  test('text, 1 MiB binary and pings relay both ways', async () => {
    const { ws } = await openClient(`${base}/chat/room?x=1`);
    const conn = up.latest();
    ws.send('hello');
    const text = await nextMessage(ws);
    assert.equal(text.isBinary, false);
    assert.equal(text.data.toString(), 'hello');
    const big = randomBytes(1024 * 1024);
    ws.send(big);
    const echoed = await nextMessage(ws);
    assert.equal(echoed.isBinary, true);
    assert.ok(echoed.data.equals(big), '1 MiB binary came back intact');
    // A client ping is answered (by the gateway) and reaches the upstream too.
    const pong = new Promise<string>((r) => ws.once('pong', (d) => r(d.toString())));
    ws.ping('are-you-there');
    assert.equal(await pong, 'are-you-there');
    await waitFor('the upstream saw the ping', () => conn.pings.includes('are-you-there'));
    // An upstream ping reaches the client, and the client's pong the upstream.
    const ping = new Promise<string>((r) => ws.once('ping', (d) => r(d.toString())));
    conn.ws.ping('heartbeat');
    assert.equal(await ping, 'heartbeat');
    await waitFor('the upstream got the client pong', () => conn.pongs.includes('heartbeat'));
    ws.close(1000);
    assert.deepEqual(await conn.closed, { code: 1000, reason: '' });
  });

  test('many messages keep their order and kind', async () => {
    const { ws } = await openClient(`${base}/chat/order`);
    const got: string[] = [];
    const done = new Promise<void>((r) => ws.on('message', (d, isBinary) => { got.push((isBinary ? 'b:' : 't:') + d.toString()); if (got.length === 200) r(); }));
    const sent: string[] = [];
    for (let i = 0; i < 200; i++) {
      if (i % 3 === 0) { ws.send(Buffer.from('m' + i)); sent.push('b:m' + i); } else { ws.send('m' + i); sent.push('t:m' + i); }
    }
    await done;
    assert.deepEqual(got, sent);
    ws.close();
  });

  test('the upstream handshake: path rewritten, forwarding headers set, spoofed identity and client extensions not passed', async () => {
    const { ws, headers } = await openClient(`${base}/rooms/r%2042?q=1`, [], {
      headers: { 'x-consumer-id': 'spoofed', 'x-forwarded-for': '6.6.6.6', 'x-request-id': 'rid-ws-1', origin: 'https://app.example' },
    });
    const conn = up.latest();
    assert.equal(conn.url, '/v1/rooms/r%2042/socket?q=1');
    assert.equal(conn.headers['x-forwarded-for'], '127.0.0.1', 'an untrusted client cannot set X-Forwarded-For');
    assert.equal(conn.headers['x-forwarded-proto'], 'http');
    assert.equal(conn.headers['x-request-id'], 'rid-ws-1');
    assert.equal(conn.headers.origin, 'https://app.example');
    assert.equal(conn.headers['x-consumer-id'], undefined, 'client-sent identity headers are stripped');
    assert.equal(conn.headers['sec-websocket-extensions'], undefined, 'no permessage-deflate offered upstream');
    assert.equal(conn.headers.host, `127.0.0.1:${up.port}`);
    // The 101 the client got: the upstream's own headers, the request id, no compression.
    assert.equal(headers['x-upstream-hello'], 'yes');
    assert.equal(headers['set-cookie']?.[0], 'ws=1');
    assert.equal(headers['x-request-id'], 'rid-ws-1');
    assert.equal(headers['sec-websocket-extensions'], undefined);
    ws.close();
  });

  test('subprotocols: the upstream picks, the client gets its pick (or none)', async () => {
    const a = await openClient(`${base}/picky`, ['v1', 'v2']);
    assert.equal(a.ws.protocol, 'v2');
    assert.equal(picky.latest().headers['sec-websocket-protocol'], 'v1,v2');
    a.ws.close();
    // The upstream accepts none: the client's 101 has no Sec-WebSocket-Protocol (its own call whether to go on).
    const b = await rawRequest(gw.port, 'GET /picky HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
      + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v1\r\n\r\n', 500);
    assert.match(b, /^HTTP\/1\.1 101 /);
    assert.doesNotMatch(b, /sec-websocket-protocol/i);
    const bad = await refusal(`${base}/picky`, [], { headers: { 'sec-websocket-protocol': 'v1, bad proto' } });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.code, 'bad_request');
  });

  test('a websocket route proxies plain requests as HTTP', async () => {
    const r = await nodeRequest(gw.port, '/chat/info', {});
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).url, '/info');
    const post = await nodeRequest(gw.port, '/chat/post', { 'content-type': 'text/plain' }, 'POST', 'x');
    assert.equal(post.status, 200);
    // Upgrade: websocket but no Sec-WebSocket-Key: not a handshake, a plain GET (the upstream sees no Upgrade).
    const noKey = await nodeRequest(gw.port, '/chat/nokey', { upgrade: 'websocket', connection: 'upgrade' });
    assert.equal(noKey.status, 200);
    assert.equal(JSON.parse(noKey.body).headers.upgrade, undefined);
  });

  test('a route without websocket answers a handshake as before: a plain GET upstream (a ws server says 426), 404 without a route', async () => {
    const before = up.plain.length;
    const r = await refusal(`${base}/plain/x`);
    assert.equal(r.status, 200, 'this upstream answers plain GETs');
    assert.equal(up.plain.length, before + 1);
    assert.equal(up.plain.at(-1)!.headers.upgrade, undefined, 'the Upgrade header is hop-by-hop: not forwarded');
    const legacyAnswer = await refusal(`${base}/legacy`);
    assert.equal(legacyAnswer.status, 426, 'a ws server gets a plain GET and answers 426 Upgrade Required');
    const unrouted = await refusal(`${base}/nowhere`);
    assert.equal(unrouted.status, 404);
    assert.equal(unrouted.headers['content-type'], 'application/problem+json');
    assert.equal(unrouted.json.code, 'route_not_found');
  });

  test('an upstream refusal (403 with a body) reaches the client as the upstream sent it', async () => {
    const r = await refusal(`${base}/refusing`);
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-why'], 'policy');
    assert.deepEqual(r.json, { error: 'nope', path: '/refusing' });
    assert.ok(typeof r.headers['x-request-id'] === 'string');
  });

  test('an unreachable upstream is a 502, one that never answers the handshake a 504', async () => {
    const dead = await refusal(`${base}/dead`);
    assert.equal(dead.status, 502);
    assert.equal(dead.headers['content-type'], 'application/problem+json');
    assert.equal(dead.json.code, 'upstream_connect_failed');
    const started = Date.now();
    const slow = await refusal(`${base}/silent`);
    assert.equal(slow.status, 504);
    assert.equal(slow.json.code, 'upstream_timeout');
    assert.ok(Date.now() - started >= 400, 'not before the 500 ms headers timeout');
  });

  test('handshakes the gateway refuses: wrong version, a body', async () => {
    const key = 'dGhlIHNhbXBsZSBub25jZQ==';
    const v8 = await rawRequest(gw.port, `GET /chat/x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 8\r\n\r\n`, 1000);
    assert.match(v8, /^HTTP\/1\.1 400 /);
    assert.match(v8, /sec-websocket-version: 13/i);
    assert.match(v8, /"code":"bad_request"/);
    const body = await rawRequest(gw.port, `GET /chat/x HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nContent-Length: 3\r\n\r\nabc`, 1000);
    assert.match(body, /^HTTP\/1\.1 400 /);
    assert.match(body, /has no body/);
  });

  test('a client that leaves during the upstream handshake: the upstream attempt is dropped, the worker goes on', async () => {
    const sock = connect(gw.port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    sock.write('GET /silent HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n');
    await sleep(100);
    sock.destroy();
    await waitFor('the aborted handshake is no longer in flight', () => gw.inflight() === 0, 3000);
    const { ws } = await openClient(`${base}/chat/after`);
    ws.send('still here');
    assert.equal((await nextMessage(ws)).data.toString(), 'still here');
    ws.close();
  });

  test('metrics count connections, messages and bytes by route and direction', async () => {
    const { ws } = await openClient(`${base}/chat/metrics`);
    const echoes = messages(ws, 3);
    for (let i = 0; i < 3; i++) ws.send('12345');
    await echoes;
    const text = await registry.metrics();
    const value = (series: string): number => Number(new RegExp(`^${series.replace(/[{}]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? NaN);
    assert.equal(value('turnpike_websocket_connections{route="chat"}'), 1);
    assert.ok(value('turnpike_websocket_messages_total{route="chat",direction="to_upstream"}') >= 3);
    assert.ok(value('turnpike_websocket_bytes_total{route="chat",direction="to_client"}') >= 15);
    ws.close(1000);
    await whenClosed(ws);
    for (let i = 0; i < 100 && /^turnpike_websocket_connections\{route="chat"\} [1-9]/m.test(await registry.metrics()); i++) await sleep(20);
    const after = await registry.metrics();
    assert.match(after, /^turnpike_websocket_connections\{route="chat"\} 0$/m);
    assert.match(after, /^turnpike_websocket_closes_total\{route="chat",cause="client_closed"\} \d+$/m);
    assert.match(after, /^turnpike_websocket_connections_total\{route="chat"\} \d+$/m);
  });
});
