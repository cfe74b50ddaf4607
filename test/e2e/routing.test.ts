import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from './helpers.js';

describe('routing end to end (real upstreams)', () => {
  let a: TestUpstream; let b: TestUpstream; let c: TestUpstream; let gw: TestGateway;

  before(async () => {
    [a, b, c] = await Promise.all([startUpstream('a'), startUpstream('b'), startUpstream('c')]);
    gw = await startGateway(`
upstreams:
  a: { targets: [ { url: "${a.url}" } ] }
  b: { targets: [ { url: "${b.url}" } ] }
  c: { targets: [ { url: "${c.url}" } ] }
routes:
  - name: api-host
    match: { path: /users/:id, host: api.example.com, methods: [GET] }
    upstream: b
  - name: wildcard-host
    match: { path: /users/:id, host: "*.tenants.example.com" }
    upstream: c
  - name: user-me
    match: { path: /users/me, methods: [GET] }
    upstream: c
  - name: user-by-id
    match: { path: /users/:id, methods: [GET, PUT] }
    upstream: a
    rewrite: /v1/users/:id
  - name: user-mobile
    match: { path: /users/:id, methods: [GET], headers: { x-client: mobile } }
    upstream: b
  - name: user-beta
    match: { path: /users/:id, methods: [GET], query: { beta: "1" } }
    upstream: c
  - name: users-rest
    match: { path: /users/* }
    upstream: c
  - name: static
    match: { path: /static/*, methods: [GET] }
    upstream: a
    stripPrefix: /static
  - name: files-first
    match: { path: /files/:name, methods: [GET] }
    upstream: a
  - name: files-second
    match: { path: /files/:name }
    upstream: b
`);
  });
  after(async () => { await gw?.close(); await Promise.all([a?.close(), b?.close(), c?.close()]); });

  // undici.request rather than fetch: fetch does not let a test set Host.
  async function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
    const res = await request(gw.base + path, { method: method as 'GET', headers });
    const text = await res.body.text();
    return { status: res.statusCode, headers: res.headers, body: text ? JSON.parse(text) : null };
  }

  const cases: Array<[string, string, Record<string, string>, string, string | number, string?]> = [
    // [description, path, headers, method, expected upstream or status, expected upstream url]
    ['param with rewrite', '/users/42', {}, 'GET', 'a', '/v1/users/42'],
    ['static beats param', '/users/me', {}, 'GET', 'c', '/users/me'],
    ['exact host wins over any-host', '/users/7', { host: 'api.example.com' }, 'GET', 'b', '/users/7'],
    ['wildcard host', '/users/7', { host: 'acme.tenants.example.com:8080' }, 'GET', 'c', '/users/7'],
    ['header predicate', '/users/7', { 'x-client': 'mobile' }, 'GET', 'b', '/users/7'],
    ['header predicate mismatch falls back', '/users/7', { 'x-client': 'desktop' }, 'GET', 'a', '/v1/users/7'],
    ['query predicate', '/users/7?beta=1', {}, 'GET', 'c', '/users/7?beta=1'],
    ['query kept on rewrite', '/users/7?x=1&y=2', {}, 'GET', 'a', '/v1/users/7?x=1&y=2'],
    ['wildcard deep', '/users/7/orders/9', {}, 'GET', 'c', '/users/7/orders/9'],
    ['method-specific route then wildcard for other methods', '/users/7', {}, 'DELETE', 'c', '/users/7'],
    ['strip prefix', '/static/css/site.css', {}, 'GET', 'a', '/css/site.css'],
    ['config order breaks ties', '/files/x', {}, 'GET', 'a', '/files/x'],
    ['percent-encoded param is forwarded encoded', '/users/a%20b', {}, 'GET', 'a', '/v1/users/a%20b'],
  ];
  for (const [name, path, headers, method, want, wantUrl] of cases) {
    test(name, async () => {
      const r = await get(path, headers, method);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.server, want);
      if (wantUrl) assert.equal(r.body.url, wantUrl);
    });
  }

  test('404 no route is problem+json', async () => {
    const r = await get('/nothing/here');
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'application/problem+json');
    assert.equal(r.body.code, 'route_not_found');
    assert.equal(r.body.status, 404);
    assert.equal(r.body.instance, '/nothing/here');
    assert.ok(r.body.requestId);
  });

  test('405 on a matched path lists Allow', async () => {
    const r = await get('/static/x', {}, 'POST');
    assert.equal(r.status, 405);
    assert.equal(r.body.code, 'method_not_allowed');
    assert.equal(r.headers.allow, 'GET, HEAD');
  });

  test('HEAD is served by a GET route without a body', async () => {
    const res = await fetch(gw.base + '/users/42', { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
    assert.equal(a.seen.at(-1)?.method, 'HEAD');
  });

  test('malformed percent-escape in a param is 400', async () => {
    const r = await get('/users/%zz');
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'bad_request');
  });
});
