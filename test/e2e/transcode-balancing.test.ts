// REST→gRPC transcoding over an upstream group of real @grpc/grpc-js
// LibraryServices: balancing, passive ejection with retry on another
// target, and active grpc.health.v1 checks.
import { afterEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { configFromYaml } from './helpers.js';
import { startLibraryServer, type LibraryServer } from '../../loadtest/upstream/library-grpc-server.js';

const PROTOS = resolve('config/protos');
const LIBRARY = join(PROTOS, 'example/library/v1/library.proto');

/** A target health event from the worker's onTargetHealth hook. */
interface HealthEvent {
  target: string;
  available: boolean;
  reason: string;
}

interface Gateway {
  base: string;
  events: HealthEvent[];
  close(): Promise<void>;
}

function yaml(ports: number[], upstreamExtra = ''): string {
  return `
server: { workers: 1 }
upstreams:
  library:
    targets: [ ${ports.map((p) => `{ url: "h2c://127.0.0.1:${p}" }`).join(', ')} ]
    protocol: grpc
${upstreamExtra}
grpc:
  - upstream: library
    protos: [ "${LIBRARY}" ]
    includeDirs: [ "${PROTOS}" ]
    services: [ example.library.v1.LibraryService ]
    timeout: 2s
`;
}

const open: Array<{ close(): Promise<void> | void }> = [];

async function gateway(text: string): Promise<Gateway> {
  const events: HealthEvent[] = [];
  const worker = await startWorker(configFromYaml(text), {
    onTargetHealth: (_upstream, target, available, reason) => events.push({ target, available, reason }),
  });
  const gw = { base: `http://127.0.0.1:${worker.port}`, events, close: async () => { await worker.drain(1000); } };
  open.push(gw);
  return gw;
}

async function server(health = false): Promise<LibraryServer> {
  const s = await startLibraryServer(LIBRARY, PROTOS, { health });
  open.push({ close: () => s.kill() });
  return s;
}

async function getShelf(gw: Gateway, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  const r = await request(gw.base + '/v1/shelves/s1', { headers });
  return { status: r.statusCode, body: await r.body.text() };
}

/** Resolves once `events` has one matching `pred`, or rejects after `ms`. */
async function eventually(events: HealthEvent[], pred: (e: HealthEvent) => boolean, ms = 3000): Promise<HealthEvent> {
  const end = Date.now() + ms;
  for (;;) {
    const hit = events.find(pred);
    if (hit !== undefined) return hit;
    if (Date.now() > end) throw new Error(`no matching health event within ${ms} ms; got ${JSON.stringify(events)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const url = (s: LibraryServer): string => `h2c://127.0.0.1:${s.port}`;

describe('transcoding over an upstream group (real gRPC servers)', () => {
  afterEach(async () => {
    // Gateways first (they hold channels to the servers), then the servers.
    const all = open.splice(0).reverse();
    for (const x of all) await x.close();
  });

  test('round-robin spreads calls evenly over two targets', async () => {
    const a = await server();
    const b = await server();
    const gw = await gateway(yaml([a.port, b.port]));
    for (let i = 0; i < 20; i++) {
      const r = await getShelf(gw);
      assert.equal(r.status, 200, r.body);
    }
    assert.deepEqual([a.calls, b.calls], [10, 10]);
  });

  test('hash balancing: one key always reaches the same target', async () => {
    const a = await server();
    const b = await server();
    const gw = await gateway(yaml([a.port, b.port], '    balance: hash\n    hashOn: "header:x-user"'));
    for (let i = 0; i < 10; i++) assert.equal((await getShelf(gw, { 'x-user': 'u-42' })).status, 200);
    assert.deepEqual([a.calls, b.calls].sort((x, y) => x - y), [0, 10]);
  });

  test('least-request: a call in flight steers the next ones to the other target, until it finishes', async () => {
    const a = await server();
    const b = await server();
    const gw = await gateway(yaml([a.port, b.port], '    balance: least-request').replace('timeout: 2s', 'timeout: 5s'));
    const slow = request(gw.base + '/v1/books/slow'); // the server answers after 2 s
    while (a.calls + b.calls === 0) await new Promise((r) => setTimeout(r, 5));
    const [busy, idle] = a.calls === 1 ? [a, b] : [b, a];
    for (let i = 0; i < 6; i++) assert.equal((await getShelf(gw)).status, 200);
    assert.deepEqual([busy.calls, idle.calls], [1, 6]);
    const r = await slow;
    assert.equal(r.statusCode, 200, await r.body.text());
    // Both idle again: the two-choice draw compares equal loads, so both get calls.
    for (let i = 0; i < 20; i++) assert.equal((await getShelf(gw)).status, 200);
    assert.ok(busy.calls > 1 && idle.calls > 6, `${busy.calls} / ${idle.calls}`);
  });

  test('a killed target is ejected by passive health; every call (unary and streaming) still succeeds on the other', async () => {
    const a = await server();
    const b = await server();
    const gw = await gateway(yaml([a.port, b.port], '    passiveHealth: { consecutiveFailures: 1, ejectTime: 30s }'));
    for (let i = 0; i < 4; i++) assert.equal((await getShelf(gw)).status, 200);
    assert.deepEqual([a.calls, b.calls], [2, 2]);
    a.kill();
    await new Promise((r) => setTimeout(r, 100)); // the gateway sees its connection to a close
    // Round-robin's turn is a's: the server stream never reaches it and goes to b instead.
    const stream = await request(gw.base + '/v1/shelves/s3/books:stream?limit=2');
    assert.equal(stream.statusCode, 200);
    assert.deepEqual((await stream.body.text()).trim().split('\n').map((l) => JSON.parse(l).name), ['shelves/s3/books/0', 'shelves/s3/books/1']);
    assert.equal(gw.events.length, 1, 'the stream call was the one that failed on a (and ejected it)');
    for (let i = 0; i < 10; i++) {
      const r = await getShelf(gw);
      assert.equal(r.status, 200, `call ${i}: ${r.body}`);
    }
    assert.equal(b.calls, 13);
    const ejected = await eventually(gw.events, (e) => e.target === url(a) && !e.available);
    assert.match(ejected.reason, /^ejected for 30000 ms: 1 consecutive failures \(last: connect\)/);
    assert.equal(gw.events.length, 1, JSON.stringify(gw.events));
  });

  test('application errors (NOT_FOUND) do not count against a target', async () => {
    const a = await server();
    const gw = await gateway(yaml([a.port], '    passiveHealth: { consecutiveFailures: 1, ejectTime: 30s }'));
    for (let i = 0; i < 3; i++) assert.equal((await request(gw.base + '/v1/shelves/missing')).statusCode, 404);
    assert.equal((await getShelf(gw)).status, 200);
    assert.deepEqual(gw.events, []);
  });

  test('with every target ejected (panic mode off) the answer is 503 upstream_unavailable', async () => {
    const a = await server();
    const gw = await gateway(yaml([a.port], '    passiveHealth: { consecutiveFailures: 1, ejectTime: 30s }\n    panicThreshold: 0%'));
    assert.equal((await getShelf(gw)).status, 200);
    a.kill();
    await new Promise((r) => setTimeout(r, 100));
    const failed = await getShelf(gw);
    assert.equal(failed.status, 503);
    assert.equal(JSON.parse(failed.body).code, 'grpc_unavailable');
    const none = await getShelf(gw);
    assert.equal(none.status, 503);
    assert.equal(JSON.parse(none.body).code, 'upstream_unavailable');
  });

  test('active grpc.health.v1 checks: NOT_SERVING and a killed target are marked down and get no calls', async () => {
    const a = await server(true); // serves grpc.health.v1
    const b = await server(); // no health service: UNIMPLEMENTED counts as up
    const gw = await gateway(yaml([a.port, b.port],
      '    healthCheck: { path: /example.library.v1.LibraryService, interval: 50ms, timeout: 500ms, unhealthyThreshold: 1, healthyThreshold: 1 }'));
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(gw.events, [], 'both targets start healthy');
    assert.ok(a.health!.asked.length >= 2 && a.health!.asked.every((s) => s === 'example.library.v1.LibraryService'), a.health!.asked.join());

    a.health!.set('example.library.v1.LibraryService', 'NOT_SERVING');
    const down = await eventually(gw.events, (e) => e.target === url(a) && !e.available);
    assert.match(down.reason, /^NOT_SERVING \(1 consecutive failures\)$/);
    const before = a.calls;
    for (let i = 0; i < 6; i++) assert.equal((await getShelf(gw)).status, 200);
    assert.equal(a.calls, before, 'an unhealthy target gets no calls');

    a.health!.set('example.library.v1.LibraryService', 'SERVING');
    const up = await eventually(gw.events, (e) => e.target === url(a) && e.available);
    assert.match(up.reason, /^SERVING \(1 consecutive successes\)$/);

    b.kill(); // no traffic: only the active check can notice
    const dead = await eventually(gw.events, (e) => e.target === url(b) && !e.available);
    // A check in flight when the server died says 'connection lost', later ones ECONNREFUSED.
    assert.match(dead.reason, /^UNAVAILABLE: .*(ECONNREFUSED|lost)/);
    const aCalls = a.calls;
    for (let i = 0; i < 4; i++) assert.equal((await getShelf(gw)).status, 200);
    assert.equal(a.calls, aCalls + 4);
  });
});
