import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConfig } from '../config/index.js';
import { configError } from '../config/config-test-support.js';
import { findCycle } from './aggregate-config.js';
import { parseTemplate } from './path-template.js';
import { compileRouter } from '../router/index.js';
import { formatRouteTable } from '../router/explain-format.js';
import { redactSecrets } from '../admin/redact.js';

const UPSTREAMS = `upstreams:
  users: { targets: [ { url: "http://127.0.0.1:3001" } ] }
  orders: { targets: [ { url: "http://127.0.0.1:3002" } ] }
  rpc: { protocol: grpc, targets: [ { url: "h2c://127.0.0.1:50051" } ] }
`;

function routes(yaml: string): ReturnType<typeof parseConfig>['routes'] {
  return parseConfig(UPSTREAMS + 'routes:\n' + yaml, 'gw.yaml', {}).routes;
}

function errorsOf(yaml: string): string[] {
  return configError(() => parseConfig(UPSTREAMS + 'routes:\n' + yaml, 'gw.yaml', {})).issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.path}: ${i.message}`);
}

test('the contract example normalises with its defaults filled in', () => {
  const [r] = routes(`  - name: user-dashboard
    match: { path: /dashboard/:id, methods: [ GET ] }
    aggregate:
      timeout: 800ms
      calls:
        user:    { upstream: users,  path: /v1/users/:id }
        orders:  { upstream: orders, path: /v1/orders?user=:id, optional: true }
        balance: { upstream: users, path: "/v1/balance/\${user.accountId}", after: [ user ], method: post, headers: { X-Src: gw }, timeout: 200ms }
      merge: { user: user, recentOrders: "orders.items", balance: balance.amount }
      partial: allow
`);
  assert.equal(r.upstream, null);
  assert.equal(r.split, null);
  assert.deepEqual(r.aggregate, {
    timeoutMs: 800,
    calls: [
      { name: 'user', upstream: 'users', path: '/v1/users/:id', method: 'GET', headers: {}, timeoutMs: 0, optional: false, after: [] },
      { name: 'orders', upstream: 'orders', path: '/v1/orders?user=:id', method: 'GET', headers: {}, timeoutMs: 0, optional: true, after: [] },
      { name: 'balance', upstream: 'users', path: '/v1/balance/${user.accountId}', method: 'POST', headers: { 'x-src': 'gw' }, timeoutMs: 200, optional: false, after: ['user'] },
    ],
    merge: [{ key: 'user', ref: 'user' }, { key: 'recentOrders', ref: 'orders.items' }, { key: 'balance', ref: 'balance.amount' }],
    partial: 'allow',
    forwardHeaders: true,
  });
  const [d] = routes(`  - { name: d, match: { path: /d }, timeout: 5s, aggregate: { calls: { a: { upstream: users, path: /a } } } }\n`);
  assert.equal(d.aggregate!.timeoutMs, 5000, 'the route\'s request timeout is the default bound');
  assert.equal(d.aggregate!.merge, null);
});

test('a dependency cycle is refused, naming the cycle, with file and line', () => {
  assert.deepEqual(errorsOf(`  - name: c
    match: { path: /c }
    aggregate:
      calls:
        a: { upstream: users, path: /a, after: [ c ] }
        b: { upstream: users, path: /b, after: [ a ] }
        c: { upstream: users, path: /c, after: [ b ] }
`), ['gw.yaml:10:48 routes[0].aggregate.calls.a.after: dependency cycle: a → c → b → a']);
});

test('unknown after names, self-dependencies, unknown or grpc upstreams', () => {
  assert.deepEqual(errorsOf(`  - name: u
    match: { path: /u }
    aggregate:
      calls:
        a: { upstream: nope, path: /a, after: [ ghost, a ] }
        b: { upstream: rpc, path: /b }
`), [
    'gw.yaml:10:24 routes[0].aggregate.calls.a.upstream: unknown upstream "nope" (defined: users, orders, rpc)',
    'gw.yaml:10:49 routes[0].aggregate.calls.a.after[0]: unknown call "ghost" (calls: a, b)',
    'gw.yaml:10:56 routes[0].aggregate.calls.a.after[1]: a call cannot wait for itself',
    'gw.yaml:11:24 routes[0].aggregate.calls.b.upstream: "rpc" is a grpc upstream: an aggregate call needs an http upstream',
  ]);
});

test('templates: a call not in after, a capture the route lacks, an unclosed ${, a malformed reference', () => {
  assert.deepEqual(errorsOf(`  - name: t
    match: { path: /t/:id }
    aggregate:
      calls:
        a: { upstream: users, path: /a/:id }
        b: { upstream: users, path: "/b/\${a.accountId}" }
        c: { upstream: users, path: /c/:userId, after: [ a ] }
        d: { upstream: users, path: "/d/\${a.x", after: [ a ] }
        e: { upstream: users, path: "/e/\${.x}", after: [ a ] }
      merge: { x: nobody.field, y: a.z }
`), [
    'gw.yaml:11:37 routes[0].aggregate.calls.b.path: uses ${a.accountId}, but "a" is not listed in this call\'s after',
    'gw.yaml:12:37 routes[0].aggregate.calls.c.path: uses :userId, which the route\'s match.path does not define (it has :id)',
    'gw.yaml:13:37 routes[0].aggregate.calls.d.path: unclosed ${ at position 4',
    'gw.yaml:14:37 routes[0].aggregate.calls.e.path: ${.x} must name a call: ${call} or ${call.field.path}',
    'gw.yaml:15:19 routes[0].aggregate.merge.x: "nobody.field" names no call (calls: a, b, c, d, e)',
  ]);
});

test('schema: aggregate with upstream or split, no calls, bad partial, unknown call fields; proxy-only settings refused', () => {
  const errors = errorsOf(`  - name: s
    match: { path: /s }
    upstream: users
    rewrite: /x
    aggregate:
      partial: sometimes
      calls:
        a: { upstream: users, path: a, optionl: true }
  - { name: e, match: { path: /e }, aggregate: { calls: {} } }
  - { name: f, match: { path: /f }, split: [ { upstream: users, weight: 1 } ], aggregate: { calls: { a: { upstream: users, path: /a } } } }
`);
  assert.deepEqual(errors, [
    'gw.yaml:8:15 routes[0].upstream: cannot be set together with aggregate (each aggregate call names its upstream)',
    'gw.yaml:9:14 routes[0].rewrite: cannot be combined with aggregate (it configures proxying to one upstream; set retry on a call instead)',
    'gw.yaml:11:16 routes[0].aggregate.partial: must be allow or fail',
    'gw.yaml:13:37 routes[0].aggregate.calls.a.path: must start with / and contain no whitespace or #',
    'gw.yaml:13:40 routes[0].aggregate.calls.a.optionl: unknown field (did you mean "optional"?)',
    'gw.yaml:14:57 routes[1].aggregate.calls: must define at least one call',
    'gw.yaml:15:91 routes[2].aggregate: cannot be set together with split (use one of them)',
  ]);
  assert.deepEqual(errorsOf(`  - { name: h, match: { path: /h }, aggregate: { calls: { a: { upstream: users, path: /a, headers: { "bad name": x, x-ok: "a\\nb" } } } } }\n`), [
    'gw.yaml:6:102 routes[0].aggregate.calls.a.headers["bad name"]: must be a header name',
    'gw.yaml:6:123 routes[0].aggregate.calls.a.headers.x-ok: must not contain CR, LF or NUL',
  ]);
});

test('a call timeout longer than the aggregate, and a call retry with backoff.base above max', () => {
  assert.deepEqual(errorsOf(`  - name: r
    match: { path: /r }
    aggregate:
      timeout: 1s
      calls:
        a: { upstream: users, path: /a, timeout: 2s, retry: { attempts: 2, backoff: { base: 1s, max: 100ms } } }
`), [
    'gw.yaml:11:50 routes[0].aggregate.calls.a.timeout: 2s is longer than the aggregate\'s timeout 1s',
    'gw.yaml:11:93 routes[0].aggregate.calls.a.retry.backoff.base: 1s is above backoff.max 100ms',
  ]);
});

test('the route table shows the aggregate terminal; admin output redacts credential headers of calls', () => {
  const config = parseConfig(UPSTREAMS + `routes:
  - name: dash
    match: { path: /dash/:id }
    aggregate:
      calls:
        user: { upstream: users, path: /u/:id, headers: { Authorization: Bearer s3cret } }
        orders: { upstream: orders, path: /o, optional: true }
        more: { upstream: users, path: "/m/\${user.id}", after: [ user ] }
`, 'gw.yaml', {});
  const table = formatRouteTable(compileRouter(config.routes));
  assert.match(table, /aggregate\[user:users, orders:orders\?, more:users after user\]/);
  const shown = JSON.stringify(redactSecrets(config.routes));
  assert.ok(!shown.includes('s3cret'), shown);
  assert.match(shown, /"authorization":"\[redacted\]"/);
});

test('parseTemplate and findCycle', () => {
  assert.deepEqual(parseTemplate('/v1/:id/x?u=:id&t=${a.b.0}:8'), [
    { kind: 0, text: '/v1/', path: [] }, { kind: 1, text: 'id', path: [] }, { kind: 0, text: '/x?u=', path: [] },
    { kind: 1, text: 'id', path: [] }, { kind: 0, text: '&t=', path: [] }, { kind: 2, text: 'a', path: ['b', '0'] }, { kind: 0, text: ':8', path: [] },
  ]);
  assert.equal(findCycle(['a', 'b'], new Map([['a', ['b']], ['b', []]])), null);
  assert.deepEqual(findCycle(['a'], new Map([['a', ['b']], ['b', ['b']]])), ['b', 'b']);
});
