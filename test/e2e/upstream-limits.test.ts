// Concurrency limits with a queue on real upstreams: a slow upstream holds
// its requests; above maxConcurrent they queue, above maxQueued they are
// refused at once, a queued one past queueTimeout is refused; another route
// to a fast upstream keeps answering. Slots are released exactly once,
// whichever way a request ends (answer, client abort queued or in flight,
// deadline).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from './helpers.js';
import { sleep, startControlledUpstream, upstreamState, waitFor, type ControlledUpstream } from './resilience-helpers.js';

interface Answer { status: number; code: string | null; ms: number }

/** A GET on its own connection that can be aborted by the client. */
function send(gw: TestGateway, path: string): { answer: Promise<Answer>; abort(): void } {
  const t0 = performance.now();
  const req = httpRequest({ host: '127.0.0.1', port: gw.port, path, agent: false });
  const answer = new Promise<Answer>((resolve, reject) => {
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const code = res.headers['content-type'] === 'application/problem+json' ? (JSON.parse(body) as { code: string }).code : null;
        resolve({ status: res.statusCode ?? 0, code, ms: performance.now() - t0 });
      });
    });
    req.on('error', reject);
  });
  req.end();
  return { answer, abort: () => { answer.catch(() => undefined); req.destroy(); } };
}

describe('upstream concurrency limits and queue (real upstreams)', () => {
  let slow: ControlledUpstream;
  let fast: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    slow = await startControlledUpstream('slow');
    fast = await startUpstream('fast');
    gw = await startGateway(`
server: { workers: 1 }
upstreams:
  slow:
    targets: [ { url: "${slow.url}" } ]
    limits: { maxConcurrent: 2, maxQueued: 2, queueTimeout: 1s }
  patient:
    targets: [ { url: "${slow.url}" } ]
    limits: { maxConcurrent: 2, maxQueued: 1, queueTimeout: 30s }
  fast: { targets: [ { url: "${fast.url}" } ] }
routes:
  - { name: slow, match: { path: /slow }, upstream: slow }
  - { name: patient, match: { path: /patient }, upstream: patient }
  - { name: deadline, match: { path: /deadline }, upstream: patient, timeout: 300ms }
  - { name: fast, match: { path: /fast }, upstream: fast }
`);
  });
  after(async () => { await gw?.close(); slow?.release(); await Promise.all([slow?.close(), fast?.close()]); });

  /** Waits until the patient upstream's limiter shows `inflight` / `queued`. */
  async function patientAt(inflight: number, queued: number): Promise<void> {
    await waitFor(`patient at ${inflight} in flight, ${queued} queued`, async () => {
      const l = (await upstreamState(gw, 'patient')).limits!;
      return l.inflight === inflight && l.queued === queued;
    });
  }

  test('above maxConcurrent requests queue, above maxQueued they get 503 at once, past queueTimeout 503; the fast route keeps answering', async () => {
    slow.mode = 'hold';
    const inFlight = [send(gw, '/slow'), send(gw, '/slow')];
    await waitFor('2 requests at the upstream', () => slow.held.length === 2);
    const queued = [send(gw, '/slow'), send(gw, '/slow')];
    await waitFor('2 queued', async () => (await upstreamState(gw, 'slow')).limits!.queued === 2);
    const refused = await send(gw, '/slow').answer;
    assert.deepEqual([refused.status, refused.code], [503, 'upstream_overloaded']);
    // Refused at once: the queued requests are still waiting (queueTimeout 1s).
    assert.equal((await upstreamState(gw, 'slow')).limits!.queued, 2);
    // The other route, to another upstream, is not held up meanwhile.
    for (let i = 0; i < 5; i++) {
      const r = await send(gw, '/fast').answer;
      assert.equal(r.status, 200);
    }
    const timedOut = await Promise.all(queued.map((q) => q.answer));
    for (const r of timedOut) {
      assert.deepEqual([r.status, r.code], [503, 'upstream_overloaded']);
      assert.ok(r.ms >= 900, `a queued request was refused after ${r.ms.toFixed(0)} ms, before queueTimeout`);
    }
    assert.equal(slow.seen.length, 2, 'neither queued nor refused requests reached the upstream');
    const mid = (await upstreamState(gw, 'slow')).limits!;
    assert.deepEqual([mid.inflight, mid.queued, mid.rejectedQueueFull, mid.rejectedQueueTimeout], [2, 0, 1, 2]);
    slow.release();
    assert.deepEqual((await Promise.all(inFlight.map((q) => q.answer))).map((r) => r.status), [200, 200]);
    await waitFor('slots released', async () => (await upstreamState(gw, 'slow')).limits!.inflight === 0);
    slow.mode = 'ok';
    assert.equal((await send(gw, '/slow').answer).status, 200);
  });

  test('a queued request is dispatched (FIFO) as soon as a slot frees up', async () => {
    slow.mode = 'hold';
    const first = [send(gw, '/patient'), send(gw, '/patient')];
    await waitFor('2 at the upstream', () => slow.held.length === 2);
    const waiting = send(gw, '/patient');
    await patientAt(2, 1);
    const seen = slow.seen.length;
    slow.release(1);
    await waitFor('the queued request at the upstream', () => slow.seen.length === seen + 1 && slow.held.length === 2);
    slow.release();
    const all = await Promise.all([...first, waiting].map((q) => q.answer));
    assert.deepEqual(all.map((r) => r.status), [200, 200, 200]);
    await patientAt(0, 0);
    slow.mode = 'ok';
  });

  test('a client that aborts while queued leaves the queue; one that aborts in flight gives its slot to the next waiter', async () => {
    slow.mode = 'hold';
    const a = send(gw, '/patient');
    const b = send(gw, '/patient');
    await waitFor('2 at the upstream', () => slow.held.length === 2);
    const queued = send(gw, '/patient');
    await patientAt(2, 1);
    queued.abort();
    await patientAt(2, 0);
    const next = send(gw, '/patient');
    await patientAt(2, 1);
    const seen = slow.seen.length;
    a.abort(); // in flight: the slot goes to `next`
    await waitFor('the waiter dispatched', () => slow.seen.length === seen + 1);
    await patientAt(2, 0);
    b.abort();
    await patientAt(1, 0);
    slow.mode = 'ok';
    slow.release();
    assert.equal((await next.answer).status, 200);
    await patientAt(0, 0);
    // Nothing leaked: two new requests both go straight to the upstream.
    slow.mode = 'hold';
    const again = [send(gw, '/patient'), send(gw, '/patient')];
    await waitFor('both at the upstream', () => slow.held.length === 2);
    assert.equal((await upstreamState(gw, 'patient')).limits!.queued, 0);
    slow.mode = 'ok';
    slow.release();
    assert.deepEqual((await Promise.all(again.map((q) => q.answer))).map((r) => r.status), [200, 200]);
    await patientAt(0, 0);
  });

  test('a request that hits its deadline releases its slot (504), and the queued one behind it runs', async () => {
    slow.mode = 'hold';
    const held = send(gw, '/patient');
    const expiring = send(gw, '/deadline');
    await waitFor('2 at the upstream', () => slow.held.length === 2);
    const waiting = send(gw, '/patient');
    await patientAt(2, 1);
    const r = await expiring.answer;
    assert.deepEqual([r.status, r.code], [504, 'upstream_timeout']);
    await waitFor('the waiter dispatched', () => slow.held.length === 3);
    await patientAt(2, 0);
    slow.mode = 'ok';
    slow.release();
    assert.deepEqual([(await held.answer).status, (await waiting.answer).status], [200, 200]);
    await patientAt(0, 0);
  });

  test('a queued request keeps its own deadline budget: its timeout counts from its dispatch', async () => {
    slow.mode = 'hold';
    const blockers = [send(gw, '/patient'), send(gw, '/patient')];
    await waitFor('2 at the upstream', () => slow.held.length === 2);
    const queuedDeadline = send(gw, '/deadline'); // timeout 300ms, waits longer than that in the queue
    await patientAt(2, 1);
    await sleep(500);
    slow.mode = 'ok';
    slow.release(1);
    const r = await queuedDeadline.answer;
    assert.equal(r.status, 200, 'the wait in the queue did not eat its 300 ms deadline');
    slow.release();
    await Promise.all(blockers.map((q) => q.answer));
    await patientAt(0, 0);
  });
});
