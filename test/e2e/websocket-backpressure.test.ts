// WebSocket backpressure and a killed upstream, with the gateway worker in its
// own process (test/e2e/fixtures/gateway-child.ts samples its live buffer
// memory after a forced GC every 100 ms):
// - a client that stops reading while a fast upstream sends 256 MiB: the
//   gateway pauses the upstream, so the upstream is held back and the
//   gateway's memory stays flat; every byte arrives, in order, once the
//   client reads again;
// - an upstream process SIGKILLed mid-stream: the client gets 1011.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { WebSocketServer, type WebSocket as UpstreamSocket } from 'ws';
import { messages, openClient, refusal, sleep, whenClosed } from './websocket-helpers.js';

const MiB = 1024 * 1024;
const MESSAGES = 256;
/** The upstream keeps at most this much in its own send buffer (it respects backpressure like a good server). */
const UPSTREAM_BUFFER = 8 * MiB;
/**
 * Bounds. The gateway holds at most ~1 MiB for the client before it pauses
 * the upstream, plus the message in flight (1 MiB) and the upstream socket's
 * read buffer; 16 MiB of live buffers leaves room for GC timing. Kernel
 * socket buffers on the two loopback connections hold a few tens of MiB, so
 * an upstream held back by the gateway has sent far less than 256 MiB.
 */
const MAX_LIVE_BUFFERS_MIB = 16;
const MAX_RSS_GROWTH_MIB = 64;
const MAX_SENT_WHILE_STALLED_MIB = 128;

const GATEWAY_FLAGS = ['--expose-gc', '--no-concurrent-array-buffer-sweeping'];

/** Spawns a fixture process and resolves with its port; later stdout lines go to `onLine`. */
function spawnFixture(file: string, args: string[], onLine?: (line: string) => void, flags: string[] = []): Promise<{ child: ChildProcess; port: number }> {
  const script = fileURLToPath(new URL(`./fixtures/${file}`, import.meta.url));
  const child = spawn(process.execPath, [...flags, script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let started = false;
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (started) { onLine?.(l); return; }
      const port = (JSON.parse(l) as { port?: number }).port;
      if (typeof port === 'number') { started = true; resolve({ child, port }); }
    });
    child.once('exit', (code) => { if (!started) reject(new Error(`${file} exited ${code}`)); });
  });
}

/** Peak RSS and live ArrayBuffer MiB of the gateway child since `reset`. */
class MemoryWatch {
  peakRss = 0; peakAb = 0; lastRss = 0;
  feed = (line: string): void => {
    const m = JSON.parse(line) as { rss?: number; ab: number };
    if (m.rss === undefined) return;
    this.lastRss = m.rss;
    this.peakRss = Math.max(this.peakRss, m.rss);
    this.peakAb = Math.max(this.peakAb, m.ab);
  };
  reset(): void { this.peakRss = this.lastRss; this.peakAb = 0; }
}

/** Message `i`: 1 MiB of byte i % 251, its index in the first four bytes. */
function message(i: number): Buffer {
  const b = Buffer.alloc(MiB, i % 251);
  b.writeUInt32BE(i, 0);
  return b;
}

describe('WebSocket backpressure and a killed upstream (gateway in its own process)', () => {
  let gateway: ChildProcess; let ticker: ChildProcess;
  let flood: WebSocketServer;
  let port = 0;
  const watch = new MemoryWatch();
  /** What the flood upstream has handed to its socket so far, per connection. */
  let sentBytes = 0;
  let floodSocket: UpstreamSocket | null = null;

  before(async () => {
    flood = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise<void>((r) => flood.once('listening', () => r()));
    flood.on('connection', (ws) => {
      floodSocket = ws;
      sentBytes = 0;
      let i = 0;
      const pump = (): void => {
        while (i < MESSAGES && ws.readyState === ws.OPEN) {
          if (ws.bufferedAmount > UPSTREAM_BUFFER) { setTimeout(pump, 5); return; }
          ws.send(message(i++));
          sentBytes += MiB;
        }
      };
      pump();
    });
    const t = await spawnFixture('ws-tick-upstream.js', []);
    ticker = t.child;
    const floodPort = (flood.address() as { port: number }).port;
    const gw = await spawnFixture('gateway-child.js', [`
upstreams:
  flood: { targets: [ { url: "http://127.0.0.1:${floodPort}" } ] }
  ticker: { targets: [ { url: "http://127.0.0.1:${t.port}" } ] }
routes:
  - { name: flood, match: { path: /flood }, upstream: flood, websocket: { maxPayload: 2mb } }
  - { name: ticker, match: { path: /ticker }, upstream: ticker, websocket: true }
`], watch.feed, GATEWAY_FLAGS);
    gateway = gw.child;
    port = gw.port;
    await sleep(300);
  });

  after(() => {
    gateway?.kill('SIGKILL');
    ticker?.kill('SIGKILL');
    flood?.close();
  });

  test('a client that stops reading holds the upstream back; the gateway memory stays flat; all 256 MiB arrive in order', async (t) => {
    const baseline = watch.lastRss;
    watch.reset();
    const { ws } = await openClient(`ws://127.0.0.1:${port}/flood`);
    ws.pause(); // the client stops reading its socket
    // Wait until the upstream stalls (no progress for 1 s).
    let last = -1;
    for (let waited = 0; waited < 30_000 && sentBytes !== last; waited += 1000) {
      last = sentBytes;
      await sleep(1000);
    }
    const stalledAt = sentBytes;
    t.diagnostic(`upstream stalled after ${stalledAt / MiB} MiB; gateway peak live buffers ${watch.peakAb.toFixed(1)} MiB, RSS ${baseline.toFixed(0)} -> ${watch.peakRss.toFixed(0)} MiB`);
    assert.ok(stalledAt < MAX_SENT_WHILE_STALLED_MIB * MiB, `the upstream was held back (sent ${stalledAt / MiB} MiB of ${MESSAGES})`);
    assert.ok(floodSocket !== null && floodSocket.bufferedAmount > 0, 'the upstream itself sees backpressure');
    assert.ok(watch.peakAb < MAX_LIVE_BUFFERS_MIB, `gateway held ${watch.peakAb.toFixed(1)} MiB of buffers while the client was not reading`);

    // The client reads again: everything arrives, in order, intact.
    const all = messages(ws, MESSAGES);
    ws.resume();
    const got = await all;
    for (let i = 0; i < MESSAGES; i++) {
      const m = got[i].data;
      assert.equal(m.length, MiB);
      assert.equal(m.readUInt32BE(0), i, `message ${i} in order`);
      assert.equal(m[MiB - 1], i % 251, `message ${i} intact`);
    }
    await sleep(300);
    t.diagnostic(`after the transfer: peak live buffers ${watch.peakAb.toFixed(1)} MiB, peak RSS ${watch.peakRss.toFixed(0)} MiB`);
    assert.ok(watch.peakAb < MAX_LIVE_BUFFERS_MIB, `gateway held ${watch.peakAb.toFixed(1)} MiB of buffers`);
    assert.ok(watch.peakRss - baseline < MAX_RSS_GROWTH_MIB, `gateway RSS grew ${(watch.peakRss - baseline).toFixed(0)} MiB`);
    ws.close();
  });

  test('an upstream process killed mid-stream: the client gets 1011, the gateway keeps serving', async () => {
    const { ws } = await openClient(`ws://127.0.0.1:${port}/ticker`);
    await messages(ws, 10);
    const closed = whenClosed(ws);
    ticker.kill('SIGKILL');
    assert.deepEqual(await closed, { code: 1011, reason: 'upstream connection lost' });
    assert.equal(gateway.exitCode, null, 'the gateway process is alive');
    const r = await refusal(`ws://127.0.0.1:${port}/ticker`);
    assert.equal(r.status, 502);
    assert.equal(r.json.code, 'upstream_connect_failed');
  });
});
