// Drain with open WebSockets: in process (worker.drain) and through the real
// CLI (SIGTERM to the primary). Open WebSockets keep working through the grace
// period, are then closed with 1001 on both legs, and do not keep the worker
// alive; an upgrade that arrives while draining is refused with 503.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { freePort, startGateway } from '../e2e-process/fixtures/gateway-process.js';
import { configFromYaml } from './helpers.js';
import { messages, openClient, sleep, startWsUpstream, whenClosed, type WsUpstream } from './websocket-helpers.js';

const HANDSHAKE = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';

/** Sends `text` on `sock` and resolves with what arrives until `ms` pass without more. */
function exchange(sock: Socket, text: string, ms = 300): Promise<string> {
  return new Promise((resolve) => {
    let got = '';
    let timer = setTimeout(done, 3000);
    function done(): void { sock.off('data', on); resolve(got); }
    function on(d: Buffer): void { got += d.toString('latin1'); clearTimeout(timer); timer = setTimeout(done, ms); }
    sock.on('data', on);
    sock.write(text);
  });
}

describe('drain with open WebSockets (in process)', () => {
  let up: WsUpstream;
  let gw: GatewayWorker;

  before(async () => {
    up = await startWsUpstream();
  });
  after(async () => { await up.close(); });

  async function start(): Promise<GatewayWorker> {
    return startWorker(configFromYaml(`
upstreams: { up: { targets: [ { url: "${up.url}" } ] } }
routes:
  - { name: ws, match: { path: /ws }, upstream: up, websocket: true }
  - { name: plain, match: { path: /plain }, upstream: up }
`));
  }

  test('open WebSockets work through the grace period, then both legs get 1001; an upgrade while draining is 503', async () => {
    gw = await start();
    const base = `ws://127.0.0.1:${gw.port}`;
    const a = await openClient(`${base}/ws`);
    const connA = up.latest();
    const b = await openClient(`${base}/ws`);
    // A keep-alive connection opened before the drain, for an upgrade during it.
    const sock = connect(gw.port, '127.0.0.1');
    await new Promise<void>((r) => sock.once('connect', () => r()));
    assert.match(await exchange(sock, 'GET /plain HTTP/1.1\r\nHost: a\r\n\r\n'), /^HTTP\/1\.1 200 /);

    const closedA = whenClosed(a.ws);
    const closedB = whenClosed(b.ws);
    const started = Date.now();
    const drained = gw.drain(1500);
    await sleep(300);
    const refused = await exchange(sock, `GET /ws HTTP/1.1\r\nHost: a\r\n${HANDSHAKE}`);
    assert.match(refused, /^HTTP\/1\.1 503 /);
    assert.match(refused, /"code":"shutting_down"/);
    sock.destroy();
    // Still relaying during the grace period.
    const echo = messages(a.ws, 1);
    a.ws.send('during grace');
    assert.equal((await echo)[0].data.toString(), 'during grace');

    assert.deepEqual(await closedA, { code: 1001, reason: 'gateway shutting down' });
    assert.deepEqual(await closedB, { code: 1001, reason: 'gateway shutting down' });
    const closedAfter = Date.now() - started;
    assert.ok(closedAfter >= 1300, `closed after ${closedAfter} ms, not before the 1.5 s grace period`);
    assert.deepEqual(await connA.closed, { code: 1001, reason: 'gateway shutting down' });
    const abandoned = await drained;
    assert.equal(abandoned, 2, 'the two WebSockets count as abandoned');
    assert.ok(Date.now() - started < 5000, 'drain finished soon after the grace period');
  });

  test('drain ends as soon as the last WebSocket closes', async () => {
    gw = await start();
    const { ws } = await openClient(`ws://127.0.0.1:${gw.port}/ws`);
    const started = Date.now();
    const drained = gw.drain(10_000);
    await sleep(300);
    ws.close(1000);
    assert.equal(await drained, 0);
    assert.ok(Date.now() - started < 5000, 'did not wait for the 10 s grace period');
  });
});

describe('SIGTERM with open WebSockets (real CLI, 1 worker)', () => {
  let up: WsUpstream;
  before(async () => { up = await startWsUpstream(); });
  after(async () => { await up.close(); });

  test('the WebSocket lives through the grace period, gets 1001, and the gateway exits 0 soon after', async () => {
    const port = await freePort();
    const adminPort = await freePort();
    const gw = await startGateway(`server: { host: 127.0.0.1, port: ${port}, workers: 1, gracePeriod: 1500ms, logLevel: info }
admin: { host: 127.0.0.1, port: ${adminPort} }
upstreams: { up: { targets: [ { url: "${up.url}" } ] } }
routes:
  - { name: ws, match: { path: /ws }, upstream: up, websocket: true }
`);
    try {
      const { ws } = await openClient(`ws://127.0.0.1:${gw.port}/ws`);
      const conn = up.latest();
      const closed = whenClosed(ws);
      const started = Date.now();
      process.kill(gw.pid, 'SIGTERM');
      await sleep(600);
      const echo = messages(ws, 1);
      ws.send('still open');
      assert.equal((await echo)[0].data.toString(), 'still open');
      assert.deepEqual(await closed, { code: 1001, reason: 'gateway shutting down' });
      assert.ok(Date.now() - started >= 1300, 'not closed before the grace period');
      assert.equal((await conn.closed).code, 1001);
      const exit = await gw.exited;
      assert.deepEqual(exit, { code: 0, signal: null });
      assert.ok(Date.now() - started < 8000, `exited ${Date.now() - started} ms after SIGTERM`);
      const drainedLine = gw.lines.find((l) => l.msg === 'worker drained');
      assert.equal(drainedLine?.abandoned, 1);
    } finally {
      gw.cleanup();
    }
  });
});
