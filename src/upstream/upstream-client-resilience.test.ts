// UpstreamClient.fetch under an upstream's circuit breaker, concurrency limit,
// retry policy and caller abort, against real node:http upstreams.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { configFromYaml, deadPort } from '../../test/e2e/helpers.js';
import { GatewayError } from '../errors/gateway-error.js';
import { compileRouter } from '../router/index.js';
import { createUpstreamGroup, type UpstreamGroup } from './upstream-group.js';
import { UpstreamClient } from './upstream-client.js';
import { compileRetryPolicy } from './retry/retry-policy.js';
import { normaliseRetry } from '../config/retry-config.js';

let server: Server;
let origin = '';
let hits = 0;
let failNext = 0;
let slowNext = false;
const held: ServerResponse[] = [];
let closedEarly = 0;

before(async () => {
  server = createServer((req, res) => {
    hits++;
    if (req.url === '/hold') {
      held.push(res);
      res.on('close', () => { if (!res.writableFinished) closedEarly++; });
      return;
    }
    if (failNext > 0) { failNext--; res.writeHead(503); res.end('busy'); return; }
    if (req.url === '/slow-once' && slowNext) { slowNext = false; setTimeout(() => { if (!res.destroyed) res.end('late'); }, 500); return; }
    res.writeHead(req.url === '/500' ? 500 : 200);
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

async function setup(): Promise<{ client: UpstreamClient; groups: Map<string, UpstreamGroup> }> {
  const dead = await deadPort();
  const config = configFromYaml(`
upstreams:
  cb: { targets: [ { url: "${origin}" } ], passiveHealth: { consecutiveFailures: 0 }, circuitBreaker: { consecutiveFailures: 2, openFor: 30s } }
  lim: { targets: [ { url: "${origin}" } ], limits: { maxConcurrent: 1, maxQueued: 1, queueTimeout: 200ms } }
  two: { targets: [ { url: "http://127.0.0.1:${dead}" }, { url: "${origin}" } ], passiveHealth: { consecutiveFailures: 0 } }
  plain: { targets: [ { url: "${origin}" } ] }
routes:
  - { name: r, match: { path: /r }, upstream: plain }
`);
  const groups = new Map<string, UpstreamGroup>();
  for (const [name, u] of Object.entries(config.upstreams)) groups.set(name, createUpstreamGroup(u));
  const router = compileRouter(config.routes);
  return { client: new UpstreamClient(config, groups, router.routes.map((r) => r.paramNames)), groups };
}

async function code(p: Promise<unknown>): Promise<string> {
  try { await p; return 'ok'; } catch (err) { assert.ok(err instanceof GatewayError, String(err)); return err.code; }
}

test('the circuit breaker counts fetch outcomes and, once open, refuses without calling the upstream', async () => {
  const { client, groups } = await setup();
  try {
    for (let i = 0; i < 2; i++) assert.equal((await client.fetch('cb', { method: 'GET', path: '/500' }, { timeoutMs: 2000 })).status, 500);
    const before = hits;
    assert.equal(await code(client.fetch('cb', { method: 'GET', path: '/' }, { timeoutMs: 2000 })), 'circuit_open');
    assert.equal(hits, before);
    assert.equal(groups.get('cb')!.breaker!.snapshot().state, 'open');
  } finally {
    await Promise.all([...groups.values()].map((g) => g.close()));
  }
});

test('the concurrency limit: one call holds the slot, one waits in the queue, the third is refused; the queue times out', async () => {
  const { client, groups } = await setup();
  try {
    const first = client.fetch('lim', { method: 'GET', path: '/hold' }, { timeoutMs: 3000 });
    await new Promise((r) => setTimeout(r, 50));
    const queued = client.fetch('lim', { method: 'GET', path: '/' }, { timeoutMs: 3000 });
    assert.equal(await code(client.fetch('lim', { method: 'GET', path: '/' }, { timeoutMs: 3000 })), 'upstream_overloaded');
    assert.equal(await code(queued), 'upstream_overloaded', 'waited past queueTimeout');
    held.shift()!.end('done');
    assert.equal((await first).status, 200);
    const lim = groups.get('lim')!.limiter!.snapshot();
    assert.equal(lim.inflight, 0);
    assert.equal(lim.rejectedQueueFull, 1);
    assert.equal(lim.rejectedQueueTimeout, 1);
  } finally {
    await Promise.all([...groups.values()].map((g) => g.close()));
  }
});

test('retries: a refused connection goes to the other target; a retried status is tried again within the budget', async () => {
  const { client, groups } = await setup();
  try {
    const policy = compileRetryPolicy(normaliseRetry({ attempts: 2, on: ['connect-failure', 503], backoff: { base: '1ms', max: '2ms' } }));
    for (let i = 0; i < 4; i++) assert.equal((await client.fetch('two', { method: 'GET', path: '/' }, { timeoutMs: 2000, retry: policy })).status, 200);
    failNext = 2;
    const before = hits;
    assert.equal((await client.fetch('plain', { method: 'GET', path: '/' }, { timeoutMs: 2000, retry: policy })).status, 200);
    assert.equal(hits - before, 3, 'two 503s retried, the third try answered');
    failNext = 5;
    // Retries used up: the last try's answer is the call's answer.
    assert.equal((await client.fetch('plain', { method: 'GET', path: '/' }, { timeoutMs: 2000, retry: policy })).status, 503);
    failNext = 0;
    assert.equal(groups.get('plain')!.retryBudget.inFlight, 0);
    // perTryTimeout: the first try gets no headers within 50 ms and is retried (timeout is in on).
    const perTry = compileRetryPolicy(normaliseRetry({ attempts: 1, on: ['timeout'], perTryTimeout: '50ms' }));
    slowNext = true;
    const t0 = performance.now();
    const r = await client.fetch('plain', { method: 'GET', path: '/slow-once' }, { timeoutMs: 2000, retry: perTry });
    assert.equal(r.body.toString(), 'ok');
    assert.ok(performance.now() - t0 < 400, 'the slow first try was cut at 50 ms');
    slowNext = true;
    const noRetry = compileRetryPolicy(normaliseRetry({ attempts: 1, on: [503], perTryTimeout: '50ms' }));
    assert.equal(await code(client.fetch('plain', { method: 'GET', path: '/slow-once' }, { timeoutMs: 2000, retry: noRetry })), 'upstream_timeout');
    // Without a retry policy nothing is retried (the cache refresh's behaviour).
    assert.equal(await code(client.fetch('two', { method: 'GET', path: '/' }, { timeoutMs: 2000 }).then(() => client.fetch('two', { method: 'GET', path: '/' }, { timeoutMs: 2000 }))), 'upstream_connect_failed');
  } finally {
    await Promise.all([...groups.values()].map((g) => g.close()));
  }
});

test('the caller\'s signal aborts a call in flight: the upstream sees the request end, the slot is released', async () => {
  const { client, groups } = await setup();
  try {
    const ac = new AbortController();
    const p = client.fetch('lim', { method: 'GET', path: '/hold' }, { timeoutMs: 3000, signal: ac.signal });
    await new Promise((r) => setTimeout(r, 50));
    const before = closedEarly;
    ac.abort(new Error('client gone'));
    await assert.rejects(p);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closedEarly, before + 1);
    assert.equal(groups.get('lim')!.limiter!.snapshot().inflight, 0);
    assert.equal(groups.get('lim')!.targets[0].inflight, 0);
  } finally {
    held.length = 0;
    await Promise.all([...groups.values()].map((g) => g.close()));
  }
});
