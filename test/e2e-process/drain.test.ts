// SIGTERM drains: in-flight requests finish, listeners close, the primary
// exits 0 and leaves no worker behind; the grace period bounds the wait.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, test } from 'node:test';
import { gatewayYaml } from './fixtures/config.js';
import { alive, freePort, httpGet, readyz, sleep, startGateway, waitUntil, type Gateway } from './fixtures/gateway-process.js';
import { startUpstream, type Upstream } from './fixtures/upstreams.js';

const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Resolves true when a TCP connect to the port is refused, false when it connects. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED'));
  });
}

/** Never rejects (so a failure awaited later is not an unhandled rejection). */
function settle<T>(p: Promise<T>): Promise<T | Error> {
  return p.then((v) => v, (err: Error) => err);
}

function unwrap<T>(v: T | Error): T {
  if (v instanceof Error) throw v;
  return v;
}

async function slowGateway(delayMs: number, gracePeriod: string): Promise<{ gw: Gateway; up: Upstream; pids: number[] }> {
  const up = await startUpstream('S', delayMs);
  cleanups.push(() => up.close());
  const port = await freePort();
  const adminPort = await freePort();
  const gw = await startGateway(gatewayYaml({
    port, adminPort, gracePeriod, upstreams: { s: up.url }, routes: [{ name: 'slow', path: '/slow/*', upstream: 's' }],
  }));
  cleanups.push(() => gw.cleanup());
  const ready = await readyz(gw);
  assert.equal(ready.body.workers.length, 2);
  return { gw, up, pids: ready.body.workers.map((w) => w.pid) };
}

test('SIGTERM: in-flight requests complete, new connections are refused, exit 0, no worker left', async () => {
  const { gw, up, pids } = await slowGateway(1500, '5s');
  let settled = 0;
  // One answer still waits for the upstream's head; the other is mid-stream
  // (head and first chunk already sent to the client) when SIGTERM arrives.
  // Keep-alive requests, so the gateway is the one to end the connection.
  const inflight = settle(httpGet(gw.port, '/slow/one', { keepAlive: true })).finally(() => { settled++; });
  const streaming = settle(httpGet(gw.port, '/slow/stream', { keepAlive: true })).finally(() => { settled++; });
  await waitUntil('the upstream has both requests', () => up.hits === 2);
  await sleep(200);
  const signalledAt = Date.now();
  process.kill(gw.pid, 'SIGTERM');
  await waitUntil('the gateway port refuses connections', () => refused(gw.port), 1000);
  assert.equal(settled, 0, 'the port closed while the slow requests were still in flight');

  const reply = unwrap(await inflight);
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'S:/slow/one');
  assert.equal(reply.headers.connection, 'close', 'a draining worker closes the connection after the answer');
  const streamed = unwrap(await streaming);
  assert.equal(streamed.status, 200);
  assert.equal(streamed.body, 'S:/slow/stream', 'the streamed (chunked) answer is intact');
  const exit = await gw.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(Date.now() - signalledAt < 4000, 'exited once the request was done, long before the grace period');
  for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} is gone`);
  assert.equal(await refused(gw.port), true);
  const drained = gw.lines.filter((l) => l.msg === 'worker drained');
  assert.deepEqual(drained.map((l) => l.abandoned), [0, 0]);
  assert.equal((await gw.waitForLine((l) => l.msg === 'stopped')).killed, 0);
});

test('SIGTERM with gracePeriod 500ms and a 5 s upstream: exit 0 soon after the grace, the abandoned request is logged', async () => {
  const { gw, up, pids } = await slowGateway(5000, '500ms');
  const inflight = settle(httpGet(gw.port, '/slow/stuck'));
  await waitUntil('the upstream has the request', () => up.hits === 1);
  const signalledAt = Date.now();
  process.kill(gw.pid, 'SIGTERM');
  const exit = await gw.exited;
  const elapsed = Date.now() - signalledAt;
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.ok(elapsed >= 450 && elapsed < 3000, `exited ${elapsed} ms after SIGTERM (grace 500 ms)`);
  const outcome = await inflight;
  assert.ok(outcome instanceof Error, `the abandoned request was cut off, got ${JSON.stringify(outcome)}`);
  for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} is gone`);
  const drained = gw.lines.filter((l) => l.msg === 'worker drained');
  assert.equal(drained.length, 2);
  assert.deepEqual(drained.map((l) => l.abandoned).sort(), [0, 1], 'one worker reports the abandoned request');
  assert.equal((await gw.waitForLine((l) => l.msg === 'stopped')).killed, 0);
});
