import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './index.js';
import { configError } from './config-test-support.js';
import { tryParsePercent } from './units.js';

/** An upstream `u` with `extra` lines (indented 4) and a route to it; `extra` starts on line 4. */
function yaml(extra: string): string {
  return `upstreams:
  u:
    targets: [ { url: "http://127.0.0.1:3001" } ]
${extra}
routes:
  - { match: { path: / }, upstream: u }
`;
}

/** The issues of a config as `line:col path: message`. */
function errorsOf(extra: string): string[] {
  return configError(() => parseConfig(yaml(extra), 'test.yaml', {})).issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
}

test('the issue\'s shapes normalise to compiled numbers', () => {
  const c = parseConfig(yaml(`    circuitBreaker: { failureRate: 50%, minRequests: 20, window: 10s, consecutiveFailures: 5, openFor: 15s, halfOpenRequests: 3 }
    limits: { maxConcurrent: 512, maxQueued: 256, queueTimeout: 1s }`), 'test.yaml', {});
  const u = c.upstreams.u;
  assert.deepEqual(u.circuitBreaker, {
    failureRatePercent: 50, minRequests: 20, windowMs: 10_000, consecutiveFailures: 5, openForMs: 15_000, halfOpenRequests: 3,
    failOn: { connectFailure: true, timeout: true, reset: true, statuses: Array.from({ length: 100 }, (_, i) => 500 + i) },
  });
  assert.deepEqual(u.limits, { maxConcurrent: 512, maxQueued: 256, queueTimeoutMs: 1000 });
  assert.equal(u.panicThresholdPercent, 50);
});

test('defaults: an empty circuitBreaker block gets every default; limits needs only maxConcurrent; no block = none', () => {
  const c = parseConfig(yaml(`    circuitBreaker: {}
    limits: { maxConcurrent: 10 }
    panicThreshold: 12.5%`), 'test.yaml', {});
  const u = c.upstreams.u;
  assert.deepEqual({ ...u.circuitBreaker, failOn: undefined }, {
    failureRatePercent: 50, minRequests: 20, windowMs: 10_000, consecutiveFailures: 5, openForMs: 15_000, halfOpenRequests: 3, failOn: undefined,
  });
  assert.deepEqual(u.limits, { maxConcurrent: 10, maxQueued: 0, queueTimeoutMs: 1000 });
  assert.equal(u.panicThresholdPercent, 12.5);
  const bare = parseConfig(yaml('    balance: round-robin'), 'test.yaml', {}).upstreams.u;
  assert.deepEqual([bare.circuitBreaker, bare.limits, bare.panicThresholdPercent], [null, null, 50]);
  assert.equal(parseConfig(yaml('    panicThreshold: 0%'), 'test.yaml', {}).upstreams.u.panicThresholdPercent, 0);
});

test('failOn takes kinds and single 5xx statuses', () => {
  const u = parseConfig(yaml('    circuitBreaker: { failOn: [ timeout, 503, 502 ] }'), 'test.yaml', {}).upstreams.u;
  assert.deepEqual(u.circuitBreaker!.failOn, { connectFailure: false, timeout: true, reset: false, statuses: [502, 503] });
});

test('malformed values are reported with line, column and field', () => {
  assert.deepEqual(errorsOf(`    circuitBreaker:
      failureRate: 0%
      minRequests: 0
      window: 50ms
      consecutiveFailures: -1
      openFor: 0s
      halfOpenRequests: 0
      failOn: [ timeout, 404, everything ]
      bogus: 1`), [
    '5:20 upstreams.u.circuitBreaker.failureRate: must be at least 1%',
    '6:20 upstreams.u.circuitBreaker.minRequests: must be >= 1',
    '7:15 upstreams.u.circuitBreaker.window: must be at least 100ms',
    '8:28 upstreams.u.circuitBreaker.consecutiveFailures: must be >= 0',
    '9:16 upstreams.u.circuitBreaker.openFor: must be more than 0',
    '10:25 upstreams.u.circuitBreaker.halfOpenRequests: must be >= 1',
    '11:26 upstreams.u.circuitBreaker.failOn[1]: must be connect-failure, timeout, reset, 5xx or a status code 500-599',
    '11:31 upstreams.u.circuitBreaker.failOn[2]: must be connect-failure, timeout, reset, 5xx or a status code 500-599',
    '12:7 upstreams.u.circuitBreaker.bogus: unknown field (expected one of: failureRate, minRequests, window, consecutiveFailures, openFor, halfOpenRequests, failOn)',
  ]);
  assert.deepEqual(errorsOf(`    circuitBreaker: { failureRate: 150%, failOn: [] }
    panicThreshold: 101%
    limits: { maxQueued: -1 }`), [
    '4:36 upstreams.u.circuitBreaker.failureRate: must be a percentage like 50% (0% to 100%)',
    '4:50 upstreams.u.circuitBreaker.failOn: must have at least 1 item',
    '5:21 upstreams.u.panicThreshold: must be a percentage like 50% (0% to 100%)',
    '6:13 upstreams.u.limits.maxConcurrent: is required',
    '6:26 upstreams.u.limits.maxQueued: must be >= 0',
  ]);
  assert.deepEqual(errorsOf(`    circuitBreaker: { failureRate: half }
    panicThreshold: 120
    limits: { maxConcurrent: 0, maxQueued: 5, queueTimeout: 0 }`), [
    '4:36 upstreams.u.circuitBreaker.failureRate: must be a percentage like 50% (0% to 100%)',
    '5:21 upstreams.u.panicThreshold: must be a percentage like 50% (0% to 100%)',
    '6:30 upstreams.u.limits.maxConcurrent: must be >= 1',
    '6:61 upstreams.u.limits.queueTimeout: must be more than 0 when maxQueued is above 0',
  ]);
});

test('tryParsePercent: "50%", "12.5%", plain numbers; null outside 0..100 or malformed', () => {
  assert.deepEqual(['50%', ' 12.5% ', '0%', '100%', 75, 0].map(tryParsePercent), [50, 12.5, 0, 100, 75, 0]);
  assert.deepEqual(['101%', '-1%', '50', '50 %', 'half', 101, -1, Number.NaN, null, true].map(tryParsePercent), Array(10).fill(null));
});
