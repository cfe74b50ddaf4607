import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/config/issues.js';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { LocalResponse } from '../../src/policies/local-response.js';
import type { PolicyInstance } from '../../src/policies/types.js';
import { testSpec, withTestKind } from './test-policy-kind.js';
import { configFromYaml, deadPort, nodeRequest, rawRequest, startGateway, startUpstream, type TestUpstream } from './helpers.js';


/** Sets a consumer from x-user (as an authentication policy would). */
const login: PolicyInstance = {
  name: 'test:login',
  access: (ctx) => {
    const user = ctx.header('x-user');
    if (user !== '') ctx.consumer = { id: 'id-' + user, username: user, groups: [], credential: { kind: 'test', id: 'k' }, claims: null };
    return undefined;
  },
};

/** Answers locally, with a header the headers policy removes. */
const mock: PolicyInstance = {
  name: 'test:mock',
  access: () => new LocalResponse(200, ['content-type', 'text/plain', 'server', 'mock', 'x-upstream-cache', 'MISS'], 'mocked'),
};

/** The headers the echo upstream received. */
function echoed(body: string): Record<string, string> {
  return (JSON.parse(body) as { headers: Record<string, string> }).headers;
}

describe('headers policy (real gateway, real upstreams)', () => {
  let echo: TestUpstream; let branded: TestUpstream; let worker: GatewayWorker; let gw: { port: number };

  before(async () => {
    echo = await startUpstream('echo');
    branded = await startUpstream('branded', (req, res) => {
      const status = req.url === '/missing' ? 404 : 200;
      res.writeHead(status, {
        'content-type': 'text/plain', server: 'nginx/1.25', 'x-powered-by': 'PHP/8', 'x-upstream-cache': 'HIT',
        'x-cache': 'stale', 'cache-control': 'max-age=60',
      });
      res.end(status === 404 ? 'no such thing' : 'hello');
    });
    const dead = await deadPort();
    const config = configFromYaml(`
upstreams:
  echo: { targets: [ { url: "${echo.url}" } ] }
  branded: { targets: [ { url: "${branded.url}" } ] }
  dead: { targets: [ { url: "http://127.0.0.1:${dead}" } ] }
policies:
  brand:
    headers:
      response:
        remove: [ server, x-powered-by ]
        rename: { x-upstream-cache: x-cache }
        set: { x-served-by: turnpike, x-route: "\${route}", x-echo-q: "\${query.q}" }
        add: { cache-control: no-transform }
routes:
  - name: orders
    match: { path: /orders/:id }
    upstream: echo
    policies:
      - headers:
          request:
            set:
              x-client-ip: "\${client_ip}"
              x-route: "\${route}"
              x-rid: "\${request_id}"
              x-method: "\${method}"
              x-path: "\${path}"
              x-order: "order-\${param.id}"
              x-q: "\${query.q}"
              X-Team: "team=\${header.x-team}"
              x-consumer-id: "\${consumer.id}"
            add: { x-tag: gw, x-consumer-name: "\${consumer.username}" }
            remove: [ x-debug ]
            rename: { X-Token: x-upstream-token }
      - brand
  - { name: branded, match: { path: /* }, upstream: branded, policies: [ brand ] }
  - { name: dead, match: { path: /dead }, upstream: dead, policies: [ brand ] }
  - name: me
    match: { path: /me }
    upstream: echo
    policies:
      - headers: { request: { set: { x-consumer-id: "\${consumer.id}" }, add: { x-consumer-name: "\${consumer.username}" } } }
  - { name: mock, match: { path: /mock }, upstream: echo, policies: [ brand ] }
`);
    for (const r of config.routes) {
      if (r.name === 'me') r.policies.unshift(testSpec('login', login));
      if (r.name === 'mock') r.policies.unshift(testSpec('mock', mock));
    }
    worker = await startWorker(config, { policyFactories: withTestKind() });
    gw = { port: worker.port };
  });
  after(async () => { await worker?.drain(1000); await Promise.all([echo?.close(), branded?.close()]); });

  test('request set/add/remove/rename with every template variable reach the upstream', async () => {
    const res = await nodeRequest(gw.port, '/orders/a%20b?q=caf%C3%A9&other=1', {
      'x-debug': '1', 'x-token': 't0k', 'x-tag': 'client', 'x-consumer-id': 'spoofed', 'x-team': 'blue',
      'x-request-id': 'rid-e2e-1', 'x-client-ip': '6.6.6.6',
    });
    assert.equal(res.status, 200);
    const h = echoed(res.body);
    assert.equal(h['x-client-ip'], '127.0.0.1');
    assert.equal(h['x-route'], 'orders');
    assert.equal(h['x-rid'], 'rid-e2e-1');
    assert.equal(h['x-request-id'], 'rid-e2e-1');
    assert.equal(h['x-method'], 'GET');
    assert.equal(h['x-path'], '/orders/a%20b');
    assert.equal(h['x-order'], 'order-a b');
    // The decoded query value, its non-ASCII percent-encoded (UTF-8).
    assert.equal(h['x-q'], 'caf%C3%A9');
    assert.equal(h['x-team'], 'team=blue');
    // No consumer: the set removes the client's own value instead of passing it on; the empty add adds nothing.
    assert.equal(h['x-consumer-id'], undefined);
    assert.equal(h['x-consumer-name'], undefined);
    assert.equal(h['x-tag'], 'client, gw');
    assert.equal(h['x-debug'], undefined);
    assert.equal(h['x-token'], undefined);
    assert.equal(h['x-upstream-token'], 't0k');
    // The response side of the same route ran too (named policy after the inline one).
    assert.equal(res.headers['x-served-by'], 'turnpike');
    assert.equal(res.headers['x-route'], 'orders');
    assert.equal(res.headers['x-echo-q'], 'caf%C3%A9');
  });

  test('response set/remove/rename/add on an upstream 200 and an upstream 404 (not a problem)', async () => {
    for (const [path, status, body] of [['/hello', 200, 'hello'], ['/missing', 404, 'no such thing']] as const) {
      const res = await nodeRequest(gw.port, path, {});
      assert.equal(res.status, status);
      assert.equal(res.body, body);
      assert.equal(res.headers.server, undefined, path);
      assert.equal(res.headers['x-powered-by'], undefined, path);
      assert.equal(res.headers['x-upstream-cache'], undefined, path);
      assert.equal(res.headers['x-cache'], 'HIT', path);
      assert.equal(res.headers['x-served-by'], 'turnpike', path);
      assert.equal(res.headers['x-route'], 'branded', path);
      assert.equal(res.headers['x-echo-q'], undefined, path);
      assert.equal(res.headers['cache-control'], 'max-age=60, no-transform', path);
      assert.equal(res.headers['content-type'], 'text/plain', path);
    }
  });

  test('a consumer set by an earlier policy fills ${consumer.*}; without one the client cannot supply the header', async () => {
    const withUser = echoed((await nodeRequest(gw.port, '/me', { 'x-user': 'ann', 'x-consumer-id': 'spoofed' })).body);
    assert.equal(withUser['x-consumer-id'], 'id-ann');
    assert.equal(withUser['x-consumer-name'], 'ann');
    const anonymous = echoed((await nodeRequest(gw.port, '/me', { 'x-consumer-id': 'spoofed', 'x-consumer-name': 'spoofed' })).body);
    assert.equal(anonymous['x-consumer-id'], undefined);
    assert.equal(anonymous['x-consumer-name'], 'spoofed');
  });

  test('response edits apply to a policy\'s local response', async () => {
    const res = await nodeRequest(gw.port, '/mock', {});
    assert.equal(res.status, 200);
    assert.equal(res.body, 'mocked');
    assert.equal(res.headers.server, undefined);
    assert.equal(res.headers['x-cache'], 'MISS');
    assert.equal(res.headers['x-served-by'], 'turnpike');
    assert.equal(res.headers['x-route'], 'mock');
    assert.equal(res.headers['cache-control'], 'no-transform');
  });

  test('response edits apply to a problem response (502 from a dead upstream)', async () => {
    const res = await nodeRequest(gw.port, '/dead?q=x', {});
    assert.equal(res.status, 502);
    assert.equal(res.headers['content-type'], 'application/problem+json');
    assert.equal((JSON.parse(res.body) as { code: string }).code, 'upstream_connect_failed');
    assert.equal(res.headers['x-served-by'], 'turnpike');
    assert.equal(res.headers['x-route'], 'dead');
    assert.equal(res.headers['x-echo-q'], 'x');
    assert.equal(res.headers['cache-control'], 'no-store, no-transform');
    assert.match(String(res.headers['x-request-id']), /./);
  });

  test('CR/LF from a decoded query never splits a request or a response header', async () => {
    const q = 'a%0d%0aSet-Cookie:%20evil=1%0d%0a%0d%0a%00x';
    const res = await nodeRequest(gw.port, `/orders/1?q=${q}`, {});
    assert.equal(res.status, 200);
    const h = echoed(res.body);
    assert.equal(h['x-q'], 'aSet-Cookie: evil=1x');
    assert.equal(h['set-cookie'], undefined);
    assert.equal(res.headers['x-echo-q'], 'aSet-Cookie: evil=1x');
    assert.equal(res.headers['set-cookie'], undefined);
    // On the wire: one x-echo-q line, no injected line.
    const raw = await rawRequest(gw.port, `GET /hello?q=${q} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`);
    assert.match(raw, /^HTTP\/1\.1 200 /);
    assert.match(raw, /\r\nx-echo-q: aSet-Cookie: evil=1x\r\n/i);
    assert.doesNotMatch(raw, /\r\nset-cookie:/i);
  });

  test('CR/LF in a client header never gets as far as a template; DEL is stripped', async () => {
    // uWS refuses CR, LF and NUL inside a header value before any policy runs.
    for (const bad of ['a\rInjected: 1', 'a\nInjected: 1', 'a\u0000b']) {
      const raw = await rawRequest(gw.port, `GET /orders/1 HTTP/1.1\r\nHost: t\r\nx-team: ${bad}\r\nConnection: close\r\n\r\n`);
      assert.doesNotMatch(raw, /^HTTP\/1\.1 200 /, JSON.stringify(bad));
    }
    assert.equal(echo.seen.some((s) => JSON.stringify(s.headers).includes('Injected')), false);
    const raw = await rawRequest(gw.port, 'GET /orders/1 HTTP/1.1\r\nHost: t\r\nx-team: a\u007fb\r\nConnection: close\r\n\r\n');
    assert.match(raw, /^HTTP\/1\.1 200 /);
    assert.match(raw, /"x-team":"team=ab"/);
  });

  test('an unknown variable stops the gateway from starting, naming file:line and path', async () => {
    await assert.rejects(startGateway(`
upstreams:
  echo: { targets: [ { url: "${echo.url}" } ] }
routes:
  - match: { path: /x }
    upstream: echo
    policies:
      - headers: { request: { set: { x-who: "\${user}" } } }
`), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.deepEqual(err.issues.map((i) => `${i.file}:${i.line}:${i.column} ${i.path}: ${i.message}`), [
        'test.yaml:8:45 routes[0].policies[0].headers.request.set.x-who: unknown variable "${user}" (known: client_ip, route, request_id, method, path, param.NAME, query.NAME, header.NAME, consumer.id, consumer.username)',
      ]);
      return true;
    });
  });
});
