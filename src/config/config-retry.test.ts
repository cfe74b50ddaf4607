import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from './index.js';
import { configError } from './config-test-support.js';

const HEAD = `upstreams:
  orders:
    targets: [ { url: "http://127.0.0.1:3001" } ]
routes:
`; // four lines: the first route starts on line 5

/** The issues of a config as `line:col path: message`. */
function errorsOf(text: string): string[] {
  return configError(() => parseConfig(text, 'retry.yaml', {})).issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.path}: ${i.message}`);
}

test('the issue\'s retry and retryBudget blocks normalise to ms, fractions and upper-case methods', () => {
  const config = parseConfig(`
routes:
  - match: { path: /orders/* }
    upstream: orders
    retry: { attempts: 2, on: [ connect-failure, 502, 503, 504, reset ], methods: [ GET, HEAD, PUT, DELETE, OPTIONS ], perTryTimeout: 1s, backoff: { base: 25ms, max: 250ms } }
upstreams:
  orders:
    targets: [ { url: "http://127.0.0.1:3001" } ]
    retryBudget: { ratio: 20%, minRetries: 3 }
`, 'issue.yaml', {});
  assert.deepStrictEqual(config.routes[0].retry, {
    attempts: 2, on: ['connect-failure', 502, 503, 504, 'reset'], methods: ['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS'],
    perTryTimeoutMs: 1000, backoff: { baseMs: 25, maxMs: 250 },
  });
  assert.deepStrictEqual(config.upstreams.orders.retryBudget, { ratio: 0.2, minRetries: 3 });
});

test('an empty retry block gets every default; routes and upstreams without the blocks get none', () => {
  const config = parseConfig(`${HEAD}  - { match: { path: /a }, upstream: orders, retry: {} }
  - { match: { path: /b }, upstream: orders }
`, 'defaults.yaml', {});
  assert.deepStrictEqual(config.routes[0].retry, {
    attempts: 1, on: ['connect-failure', 'reset', 502, 503, 504], methods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'],
    perTryTimeoutMs: 0, backoff: { baseMs: 25, maxMs: 250 },
  });
  assert.equal('retry' in config.routes[1], false);
  assert.equal('retryBudget' in config.upstreams.orders, false);
  const budget = parseConfig('upstreams: { u: { targets: [ { url: "http://127.0.0.1:1" } ], retryBudget: {} } }\n', 'b.yaml', {});
  assert.deepStrictEqual(budget.upstreams.u.retryBudget, { ratio: 0.2, minRetries: 3 });
});

test('backoff defaults follow each other: max is 10 x base, base at most max; on and methods are deduplicated', () => {
  const config = parseConfig(`${HEAD}  - { match: { path: /a }, upstream: orders, retry: { backoff: { base: 100ms } } }
  - { match: { path: /b }, upstream: orders, retry: { backoff: { max: 10ms } } }
  - { match: { path: /c }, upstream: orders, retry: { on: [ 503, "503", 5xx, gateway-error, 5xx ], methods: [ get, GET, post ] } }
  - { match: { path: /d }, upstream: orders, retry: { attempts: 0, backoff: { base: 0, max: 0 } } }
`, 'backoff.yaml', {});
  assert.deepStrictEqual(config.routes[0].retry!.backoff, { baseMs: 100, maxMs: 1000 });
  assert.deepStrictEqual(config.routes[1].retry!.backoff, { baseMs: 10, maxMs: 10 });
  assert.deepStrictEqual(config.routes[2].retry!.on, [503, '5xx', 'gateway-error']);
  assert.deepStrictEqual(config.routes[2].retry!.methods, ['GET', 'POST']);
  assert.equal(config.routes[3].retry!.attempts, 0);
  assert.deepStrictEqual(config.routes[3].retry!.backoff, { baseMs: 0, maxMs: 0 });
});

test('malformed retry fields are reported with file, line and field', () => {
  assert.deepStrictEqual(errorsOf(`${HEAD}  - match: { path: /a }
    upstream: orders
    retry:
      attempts: 11
      on: [ connect-failure, 302, 600, "5xy", retry-everything ]
      methods: [ GET, FETCH ]
      perTryTimeout: 1 sec
      backoff: { base: 25ms, maximum: 1s }
      tries: 3
`), [
    'retry.yaml:8:17 routes[0].retry.attempts: must be an integer 0-10',
    'retry.yaml:9:30 routes[0].retry.on[1]: must be connect-failure, reset, timeout, 5xx, gateway-error or a status code 400-599',
    'retry.yaml:9:35 routes[0].retry.on[2]: must be connect-failure, reset, timeout, 5xx, gateway-error or a status code 400-599',
    'retry.yaml:9:40 routes[0].retry.on[3]: must be connect-failure, reset, timeout, 5xx, gateway-error or a status code 400-599',
    'retry.yaml:9:47 routes[0].retry.on[4]: must be connect-failure, reset, timeout, 5xx, gateway-error or a status code 400-599',
    'retry.yaml:10:23 routes[0].retry.methods[1]: must be one of GET, HEAD, POST, PUT, DELETE, CONNECT, OPTIONS, TRACE, PATCH (any case)',
    'retry.yaml:11:22 routes[0].retry.perTryTimeout: must be a duration like 250ms, 5s, 1m, 1h or integer milliseconds',
    'retry.yaml:12:30 routes[0].retry.backoff.maximum: unknown field (expected one of: base, max)',
    'retry.yaml:13:7 routes[0].retry.tries: unknown field (expected one of: attempts, on, methods, perTryTimeout, backoff)',
  ]);
  assert.deepStrictEqual(errorsOf(`${HEAD}  - { match: { path: /a }, upstream: orders, retry: { on: [], methods: [] } }
  - { match: { path: /b }, upstream: orders, retry: 3 }
`), [
    'retry.yaml:5:59 routes[0].retry.on: must have at least 1 item',
    'retry.yaml:5:72 routes[0].retry.methods: must have at least 1 item',
    'retry.yaml:6:53 routes[1].retry: must be an object',
  ]);
});

test('backoff base above max, and a perTryTimeout longer than the request timeout, are rejected', () => {
  assert.deepStrictEqual(errorsOf(`${HEAD}  - { match: { path: /a }, upstream: orders, retry: { backoff: { base: 2s, max: 500ms } } }
  - { match: { path: /b }, upstream: orders, timeout: 2s, retry: { perTryTimeout: 3s } }
  - { match: { path: /c }, upstream: orders, timeout: { request: 500ms }, retry: { perTryTimeout: 501ms } }
  - { match: { path: /d }, upstream: orders, retry: { perTryTimeout: 61s } }
  - { match: { path: /e }, upstream: orders, timeout: { request: 0 }, retry: { perTryTimeout: 5m } }
  - { match: { path: /f }, upstream: orders, timeout: { request: 1s }, retry: { perTryTimeout: 1s } }
`), [
    'retry.yaml:5:72 routes[0].retry.backoff.base: 2s is above backoff.max 500ms',
    'retry.yaml:6:83 routes[1].retry.perTryTimeout: 3s is longer than the route\'s request timeout 2s',
    'retry.yaml:7:99 routes[2].retry.perTryTimeout: 501ms is longer than the route\'s request timeout 500ms',
    'retry.yaml:8:70 routes[3].retry.perTryTimeout: 61s is longer than the default request timeout 60s',
  ]);
});

test('retryBudget: a percentage up to 100% and a non-negative minRetries', () => {
  assert.deepStrictEqual(errorsOf(`upstreams:
  a: { targets: [ { url: "http://127.0.0.1:1" } ], retryBudget: { ratio: 150% } }
  b: { targets: [ { url: "http://127.0.0.1:2" } ], retryBudget: { ratio: 101, minRetries: -1 } }
  c: { targets: [ { url: "http://127.0.0.1:3" } ], retryBudget: { ratio: "20 %", budget: 1 } }
`), [
    'retry.yaml:2:74 upstreams.a.retryBudget.ratio: must be at most 100%',
    'retry.yaml:3:74 upstreams.b.retryBudget.ratio: must be a percentage like 50% (0% to 100%)',
    'retry.yaml:3:91 upstreams.b.retryBudget.minRetries: must be >= 0',
    'retry.yaml:4:74 upstreams.c.retryBudget.ratio: must be a percentage like 50% (0% to 100%)',
    'retry.yaml:4:82 upstreams.c.retryBudget.budget: unknown field (expected one of: ratio, minRetries)',
  ]);
  const ok = parseConfig('upstreams: { a: { targets: [ { url: "http://127.0.0.1:1" } ], retryBudget: { ratio: 0%, minRetries: 0 } } }\n', 'ok.yaml', {});
  assert.deepStrictEqual(ok.upstreams.a.retryBudget, { ratio: 0, minRetries: 0 });
});
