// Circuit breaker and concurrency limit of a grpc upstream, on transcoded
// routes to a real @grpc/grpc-js LibraryService.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { configFromYaml, type TestGateway } from './helpers.js';
import { startLibraryServer, type LibraryServer } from '../../loadtest/upstream/library-grpc-server.js';
import { sleep, upstreamState, waitFor } from './resilience-helpers.js';

const PROTOS = resolve('config/protos');
const LIBRARY = join(PROTOS, 'example/library/v1/library.proto');

const open: Array<{ close(): Promise<void> | void }> = [];

async function gateway(port: number, upstreamExtra: string): Promise<TestGateway> {
  const worker = await startWorker(configFromYaml(`
server: { workers: 1 }
upstreams:
  library:
    targets: [ { url: "h2c://127.0.0.1:${port}" } ]
    protocol: grpc
    passiveHealth: { consecutiveFailures: 0 }
${upstreamExtra}
grpc:
  - upstream: library
    protos: [ "${LIBRARY}" ]
    includeDirs: [ "${PROTOS}" ]
    services: [ example.library.v1.LibraryService ]
    timeout: 10s
`));
  const gw: TestGateway = { worker, port: worker.port, base: `http://127.0.0.1:${worker.port}`, close: async () => { await worker.drain(1000); } };
  open.push(gw);
  return gw;
}

async function server(): Promise<LibraryServer> {
  const s = await startLibraryServer(LIBRARY, PROTOS);
  open.push({ close: () => s.kill() });
  return s;
}

async function get(gw: TestGateway, path: string, signal?: AbortSignal): Promise<{ status: number; code: string | null; retryAfter: string | undefined; ms: number }> {
  const t0 = performance.now();
  const r = await request(gw.base + path, { signal });
  const text = await r.body.text();
  const code = r.headers['content-type'] === 'application/problem+json' ? (JSON.parse(text) as { code: string }).code : null;
  return { status: r.statusCode, code, retryAfter: r.headers['retry-after'] as string | undefined, ms: performance.now() - t0 };
}

describe('resilience of grpc upstreams (real gRPC servers)', () => {
  afterEach(async () => {
    for (const x of open.splice(0).reverse()) await x.close();
  });

  test('the breaker opens on INTERNAL errors, then refuses without calling the server; a successful probe closes it', async () => {
    const s = await server();
    const gw = await gateway(s.port, '    circuitBreaker: { consecutiveFailures: 2, openFor: 1s, halfOpenRequests: 1 }');
    // A server stream that fails with INTERNAL after its messages: the call's status is what counts.
    for (let i = 0; i < 2; i++) {
      const r = await request(gw.base + '/v1/shelves/broken/books:stream');
      assert.equal(r.statusCode, 200);
      assert.match(await r.body.text(), /disk on fire/);
    }
    const refused = await get(gw, '/v1/shelves/s1');
    assert.deepEqual([refused.status, refused.code, refused.retryAfter], [503, 'circuit_open', '1']);
    assert.equal(s.calls, 2, 'no call reached the server while open');
    assert.equal((await upstreamState(gw, 'library')).circuitBreaker!.state, 'open');
    await sleep(1200);
    assert.equal((await get(gw, '/v1/shelves/s1')).status, 200);
    assert.equal((await upstreamState(gw, 'library')).circuitBreaker!.state, 'closed');
    assert.equal(s.calls, 3);
  });

  test('maxConcurrent with a queue: a waiter past queueTimeout and one over maxQueued get 503 upstream_overloaded; aborting a waiter frees its place', async () => {
    const s = await server();
    const gw = await gateway(s.port, '    limits: { maxConcurrent: 1, maxQueued: 1, queueTimeout: 300ms }');
    const slow = get(gw, '/v1/books/slow'); // the server answers after 2 s
    await waitFor('the slow call at the server', () => s.calls === 1);
    const waiting = get(gw, '/v1/books/b1');
    await waitFor('one queued', async () => (await upstreamState(gw, 'library')).limits!.queued === 1);
    const over = await get(gw, '/v1/books/b2');
    assert.deepEqual([over.status, over.code], [503, 'upstream_overloaded']);
    const timedOut = await waiting;
    assert.deepEqual([timedOut.status, timedOut.code], [503, 'upstream_overloaded']);
    assert.ok(timedOut.ms >= 250, `refused after ${timedOut.ms.toFixed(0)} ms`);
    // A waiter whose client goes away leaves the queue.
    const ac = new AbortController();
    const aborted = get(gw, '/v1/books/b3', ac.signal).catch(() => 'aborted');
    await waitFor('one queued again', async () => (await upstreamState(gw, 'library')).limits!.queued === 1);
    ac.abort();
    assert.equal(await aborted, 'aborted');
    await waitFor('the queue empty', async () => (await upstreamState(gw, 'library')).limits!.queued === 0);
    assert.equal((await slow).status, 200);
    await waitFor('the slot released', async () => (await upstreamState(gw, 'library')).limits!.inflight === 0);
    assert.equal((await get(gw, '/v1/books/b4')).status, 200);
    assert.equal(s.calls, 2, 'refused and aborted calls never reached the server');
    const l = (await upstreamState(gw, 'library')).limits!;
    assert.deepEqual([l.rejectedQueueFull, l.rejectedQueueTimeout], [1, 1]);
  });
});
