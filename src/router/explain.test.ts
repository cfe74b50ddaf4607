import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouter } from './compile-router.js';
import { explainMatch, explainOutcomeName } from './explain.js';
import { formatExplain, formatRouteTable } from './explain-format.js';
import { makeRoute, routerCaseGroups } from './router-cases.js';

test('explain agrees with the router and the reference rule on every shared case', () => {
  for (const group of routerCaseGroups) {
    const router = compileRouter(group.routes);
    for (const c of group.cases) {
      const trace = explainMatch(router, c.method, c.host, c.path, c.headers ?? {}, c.query ?? '');
      const label = `${group.title}: ${c.method} ${c.host}${c.path}`;
      const expected = c.route ?? (c.status === 405 ? `405 ${(c.allow ?? []).join(',')}` : String(c.status));
      assert.equal(explainOutcomeName(trace), expected, label);
      assert.equal(trace.reference, expected, `${label}: naive reference rule disagrees with the tree`);
      const winners = trace.candidates.filter((x) => x.verdict === 'winner').map((x) => x.route);
      assert.deepEqual(winners, c.route === undefined ? [] : [c.route], label);
    }
  }
});

const router = compileRouter([
  makeRoute(0, 'users-wild', '/users/*'),
  makeRoute(1, 'users-id', '/users/:id', { methods: ['GET', 'DELETE'] }),
  makeRoute(2, 'users-mobile', '/users/:id', { headers: { 'x-client': 'mobile' }, upstream: 'mobile-api' }),
  makeRoute(3, 'users-beta', '/users/:id', { query: { beta: '1' }, split: [{ upstream: 'v1', weight: 90 }, { upstream: 'v2', weight: 10 }], sticky: 'header:x-user' }),
  makeRoute(4, 'eu', '/users/:id', { host: '*.eu.example.com', rewrite: '/v1/users/:id' }),
  makeRoute(5, 'api', '/api/*', { stripPrefix: '/api', methods: null }),
]);

test('explain names rejection reasons: path, method, host, header, query', () => {
  const trace = explainMatch(router, 'POST', 'www.example.com', '/users/42', { 'x-client': 'desktop' }, 'beta=0');
  const text = formatExplain(trace);
  assert.equal(trace.result.kind, 'method-not-allowed');
  assert.match(text, /header x-client expected "mobile" got "desktop"/);
  assert.match(text, /query beta expected "1" got "0"/);
  assert.match(text, /method POST not in DELETE, GET, HEAD/);
  assert.match(text, /host: wants \*\.eu\.example\.com, request host is "www\.example\.com"/);
  assert.match(text, /path \/api\/\*: segment 1: expected "api", got "users"/);
  assert.match(text, /Result: 405 Method Not Allowed \(Allow: DELETE, GET, HEAD\)/);
  assert.deepEqual(trace.hostTables, ['any host']);
});

test('explain names the precedence rule that decided', () => {
  const byPredicates = explainMatch(router, 'GET', 'h', '/users/42', { 'x-client': 'mobile' }, '');
  assert.deepEqual(byPredicates.result, { kind: 'route', route: 'users-mobile', params: { id: '42' } });
  assert.match(byPredicates.decidedBy, /over users-id: more predicates win \(1 vs 0\)/);

  const byKind = explainMatch(router, 'GET', 'h', '/users/42', {}, '');
  assert.match(byKind.decidedBy, /over users-wild: at segment 2 a :param beats the \* wildcard/);
  const wild = byKind.candidates.find((c) => c.route === 'users-wild');
  assert.equal(wild?.verdict, 'outranked');

  const byHost = explainMatch(router, 'GET', 'fr.eu.example.com:443', '/users/42', {}, '');
  assert.deepEqual(byHost.hostTables, ['*.eu.example.com', 'any host']);
  assert.match(byHost.decidedBy, /host table \*\.eu\.example\.com is searched before any host/);
  const text = formatExplain(byHost);
  assert.match(text, /WINNER\s+#4 eu/);
  assert.match(text, /Result: route eu with id="42"/);
});

test('explain reports 404 and bad paths', () => {
  const none = explainMatch(router, 'GET', 'h', '/nothing', {}, '');
  assert.equal(none.result.kind, 'not-found');
  assert.match(formatExplain(none), /Result: 404 Not Found/);
  const bad = explainMatch(router, 'GET', 'h', '/users/%zz', {}, '');
  assert.equal(bad.result.kind, 'bad-path');
  assert.equal(bad.reference, '400');
  assert.match(formatExplain(bad), /malformed percent-escape/);
});

test('formatRouteTable lists every route in precedence order with targets and transforms', () => {
  const table = formatRouteTable(router);
  const lines = table.trimEnd().split('\n');
  assert.equal(lines.length, 7);
  assert.match(lines[0], /^RANK\s+NAME\s+HOST\s+METHODS\s+PATH\s+PREDICATES\s+TARGET\s+TRANSFORM$/);
  const order = lines.slice(1).map((l) => l.split(/\s+/)[1]);
  assert.deepEqual(order, ['eu', 'api', 'users-mobile', 'users-beta', 'users-id', 'users-wild']);
  assert.match(table, /eu \(#4\)\s+\*\.eu\.example\.com\s+GET,HEAD\s+\/users\/:id\s+-\s+backend\s+rewrite \/v1\/users\/:id/);
  assert.match(table, /api \(#5\)\s+\*any\*\s+ANY\s+\/api\/\*\s+-\s+backend\s+strip \/api/);
  assert.match(table, /users-beta \(#3\).*query beta=1\s+split\[v1 90\/100, v2 10\/100\] sticky header:x-user/);
  assert.match(table, /users-mobile \(#2\).*header x-client=mobile\s+mobile-api/);
  assert.match(table, /users-id \(#1\)\s+\*any\*\s+DELETE,GET,HEAD/);
});
