// Circuit breakers on real upstreams (node:http servers failing on command):
// the circuit opens after its threshold and the upstream then sees no
// request at all; half-open probes close it again or reopen it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromYaml, deadPort, nodeRequest, type TestGateway } from './helpers.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { createWorkerMetrics, type WorkerMetrics } from '../../src/observability/metrics.js';
import { sleep, startControlledUpstream, upstreamState, waitFor, type ControlledUpstream } from './resilience-helpers.js';

/** A gateway whose resilience metrics go to a registry of the test's own. */
async function gatewayWithMetrics(yaml: string): Promise<{ gw: TestGateway; metrics: WorkerMetrics }> {
  const metrics = createWorkerMetrics({ defaultMetrics: false });
  const worker = await startWorker(configFromYaml(yaml), { onUpstreamGroups: (groups) => metrics.setUpstreamSource(() => groups) });
  const gw: TestGateway = { worker, port: worker.port, base: `http://127.0.0.1:${worker.port}`, close: async () => { await worker.drain(1000); } };
  return { gw, metrics };
}

async function get(gw: TestGateway, path: string): Promise<{ status: number; code: string | null; retryAfter: string | undefined; body: string }> {
  const r = await nodeRequest(gw.port, path, {});
  const code = r.headers['content-type'] === 'application/problem+json' ? (JSON.parse(r.body) as { code: string }).code : null;
  return { status: r.status, code, retryAfter: r.headers['retry-after'] as string | undefined, body: r.body };
}

describe('circuit breaker (real upstreams)', () => {
  let orders: ControlledUpstream;
  let rated: ControlledUpstream;
  let picky: ControlledUpstream;
  let gw: TestGateway;
  let metrics: WorkerMetrics;

  before(async () => {
    orders = await startControlledUpstream('orders');
    rated = await startControlledUpstream('rated');
    picky = await startControlledUpstream('picky');
    ({ gw, metrics } = await gatewayWithMetrics(`
server: { workers: 1 }
upstreams:
  orders:
    targets: [ { url: "${orders.url}" } ]
    passiveHealth: { consecutiveFailures: 0 }
    circuitBreaker: { failureRate: 50%, minRequests: 100, window: 10s, consecutiveFailures: 3, openFor: 1s, halfOpenRequests: 2 }
  rated:
    targets: [ { url: "${rated.url}" } ]
    passiveHealth: { consecutiveFailures: 0 }
    circuitBreaker: { failureRate: 50%, minRequests: 8, window: 30s, consecutiveFailures: 0, openFor: 30s }
  picky:
    targets: [ { url: "${picky.url}" } ]
    passiveHealth: { consecutiveFailures: 0 }
    circuitBreaker: { consecutiveFailures: 2, openFor: 30s, failOn: [ 503 ] }
routes:
  - { name: orders, match: { path: /orders }, upstream: orders }
  - { name: rated, match: { path: /rated }, upstream: rated }
  - { name: picky, match: { path: /picky }, upstream: picky }
`));
  });
  after(async () => { await gw?.close(); await Promise.all([orders?.close(), rated?.close(), picky?.close()]); });

  test('opens after consecutive 5xx; while open: 503 circuit_open with Retry-After and NO request reaches the upstream', async () => {
    assert.equal((await get(gw, '/orders')).status, 200);
    orders.mode = '500';
    for (let i = 0; i < 3; i++) assert.equal((await get(gw, '/orders')).status, 500, 'the upstream\'s own 5xx is forwarded');
    const seen = orders.seen.length;
    assert.equal(seen, 4);
    for (let i = 0; i < 10; i++) {
      const r = await get(gw, '/orders');
      assert.equal(r.status, 503);
      assert.equal(r.code, 'circuit_open');
      assert.match(JSON.parse(r.body).detail, /circuit breaker of upstream "orders" is open/);
      assert.ok(r.retryAfter === '1', `Retry-After ${r.retryAfter} (openFor 1s: whole seconds, at least 1)`);
    }
    assert.equal(orders.seen.length, seen, 'no request reached the upstream while the circuit was open');
    const state = await upstreamState(gw, 'orders');
    assert.equal(state.circuitBreaker!.state, 'open');
    assert.equal(state.circuitBreaker!.rejected, 10);
    assert.ok(state.circuitBreaker!.halfOpenAt! > Date.now() - 1000);
    const text = await metrics.registry.metrics();
    assert.match(text, /turnpike_upstream_circuit_state\{upstream="orders"\} 1\n/);
    assert.match(text, /turnpike_upstream_circuit_transitions_total\{upstream="orders",to="open"\} 1\n/);
    assert.match(text, /turnpike_upstream_rejected_total\{upstream="orders",reason="circuit_open"\} 10\n/);
  });

  test('a failed half-open probe reopens the circuit: one request reaches the upstream, the next is refused at once', async () => {
    await sleep(1200); // openFor 1s
    const before = orders.seen.length;
    const probe = await get(gw, '/orders');
    assert.equal(probe.status, 500, 'the probe went to the upstream');
    assert.equal(orders.seen.length, before + 1);
    const next = await get(gw, '/orders');
    assert.equal(next.code, 'circuit_open');
    assert.equal(orders.seen.length, before + 1);
    assert.equal((await upstreamState(gw, 'orders')).circuitBreaker!.state, 'open');
  });

  test('half-open lets halfOpenRequests probes through (others refused) and closes when they succeed', async () => {
    orders.mode = 'hold';
    await sleep(1200);
    const before = orders.seen.length;
    // Two probes held at the upstream; a third request meanwhile is refused.
    const probes = [get(gw, '/orders'), get(gw, '/orders')];
    await waitFor('both probes at the upstream', () => orders.held.length === 2);
    const third = await get(gw, '/orders');
    assert.equal(third.code, 'circuit_open');
    assert.equal(third.retryAfter, '1');
    const half = await upstreamState(gw, 'orders');
    assert.equal(half.circuitBreaker!.state, 'half-open');
    assert.equal(half.circuitBreaker!.probes, 2);
    orders.mode = 'ok';
    orders.release();
    assert.deepEqual((await Promise.all(probes)).map((r) => r.status), [200, 200]);
    assert.equal(orders.seen.length, before + 2);
    const closed = await upstreamState(gw, 'orders');
    assert.equal(closed.circuitBreaker!.state, 'closed');
    assert.deepEqual(closed.circuitBreaker!.transitions, { closed: 1, open: 2, 'half-open': 2 });
    for (let i = 0; i < 5; i++) assert.equal((await get(gw, '/orders')).status, 200);
    assert.match(await metrics.registry.metrics(), /turnpike_upstream_circuit_state\{upstream="orders"\} 0\n/);
  });

  test('the failure-rate trigger: at least minRequests attempts in the window, failureRate of them failed', async () => {
    // 7 attempts (below minRequests 8), 4 of them failed, never two in a row.
    for (let i = 0; i < 7; i++) {
      rated.mode = i % 2 === 0 ? '500' : 'ok';
      await get(gw, '/rated');
    }
    assert.equal((await upstreamState(gw, 'rated')).circuitBreaker!.state, 'closed');
    rated.mode = 'ok';
    assert.equal((await get(gw, '/rated')).status, 200); // 8 attempts, 4 failed: a success never opens
    rated.mode = '500';
    assert.equal((await get(gw, '/rated')).status, 500); // 9 attempts, 5 failed = 56%
    const state = await upstreamState(gw, 'rated');
    assert.equal(state.circuitBreaker!.state, 'open');
    assert.deepEqual([state.circuitBreaker!.windowRequests, state.circuitBreaker!.windowFailures], [9, 5]);
    assert.equal((await get(gw, '/rated')).code, 'circuit_open');
    const retry = Number((await get(gw, '/rated')).retryAfter);
    assert.ok(retry >= 25 && retry <= 30, `Retry-After ${retry} (openFor 30s)`);
    assert.equal(rated.seen.length, 9);
  });

  test('failOn: [503] counts only 503s', async () => {
    picky.mode = '500';
    for (let i = 0; i < 4; i++) assert.equal((await get(gw, '/picky')).status, 500);
    assert.equal((await upstreamState(gw, 'picky')).circuitBreaker!.state, 'closed');
    picky.mode = '503';
    for (let i = 0; i < 2; i++) assert.equal((await get(gw, '/picky')).status, 503);
    assert.equal((await get(gw, '/picky')).code, 'circuit_open');
    assert.equal(picky.seen.length, 6);
  });
});

describe('circuit breaker counts connect failures and timeouts', () => {
  let slow: ControlledUpstream;
  let gw: TestGateway;
  let deadPortNumber: number;

  before(async () => {
    slow = await startControlledUpstream('slow');
    slow.mode = 'hold';
    deadPortNumber = await deadPort();
    ({ gw } = await gatewayWithMetrics(`
server: { workers: 1 }
upstreams:
  slow:
    targets: [ { url: "${slow.url}" } ]
    passiveHealth: { consecutiveFailures: 0 }
    circuitBreaker: { consecutiveFailures: 2, openFor: 30s }
  dead:
    targets: [ { url: "http://127.0.0.1:${deadPortNumber}" } ]
    passiveHealth: { consecutiveFailures: 0 }
    circuitBreaker: { consecutiveFailures: 3, openFor: 30s }
routes:
  - { name: slow, match: { path: /slow }, upstream: slow, timeout: 200ms }
  - { name: dead, match: { path: /dead }, upstream: dead }
`));
  });
  after(async () => { await gw?.close(); slow?.release(); await slow?.close(); });

  test('timeouts (504) open the circuit; the held requests do not count twice', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await get(gw, '/slow')).code, 'upstream_timeout');
    const r = await get(gw, '/slow');
    assert.equal(r.code, 'circuit_open');
    assert.equal(slow.seen.length, 2);
    assert.equal((await upstreamState(gw, 'slow')).circuitBreaker!.transitions.open, 1);
  });

  test('connect failures (502) open the circuit', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await get(gw, '/dead')).code, 'upstream_connect_failed');
    assert.equal((await get(gw, '/dead')).code, 'circuit_open');
    const s = (await upstreamState(gw, 'dead')).circuitBreaker!;
    assert.deepEqual([s.state, s.consecutiveFailures, s.rejected], ['open', 3, 1]);
  });
});
