import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouter } from './compile-router.js';
import { formatRouteTable } from './explain-format.js';
import { RecordLookup } from './record-lookup.js';
import { makeRoute, routerCaseGroups, type RouterCase } from './router-cases.js';
import type { MatchResult } from './compiled-route.js';

function describeCase(c: RouterCase): string {
  const q = c.query ? '?' + c.query : '';
  const h = c.headers ? ' ' + JSON.stringify(c.headers) : '';
  return `${c.method} ${c.host}${c.path}${q}${h}`;
}

function checkCase(result: MatchResult, params: string[], c: RouterCase): void {
  const label = describeCase(c);
  if (c.route !== undefined) {
    assert.ok(result !== null && result.kind === 'route', `${label}: expected route ${c.route}, got ${result === null ? '404' : result.kind}`);
    assert.equal(result.name, c.route, label);
    assert.deepEqual([...params], c.params ?? [], `${label}: params`);
    return;
  }
  if (c.status === 404) {
    assert.equal(result, null, `${label}: expected 404, got ${result?.kind}${result?.kind === 'route' ? ' ' + result.name : ''}`);
  } else if (c.status === 405) {
    assert.ok(result !== null && result.kind === 'method-not-allowed', `${label}: expected 405, got ${result?.kind ?? '404'}`);
    assert.deepEqual([...result.allow], c.allow, `${label}: Allow`);
    assert.equal(result.allowHeader, (c.allow ?? []).join(', '));
  } else if (c.status === 400) {
    assert.ok(result !== null && result.kind === 'bad-path', `${label}: expected bad-path, got ${result?.kind ?? '404'}`);
  }
  assert.equal(params.length, 0, `${label}: params cleared on failure`);
}

for (const group of routerCaseGroups) {
  test(`router cases: ${group.title}`, () => {
    const router = compileRouter(group.routes);
    // why: one params array reused across every case, as the gateway does.
    const params: string[] = ['stale', 'stale', 'stale', 'stale'];
    for (const c of group.cases) {
      const result = router.match(c.method, c.host, c.path, new RecordLookup(c.headers, c.query), params);
      checkCase(result, params, c);
    }
  });
}

test('a successful match returns the compiled route object itself', () => {
  const router = compileRouter([makeRoute(0, 'u', '/u/:id')]);
  const params: string[] = [];
  const a = router.match('GET', 'h', '/u/1', new RecordLookup(), params);
  const b = router.match('GET', 'h', '/u/2', new RecordLookup(), params);
  assert.ok(a !== null && a.kind === 'route');
  assert.equal(a, b);
  assert.equal(a, router.routes[0]);
  assert.deepEqual(a.paramNames, ['id']);
  assert.deepEqual(params, ['2']);
  assert.ok(Object.isFrozen(a));
});

test('405 results for one node are shared, not rebuilt per request', () => {
  const router = compileRouter([makeRoute(0, 'u', '/u', { methods: ['GET', 'POST'] })]);
  const a = router.match('PUT', 'h', '/u', new RecordLookup(), []);
  const b = router.match('DELETE', 'h', '/u', new RecordLookup(), []);
  assert.ok(a !== null && a.kind === 'method-not-allowed');
  assert.equal(a, b);
  assert.equal(a.allowHeader, 'GET, HEAD, POST');
});

test('compiling is deterministic', () => {
  for (const group of routerCaseGroups) {
    assert.equal(formatRouteTable(compileRouter(group.routes)), formatRouteTable(compileRouter(group.routes)));
  }
});

test('compile rejects malformed patterns, naming the route', () => {
  assert.throws(() => compileRouter([makeRoute(0, 'bad-star', '/a/*/b')]), /bad-star.*only allowed as the last segment/);
  assert.throws(() => compileRouter([makeRoute(0, 'mid-star', '/a/b*')]), /mid-star.*whole segment/);
  assert.throws(() => compileRouter([makeRoute(0, 'no-slash', 'a/b')]), /no-slash.*must start with/);
  assert.throws(() => compileRouter([makeRoute(0, 'dup', '/:id/:id')]), /dup.*duplicate parameter/);
  assert.throws(() => compileRouter([makeRoute(0, 'empty-param', '/a/:')]), /empty-param.*bad parameter/);
});

test('many params beyond the default capture buffer', () => {
  const segs = Array.from({ length: 40 }, (_, i) => `:p${i}`);
  const router = compileRouter([makeRoute(0, 'deep', '/' + segs.join('/'))]);
  const values = Array.from({ length: 40 }, (_, i) => `v${i}`);
  const params: string[] = [];
  const r = router.match('GET', '', '/' + values.join('/'), new RecordLookup(), params);
  assert.ok(r !== null && r.kind === 'route');
  assert.deepEqual(params, values);
});

test('static edges sharing a first character and compressed chains', () => {
  const names = ['users', 'user', 'uploads', 'usage', 'u', 'teams', 'tags', 'v1/orgs/list'];
  const router = compileRouter(names.map((n, i) => makeRoute(i, n, '/' + n)));
  for (const n of names) {
    const r = router.match('GET', '', '/' + n, new RecordLookup(), []);
    assert.ok(r !== null && r.kind === 'route' && r.name === n, n);
  }
  for (const miss of ['/us', '/userss', '/v1', '/v1/orgs', '/v1/orgs/lis', '/v1/orgs/list/x', '/ü']) {
    assert.equal(router.match('GET', '', miss, new RecordLookup(), []), null, miss);
  }
});
