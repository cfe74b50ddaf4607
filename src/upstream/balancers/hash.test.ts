import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { UpstreamConfig } from '../../config/types.js';
import { createUpstreamGroup, type UpstreamGroup } from '../upstream-group.js';
import { hashString } from '../../lib/hash-string.js';
import { HashBalancer, VIRTUAL_NODES_PER_WEIGHT } from './hash.js';

// No requests are sent in this file: pools connect lazily, so these origins are never dialled.
const A = 'http://127.0.0.1:41001';
const B = 'http://127.0.0.1:41002';
const C = 'http://127.0.0.1:41003';
const KEYS = 10_000;

function hashConfig(urls: string[], weights?: number[]): UpstreamConfig {
  return {
    name: 'hashed',
    targets: urls.map((url, i) => ({ url, weight: weights?.[i] ?? 1 })),
    balance: 'hash',
    hashOn: 'header:x-user',
    healthCheck: null,
    passiveHealth: { consecutiveFailures: 1, ejectMs: 10_000, count5xx: true },
    connections: 4,
    keepAliveTimeoutMs: 1000,
    protocol: 'http',
    tls: null,
  };
}

/** Key → target URL for KEYS keys. */
function assign(group: UpstreamGroup): string[] {
  const out: string[] = [];
  for (let i = 0; i < KEYS; i++) out.push(group.pick(`user-${i}`)?.url ?? 'none');
  return out;
}

test('hashString is a stable, well-spread 32-bit hash', () => {
  assert.equal(hashString('user-1'), hashString('user-1'));
  assert.notEqual(hashString('user-1'), hashString('user-2'));
  const h = hashString('');
  assert.ok(Number.isInteger(h) && h >= 0 && h <= 0xffffffff);
  // Top bit set for roughly half of sequential keys (avalanche of the finaliser).
  let high = 0;
  for (let i = 0; i < 10_000; i++) if (hashString(`k${i}`) >= 0x80000000) high++;
  assert.ok(high > 4_700 && high < 5_300, `top bit set ${high}/10000`);
});

test('ring has 100 virtual nodes per weight unit', async () => {
  const group = createUpstreamGroup(hashConfig([A, B], [1, 3]));
  try {
    const ring = new HashBalancer(group.targets);
    assert.equal(ring.size, 4 * VIRTUAL_NODES_PER_WEIGHT);
  } finally {
    await group.close();
  }
});

test('hash: same key → same target, and across independently built groups', async () => {
  const g1 = createUpstreamGroup(hashConfig([A, B, C]));
  const g2 = createUpstreamGroup(hashConfig([A, B, C]));
  try {
    for (let i = 0; i < 1000; i++) {
      const key = `session-${i}`;
      const first = g1.pick(key);
      assert.ok(first);
      assert.equal(g1.pick(key), first);
      assert.equal(g2.pick(key)?.url, first.url);
    }
  } finally {
    await Promise.all([g1.close(), g2.close()]);
  }
});

test('hash: 10k keys spread over 3 equal targets within 25%..42% each (ideal 33.3%)', async () => {
  // Tolerance: with 100 points per target the share of each target varies by
  // roughly ±10% relative to ideal; these bounds are that, plus margin.
  const group = createUpstreamGroup(hashConfig([A, B, C]));
  try {
    const counts = new Map<string, number>();
    for (const url of assign(group)) counts.set(url, (counts.get(url) ?? 0) + 1);
    assert.equal(counts.size, 3);
    for (const [url, n] of counts) {
      assert.ok(n >= 0.25 * KEYS && n <= 0.42 * KEYS, `${url} got ${n}/${KEYS}`);
    }
  } finally {
    await group.close();
  }
});

test('hash: weights shift the share (1:3 → about 25%/75%)', async () => {
  const group = createUpstreamGroup(hashConfig([A, B], [1, 3]));
  try {
    const toA = assign(group).filter((u) => u === A).length;
    assert.ok(toA >= 0.18 * KEYS && toA <= 0.32 * KEYS, `A got ${toA}/${KEYS}`);
  } finally {
    await group.close();
  }
});

test('hash: removing a target moves only its own keys (~1/3)', async () => {
  const full = createUpstreamGroup(hashConfig([A, B, C]));
  const reduced = createUpstreamGroup(hashConfig([A, C]));
  try {
    const before = assign(full);
    const after = assign(reduced);
    let moved = 0;
    for (let i = 0; i < KEYS; i++) {
      if (before[i] === after[i]) continue;
      moved++;
      assert.equal(before[i], B, `key ${i} moved from ${before[i]} although its target stayed`);
    }
    const ownedByB = before.filter((u) => u === B).length;
    assert.equal(moved, ownedByB);
    assert.ok(moved > 0.2 * KEYS && moved < 0.45 * KEYS, `moved ${moved}/${KEYS}`);
    // B's keys are spread over both survivors, not dumped on one neighbour.
    const toA = after.filter((u, i) => before[i] === B && u === A).length;
    assert.ok(toA > 0.25 * moved && toA < 0.75 * moved, `${toA} of ${moved} moved keys went to A`);
  } finally {
    await Promise.all([full.close(), reduced.close()]);
  }
});

test('hash: an unavailable target hands its keys to the next distinct target; others stay put', async () => {
  let now = 1_000;
  const group = createUpstreamGroup(hashConfig([A, B, C]), { now: () => now });
  try {
    const before = assign(group);
    const b = group.targets[1];
    group.reportFailure(b, 'connect'); // threshold 1 → ejected for 10 s
    assert.equal(b.isAvailable(now), false);
    const during = assign(group);
    for (let i = 0; i < KEYS; i++) {
      if (before[i] === B) assert.notEqual(during[i], B);
      else assert.equal(during[i], before[i]);
    }
    now += 10_000; // ejection over: keys return to B
    assert.deepEqual(assign(group), before);
    // All unavailable → null, no endless ring walk.
    for (const t of group.targets) group.reportFailure(t, 'connect');
    assert.equal(group.pick('user-1'), null);
  } finally {
    await group.close();
  }
});
