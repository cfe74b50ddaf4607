import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRoute } from '../router/compiled-route.js';
import { hash32, pickSplit } from './split.js';
import { compileForwardPlan, type ForwardPlan } from './forward-plan.js';
import { makeRoute } from '../router/router-cases.js';

function plan(r: ReturnType<typeof compileRoute>): ForwardPlan {
  return compileForwardPlan(r, r.paramNames);
}
import { mulberry32 } from '../lib/mulberry32.js';

const canary = plan(compileRoute(
  makeRoute(0, 'canary', '/x', { split: [{ upstream: 'stable', weight: 90 }, { upstream: 'canary', weight: 10 }], sticky: 'header:x-user' }),
));


test('random picks follow a 90/10 split within tolerance over 100k draws', () => {
  for (const [name, rand] of [['seeded', mulberry32(12345)], ['Math.random', Math.random]] as const) {
    let toCanary = 0;
    const n = 100_000;
    for (let i = 0; i < n; i++) if (pickSplit(canary, undefined, rand()) === 'canary') toCanary++;
    // 10% expected; sd = sqrt(n p (1-p)) ≈ 95, so ±0.6% is > 6 sd.
    assert.ok(Math.abs(toCanary / n - 0.1) < 0.006, `${name}: canary share ${toCanary / n}`);
  }
});

test('boundaries of the random range map to the right sides', () => {
  assert.equal(pickSplit(canary, undefined, 0), 'stable');
  assert.equal(pickSplit(canary, undefined, 0.8999), 'stable');
  assert.equal(pickSplit(canary, undefined, 0.9), 'canary');
  assert.equal(pickSplit(canary, undefined, 0.999999), 'canary');
  assert.equal(pickSplit(canary, undefined, 1), 'canary');
});

test('zero-weight sides are never picked', () => {
  const r = plan(compileRoute(makeRoute(0, 'z', '/z', { split: [{ upstream: 'a', weight: 0 }, { upstream: 'b', weight: 5 }, { upstream: 'c', weight: 0 }] })));
  for (let i = 0; i < 1000; i++) assert.equal(pickSplit(r, undefined, i / 1000), 'b');
  assert.equal(pickSplit(r, undefined, 1), 'b');
  assert.equal(pickSplit(r, 'user-1', 0.5), 'b');
});

test('sticky values are stable and roughly balanced across many keys', () => {
  let toCanary = 0;
  const keys = 20_000;
  for (let i = 0; i < keys; i++) {
    const key = `user-${i}`;
    const first = pickSplit(canary, key, 0.01);
    assert.equal(pickSplit(canary, key, 0.99), first, 'random draw ignored when sticky');
    if (first === 'canary') toCanary++;
  }
  assert.ok(Math.abs(toCanary / keys - 0.1) < 0.015, `sticky canary share ${toCanary / keys}`);
  // A fixed value maps to a fixed side forever (hash is part of the contract).
  assert.equal(hash32(''), hash32(''));
  assert.equal(hash32('user-42'), hash32('user-42'));
  assert.notEqual(hash32('user-42'), hash32('user-43'));
});

test('an empty sticky value falls back to the random draw', () => {
  assert.equal(pickSplit(canary, '', 0.95), 'canary');
  assert.equal(pickSplit(canary, '', 0.05), 'stable');
});

test('a route without a split returns its upstream', () => {
  assert.equal(pickSplit(plan(compileRoute(makeRoute(0, 'p', '/p', { upstream: 'plain' }))), 'k', 0.5), 'plain');
});

test('forwarding plans reject rewrites of unknown captures and empty splits, naming the route', () => {
  assert.throws(() => plan(compileRoute(makeRoute(3, 'rw', '/a/:id', { rewrite: '/b/:nope' }))), /"rw" \(#3\).*:nope/);
  assert.throws(() => plan(compileRoute(makeRoute(0, 'rw-star', '/a/:id', { rewrite: '/b/*' }))), /rw-star.*no wildcard/);
  assert.throws(() => plan(compileRoute(makeRoute(0, 'split0', '/a', { split: [{ upstream: 'x', weight: 0 }] }))), /split0.*sum to 0/);
});
