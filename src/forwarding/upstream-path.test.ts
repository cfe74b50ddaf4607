import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileRouter } from '../router/compile-router.js';
import { buildUpstreamPath, encodePathParam, stripPathPrefix } from './upstream-path.js';
import { compileForwardPlan } from './forward-plan.js';
import { RecordLookup } from '../router/record-lookup.js';
import { makeRoute, type RouteOptions } from '../router/router-cases.js';

/** Matches `path` against a one-route router and builds the upstream path. */
function upstreamFor(pattern: string, o: RouteOptions, path: string, query = ''): string {
  const router = compileRouter([makeRoute(0, 'r', pattern, o)]);
  const params: string[] = [];
  const route = router.match('GET', 'h', path, new RecordLookup(), params);
  assert.ok(route !== null && route.kind === 'route', `${pattern} should match ${path}`);
  return buildUpstreamPath(compileForwardPlan(route, route.paramNames), params, path, query);
}

test('rewrite substitutes params and the wildcard, keeps the query', () => {
  assert.equal(upstreamFor('/users/:id', { rewrite: '/v1/users/:id' }, '/users/42'), '/v1/users/42');
  assert.equal(upstreamFor('/users/:id', { rewrite: '/v1/users/:id' }, '/users/42', 'a=1&b=2'), '/v1/users/42?a=1&b=2');
  assert.equal(upstreamFor('/o/:org/r/:repo', { rewrite: '/repos/:repo/of/:org' }, '/o/acme/r/web'), '/repos/web/of/acme');
  assert.equal(upstreamFor('/assets/*', { rewrite: '/cdn/*' }, '/assets/css/a.css', 'v=3'), '/cdn/css/a.css?v=3');
  assert.equal(upstreamFor('/assets/*', { rewrite: '/cdn/*' }, '/assets'), '/cdn/');
  assert.equal(upstreamFor('/u/:id', { rewrite: '/x/:id.json' }, '/u/7'), '/x/7.json');
  assert.equal(upstreamFor('/u/:id', { rewrite: '/fixed' }, '/u/7'), '/fixed');
});

test('rewrite re-encodes decoded params and forwards the wildcard raw', () => {
  assert.equal(upstreamFor('/f/:name', { rewrite: '/files/:name' }, '/f/hello%20world'), '/files/hello%20world');
  assert.equal(upstreamFor('/f/:name', { rewrite: '/files/:name' }, '/f/a%2Fb'), '/files/a%2Fb');
  assert.equal(upstreamFor('/f/:name', { rewrite: '/files/:name' }, '/f/caf%C3%A9'), '/files/caf%C3%A9');
  assert.equal(upstreamFor('/f/:name', { rewrite: '/files/:name' }, "/f/a:b@c!$&'()*+,;="), "/files/a:b@c!$&'()*+,;=");
  assert.equal(upstreamFor('/s/*', { rewrite: '/t/*' }, '/s/a%20b/c%2Fd'), '/t/a%20b/c%2Fd');
});

test('stripPrefix removes the prefix on a segment boundary only', () => {
  assert.equal(upstreamFor('/api/*', { stripPrefix: '/api' }, '/api/users/1', 'x=1'), '/users/1?x=1');
  assert.equal(upstreamFor('/api/*', { stripPrefix: '/api/' }, '/api/users'), '/users');
  assert.equal(upstreamFor('/api/*', { stripPrefix: '/api' }, '/api'), '/');
  assert.equal(upstreamFor('/api/*', { stripPrefix: '/api' }, '/api/'), '/');
  assert.equal(upstreamFor('/*', { stripPrefix: '/api' }, '/apiary/x'), '/apiary/x');
  assert.equal(upstreamFor('/*', { stripPrefix: '/' }, '/a/b'), '/a/b');
  assert.equal(stripPathPrefix('/v1/x', '/v1'), '/x');
  assert.equal(stripPathPrefix('/v2/x', '/v1'), '/v2/x');
});

test('no transform forwards the raw path, and rewrite wins over stripPrefix', () => {
  assert.equal(upstreamFor('/a/:x', {}, '/a/b%20c', 'q'), '/a/b%20c?q');
  assert.equal(upstreamFor('/a/:x', { rewrite: '/z/:x', stripPrefix: '/a' }, '/a/b'), '/z/b');
});

test('encodePathParam leaves pchars alone and returns the same string', () => {
  const s = 'abc-._~09';
  assert.equal(encodePathParam(s), s);
  assert.equal(encodePathParam('a b'), 'a%20b');
  assert.equal(encodePathParam('100%'), '100%25');
  assert.equal(encodePathParam('ü'), '%C3%BC');
  assert.equal(encodePathParam('a?b#c'), 'a%3Fb%23c');
});
