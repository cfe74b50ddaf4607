// WebSocket proxying end to end: close codes and reasons both ways, a lost or
// misbehaving upstream, per-route maxPayload and idleTimeout, and a client
// that outruns its upstream.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Registry } from 'prom-client';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { configFromYaml } from './helpers.js';
import { messages, openClient, sleep, startWsUpstream, whenClosed, type WsUpstream } from './websocket-helpers.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** An upstream that completes the handshake by hand, then writes `frame` (raw bytes). */
async function rawFrameUpstream(frame: Buffer): Promise<Server> {
  const server = createServer((sock: Socket) => {
    let head = '';
    sock.on('data', (d: Buffer) => {
      head += d.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const key = /sec-websocket-key: *(\S+)/i.exec(head)![1];
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      setTimeout(() => sock.write(frame), 50);
    });
    sock.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return server;
}

describe('WebSocket proxying: closes, failures, limits', () => {
  let up: WsUpstream; let badFrames: Server;
  let gw: GatewayWorker;
  let base = '';
  const registry = new Registry();

  before(async () => {
    up = await startWsUpstream();
    // FIN + opcode 0x3 (reserved): a protocol error from the upstream.
    badFrames = await rawFrameUpstream(Buffer.from([0x83, 0x00]));
    const badPort = (badFrames.address() as { port: number }).port;
    gw = await startWorker(configFromYaml(`
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
  bad: { targets: [ { url: "http://127.0.0.1:${badPort}" } ] }
routes:
  - { name: echo, match: { path: /echo }, upstream: up, websocket: { maxPayload: 2mb } }
  - { name: small, match: { path: /small }, upstream: up, websocket: { maxPayload: 1kb } }
  - { name: big, match: { path: /big }, upstream: up, websocket: { maxPayload: 64kb } }
  - { name: idle, match: { path: /idle }, upstream: up, websocket: { idleTimeout: 1s, maxPayload: 1mb } }
  - { name: bad, match: { path: /bad }, upstream: bad, websocket: { maxPayload: 1mb } }
`), { metricsRegistry: registry });
    base = `ws://127.0.0.1:${gw.port}`;
  });

  after(async () => {
    await gw.drain(500);
    await up.close();
    badFrames.close();
  });

  test('a client close code and reason reach the upstream', async () => {
    const { ws } = await openClient(`${base}/echo`);
    const conn = up.latest();
    const closed = whenClosed(ws);
    ws.close(4001, 'bye now');
    assert.deepEqual(await conn.closed, { code: 4001, reason: 'bye now' });
    assert.deepEqual(await closed, { code: 4001, reason: 'bye now' }, 'the gateway answers the close with the same code');
  });

  test('uWS 20.57 refuses client close codes 1012-1014 and 3000-3999: the upstream gets 1001 with uWS\'s reason', async () => {
    const { ws } = await openClient(`${base}/echo`);
    const conn = up.latest();
    ws.close(3001, 'registered code');
    assert.deepEqual(await conn.closed, { code: 1001, reason: 'Received invalid close payload' });
  });

  test('an upstream close code and reason reach the client', async () => {
    const { ws } = await openClient(`${base}/echo`);
    const closed = whenClosed(ws);
    up.latest().ws.close(4002, 'come back later');
    assert.deepEqual(await closed, { code: 4002, reason: 'come back later' });
    const { ws: ws2 } = await openClient(`${base}/echo`);
    const closed2 = whenClosed(ws2);
    up.latest().ws.close(1000, 'done');
    assert.deepEqual(await closed2, { code: 1000, reason: 'done' });
    // Each connection is counted once, by its cause, and no longer open.
    const counted = /^turnpike_websocket_closes_total\{route="echo",cause="upstream_closed"\} 2$/m;
    for (let i = 0; i < 100 && !counted.test(await registry.metrics()); i++) await sleep(20);
    const text = await registry.metrics();
    assert.match(text, counted);
    assert.match(text, /^turnpike_websocket_connections\{route="echo"\} 0$/m);
  });

  test('a close without a code stays without a code (the peer sees 1005), both ways', async () => {
    const a = await openClient(`${base}/echo`);
    const connA = up.latest();
    a.ws.close();
    assert.equal((await connA.closed).code, 1005);
    const b = await openClient(`${base}/echo`);
    const closed = whenClosed(b.ws);
    up.latest().ws.close();
    assert.equal((await closed).code, 1005);
  });

  test('a client that disappears without a close frame: the upstream gets 1001', async () => {
    const { ws } = await openClient(`${base}/echo`);
    const conn = up.latest();
    ws.terminate();
    const c = await conn.closed;
    assert.equal(c.code, 1001);
    assert.notEqual(c.reason, '');
  });

  test('an upstream killed mid-stream: the client gets 1011', async () => {
    const { ws } = await openClient(`${base}/echo`);
    const conn = up.latest();
    const timer = setInterval(() => conn.ws.send('tick'), 5);
    await messages(ws, 5);
    const closed = whenClosed(ws);
    clearInterval(timer);
    conn.ws.terminate(); // the TCP connection ends without a close frame
    assert.deepEqual(await closed, { code: 1011, reason: 'upstream connection lost' });
  });

  test('an upstream that breaks the protocol: the client gets 1014', async () => {
    // A uWS 20.57 bug (fixed upstream in uWebSockets fe7c01a, #1929, not in
    // any uWS.js build on the registry yet): when res.upgrade() inside
    // res.cork() reallocates the socket in place, cork() then reads the new
    // WebSocket's memory as HTTP response state and may close it at once (the
    // client sees 1006 before any frame). Upgrading outside a cork avoids it
    // but makes uWS.js print a warning line on stderr per upgrade, so the
    // gateway keeps the cork (see the closing note of issue 13). When it hits
    // this test, one new connection; the 1014 mapping is asserted either way.
    let closed = { code: 0, reason: '' };
    for (let attempt = 0; attempt < 2; attempt++) {
      const { ws } = await openClient(`${base}/bad`);
      const opened = performance.now();
      closed = await whenClosed(ws);
      if (!(closed.code === 1006 && performance.now() - opened < 40)) break;
    }
    assert.deepEqual(closed, { code: 1014, reason: 'upstream sent an invalid frame' });
  });

  test('maxPayload per route: a bigger client message closes with 1009, the upstream gets 1001', async () => {
    const { ws } = await openClient(`${base}/small`);
    const conn = up.latest();
    ws.send('x'.repeat(1024));
    assert.equal((await messages(ws, 1))[0].data.length, 1024, 'exactly maxPayload passes');
    ws.send('x'.repeat(1025));
    assert.deepEqual(await whenClosed(ws), { code: 1009, reason: 'message over maxPayload' });
    assert.deepEqual(await conn.closed, { code: 1001, reason: 'client message over maxPayload' });
  });

  test('maxPayload: an upstream message over it closes the client with 1009', async () => {
    const { ws } = await openClient(`${base}/small`);
    const closed = whenClosed(ws);
    up.latest().ws.send(Buffer.alloc(2048));
    assert.deepEqual(await closed, { code: 1009, reason: 'upstream message over maxPayload' });
  });

  test('over the largest maxPayload of all routes (uWS\'s limit for the listener) uWS cuts the client without a close frame; the upstream gets 1001', async () => {
    const { ws } = await openClient(`${base}/echo`);
    const conn = up.latest();
    ws.send(Buffer.alloc(2 * 1024 * 1024 + 1));
    assert.equal((await whenClosed(ws)).code, 1006);
    const c = await conn.closed;
    assert.equal(c.code, 1001);
    assert.equal(c.reason, 'Received too big message');
  });

  test('idleTimeout: a quiet connection is closed with 1001 on both legs; frames keep it open', async () => {
    const started = Date.now();
    const { ws } = await openClient(`${base}/idle`);
    const conn = up.latest();
    const closed = await whenClosed(ws);
    const took = Date.now() - started;
    assert.deepEqual(closed, { code: 1001, reason: 'idle timeout' });
    assert.deepEqual(await conn.closed, { code: 1001, reason: 'idle timeout' });
    assert.ok(took >= 950, `closed after ${took} ms, not before the 1 s idleTimeout`);
    assert.ok(took < 6000, `closed after ${took} ms`);
    // Pings every 250 ms (a frame each way) keep a connection alive well past the timeout.
    const busy = await openClient(`${base}/idle`);
    let open = true;
    busy.ws.on('close', () => { open = false; });
    const pinger = setInterval(() => busy.ws.ping(), 250);
    await sleep(2500);
    clearInterval(pinger);
    assert.equal(open, true, 'still open after 2.5 s of pings');
    assert.equal((await whenClosed(busy.ws)).code, 1001);
  });

  test('a client that outruns a stalled upstream is closed with 1013 once the gateway holds maxPayload + 1 MiB', async () => {
    const { ws } = await openClient(`${base}/big`);
    const conn = up.latest();
    conn.ws.pause(); // the upstream stops reading
    const chunk = Buffer.alloc(60 * 1024);
    let sent = 0;
    let open = true;
    const closed = whenClosed(ws).then((c) => { open = false; return c; });
    while (open && sent < 512 * 1024 * 1024) {
      if (ws.bufferedAmount < 4 * 1024 * 1024) { ws.send(chunk); sent += chunk.length; } else await sleep(5);
      if (sent % (16 * chunk.length) === 0) await sleep(0);
    }
    assert.deepEqual(await closed, { code: 1013, reason: 'upstream not keeping up' });
    assert.ok(sent < 256 * 1024 * 1024, `stopped after ${(sent / 2 ** 20).toFixed(0)} MiB`);
    conn.ws.resume();
    assert.equal((await conn.closed).code, 1001);
    const counted = /^turnpike_websocket_closes_total\{route="big",cause="backlog"\} 1$/m;
    for (let i = 0; i < 100 && !counted.test(await registry.metrics()); i++) await sleep(20);
    assert.match(await registry.metrics(), counted);
  });
});
