import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './index.js';
import { configError } from './config-test-support.js';
import { routeSpecs } from '../policies/chain.js';

const BASE = `
upstreams:
  up: { targets: [ { url: "http://127.0.0.1:3001" } ] }
`;

test('policies: named and inline instances, globalPolicies first, rateLimits shorthand keeps working', () => {
  const c = parseConfig(`${BASE}
rateLimits:
  - { name: old-style, key: ip, limit: 5 }
globalRateLimits: old-style
policies:
  per-ip: { rate-limit: { key: ip, limit: 100, window: 1m, burst: 20 } }
  per-route: { rate-limit: { key: [ ip, route ], limit: 10 } }
globalPolicies: [ per-ip ]
routes:
  - name: orders
    match: { path: /orders/* }
    upstream: up
    rateLimit: old-style
    policies:
      - per-route
      - rate-limit: { key: "header:X-Team", limit: 3, algorithm: sliding-window }
  - { name: plain, match: { path: /plain/* }, upstream: up }
`, 'p.yaml', {});
  assert.deepEqual(c.globalPolicies, ['per-ip']);
  assert.deepEqual(Object.keys(c.policies), ['per-ip', 'per-route']);
  assert.equal(c.policies['per-ip'].kind, 'rate-limit');
  assert.deepEqual(c.policies['per-ip'].at, ['policies', 'per-ip', 'rate-limit']);
  const orders = c.routes[0];
  assert.deepEqual(orders.policies.map((p) => p.name), ['per-route', 'orders#1']);
  assert.deepEqual(orders.policies[1].at, ['routes', 0, 'policies', 1, 'rate-limit']);
  // Named and inline rate-limit policies are limits like rateLimits entries.
  assert.deepEqual(c.rateLimits.map((l) => l.name), ['old-style', 'per-ip', 'per-route', 'orders#1']);
  assert.deepEqual(c.rateLimits[1], { name: 'per-ip', key: ['ip'], limit: 100, windowMs: 60_000, burst: 20, algorithm: 'token-bucket', period: null, onRedisFailure: 'local' });
  assert.deepEqual(c.rateLimits[3].key, ['header:x-team']);
  // Order: globalPolicies, globalRateLimits, route policies, route rateLimit (each once).
  assert.deepEqual(routeSpecs(c, orders).map((s) => s.name), ['per-ip', 'old-style', 'per-route', 'orders#1']);
  assert.deepEqual(routeSpecs(c, c.routes[1]).map((s) => s.name), ['per-ip', 'old-style']);
});

test('a route maxBodySize is parsed; absent means the server limit', () => {
  const c = parseConfig(`${BASE}
routes:
  - { match: { path: /a/* }, upstream: up, maxBodySize: 1mb }
  - { match: { path: /b/* }, upstream: up }
`, 'm.yaml', {});
  assert.deepEqual(c.routes.map((r) => r.maxBodyBytes), [1024 * 1024, null]);
});

test('policy config errors name file, line and path', () => {
  const err = configError(() => parseConfig(`${BASE}
policies:
  fast: { rate-limit: { key: ip, limit: 0 } }
  quota: { rate-limit: { key: ip, limit: 5, algorithm: quota } }
  two: { rate-limit: { key: ip, limit: 1 }, other: {} }
  none: {}
  typo: { rate-limt: { key: ip, limit: 1 } }
globalPolicies: [ fast, missing ]
routes:
  - match: { path: /a/* }
    upstream: up
    policies:
      - nope
      - rate-limit: { key: nowhere, limit: 2 }
`, 'bad.yaml', {}));
  const lines = err.message.split('\n').slice(1);
  const expect = [
    'bad.yaml:6:41: policies.fast.rate-limit.limit: must be >= 1',
    'bad.yaml:7:24: policies.quota.rate-limit.period: is required for algorithm quota (day or month)',
    'bad.yaml:8:8: policies.two: must hold exactly one policy kind (write two policies as two list items)',
    'bad.yaml:9:9: policies.none: must name one policy kind, e.g. { cors: { ... } }',
    'bad.yaml:10:11: policies.typo.rate-limt: unknown field (did you mean "rate-limit"?)',
    'bad.yaml:11:25: globalPolicies[1]: unknown policy "missing" (defined: fast, quota, two, none, typo)',
    'bad.yaml:16:9: routes[0].policies[0]: unknown policy "nope" (defined: fast, quota, two, none, typo)',
    'bad.yaml:17:28: routes[0].policies[1].rate-limit.key: must be "ip", "route", "consumer" or "header:<name>"',
  ];
  for (const e of expect) assert.ok(lines.includes(e), `missing: ${e}\ngot:\n${lines.join('\n')}`);
});

test('a rate-limit policy may not reuse a rateLimits name', () => {
  const err = configError(() => parseConfig(`${BASE}
rateLimits: [ { name: dup, key: ip, limit: 1 } ]
policies:
  dup: { rate-limit: { key: ip, limit: 2 } }
`, 'dup.yaml', {}));
  assert.match(err.message, /dup\.yaml:7:8: policies\.dup: duplicate rate limit name "dup" \(also in rateLimits\)/);
});
