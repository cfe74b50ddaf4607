import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CircuitBreakerConfig } from '../../config/types.js';
import { normaliseFailOn } from '../../config/resilience-config.js';
import { CircuitBreaker, CLOSED, HALF_OPEN, OPEN, type CircuitStateName } from './circuit-breaker.js';
import { FailurePolicy } from './failure-policy.js';

function config(over: Partial<CircuitBreakerConfig> = {}): CircuitBreakerConfig {
  return {
    failureRatePercent: 50, minRequests: 20, windowMs: 10_000, consecutiveFailures: 5, openForMs: 15_000, halfOpenRequests: 3,
    failOn: normaliseFailOn(['connect-failure', 'timeout', 'reset', '5xx']), ...over,
  };
}

/** A breaker on a fake clock that logs its transitions. */
function breaker(over: Partial<CircuitBreakerConfig> = {}) {
  const clock = { now: 1_000_000 };
  const log: string[] = [];
  const b = new CircuitBreaker('orders', config(over), () => clock.now, (from: CircuitStateName, to: CircuitStateName, reason: string) => {
    log.push(`${from}->${to}: ${reason}`);
  });
  /** One attempt admitted and recorded. */
  const attempt = (failed: boolean): void => {
    const e = b.admit();
    assert.ok(e >= 0, 'admitted');
    b.record(e, failed);
  };
  return { b, clock, log, attempt };
}

test('consecutive failures open the circuit; a success in between resets the run', () => {
  const { b, log, attempt } = breaker();
  for (let i = 0; i < 4; i++) attempt(true);
  attempt(false);
  for (let i = 0; i < 4; i++) attempt(true);
  assert.equal(b.current(), CLOSED);
  attempt(true);
  assert.equal(b.current(), OPEN);
  assert.deepEqual(log, ['closed->open: 5 consecutive failures']);
  assert.equal(b.admit(), -1);
  assert.equal(b.rejects(), true);
  assert.equal(b.rejected, 2);
});

test('the failure rate opens the circuit only once the window holds minRequests attempts', () => {
  const { b, log, attempt } = breaker({ consecutiveFailures: 0, minRequests: 10, failureRatePercent: 50 });
  // 9 attempts, 8 failed (alternating so no run matters): below minRequests.
  for (let i = 0; i < 9; i++) attempt(i !== 0);
  assert.equal(b.current(), CLOSED);
  attempt(false); // 10 attempts, 8 failed = 80%
  assert.equal(b.current(), CLOSED, 'a success never opens the circuit');
  attempt(true); // 11 attempts, 9 failed
  assert.equal(b.current(), OPEN);
  assert.deepEqual(log, ['closed->open: 9 of 11 attempts failed within 10000 ms']);
});

test('failures that slid out of the window no longer count', () => {
  const { b, clock, attempt } = breaker({ consecutiveFailures: 0, minRequests: 4, failureRatePercent: 50 });
  attempt(true);
  attempt(true);
  clock.now += 11_000; // both failures are out of the 10 s window now
  attempt(false);
  attempt(false);
  attempt(false);
  attempt(true); // 4 attempts in the window, 1 failed = 25%
  assert.equal(b.current(), CLOSED);
  assert.deepEqual([b.snapshot().windowRequests, b.snapshot().windowFailures], [4, 1]);
});

test('open → half-open after openFor; all probes succeeding close it with a fresh window', () => {
  const { b, clock, log, attempt } = breaker({ consecutiveFailures: 1, halfOpenRequests: 3 });
  attempt(true);
  assert.equal(b.current(), OPEN);
  assert.equal(b.retryAfterSeconds(), 15);
  clock.now += 14_001;
  assert.equal(b.retryAfterSeconds(), 1);
  assert.equal(b.admit(), -1, 'still open');
  assert.equal(b.snapshot().halfOpenAt, 1_000_000 + 15_000);
  clock.now += 999;
  const probes = [b.admit(), b.admit(), b.admit()];
  assert.ok(probes.every((e) => e >= 0));
  assert.equal(b.current(), HALF_OPEN);
  assert.equal(b.admit(), -1, 'only halfOpenRequests probes go through');
  assert.equal(b.rejects(), true);
  assert.equal(b.retryAfterSeconds(), 1);
  b.record(probes[0], false);
  b.record(probes[1], false);
  assert.equal(b.current(), HALF_OPEN);
  b.record(probes[2], false);
  assert.equal(b.current(), CLOSED);
  assert.deepEqual(log, ['closed->open: 1 consecutive failures', 'open->half-open: openFor elapsed', 'half-open->closed: 3 half-open probes succeeded']);
  const snap = b.snapshot();
  assert.deepEqual([snap.state, snap.windowRequests, snap.consecutiveFailures, snap.since], ['closed', 0, 0, clock.now]);
  assert.deepEqual(snap.transitions, { closed: 1, open: 1, 'half-open': 1 });
});

test('a failed probe reopens the circuit for another openFor; late probe outcomes are ignored', () => {
  const { b, clock, log, attempt } = breaker({ consecutiveFailures: 1, halfOpenRequests: 2 });
  attempt(true);
  clock.now += 15_000;
  const p1 = b.admit();
  const p2 = b.admit();
  b.record(p1, true);
  assert.equal(b.current(), OPEN);
  assert.equal(b.retryAfterSeconds(), 15);
  b.record(p2, false); // admitted in the previous half-open state: ignored
  assert.equal(b.current(), OPEN);
  assert.deepEqual(log.slice(-1), ['half-open->open: a half-open probe failed']);
});

test('a probe without a verdict gives its place back; outcomes of attempts admitted before the circuit opened are ignored', () => {
  const { b, clock, attempt } = breaker({ consecutiveFailures: 2, halfOpenRequests: 1 });
  const slow = b.admit(); // admitted while closed, answers late
  attempt(true);
  attempt(true);
  assert.equal(b.current(), OPEN);
  clock.now += 15_000;
  const probe = b.admit();
  assert.ok(probe >= 0);
  assert.equal(b.admit(), -1);
  b.record(slow, true); // stale: must not count as the probe's failure
  assert.equal(b.current(), HALF_OPEN);
  b.cancel(probe); // the client went away
  const again = b.admit();
  assert.ok(again >= 0, 'the place is free again');
  b.record(again, false);
  assert.equal(b.current(), CLOSED);
});

test('the lazy half-open move also happens on a state read (metrics, admin)', () => {
  const { b, clock, log, attempt } = breaker({ consecutiveFailures: 1 });
  attempt(true);
  clock.now += 15_000;
  assert.equal(b.snapshot().state, 'half-open');
  assert.equal(b.snapshot().halfOpenAt, null);
  assert.equal(log.length, 2);
});

test('failOn decides what a failure is: kinds and single statuses', () => {
  const all = new FailurePolicy(normaliseFailOn(['connect-failure', 'timeout', 'reset', '5xx']));
  assert.deepEqual(['connect', 'tls', 'timeout', 'reset', 'other'].map((k) => all.errorFails(k as never)), [true, true, true, true, true]);
  assert.deepEqual([200, 404, 499, 500, 503, 599, 600].map((s) => all.statusFails(s)), [false, false, false, true, true, true, false]);
  const some = new FailurePolicy(normaliseFailOn(['timeout', 503]));
  assert.deepEqual(['connect', 'tls', 'timeout', 'reset'].map((k) => some.errorFails(k as never)), [false, false, true, false]);
  assert.deepEqual([500, 502, 503, 504].map((s) => some.statusFails(s)), [false, false, true, false]);
  const { b, attempt } = breaker({ consecutiveFailures: 2, failOn: normaliseFailOn(['connect-failure']) });
  for (let i = 0; i < 5; i++) b.recordStatus(b.admit(), 500);
  for (let i = 0; i < 5; i++) b.recordError(b.admit(), 'timeout');
  assert.equal(b.current(), CLOSED, '5xx and timeouts are not failures here');
  b.recordError(b.admit(), 'connect');
  attempt(true);
  assert.equal(b.current(), OPEN);
});

test('the closed state admits with the same epoch and no clock read', () => {
  let reads = 0;
  const b = new CircuitBreaker('x', config(), () => { reads++; return 0; });
  reads = 0;
  const e = b.admit();
  for (let i = 0; i < 100; i++) assert.equal(b.admit(), e);
  assert.equal(b.rejects(), false);
  assert.equal(reads, 0);
  assert.equal(b.error.code, 'circuit_open');
  assert.equal(b.error.status, 503);
});
