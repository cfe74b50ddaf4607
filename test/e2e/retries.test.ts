import { after, afterEach, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Counter } from 'prom-client';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { createWorkerMetrics, type WorkerMetrics } from '../../src/observability/metrics.js';
import { WorkerObserver } from '../../src/observability/worker-observer.js';
import { upstreamDeadlines } from '../../src/upstream/deadline-wheel.js';
import { setRetryRandom } from '../../src/upstream/retry/backoff.js';
import { configFromYaml, deadPort, nodeRequest, startUpstream, type TestUpstream } from './helpers.js';

/** A started gateway with its own metrics registry (to read the retry counters). */
interface RetryGateway {
  port: number;
  metrics: WorkerMetrics;
  close(): Promise<void>;
}

async function startRetryGateway(yaml: string): Promise<RetryGateway> {
  const config = configFromYaml(yaml);
  const metrics = createWorkerMetrics({ defaultMetrics: false });
  const worker = await startWorker(config, { observer: new WorkerObserver(config, null, metrics) });
  return { port: worker.port, metrics, close: async () => { await worker.drain(1000); } };
}

/** Value of one counter series (0 when it was never incremented). */
async function count<L extends string>(c: Counter<L>, labels: Record<string, string>): Promise<number> {
  const { values } = await c.get();
  let n = 0;
  for (const v of values) if (Object.entries(labels).every(([k, x]) => v.labels[k as L] === x)) n += v.value;
  return n;
}

/** Answers every request with `status` and a body naming the upstream and the try number. */
function answer(status: number, name: string, counter: { n: number }) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    counter.n++;
    res.writeHead(status, { 'content-type': 'text/plain', 'x-from': name });
    res.end(`${name} try ${counter.n}`);
  };
}

/** Waits until the worker's deadline wheel is empty: no perTryTimeout or backoff timer was left behind. */
async function wheelDrains(ms = 2000): Promise<void> {
  const end = performance.now() + ms;
  while (upstreamDeadlines.size !== 0 && performance.now() < end) await new Promise((r) => setTimeout(r, 5));
  assert.equal(upstreamDeadlines.size, 0, 'every retry and deadline timer was cancelled or fired');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('route retries (real upstreams that fail on command)', () => {
  const ups: TestUpstream[] = [];
  let gw: RetryGateway;
  let dead: number;
  let bad: TestUpstream; let good: TestUpstream; let always503: TestUpstream; let hang: TestUpstream;
  let resetOnce: TestUpstream; let good2: TestUpstream; let good3: TestUpstream; let slow503: TestUpstream;
  let one503: TestUpstream;
  const tries503 = { n: 0 };
  let resets = 0;

  before(async () => {
    dead = await deadPort();
    bad = await startUpstream('bad', answer(503, 'bad', { n: 0 }));
    good = await startUpstream('good');
    good2 = await startUpstream('good2');
    good3 = await startUpstream('good3');
    always503 = await startUpstream('always503', answer(503, 'always503', tries503));
    one503 = await startUpstream('one503', answer(503, 'one503', { n: 0 }));
    hang = await startUpstream('hang', () => { /* never answers */ });
    // Cuts the connection of every other request before answering it.
    resetOnce = await startUpstream('reset', (req, res) => {
      if (resets++ % 2 === 0) { req.socket.destroy(); return; }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('answered after a reset');
    });
    // Answers 503 after 300 ms: one "wave" of tries at a time reaches it.
    slow503 = await startUpstream('slow503', (_req, res) => {
      setTimeout(() => { res.writeHead(503, { 'content-type': 'text/plain' }); res.end('down'); }, 300);
    });
    ups.push(bad, good, good2, good3, always503, one503, hang, resetOnce, slow503);
    const noEject = 'passiveHealth: { consecutiveFailures: 0 }';
    gw = await startRetryGateway(`
server: { bufferBodySize: 1kb }
upstreams:
  conn: { targets: [ { url: "http://127.0.0.1:${dead}" }, { url: "${good.url}" } ], ${noEject} }
  flaky: { targets: [ { url: "${bad.url}" }, { url: "${good.url}" } ], ${noEject} }
  down: { targets: [ { url: "${always503.url}" } ], ${noEject} }
  slowthenfast: { targets: [ { url: "${hang.url}" }, { url: "${good2.url}" } ], ${noEject} }
  hang: { targets: [ { url: "${hang.url}" } ], ${noEject} }
  reset: { targets: [ { url: "${resetOnce.url}" } ], ${noEject} }
  streamconn: { targets: [ { url: "http://127.0.0.1:${dead}" }, { url: "${good3.url}" } ], ${noEject} }
  storm: { targets: [ { url: "${slow503.url}" } ], ${noEject}, retryBudget: { ratio: 20%, minRetries: 3 } }
  stingy: { targets: [ { url: "http://127.0.0.1:${dead}" }, { url: "${good.url}" } ], ${noEject}, retryBudget: { ratio: 0%, minRetries: 0 } }
  legacy: { targets: [ { url: "http://127.0.0.1:${dead}" }, { url: "${good.url}" } ], ${noEject} }
  single: { targets: [ { url: "${one503.url}" } ], ${noEject}, retryBudget: { ratio: 0%, minRetries: 1 } }
routes:
  - { match: { path: /conn }, upstream: conn, retry: { attempts: 2, on: [ connect-failure ] } }
  - { match: { path: /flaky }, upstream: flaky, retry: { attempts: 2, on: [ connect-failure, 502, 503, 504, reset ], methods: [ GET, HEAD, PUT, DELETE, OPTIONS ], perTryTimeout: 1s, backoff: { base: 25ms, max: 250ms } } }
  - { match: { path: /down }, upstream: down, retry: { attempts: 2, on: [ 503 ] } }
  - { match: { path: /down-post }, upstream: down, retry: { attempts: 2, on: [ 503 ], methods: [ POST ] } }
  - { match: { path: /per-try }, upstream: slowthenfast, timeout: { headers: 10s, request: 10s }, retry: { attempts: 1, on: [ timeout ], perTryTimeout: 200ms } }
  - { match: { path: /per-try-final }, upstream: hang, timeout: { headers: 10s, request: 10s }, retry: { on: [ 503 ], perTryTimeout: 300ms } }
  - { match: { path: /sequence }, upstream: hang, timeout: { headers: 10s, request: 700ms }, retry: { attempts: 10, on: [ 504 ], perTryTimeout: 200ms, backoff: { base: 10ms, max: 20ms } } }
  - { match: { path: /reset }, upstream: reset, retry: { on: [ reset ] } }
  - { match: { path: /reset-not-listed }, upstream: reset, retry: { on: [ 503 ] } }
  - { match: { path: /streamconn }, upstream: streamconn, retry: { on: [ connect-failure ] } }
  - { match: { path: /storm }, upstream: storm, timeout: 30s, retry: { attempts: 3, on: [ 503 ], backoff: { base: 1ms, max: 5ms } } }
  - { match: { path: /stingy }, upstream: stingy }
  - { match: { path: /legacy }, upstream: legacy }
  - { match: { path: /abort }, upstream: single, retry: { attempts: 1, on: [ 503 ], backoff: { base: 1s, max: 1s } } }
`);
  });

  after(async () => {
    setRetryRandom(null);
    await gw.close();
    await Promise.all(ups.map((u) => u.close()));
  });

  afterEach(() => setRetryRandom(null));

  test('a connect failure is retried on the other target, for any method (nothing was sent)', async () => {
    const before = good.seen.length;
    for (const method of ['GET', 'POST', 'GET', 'POST']) {
      const r = await nodeRequest(gw.port, '/conn', {}, method, method === 'POST' ? 'x=1' : undefined);
      assert.equal(r.status, 200, r.body);
      assert.equal(JSON.parse(r.body).server, 'good');
    }
    assert.equal(good.seen.length - before, 4, 'every request reached the live target exactly once');
    assert.ok(await count(gw.metrics.upstreamRetries, { upstream: 'conn', reason: 'connect-failure' }) >= 2,
      'round-robin put the dead target first for half the requests, and those were retried');
  });

  test('a 503 is retried on another target; the 503 body never reaches the client', async () => {
    const badBefore = bad.seen.length;
    const goodBefore = good.seen.length;
    for (let i = 0; i < 6; i++) {
      const r = await nodeRequest(gw.port, '/flaky', {});
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).server, 'good');
      assert.ok(!r.body.includes('bad try'), r.body);
    }
    const badTries = bad.seen.length - badBefore;
    assert.ok(badTries >= 1 && badTries <= 6, `the 503 target saw ${badTries} tries`);
    assert.equal(good.seen.length - goodBefore, 6);
    assert.equal(await count(gw.metrics.upstreamRetries, { upstream: 'flaky', reason: '503' }), badTries,
      'one counted retry per 503');
  });

  test('retries exhausted: the client gets the last try\'s own response', async () => {
    const before = tries503.n;
    const r = await nodeRequest(gw.port, '/down', {});
    assert.equal(r.status, 503);
    assert.equal(r.headers['x-from'], 'always503');
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(tries503.n - before, 3, 'attempts: 2 is three tries in all');
    assert.equal(r.body, `always503 try ${before + 3}`, 'the body is the last try\'s');
  });

  test('POST is not retried unless listed in methods', async () => {
    let before = tries503.n;
    const r = await nodeRequest(gw.port, '/down', { 'content-type': 'text/plain' }, 'POST', 'order');
    assert.equal(r.status, 503);
    assert.equal(tries503.n - before, 1, 'POST went upstream once');
    before = tries503.n;
    const listed = await nodeRequest(gw.port, '/down-post', { 'content-type': 'text/plain' }, 'POST', 'order');
    assert.equal(listed.status, 503);
    assert.equal(tries503.n - before, 3, 'methods: [POST] retries it');
    before = tries503.n;
    assert.equal((await nodeRequest(gw.port, '/down-post', {}, 'GET')).status, 503);
    assert.equal(tries503.n - before, 1, 'and then GET, which that list leaves out, is not');
  });

  test('a streamed request body is never retried (a buffered one is)', async () => {
    let before = tries503.n;
    const big = 'x'.repeat(8 * 1024); // above bufferBodySize 1kb: streamed upstream
    const r = await nodeRequest(gw.port, '/down', { 'content-type': 'text/plain' }, 'PUT', big);
    assert.equal(r.status, 503);
    assert.equal(tries503.n - before, 1, 'the streamed PUT went upstream once');
    before = tries503.n;
    const small = await nodeRequest(gw.port, '/down', { 'content-type': 'text/plain' }, 'PUT', 'small');
    assert.equal(small.status, 503);
    assert.equal(tries503.n - before, 3, 'the buffered PUT was retried');
    // Not even a connect failure: round-robin over [dead, live] gives one request each.
    const statuses: number[] = [];
    for (let i = 0; i < 2; i++) statuses.push((await nodeRequest(gw.port, '/streamconn', {}, 'PUT', big)).status);
    assert.deepEqual(statuses.sort(), [200, 502]);
  });

  test('a perTryTimeout expiry is retried on another target (on: timeout)', async () => {
    const t0 = performance.now();
    for (let i = 0; i < 2; i++) {
      const r = await nodeRequest(gw.port, '/per-try', {});
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).server, 'good2');
    }
    const ms = performance.now() - t0;
    assert.ok(ms < 5000, `two requests took ${Math.round(ms)} ms: the hanging target was given up after 200 ms, not the 10 s timeouts`);
    assert.ok(await count(gw.metrics.upstreamRetries, { upstream: 'slowthenfast', reason: 'timeout' }) >= 1);
  });

  test('a perTryTimeout expiry that is not retried is a 504 upstream_timeout', async () => {
    const t0 = performance.now();
    const r = await nodeRequest(gw.port, '/per-try-final', {});
    const ms = performance.now() - t0;
    assert.equal(r.status, 504);
    assert.equal(r.headers['content-type'], 'application/problem+json');
    assert.equal(JSON.parse(r.body).code, 'upstream_timeout');
    assert.ok(ms >= 290 && ms < 3000, `answered after ${Math.round(ms)} ms for a 300 ms perTryTimeout`);
  });

  test('the whole try sequence stays within the route\'s request timeout', async () => {
    const before = hang.seen.length;
    const t0 = performance.now();
    const r = await nodeRequest(gw.port, '/sequence', {});
    const ms = performance.now() - t0;
    assert.equal(r.status, 504);
    assert.equal(JSON.parse(r.body).code, 'upstream_timeout');
    assert.ok(ms >= 690 && ms < 2500, `answered after ${Math.round(ms)} ms for a 700 ms request timeout`);
    await sleep(100);
    const tries = hang.seen.length - before;
    // Each try lasts its 200 ms perTryTimeout: at most 4 start within 700 ms (not the 11 attempts allows).
    assert.ok(tries >= 2 && tries <= 4, `${tries} tries`);
  });

  test('a connection reset before the response headers is retried when on lists reset', async () => {
    resets = 0;
    const r = await nodeRequest(gw.port, '/reset', {});
    assert.equal(r.status, 200);
    assert.equal(r.body, 'answered after a reset');
    assert.equal(resets, 2);
    resets = 0;
    const notListed = await nodeRequest(gw.port, '/reset-not-listed', {});
    assert.equal(notListed.status, 502);
    assert.equal(resets, 1);
  });

  test('the legacy connect-failure retry of a route without retry still works, and counts in the budget', async () => {
    const legacy: number[] = [];
    for (let i = 0; i < 4; i++) legacy.push((await nodeRequest(gw.port, '/legacy', {}, 'POST', 'x')).status);
    assert.deepEqual(legacy, [200, 200, 200, 200]);
    assert.ok(await count(gw.metrics.upstreamRetries, { upstream: 'legacy', reason: 'connect-failure' }) >= 1);
    // A budget of nothing (0%, minRetries 0) refuses it: the request whose first pick is the dead target gets the 502.
    const stingy: number[] = [];
    for (let i = 0; i < 2; i++) stingy.push((await nodeRequest(gw.port, '/stingy', {})).status);
    assert.deepEqual(stingy.sort(), [200, 502]);
    assert.equal(await count(gw.metrics.retryBudgetExhausted, { upstream: 'stingy' }), 1);
    assert.equal(await count(gw.metrics.upstreamRetries, { upstream: 'stingy' }), 0);
  });

  test('a client that goes away during the backoff gets no retry, and the budget slot comes back', async () => {
    setRetryRandom(() => 0.999); // the wait is then ~999 ms of the 1 s backoff
    const before = one503.seen.length;
    const req = httpRequest({ host: '127.0.0.1', port: gw.port, path: '/abort', agent: false });
    req.on('error', () => { /* destroyed on purpose */ });
    req.end();
    const until = performance.now() + 3000;
    while (one503.seen.length === before && performance.now() < until) await sleep(5);
    assert.equal(one503.seen.length - before, 1, 'the first try arrived');
    await sleep(150);
    req.destroy();
    await sleep(1300);
    assert.equal(one503.seen.length - before, 1, 'no retry after the client left');
    // minRetries 1: had the slot leaked, this retry would be refused.
    const t0 = performance.now();
    const r = await nodeRequest(gw.port, '/abort', {});
    assert.equal(r.status, 503);
    assert.equal(one503.seen.length - before, 3, 'the next request got its retry');
    assert.ok(performance.now() - t0 >= 900, 'after its backoff');
    assert.equal(await count(gw.metrics.retryBudgetExhausted, { upstream: 'single' }), 0);
    await wheelDrains();
  });

  test('the retry budget bounds the load on an upstream that always fails', async () => {
    const clients = 30;
    const attempts = 3;
    const before = slow503.seen.length;
    const results = await Promise.all(Array.from({ length: clients }, () => nodeRequest(gw.port, '/storm', {})));
    for (const r of results) assert.equal(r.status, 503);
    await sleep(50);
    const upstreamRequests = slow503.seen.length - before;
    const retries = await count(gw.metrics.upstreamRetries, { upstream: 'storm' });
    const refused = await count(gw.metrics.retryBudgetExhausted, { upstream: 'storm' });
    // Retries in flight never exceed max(3, 20% of the 30 active) = 6, and every retry lasts
    // the upstream's 300 ms: at most about one batch of 6 per try after the first.
    const allowance = Math.max(3, Math.floor(0.2 * clients)) * (attempts + 1);
    console.log(`# ${clients} clients, attempts ${attempts}: ${upstreamRequests} upstream requests (${retries} retries, ${refused} refused by the budget; without a budget: ${clients * (attempts + 1)})`);
    assert.equal(upstreamRequests, clients + retries, 'every upstream request is a first try or a counted retry');
    assert.ok(upstreamRequests <= clients + allowance, `${upstreamRequests} upstream requests > ${clients} + ${allowance}`);
    assert.ok(retries >= 3, 'minRetries were allowed');
    assert.ok(refused >= clients - allowance, `the budget refused ${refused} retries`);
    await wheelDrains();
  });
});
