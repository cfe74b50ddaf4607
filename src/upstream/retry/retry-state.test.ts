import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../../config/load.js';
import { compileRoute } from '../../router/compiled-route.js';
import { upstreamDeadlines } from '../deadline-wheel.js';
import { UpstreamCall } from '../upstream-call.js';
import { createUpstreamGroup } from '../upstream-group.js';
import { compileRetryPolicy } from './retry-policy.js';
import { RetryState, type RetryOwner } from './retry-state.js';

const config = parseConfig(`
upstreams: { u: { targets: [ { url: "http://127.0.0.1:1" } ] } }
routes: [ { match: { path: / }, upstream: u, retry: { perTryTimeout: 50ms } } ]
`, 'state.yaml', {});

/** Collects the timers that fire, with when. */
class Timers implements RetryOwner {
  readonly fired: Array<{ backoff: boolean; at: number }> = [];
  retryTimer(_call: UpstreamCall, backoff: boolean): void { this.fired.push({ backoff, at: performance.now() }); }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function make(owner: RetryOwner): { state: RetryState; close: () => Promise<void>; budget: () => number; take: () => void } {
  const group = createUpstreamGroup(config.upstreams.u);
  const call = new UpstreamCall(compileRoute(config.routes[0]), group, '/', []);
  const state = new RetryState(compileRetryPolicy(config.routes[0].retry!), call, owner);
  return {
    state, close: () => group.close(), budget: () => group.retryBudget.inFlight,
    take: () => { assert.ok(group.retryBudget.tryAcquire(0)); state.hold(group.retryBudget); },
  };
}

test('a perTryTimeout fires on the wheel as a try timer; a backoff wait as a backoff timer', async () => {
  const owner = new Timers();
  const { state, close } = make(owner);
  const t0 = performance.now();
  state.armPerTry(t0 + 30, Infinity);
  await sleep(120);
  assert.equal(owner.fired.length, 1);
  assert.equal(owner.fired[0].backoff, false);
  assert.ok(owner.fired[0].at - t0 >= 30, 'not early');
  state.waitUntil(performance.now() + 20);
  await sleep(120);
  assert.equal(owner.fired.length, 2);
  assert.equal(owner.fired[1].backoff, true);
  await close();
});

test('a perTryTimeout past the request deadline is not armed (the deadline fires first)', async () => {
  const owner = new Timers();
  const { state, close } = make(owner);
  const now = performance.now();
  state.armPerTry(now + 30, now + 20);
  assert.equal(state.dlTick, -1);
  await sleep(80);
  assert.equal(owner.fired.length, 0);
  await close();
});

test('tryEnded cancels the try\'s timer and gives the slot back; end cancels a wait', async () => {
  const owner = new Timers();
  const { state, close, budget, take } = make(owner);
  const size = upstreamDeadlines.size;
  take();
  state.armPerTry(performance.now() + 20, Infinity);
  assert.equal(upstreamDeadlines.size, size + 1);
  state.tryEnded();
  assert.equal(upstreamDeadlines.size, size);
  assert.equal(budget(), 0);
  take();
  state.waitUntil(performance.now() + 20);
  assert.equal(upstreamDeadlines.size, size + 1);
  take();
  assert.equal(budget(), 1, 'holding again replaces (and returns) the slot held before');
  state.end();
  state.end();
  assert.equal(upstreamDeadlines.size, size);
  assert.equal(budget(), 0);
  await sleep(60);
  assert.equal(owner.fired.length, 0, 'nothing fired after end()');
  await close();
});
