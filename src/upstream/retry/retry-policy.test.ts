import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normaliseRetry } from '../../config/retry-config.js';
import { compileRetryPolicy, LEGACY_RETRY, retriesStatus, RetryReason } from './retry-policy.js';

const ALL = RetryReason.Connect | RetryReason.ConnectTimeout | RetryReason.Reset | RetryReason.Timeout;

function statuses(p: ReturnType<typeof compileRetryPolicy>): number[] {
  const out: number[] = [];
  for (let s = 100; s < 700; s++) if (retriesStatus(p, s)) out.push(s);
  return out;
}

test('the issue\'s example compiles to its conditions, methods, timeouts and backoff', () => {
  const p = compileRetryPolicy(normaliseRetry({
    attempts: 2, on: ['connect-failure', 502, 503, 504, 'reset'], methods: ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'],
    perTryTimeout: '1s', backoff: { base: '25ms', max: '250ms' },
  }));
  assert.equal(p.retries, 2);
  // 504 listed: a try's timeout (which the gateway answers 504 for) is retried too.
  assert.equal(p.reasons, ALL);
  assert.deepEqual(statuses(p), [502, 503, 504]);
  assert.deepEqual([...p.methods!].sort(), ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PUT']);
  assert.equal(p.perTryMs, 1000);
  assert.equal(p.baseMs, 25);
  assert.equal(p.maxMs, 250);
  assert.equal(p.legacy, false);
});

test('defaults: connect-failure, reset, 502-504 (so timeouts too), idempotent methods, no perTryTimeout', () => {
  const p = compileRetryPolicy(normaliseRetry({}));
  assert.equal(p.retries, 1);
  assert.equal(p.reasons, ALL);
  assert.deepEqual(statuses(p), [502, 503, 504]);
  assert.deepEqual([...p.methods!].sort(), ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PUT', 'TRACE']);
  assert.equal(p.perTryMs, 0);
  assert.deepEqual([p.baseMs, p.maxMs], [25, 250]);
});

test('aliases: 5xx is every 5xx status and every failure; gateway-error only 502-504', () => {
  const all = compileRetryPolicy(normaliseRetry({ on: ['5xx'] }));
  assert.equal(all.reasons, ALL);
  assert.equal(statuses(all).length, 100);
  assert.deepEqual([statuses(all)[0], statuses(all)[99]], [500, 599]);
  const gw = compileRetryPolicy(normaliseRetry({ on: ['gateway-error'] }));
  assert.equal(gw.reasons, ALL);
  assert.deepEqual(statuses(gw), [502, 503, 504]);
});

test('single conditions set only their own bits; a status list without 504 does not retry timeouts', () => {
  assert.equal(compileRetryPolicy(normaliseRetry({ on: ['connect-failure'] })).reasons, RetryReason.Connect | RetryReason.ConnectTimeout);
  assert.equal(compileRetryPolicy(normaliseRetry({ on: ['reset'] })).reasons, RetryReason.Reset);
  assert.equal(compileRetryPolicy(normaliseRetry({ on: ['timeout'] })).reasons, RetryReason.Timeout);
  const codes = compileRetryPolicy(normaliseRetry({ on: [503, '429', 409] }));
  assert.equal(codes.reasons, RetryReason.None);
  assert.deepEqual(statuses(codes), [409, 429, 503]);
});

test('the legacy policy: once, connect refusals only, any method, at once', () => {
  assert.equal(LEGACY_RETRY.retries, 1);
  assert.equal(LEGACY_RETRY.reasons, RetryReason.Connect);
  assert.equal(LEGACY_RETRY.methods, null);
  assert.equal(LEGACY_RETRY.legacy, true);
  assert.equal(retriesStatus(LEGACY_RETRY, 503), false);
  assert.ok(Object.isFrozen(LEGACY_RETRY));
});
