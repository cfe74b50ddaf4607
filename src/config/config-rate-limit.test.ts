import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './index.js';
import { configError } from './config-test-support.js';

const BASE = `
upstreams:
  up: { targets: [ { url: "http://127.0.0.1:3001" } ] }
`;

test('rate limits get their defaults; keys and references are normalised', () => {
  const c = parseConfig(`${BASE}
rateLimits:
  - { name: per-ip, key: ip, limit: 100 }
  - { name: team, key: [ "header:X-Team", route ], limit: 10, window: 10s, burst: 0, algorithm: token-bucket, onRedisFailure: deny }
  - { name: sliding, key: consumer, limit: 50, window: 1h, algorithm: sliding-window }
  - { name: monthly, key: consumer, limit: 100000, algorithm: quota, period: month, onRedisFailure: allow }
globalRateLimits: per-ip
routes:
  - { match: { path: /a/* }, upstream: up, rateLimit: [ team, monthly ] }
  - { match: { path: /b/* }, upstream: up }
`, 'rl.yaml', {});
  assert.deepEqual(c.rateLimits, [
    { name: 'per-ip', key: ['ip'], limit: 100, windowMs: 60_000, burst: 100, algorithm: 'token-bucket', period: null, onRedisFailure: 'local' },
    { name: 'team', key: ['header:x-team', 'route'], limit: 10, windowMs: 10_000, burst: 0, algorithm: 'token-bucket', period: null, onRedisFailure: 'deny' },
    { name: 'sliding', key: ['consumer'], limit: 50, windowMs: 3_600_000, burst: 50, algorithm: 'sliding-window', period: null, onRedisFailure: 'local' },
    { name: 'monthly', key: ['consumer'], limit: 100000, windowMs: 30 * 86_400_000, burst: 100000, algorithm: 'quota', period: 'month', onRedisFailure: 'allow' },
  ]);
  assert.deepEqual(c.globalRateLimits, ['per-ip']);
  assert.deepEqual(c.routes.map((r) => r.rateLimit), [['team', 'monthly'], []]);
  assert.deepEqual(c.redis, { url: null, commandTimeoutMs: 100, instances: 1 });
  assert.equal(c.rateLimitConsumerHeader, 'x-api-key');
});

test('REDIS_URL and TURNPIKE_REDIS_URL set redis.url (the latter wins); a bad one is reported', () => {
  const yaml = `${BASE}redis: { url: "redis://10.0.0.1:6379", commandTimeout: 50ms, instances: 3 }\n`;
  assert.deepEqual(parseConfig(yaml, 'r.yaml', {}).redis, { url: 'redis://10.0.0.1:6379', commandTimeoutMs: 50, instances: 3 });
  assert.equal(parseConfig(yaml, 'r.yaml', { REDIS_URL: 'redis://127.0.0.1:6380' }).redis.url, 'redis://127.0.0.1:6380');
  assert.equal(parseConfig(yaml, 'r.yaml', { REDIS_URL: 'redis://a:1', TURNPIKE_REDIS_URL: 'redis+cluster://b:1,c:2' }).redis.url, 'redis+cluster://b:1,c:2');
  const err = configError(() => parseConfig(yaml, 'r.yaml', { REDIS_URL: 'http://nope' }));
  assert.deepEqual(err.issues.map((i) => `${i.path}: ${i.message}`), ['REDIS_URL: must be redis://host:port[/db] or redis+cluster://host:port,host:port, got "http://nope"']);
});

test('rate-limit mistakes are reported with their path, all at once', () => {
  const err = configError(() => parseConfig(`${BASE}
rateLimits:
  - { name: a, key: ip, limit: 10 }
  - { name: a, key: ip, limit: 20 }
  - { name: q, key: consumer, limit: 5, algorithm: quota }
  - { name: q2, key: consumer, limit: 5, algorithm: quota, period: day, window: 1m }
  - { name: s, key: ip, limit: 5, algorithm: sliding-window, burst: 3, period: day }
  - { name: k, key: "cookie:session", limit: 5 }
  - { name: z, key: ip, limit: 0, window: 0 }
globalRateLimits: [ a, missing ]
routes:
  - { match: { path: /a/* }, upstream: up, rateLimit: nope }
`, 'bad.yaml', {}));
  const got = err.issues.map((i) => `${i.path}: ${i.message}`);
  for (const want of [
    'rateLimits[1].name: duplicate rate limit name "a"',
    'rateLimits[2].period: is required for algorithm quota (day or month)',
    'rateLimits[3].window: does not apply to algorithm quota (it counts per calendar period)',
    'rateLimits[4].period: only applies to algorithm quota',
    'rateLimits[4].burst: only applies to algorithm token-bucket',
    'rateLimits[5].key: must be "ip", "route", "consumer" or "header:<name>"',
    'rateLimits[6].window: must be more than 0',
    'globalRateLimits[1]: unknown rate limit "missing" (defined: a, q, q2, s, k, z)',
    'routes[0].rateLimit: unknown rate limit "nope" (defined: a, q, q2, s, k, z)',
  ]) assert.ok(got.includes(want), `missing "${want}" in:\n${got.join('\n')}`);
  assert.ok(got.some((g) => g.startsWith('rateLimits[6].limit:')), got.join('\n'));
});
