// UpstreamGroup.setTargets on real HTTP servers: the target set changes at
// run time, a removed target drains (its in-flight request finishes, then
// its pool closes), active health checks follow the set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { UpstreamConfig } from '../../config/types.js';
import { createUpstreamGroup } from '../upstream-group.js';
import { noTargetError } from '../no-target.js';

function config(over: Partial<UpstreamConfig> = {}): UpstreamConfig {
  return {
    name: 'svc',
    targets: [],
    balance: 'round-robin',
    hashOn: 'ip',
    healthCheck: null,
    passiveHealth: { consecutiveFailures: 3, ejectMs: 1_000, count5xx: true },
    connections: 4,
    keepAliveTimeoutMs: 1_000,
    protocol: 'http',
    tls: null,
    panicThresholdPercent: 0,
    discovery: { etcd: null, dns: { name: 'svc.internal', type: 'a', port: 1, intervalMs: 10_000, scheme: 'http', servers: [] } },
    ...over,
  };
}

/** A server answering `/slow` after `release()` and everything else at once; `/health` with `healthStatus`. */
async function server(): Promise<{ url: string; server: Server; release: () => void; healthStatus: { value: number }; pending: () => number; close: () => Promise<void> }> {
  const held: Array<() => void> = [];
  const healthStatus = { value: 200 };
  const s = createServer((req, res) => {
    if (req.url === '/slow') { held.push(() => res.end('slow done')); return; }
    if (req.url === '/health') { res.statusCode = healthStatus.value; res.end(); return; }
    res.end('ok');
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(s.address() as AddressInfo).port}`,
    server: s,
    release: () => { for (const h of held.splice(0)) h(); },
    healthStatus,
    pending: () => held.length,
    close: () => new Promise<void>((r) => { s.closeAllConnections(); s.close(() => r()); }),
  };
}

async function waitFor(what: string, check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('setTargets adds and removes targets; kept targets keep their object, load and weight updates; empty → no_healthy_target', async () => {
  const group = createUpstreamGroup(config());
  try {
    assert.equal(group.pick(), null);
    assert.equal(noTargetError(group).code, 'no_healthy_target');
    assert.deepStrictEqual(group.setTargets([{ url: 'http://127.0.0.1:41021', weight: 1 }, { url: 'http://127.0.0.1:41022/', weight: 1 }]),
      { added: ['http://127.0.0.1:41021', 'http://127.0.0.1:41022'], removed: [] });
    const kept = group.targets[1];
    group.onStart(kept);
    const change = group.setTargets([{ url: 'http://127.0.0.1:41022', weight: 3 }, { url: 'http://127.0.0.1:41023', weight: 1 }]);
    assert.deepStrictEqual(change, { added: ['http://127.0.0.1:41023'], removed: ['http://127.0.0.1:41021'] });
    assert.equal(group.targets[0], kept, 'same Target object');
    assert.equal(kept.index, 0);
    assert.equal(kept.weight, 3);
    assert.equal(kept.inflight, 1);
    group.onFinish(kept);
    const picks = new Map<string, number>();
    for (let i = 0; i < 400; i++) { const u = group.pick()!.url; picks.set(u, (picks.get(u) ?? 0) + 1); }
    assert.deepStrictEqual(Object.fromEntries(picks), { 'http://127.0.0.1:41022': 300, 'http://127.0.0.1:41023': 100 });
    assert.equal(noTargetError(group).code, 'upstream_unavailable');
    group.setTargets([]);
    assert.equal(group.pick(), null);
    assert.equal(noTargetError(group).code, 'no_healthy_target');
  } finally {
    await group.close();
  }
});

test('a removed target is never picked again; its in-flight request finishes, then its pool closes', async () => {
  const a = await server();
  const b = await server();
  const group = createUpstreamGroup(config());
  try {
    group.setTargets([{ url: a.url, weight: 1 }, { url: b.url, weight: 1 }]);
    const target = group.targets.find((t) => t.url === a.url)!;
    group.onStart(target);
    const slow = target.pool.request({ path: '/slow', method: 'GET' });
    await waitFor('the slow request to arrive', () => a.pending() === 1);
    group.setTargets([{ url: b.url, weight: 1 }]);
    assert.equal(target.retired, true);
    for (let i = 0; i < 20; i++) assert.equal(group.pick()?.url, b.url);
    assert.equal(target.pool.closed, false, 'pool open while its request is in flight');
    a.release();
    const res = await slow;
    assert.equal(res.statusCode, 200);
    assert.equal(await res.body.text(), 'slow done');
    group.onFinish(target);
    await waitFor('the retired pool to close', () => target.pool.closed);
    assert.equal(group.inflight, 0);
  } finally {
    await group.close();
    await a.close();
    await b.close();
  }
});

test('active health checks follow the set: a discovered target failing its check is marked down and skipped; removing it clears the count', async () => {
  const good = await server();
  const bad = await server();
  bad.healthStatus.value = 500;
  const flips: string[] = [];
  const group = createUpstreamGroup(config({
    healthCheck: { path: '/health', intervalMs: 50, timeoutMs: 1000, healthyThreshold: 1, unhealthyThreshold: 2, expectStatus: [200, 399] },
    panicThresholdPercent: 50,
  }), { onTransition: (t, healthy) => flips.push(`${t.url} ${healthy}`) });
  try {
    group.setTargets([{ url: good.url, weight: 1 }, { url: bad.url, weight: 1 }]);
    await waitFor('the failing target to be marked down', () => group.targets[1].activeHealthy === false);
    assert.deepStrictEqual(flips, [`${bad.url} false`]);
    for (let i = 0; i < 20; i++) assert.equal(group.pick()?.url, good.url);
    assert.equal(group.inPanic(), false, '1 of 2 available is not below 50%');
    group.setTargets([{ url: good.url, weight: 1 }]);
    const added = await server();
    group.setTargets([{ url: good.url, weight: 1 }, { url: added.url, weight: 1 }]);
    added.healthStatus.value = 503;
    await waitFor('the added target to be marked down', () => group.targets[1].activeHealthy === false);
    // Had the removed target's down state been counted still, this pick would be in panic mode with 2 "unhealthy".
    added.healthStatus.value = 200;
    await waitFor('the added target to come back', () => group.targets[1].activeHealthy);
    assert.equal(group.inPanic(), false);
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add(group.pick()!.url);
    assert.deepStrictEqual([...seen].sort(), [good.url, added.url].sort());
    await added.close();
  } finally {
    await group.close();
    await good.close();
    await bad.close();
  }
});
