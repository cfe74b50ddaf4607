// Admin commands answered by every worker: GET /upstreams collects each
// worker's view of its upstream groups over cluster IPC.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { freePort, httpGet, startGateway, type Gateway } from './fixtures/gateway-process.js';
import { startUpstream, type Upstream } from './fixtures/upstreams.js';
import type { UpstreamState } from '../../src/upstream/upstreams-snapshot.js';

let up: Upstream;
let gw: Gateway | null = null;

before(async () => {
  up = await startUpstream('A');
});

after(async () => {
  gw?.cleanup();
  await up.close();
});

test('GET /upstreams answers per worker with its targets; other methods get 405 with Allow', async () => {
  const port = await freePort();
  const adminPort = await freePort();
  gw = await startGateway(`server: { host: 127.0.0.1, port: ${port}, workers: 2, gracePeriod: 2s }
admin: { host: 127.0.0.1, port: ${adminPort} }
upstreams:
  a: { targets: [ { url: "${up.url}" } ] }
routes:
  - { name: r, match: { path: /r }, upstream: a }
`);
  const res = await httpGet(adminPort, '/upstreams');
  assert.equal(res.status, 200);
  const body = JSON.parse(res.body) as { workers: Array<{ worker: number; pid: number; upstreams?: Record<string, { protocol: string; targets: Array<{ url: string; available: boolean }> }>; error?: string }> };
  assert.equal(body.workers.length, 2);
  assert.equal(new Set(body.workers.map((w) => w.pid)).size, 2, 'two distinct worker processes answered');
  for (const w of body.workers) {
    assert.equal(w.error, undefined);
    assert.equal(w.upstreams!.a.protocol, 'http');
    assert.deepEqual(w.upstreams!.a.targets.map((t) => [t.url, t.available]), [[up.url, true]]);
  }
  const del = await httpGet(adminPort, '/upstreams', { method: 'DELETE' });
  assert.equal(del.status, 405);
  assert.equal(del.headers.allow, 'GET');
  assert.equal(JSON.parse(del.body).code, 'method_not_allowed');
});

test('a worker\'s circuit breaker shows in GET /upstreams and GET /metrics, and its opening is logged', async () => {
  const port = await freePort();
  const adminPort = await freePort();
  const nothing = await freePort(); // nothing listens there: connect failures
  const proc = await startGateway(`server: { host: 127.0.0.1, port: ${port}, workers: 1, gracePeriod: 2s }
admin: { host: 127.0.0.1, port: ${adminPort} }
upstreams:
  down:
    targets: [ { url: "http://127.0.0.1:${nothing}" } ]
    passiveHealth: { consecutiveFailures: 0 }
    circuitBreaker: { consecutiveFailures: 2, openFor: 30s }
    limits: { maxConcurrent: 8, maxQueued: 4 }
routes:
  - { name: d, match: { path: /d }, upstream: down }
`);
  try {
    assert.deepEqual([(await httpGet(port, '/d')).status, (await httpGet(port, '/d')).status], [502, 502]);
    const refused = await httpGet(port, '/d');
    assert.equal(refused.status, 503);
    assert.equal(JSON.parse(refused.body).code, 'circuit_open');
    assert.ok(Number(refused.headers['retry-after']) >= 1);
    const logged = await proc.waitForLine((l) => l.msg === 'circuit open', 5000, 'the "circuit open" log line');
    assert.equal(logged.upstream, 'down');
    assert.equal(logged.level, 'warn');
    const body = JSON.parse((await httpGet(adminPort, '/upstreams')).body) as { workers: Array<{ upstreams: Record<string, UpstreamState> }> };
    assert.equal(body.workers.length, 1);
    const down = body.workers[0].upstreams.down;
    const breaker = down.circuitBreaker!;
    assert.deepEqual([breaker.state, breaker.consecutiveFailures, breaker.rejected], ['open', 2, 1]);
    assert.ok(breaker.halfOpenAt! > Date.now() + 20_000);
    assert.deepEqual([down.limits!.maxConcurrent, down.limits!.inflight, down.limits!.queued], [8, 0, 0]);
    assert.equal(down.panic, false);
    const metrics = (await httpGet(adminPort, '/metrics')).body;
    assert.match(metrics, /turnpike_upstream_circuit_state\{upstream="down"\} 1\n/);
    assert.match(metrics, /turnpike_upstream_circuit_transitions_total\{upstream="down",to="open"\} 1\n/);
    assert.match(metrics, /turnpike_upstream_rejected_total\{upstream="down",reason="circuit_open"\} 1\n/);
    assert.match(metrics, /turnpike_upstream_queued\{upstream="down"\} 0\n/);
  } finally {
    proc.cleanup();
  }
});
