import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UpstreamConfig } from '../../config/types.js';
import { createUpstreamGroup } from '../upstream-group.js';
import type { ResilienceListener } from './resilience-listener.js';

// No requests are sent: pools connect lazily, so these origins are never dialled.
const URLS = ['http://127.0.0.1:41021', 'http://127.0.0.1:41022', 'http://127.0.0.1:41023', 'http://127.0.0.1:41024'];

function config(n: number, balance: UpstreamConfig['balance'], panicThresholdPercent: number): UpstreamConfig {
  return {
    name: 'svc', targets: URLS.slice(0, n).map((url) => ({ url, weight: 1 })), balance, hashOn: 'ip', healthCheck: null,
    passiveHealth: { consecutiveFailures: 1, ejectMs: 1_000, count5xx: true }, connections: 4, keepAliveTimeoutMs: 1_000,
    protocol: 'http', tls: null, panicThresholdPercent,
  };
}

/** A group on a fake clock with a listener that logs panic changes. */
function group(n: number, balance: UpstreamConfig['balance'], threshold: number) {
  const clock = { now: 0 };
  const events: string[] = [];
  const resilience: ResilienceListener = {
    circuitTransition() {},
    panic(upstream, panic, available, total) { events.push(`${upstream} ${panic ? 'in' : 'out'} ${available}/${total}`); },
  };
  const g = createUpstreamGroup(config(n, balance, threshold), { now: () => clock.now, resilience });
  return { g, clock, events };
}

test('a single target that was ejected still gets traffic (panic), and leaving panic is reported once', async () => {
  for (const balance of ['round-robin', 'least-request', 'hash'] as const) {
    const { g, clock, events } = group(1, balance, 50);
    try {
      g.reportFailure(g.targets[0], 'connect');
      assert.equal(g.targets[0].isAvailable(clock.now), false, 'ejected');
      for (let i = 0; i < 5; i++) assert.equal(g.pick('k'), g.targets[0], balance);
      assert.equal(g.panicPicks, 5);
      assert.equal(g.inPanic(), true);
      assert.deepEqual(events, ['svc in 0/1'], 'entering panic is reported once');
      clock.now = 1_000; // ejection over
      assert.equal(g.inPanic(), false);
      assert.equal(g.pick('k'), g.targets[0]);
      assert.equal(g.pick('k'), g.targets[0]);
      assert.deepEqual(events, ['svc in 0/1', 'svc out 1/1']);
      assert.equal(g.panicPicks, 5);
    } finally {
      await g.close();
    }
  }
});

test('below the threshold every target is a candidate; at or above it the unavailable ones are skipped', async () => {
  const { g, events } = group(4, 'round-robin', 50);
  try {
    const [a, b, c] = g.targets;
    g.reportFailure(a, 'connect');
    g.reportFailure(b, 'connect'); // 2 of 4 available = 50%: not below
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) seen.add(g.pick()!.url);
    assert.deepEqual([...seen].sort(), [URLS[2], URLS[3]]);
    assert.deepEqual(events, []);
    g.reportFailure(c, 'connect'); // 1 of 4 = 25%: panic
    seen.clear();
    for (let i = 0; i < 40; i++) seen.add(g.pick()!.url);
    assert.deepEqual([...seen].sort(), URLS);
    assert.deepEqual(events, ['svc in 1/4']);
    assert.equal(g.panicPicks, 40);
  } finally {
    await g.close();
  }
});

test('panicThreshold 0% turns panic off: no target available → null (503)', async () => {
  const { g, events } = group(2, 'least-request', 0);
  try {
    for (const t of g.targets) g.reportFailure(t, 'connect');
    assert.equal(g.pick(), null);
    assert.equal(g.inPanic(), false);
    assert.deepEqual(events, []);
    assert.equal(g.panicPicks, 0);
  } finally {
    await g.close();
  }
});

test('100% panics as soon as any target is unavailable; a healthy group never looks at panic', async () => {
  const { g, clock, events } = group(2, 'round-robin', 100);
  try {
    for (let i = 0; i < 10; i++) g.pick();
    assert.equal(g.panicPicks, 0);
    g.reportFailure(g.targets[0], 'connect');
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add(g.pick()!.url);
    assert.equal(seen.size, 2);
    clock.now = 5_000;
    g.pick();
    assert.deepEqual(events, ['svc in 1/2', 'svc out 2/2']);
  } finally {
    await g.close();
  }
});
