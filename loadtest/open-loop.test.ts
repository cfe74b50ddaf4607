import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runOpenLoop } from './open-loop.js';
import { addedLatency } from './added-latency.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

async function listen(handler: Handler): Promise<{ server: Server; url: string }> {
  const server = createServer(handler);
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/` };
}

async function close(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

test('scheduler sends at its target rate (2,000 req/s for 1.5 s, within 2%)', async () => {
  const { server, url } = await listen((_req, res) => res.end('ok'));
  try {
    const r = await runOpenLoop({ url, rate: 2000, durationMs: 1500, connections: 8 });
    assert.equal(r.sent, 3000);
    assert.equal(r.completed, 3000);
    assert.equal(r.unfinished, 0);
    assert.deepEqual(r.errors, { connect: 0, timeout: 0, status5xx: 0, status4xx: 0, other: 0 });
    assert.ok(Math.abs(r.achievedRate - 2000) / 2000 < 0.02, `achieved ${r.achievedRate} req/s`);
    assert.equal(r.histogram.totalCount, 3000);
    assert.equal(r.naiveHistogram.totalCount, 3000);
  } finally {
    await close(server);
  }
});

test('coordinated omission: a 300 ms stall is charged to every request queued behind it', async () => {
  let seen = 0;
  const { server, url } = await listen((_req, res) => {
    seen++;
    if (seen === 50) setTimeout(() => res.end('slow'), 300);
    else res.end('ok');
  });
  try {
    // 200 req/s for 1 s on one connection: request #50 (index 49) stalls the
    // connection for 300 ms, during which ~60 more requests fall due and queue.
    const r = await runOpenLoop({ url, rate: 200, durationMs: 1000, connections: 1, keepSamples: true });
    assert.equal(r.sent, 200);
    assert.equal(r.completed, 200);
    const samples = r.samples;
    assert.ok(samples !== undefined);
    const slowCorrected = samples.corrected.filter((ms) => ms >= 100).length;
    const slowNaive = samples.naive.filter((ms) => ms >= 100).length;

    // Corrected: request 49+k waits ≈ 300 − 5k ms, so ≈ 41 samples are ≥ 100 ms.
    assert.ok(r.percentiles.max >= 290 && r.percentiles.max < 450, `max ${r.percentiles.max} ms`);
    assert.ok(slowCorrected >= 30 && slowCorrected <= 70, `${slowCorrected} corrected samples >= 100 ms`);
    assert.ok(r.percentiles.p99 >= 100, `p99 ${r.percentiles.p99} ms`);
    assert.ok(r.percentiles.p90 >= 50, `p90 ${r.percentiles.p90} ms`);
    assert.ok(samples.corrected[49] >= 290);

    // Naive (from the wire send): only the stalled request itself looks slow.
    assert.equal(slowNaive, 1);
    assert.ok(samples.naive[49] >= 290);
    assert.ok(r.naivePercentiles.p99 < 100, `naive p99 ${r.naivePercentiles.p99} ms`);
    assert.ok(r.naivePercentiles.max >= 290);
  } finally {
    await close(server);
  }
});

test('errors are counted by kind: 5xx responses and refused connections', async () => {
  const { server, url } = await listen((_req, res) => {
    res.statusCode = 503;
    res.end('down');
  });
  try {
    const r = await runOpenLoop({ url, rate: 100, durationMs: 200, connections: 2 });
    assert.equal(r.sent, 20);
    assert.equal(r.completed, 20);
    assert.equal(r.errors.status5xx, 20);
  } finally {
    await close(server);
  }
  // The same port, now closed: every request fails to connect.
  const r = await runOpenLoop({ url, rate: 100, durationMs: 200, connections: 2 });
  assert.equal(r.sent, 20);
  assert.equal(r.completed, 0);
  assert.equal(r.errors.connect, 20);
  assert.equal(r.histogram.totalCount, 0);
  assert.deepEqual(r.percentiles, { p50: 0, p90: 0, p99: 0, p99_9: 0, max: 0 });
});

test('requests still outstanding after the drain timeout are reported unfinished', async () => {
  const { server, url } = await listen((_req, res) => {
    setTimeout(() => res.end('late'), 2000).unref();
  });
  try {
    const r = await runOpenLoop({ url, rate: 50, durationMs: 100, connections: 5, drainTimeoutMs: 200 });
    assert.equal(r.sent, 5);
    assert.equal(r.completed, 0);
    assert.equal(r.unfinished, 5);
  } finally {
    await close(server);
  }
});

test('a server that never answers is counted as timeouts', async () => {
  const { server, url } = await listen(() => {});
  try {
    const r = await runOpenLoop({ url, rate: 50, durationMs: 100, connections: 5, timeoutMs: 150 });
    assert.equal(r.sent, 5);
    assert.equal(r.errors.timeout, 5);
    assert.equal(r.unfinished, 0);
  } finally {
    await close(server);
  }
});

test('method, path, headers and body reach the server', async () => {
  const seen: string[] = [];
  const { server, url } = await listen((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => { body += c; });
    req.on('end', () => {
      seen.push(`${req.method} ${req.url} ${String(req.headers['x-test'])} ${body}`);
      res.end();
    });
  });
  try {
    const r = await runOpenLoop({
      url, rate: 100, durationMs: 30, connections: 1,
      method: 'POST', path: '/p?q=1', headers: { 'x-test': 'yes' }, body: 'hello',
    });
    assert.equal(r.completed, 3);
    assert.deepEqual(seen, ['POST /p?q=1 yes hello', 'POST /p?q=1 yes hello', 'POST /p?q=1 yes hello']);
  } finally {
    await close(server);
  }
});

test('a request list is cycled in order, and 4xx responses are counted', async () => {
  const seen: string[] = [];
  const { server, url } = await listen((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => { res.statusCode = req.url === '/missing' ? 404 : 200; res.end(); });
  });
  try {
    const r = await runOpenLoop({
      url, rate: 200, durationMs: 20, connections: 1,
      requests: [{ path: '/a' }, { method: 'POST', path: '/missing', body: 'x' }],
    });
    assert.equal(r.completed, 4);
    assert.deepEqual(seen, ['GET /a', 'POST /missing', 'GET /a', 'POST /missing']);
    assert.equal(r.errors.status4xx, 2);
    assert.equal(r.errors.status5xx, 0);
  } finally {
    await close(server);
  }
});

test('warmConnections opens the connections with unrecorded requests before the clock starts', async () => {
  const sockets = new Set<unknown>();
  let seen = 0;
  const { server, url } = await listen((req, res) => { seen++; sockets.add(req.socket); res.end('ok'); });
  try {
    const r = await runOpenLoop({ url, rate: 200, durationMs: 50, connections: 4, warmConnections: true });
    assert.equal(r.sent, 10);
    assert.equal(r.completed, 10);
    assert.equal(seen, 14, 'four warm-up requests, then the ten measured ones');
    assert.equal(sockets.size, 4, 'the measured requests reuse the four warm connections');
  } finally {
    await close(server);
  }
});

test('addedLatency subtracts percentile by percentile and clamps at 0', () => {
  const gateway = { p50: 1.5, p90: 2.25, p99: 4, p99_9: 10, max: 20 };
  const direct = { p50: 1, p90: 2.5, p99: 3, p99_9: 7.5, max: 25 };
  assert.deepEqual(addedLatency(gateway, direct), { p50: 0.5, p90: 0, p99: 1, p99_9: 2.5, max: 0 });
  assert.deepEqual(addedLatency(direct, direct), { p50: 0, p90: 0, p99: 0, p99_9: 0, max: 0 });
});
