import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { createWorkerMetrics, type WorkerMetrics } from '../../src/observability/metrics.js';
import { WorkerObserver } from '../../src/observability/worker-observer.js';
import type { PolicyInstance } from '../../src/policies/types.js';
import { configFromYaml, deadPort, nodeRequest, startUpstream, type TestUpstream } from './helpers.js';
import { testSpec, withTestKind } from './test-policy-kind.js';

interface Reply { status: number; headers: IncomingMessage['headers']; body: string; json: Record<string, unknown> | null }

async function send(port: number, path: string, headers: OutgoingHttpHeaders = {}): Promise<Reply> {
  const r = await nodeRequest(port, path, headers);
  const json = r.body !== '' && /json/.test(String(r.headers['content-type'])) ? JSON.parse(r.body) as Record<string, unknown> : null;
  return { ...r, json };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const sha = (key: string): string => createHash('sha256').update(key).digest('hex');
const KEY = 'dash-key-5c1d9e7a3b';

/** JSON after `delayMs`; the request's url and the time it arrived are in `log`. */
function delayed(delayMs: number, body: (req: IncomingMessage) => unknown, log: Array<{ url: string; at: number; end: number; closedEarly: boolean }>) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const entry = { url: req.url ?? '', at: performance.now(), end: 0, closedEarly: false };
    log.push(entry);
    res.on('close', () => { if (!res.writableFinished) entry.closedEarly = true; });
    setTimeout(() => {
      if (res.destroyed) return;
      entry.end = performance.now();
      const payload = body(req);
      if (typeof payload === 'string') { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(payload); return; }
      const { status = 200, json } = payload as { status?: number; json: unknown };
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    }, delayMs);
  };
}

describe('response aggregation (real gateway, real upstreams)', () => {
  const log: Array<{ url: string; at: number; end: number; closedEarly: boolean }> = [];
  let users: TestUpstream;
  let orders: TestUpstream;
  let payments: TestUpstream;
  let broken: TestUpstream;
  let slow: TestUpstream;
  let flaky: TestUpstream;
  let gz: TestUpstream;
  let odd: TestUpstream;
  let bumpy: TestUpstream;
  let gw: GatewayWorker;
  let metrics: WorkerMetrics;
  let flakyStatus = 500;
  let toggle: TestUpstream;
  let toggleStatus = 200;

  before(async () => {
    users = await startUpstream('users', delayed(100, (req) => (req.url === '/v1/users/404'
      ? { status: 404, json: { error: 'no such user' } }
      : { json: { id: decodeURIComponent(req.url!.split('/').pop()!), accountId: 'acc/7 x', name: 'Ada' } }), log));
    orders = await startUpstream('orders', delayed(100, (req) => ({ json: { items: [{ id: 1 }, { id: 2 }], query: req.url } }), log));
    payments = await startUpstream('payments', delayed(100, (req) => ({ json: { amount: 42.5, currency: 'EUR', url: req.url } }), log));
    broken = await startUpstream('broken', delayed(5, () => 'not json at all', log));
    slow = await startUpstream('slow', delayed(2000, () => ({ json: { late: true } }), log));
    flaky = await startUpstream('flaky', delayed(1, () => ({ status: flakyStatus, json: { flaky: true } }), log));
    toggle = await startUpstream('toggle', delayed(1, () => ({ status: toggleStatus, json: { version: toggleStatus } }), log));
    let bumps = 0;
    bumpy = await startUpstream('bumpy', (_req, res) => {
      const busy = bumps++ % 2 === 0;
      res.writeHead(busy ? 503 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ busy }));
    });
    odd = await startUpstream('odd', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"accountId":"\\ud800","nested":{"n":1}}');
    });
    gz = await startUpstream('gz', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(gzipSync(JSON.stringify({ zipped: true })));
    });
    const dead = await deadPort();
    const config = configFromYaml(`
server: { workers: 1 }
upstreams:
  users: { targets: [ { url: "${users.url}" } ] }
  orders: { targets: [ { url: "${orders.url}" } ] }
  payments: { targets: [ { url: "${payments.url}" } ] }
  broken: { targets: [ { url: "${broken.url}" } ] }
  slow: { targets: [ { url: "${slow.url}" } ] }
  gz: { targets: [ { url: "${gz.url}" } ] }
  odd: { targets: [ { url: "${odd.url}" } ] }
  bumpy: { targets: [ { url: "${bumpy.url}" } ], passiveHealth: { consecutiveFailures: 0 } }
  dead: { targets: [ { url: "http://127.0.0.1:${dead}" } ], passiveHealth: { consecutiveFailures: 0 } }
  toggle: { targets: [ { url: "${toggle.url}" } ], passiveHealth: { consecutiveFailures: 0 } }
  flaky:
    targets: [ { url: "${flaky.url}" } ]
    passiveHealth: { consecutiveFailures: 0 }
    circuitBreaker: { consecutiveFailures: 2, openFor: 30s }
consumers:
  - { id: acme, username: acme-corp, groups: [ partners ], keys: [ { sha256: "${sha(KEY)}" } ] }
policies:
  keys: { key-auth: { header: x-api-key } }
  dash-cache: { cache: { store: memory, ttl: 60s } }
  short-cache: { cache: { store: memory, ttl: 1s, staleIfError: 1m } }
  mobile-view:
    transform:
      response: { json: { allow: [ "user.name", "recentOrders[].id", balance ], set: { view: "mobile-\${param.id}" } } }
routes:
  - name: user-dashboard
    match: { path: /dashboard/:id, methods: [ GET ] }
    aggregate:
      timeout: 800ms
      calls:
        user:    { upstream: users,  path: /v1/users/:id }
        orders:  { upstream: orders, path: /v1/orders?user=:id, optional: true }
        balance: { upstream: payments, path: "/v1/balance/\${user.accountId}", after: [ user ] }
      merge: { user: user, recentOrders: "orders.items", balance: balance.amount }
      partial: allow
  - name: parallel
    match: { path: /parallel/:id }
    aggregate:
      calls:
        a: { upstream: users, path: /v1/users/:id }
        b: { upstream: orders, path: "/v1/orders?user=:id&x=1" }
        c: { upstream: payments, path: /v1/balance/:id, headers: { x-call: c, X-Request-Source: dashboard } }
  - name: optional-broken
    match: { path: /optional-broken }
    aggregate:
      calls:
        user: { upstream: users, path: /v1/users/1 }
        extra: { upstream: broken, path: /x, optional: true }
        gone: { upstream: dead, path: /y, optional: true }
  - name: partial-fail
    match: { path: /partial-fail }
    aggregate:
      partial: fail
      calls:
        user: { upstream: users, path: /v1/users/1 }
        extra: { upstream: broken, path: /x, optional: true }
  - name: required-dead
    match: { path: /required-dead }
    aggregate:
      calls:
        user: { upstream: users, path: /v1/users/1 }
        gone: { upstream: dead, path: /y }
  - name: required-invalid
    match: { path: /required-invalid }
    aggregate:
      calls:
        extra: { upstream: broken, path: /x }
  - name: missing-user
    match: { path: /missing/:id }
    aggregate:
      calls:
        user: { upstream: users, path: /v1/users/:id }
        balance: { upstream: payments, path: "/v1/balance/\${user.accountId}", after: [ user ] }
  - name: too-slow
    match: { path: /too-slow }
    aggregate:
      timeout: 300ms
      calls:
        user: { upstream: users, path: /v1/users/1 }
        late: { upstream: slow, path: /late }
        later: { upstream: payments, path: "/v1/balance/\${late.id}", after: [ late ] }
  - name: client-leaves
    match: { path: /client-leaves }
    aggregate:
      calls:
        late: { upstream: slow, path: /late-abandoned }
  - name: call-timeout
    match: { path: /call-timeout }
    aggregate:
      calls:
        late: { upstream: slow, path: /late, timeout: 150ms }
  - name: breaker
    match: { path: /breaker }
    aggregate:
      calls:
        f: { upstream: flaky, path: /f }
  - name: keyed
    match: { path: /keyed/:id }
    policies: [ keys ]
    aggregate:
      calls:
        user: { upstream: users, path: /v1/users/:id }
        orders: { upstream: orders, path: /v1/orders?user=:id }
  - name: gzip
    match: { path: /gzip }
    aggregate:
      calls:
        z: { upstream: gz, path: /z }
  - name: odd-values
    match: { path: /odd/:which }
    aggregate:
      calls:
        first: { upstream: odd, path: /first }
        lone: { upstream: payments, path: "/v1/balance/\${first.accountId}", after: [ first ], optional: true }
        object: { upstream: payments, path: "/v1/balance/\${first.nested}", after: [ first ], optional: true }
        missing: { upstream: payments, path: "/v1/balance/\${first.nope.deeper}", after: [ first ], optional: true }
        ok: { upstream: payments, path: "/v1/balance/\${first.nested.n}/:which", after: [ first ] }
  - name: mobile-dashboard
    match: { path: /mobile/:id, headers: { x-client: mobile } }
    policies: [ mobile-view ]
    aggregate:
      calls:
        user:    { upstream: users,  path: /v1/users/:id }
        orders:  { upstream: orders, path: /v1/orders?user=:id }
        balance: { upstream: payments, path: "/v1/balance/\${user.accountId}", after: [ user ] }
      merge: { user: user, recentOrders: "orders.items", balance: balance.amount }
  - name: cached
    match: { path: /cached/:id }
    policies: [ dash-cache ]
    aggregate:
      calls:
        user: { upstream: users, path: /v1/users/:id }
        orders: { upstream: orders, path: /v1/orders?user=:id }
  - name: cached-stale
    match: { path: /cached-stale }
    policies: [ short-cache ]
    aggregate:
      calls:
        t: { upstream: toggle, path: /t }
  - name: cached-partial
    match: { path: /cached-partial/:id }
    policies: [ dash-cache ]
    aggregate:
      calls:
        user: { upstream: users, path: /v1/users/:id }
        gone: { upstream: dead, path: /x, optional: true }
  - name: retried
    match: { path: /retried }
    aggregate:
      calls:
        again: { upstream: bumpy, path: /b, retry: { attempts: 1, on: [ 503 ], backoff: { base: 1ms, max: 2ms } } }
        once: { upstream: bumpy, path: /b, after: [ again ], optional: true }
  - name: wrapped
    match: { path: /wrapped }
    aggregate:
      calls:
        user: { upstream: users, path: /v1/users/9 }
`);
    const wrap: PolicyInstance = {
      name: 'test:wrap',
      responseHead: (_ctx, head) => { head.headers.push('x-head', 'seen'); return undefined; },
      responseBody: (_ctx, res) => Promise.resolve().then(() => { res.body = Buffer.from(`{"wrapped":${res.body.toString()}}`); return undefined; }),
    };
    config.routes.find((r) => r.name === 'wrapped')!.policies = [testSpec('wrap', wrap)];
    metrics = createWorkerMetrics({ defaultMetrics: false });
    gw = await startWorker(config, { policyFactories: withTestKind(), metricsRegistry: metrics.registry, observer: new WorkerObserver(config, null, metrics) });
  });

  after(async () => {
    await gw?.drain(1000);
    await Promise.all([users, orders, payments, broken, slow, flaky, toggle, gz, odd, bumpy].map((u) => u?.close()));
  });

  test('the contract example: parallel calls, a dependent call on a field of the first, merged JSON', async () => {
    const t0 = performance.now();
    const r = await send(gw.port, '/dashboard/u%201');
    const ms = performance.now() - t0;
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.equal(r.headers['x-partial'], undefined);
    assert.deepEqual(r.json, {
      user: { id: 'u 1', accountId: 'acc/7 x', name: 'Ada' },
      recentOrders: [{ id: 1 }, { id: 2 }],
      balance: 42.5,
    });
    // The captured id and the field of `user` are URL-encoded where substituted.
    assert.equal(users.seen.at(-1)!.url, '/v1/users/u%201');
    assert.equal(orders.seen.at(-1)!.url, '/v1/orders?user=u%201');
    assert.equal(payments.seen.at(-1)!.url, '/v1/balance/acc%2F7%20x');
    // user and orders in parallel (~100 ms), then balance after user (~100 ms more); the first request also opens the connections.
    assert.ok(ms >= 200 && ms < 400, `took ${ms} ms`);
    const balanceAt = log.find((e) => e.url.startsWith('/v1/balance/'))!.at;
    const userEnd = log.find((e) => e.url.startsWith('/v1/users/'))!.end;
    assert.ok(balanceAt >= userEnd, 'balance started only after user answered');
  });

  test('independent calls overlap in time: 3 calls of 100 ms each answer in well under 300 ms', async () => {
    log.length = 0;
    const t0 = performance.now();
    const r = await send(gw.port, '/parallel/7', { 'x-request-id': 'req-abc-1', 'accept-encoding': 'gzip' });
    const ms = performance.now() - t0;
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['x-request-id'], 'req-abc-1');
    assert.deepEqual(Object.keys(r.json!), ['a', 'b', 'c']);
    assert.ok(ms < 250, `3 x 100 ms calls took ${ms} ms`);
    assert.equal(log.length, 3);
    const starts = log.map((e) => e.at);
    const ends = log.map((e) => e.end);
    assert.ok(Math.max(...starts) < Math.min(...ends), 'every call started before any finished');
    assert.equal(orders.seen.at(-1)!.url, '/v1/orders?user=7&x=1');
  });

  test('header forwarding: X-Request-Id, X-Forwarded-*, client headers, call headers; no Accept-Encoding', () => {
    for (const up of [users, orders, payments]) {
      const h = up.seen.at(-1)!.headers;
      assert.equal(h['x-request-id'], 'req-abc-1');
      assert.equal(h['x-forwarded-for'], '127.0.0.1');
      assert.equal(h['x-forwarded-proto'], 'http');
      assert.match(String(h['x-forwarded-host']), /^127\.0\.0\.1:\d+$/);
      assert.equal(h['accept-encoding'], undefined, 'the client\'s Accept-Encoding is not sent (the JSON is parsed)');
      assert.equal(h.host, `127.0.0.1:${up.port}`);
    }
    assert.equal(payments.seen.at(-1)!.headers['x-call'], 'c');
    assert.equal(payments.seen.at(-1)!.headers['x-request-source'], 'dashboard');
    assert.equal(users.seen.at(-1)!.headers['x-call'], undefined);
  });

  test('an optional call that fails becomes null and is listed in x-partial', async () => {
    const r = await send(gw.port, '/optional-broken');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['x-partial'], 'extra,gone');
    assert.deepEqual(r.json, { user: { id: '1', accountId: 'acc/7 x', name: 'Ada' }, extra: null, gone: null });
  });

  test('partial: fail makes a failed optional call fail the aggregate', async () => {
    const r = await send(gw.port, '/partial-fail');
    assert.equal(r.status, 502, r.body);
    assert.equal(r.headers['content-type'], 'application/problem+json');
    assert.equal(r.json!.code, 'aggregate_call_failed');
    assert.equal(r.json!.call, 'extra');
    assert.match(String(r.json!.detail), /not JSON/);
  });

  test('a required call that cannot connect: 502 aggregate_call_failed naming the call', async () => {
    const r = await send(gw.port, '/required-dead');
    assert.equal(r.status, 502, r.body);
    assert.equal(r.json!.code, 'aggregate_call_failed');
    assert.equal(r.json!.call, 'gone');
    assert.equal(r.json!.callError, 'upstream_connect_failed');
    const invalid = await send(gw.port, '/required-invalid');
    assert.equal(invalid.status, 502);
    assert.equal(invalid.json!.call, 'extra');
  });

  test('a 404 of a required call answers 404 aggregate_not_found; its dependents never start', async () => {
    const before = payments.seen.length;
    const r = await send(gw.port, '/missing/404');
    assert.equal(r.status, 404, r.body);
    assert.equal(r.json!.code, 'aggregate_not_found');
    assert.equal(r.json!.call, 'user');
    assert.equal(r.json!.callStatus, 404);
    assert.equal(payments.seen.length, before);
  });

  test('the aggregate timeout: 504 naming the pending calls, and the upstream sees the call aborted', async () => {
    log.length = 0;
    const t0 = performance.now();
    const r = await send(gw.port, '/too-slow');
    const ms = performance.now() - t0;
    assert.equal(r.status, 504, r.body);
    assert.equal(r.json!.code, 'aggregate_timeout');
    assert.deepEqual(r.json!.pending, ['late', 'later']);
    assert.ok(ms >= 290 && ms < 1000, `answered after ${ms} ms`);
    await sleep(100);
    const late = log.find((e) => e.url === '/late')!;
    assert.ok(late.closedEarly, 'the slow upstream saw its request aborted');
  });

  test('the client going away aborts the calls in flight', async () => {
    log.length = 0;
    await new Promise<void>((resolve) => {
      const req = httpRequest({ host: '127.0.0.1', port: gw.port, path: '/client-leaves', agent: false });
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => { req.destroy(); resolve(); }, 150);
    });
    await sleep(150);
    const late = log.find((e) => e.url === '/late-abandoned');
    assert.ok(late !== undefined, 'the call was made');
    assert.ok(late.closedEarly, 'the upstream saw its request aborted when the client left');
    const text = await metrics.registry.metrics();
    assert.match(text, /turnpike_aggregate_calls_total\{route="client-leaves",call="late",outcome="cancelled"\} 1\n/);
    assert.match(text, /turnpike_aggregate_duration_seconds_count\{route="client-leaves",result="aborted"\} 1\n/);
  });

  test('a call\'s own timeout fails that call (502 with callError upstream_timeout)', async () => {
    const r = await send(gw.port, '/call-timeout');
    assert.equal(r.status, 502, r.body);
    assert.equal(r.json!.call, 'late');
    assert.equal(r.json!.callError, 'upstream_timeout');
  });

  test('the circuit breaker of a call\'s upstream is honoured: once open, the upstream is not called', async () => {
    flakyStatus = 500;
    for (let i = 0; i < 2; i++) assert.equal((await send(gw.port, '/breaker')).status, 502);
    const before = flaky.seen.length;
    const r = await send(gw.port, '/breaker');
    assert.equal(r.status, 502, r.body);
    assert.equal(r.json!.callError, 'circuit_open');
    assert.equal(flaky.seen.length, before, 'the open circuit refused the call before it left');
  });

  test('an auth policy in front refuses before any call; with a key the consumer headers reach every call', async () => {
    const u = users.seen.length;
    const o = orders.seen.length;
    const refused = await send(gw.port, '/keyed/1');
    assert.equal(refused.status, 401);
    assert.equal(refused.json!.code, 'unauthorized');
    assert.equal(users.seen.length, u);
    assert.equal(orders.seen.length, o);
    const ok = await send(gw.port, '/keyed/1', { 'x-api-key': KEY });
    assert.equal(ok.status, 200, ok.body);
    for (const up of [users, orders]) {
      assert.equal(up.seen.at(-1)!.headers['x-consumer-id'], 'acme');
      assert.equal(up.seen.at(-1)!.headers['x-consumer-username'], 'acme-corp');
      assert.equal(up.seen.at(-1)!.headers['x-api-key'], undefined);
    }
  });

  test('a gzip-encoded upstream answer is decoded', async () => {
    const r = await send(gw.port, '/gzip');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json, { z: { zipped: true } });
  });

  test('a template value that is not a scalar, missing, or not encodable fails that call only (optional: null)', async () => {
    const r = await send(gw.port, '/odd/x%2Fy');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['x-partial'], 'lone,object,missing');
    assert.equal((r.json!.ok as { url: string }).url, '/v1/balance/1/x%2Fy');
    assert.equal(r.json!.lone, null);
    assert.equal(r.json!.missing, null);
  });

  test('a response cache in front stores the merged answer: concurrent misses make one aggregate, then hits make no call', async () => {
    const calls = (): number => log.filter((e) => e.url === '/v1/users/5' || e.url === '/v1/orders?user=5').length;
    const [a, b] = await Promise.all([send(gw.port, '/cached/5'), send(gw.port, '/cached/5')]);
    for (const r of [a, b]) assert.equal(r.status, 200, r.body);
    assert.deepEqual([a.headers['x-cache'], b.headers['x-cache']].sort(), ['HIT', 'MISS'], 'the second waits for the first (coalesced)');
    assert.deepEqual(a.json, b.json);
    assert.equal(calls(), 2, 'one aggregate: one call to each upstream');
    const again = await send(gw.port, '/cached/5');
    assert.equal(again.headers['x-cache'], 'HIT');
    assert.equal(again.headers['content-type'], 'application/json');
    assert.deepEqual(again.json, a.json);
    assert.equal(calls(), 2, 'a hit makes no call');
    assert.notEqual(again.headers['x-request-id'], a.headers['x-request-id'], 'the request id is not stored');
  });

  test('a failed aggregate is answered from the stale cached answer within staleIfError', async () => {
    toggleStatus = 200;
    const fresh = await send(gw.port, '/cached-stale');
    assert.equal(fresh.status, 200, fresh.body);
    assert.equal(fresh.headers['x-cache'], 'MISS');
    await new Promise((r) => setTimeout(r, 1100)); // past ttl
    toggleStatus = 503;
    const stale = await send(gw.port, '/cached-stale');
    assert.equal(stale.status, 200, stale.body);
    assert.equal(stale.headers['x-cache'], 'STALE');
    assert.deepEqual(stale.json, { t: { version: 200 } });
    toggleStatus = 200;
    const refilled = await send(gw.port, '/cached-stale');
    assert.equal(refilled.headers['x-cache'], 'MISS', 'a stale entry on an aggregate route is refilled by the next request');
  });

  test('a partial aggregate is not stored by the cache', async () => {
    const r1 = await send(gw.port, '/cached-partial/6');
    assert.equal(r1.status, 200, r1.body);
    assert.equal(r1.headers['x-partial'], 'gone');
    assert.equal(r1.headers['x-cache'], 'MISS');
    const r2 = await send(gw.port, '/cached-partial/6');
    assert.equal(r2.headers['x-cache'], 'MISS');
  });

  test('a call\'s retry policy retries a 503; a call without one does not', async () => {
    const before = bumpy.seen.length;
    const r = await send(gw.port, '/retried');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(r.json!.again, { busy: false });
    assert.equal(r.json!.once, null, 'no retry: its 503 fails it');
    assert.equal(r.headers['x-partial'], 'once');
    assert.equal(bumpy.seen.length - before, 3);
  });

  test('the transform policy projects the aggregate\'s answer (a backend for a mobile client)', async () => {
    const r = await send(gw.port, '/mobile/3', { 'x-client': 'mobile' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.deepEqual(r.json, { user: { name: 'Ada' }, recentOrders: [{ id: 1 }, { id: 2 }], balance: 42.5, view: 'mobile-3' });
    assert.equal((await send(gw.port, '/mobile/3')).status, 404, 'the route matches the mobile client only');
  });

  test('responseHead and responseBody policies run on the aggregate\'s answer', async () => {
    const r = await send(gw.port, '/wrapped');
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers['x-head'], 'seen');
    assert.deepEqual(r.json, { wrapped: { user: { id: '9', accountId: 'acc/7 x', name: 'Ada' } } });
  });

  test('metrics: calls by route, call and outcome; durations by result', async () => {
    const text = await metrics.registry.metrics();
    assert.match(text, /turnpike_aggregate_calls_total\{route="user-dashboard",call="balance",outcome="ok"\} 1\n/);
    assert.match(text, /turnpike_aggregate_calls_total\{route="optional-broken",call="extra",outcome="invalid"\} 1\n/);
    assert.match(text, /turnpike_aggregate_calls_total\{route="optional-broken",call="gone",outcome="error"\} 1\n/);
    assert.match(text, /turnpike_aggregate_calls_total\{route="missing-user",call="user",outcome="status"\} 1\n/);
    assert.doesNotMatch(text, /turnpike_aggregate_calls_total\{route="missing-user",call="user",outcome="cancelled"\}/, 'a settled call is not also cancelled');
    assert.doesNotMatch(text, /call="balance",outcome="cancelled"/, 'a call that never started is not cancelled');
    assert.match(text, /turnpike_aggregate_calls_total\{route="too-slow",call="late",outcome="cancelled"\} 1\n/);
    assert.match(text, /turnpike_aggregate_calls_total\{route="call-timeout",call="late",outcome="timeout"\} 1\n/);
    assert.match(text, /turnpike_aggregate_duration_seconds_count\{route="optional-broken",result="partial"\} 1\n/);
    assert.match(text, /turnpike_aggregate_duration_seconds_count\{route="too-slow",result="timeout"\} 1\n/);
    assert.match(text, /turnpike_aggregate_duration_seconds_count\{route="user-dashboard",result="ok"\} 1\n/);
    // The calls count in the upstream metrics as proxied requests do (required-dead, partial-fail, cached-partial twice).
    assert.match(text, /turnpike_upstream_errors_total\{upstream="dead",kind="connect"\} 4\n/);
    assert.match(text, /turnpike_upstream_errors_total\{upstream="flaky",kind="5xx"\} 2\n/);
    assert.match(text, /turnpike_upstream_retries_total\{upstream="bumpy",reason="503"\} 1\n/);
    assert.match(text, /turnpike_requests_total\{route="parallel",method="GET",status="200"\} 1\n/);
  });
});
