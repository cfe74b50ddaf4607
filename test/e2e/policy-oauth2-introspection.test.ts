import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Registry } from 'prom-client';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { startIntrospectionServer, type IntrospectionServer } from '../../src/policies/oauth2-introspection/testing/introspection-server.js';
import { makeTestCa, type TestCa } from '../../src/policies/oauth2-introspection/testing/test-ca.js';
import { configFromYaml, startUpstream, type TestUpstream } from './helpers.js';

const CLIENT_ID = 'gate way';
const SECRET = 's3:cr&t+%';
process.env.TP_E2E_INTROSPECTION_SECRET = SECRET;

interface Reply { status: number; headers: IncomingHttpHeaders; body: string; json: Record<string, unknown> | null }

/** One request on a fresh connection; a header given as a list is sent as several lines. */
function send(port: number, path: string, headers: Record<string, string | string[]> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        const json = /json/.test(String(res.headers['content-type'])) ? JSON.parse(body) as Record<string, unknown> : null;
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = (token: string): Record<string, string> => ({ authorization: 'Bearer ' + token });

/** The headers the echo upstream received. */
function upstreamHeaders(r: Reply): Record<string, string> {
  assert.equal(r.status, 200, r.body);
  return (r.json as { headers: Record<string, string> }).headers;
}

function assertProblem(r: Reply, status: number, code: string): void {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(r.json?.code, code);
}

/** Value of one sample of a metric (0 when absent). */
async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((s) => Object.entries(labels).every(([k, l]) => s.labels[k] === l));
  return v?.value ?? 0;
}

async function until(what: string, check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) assert.fail('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('oauth2-introspection end to end (real gateway, real endpoints, real upstream)', () => {
  let up: TestUpstream;
  let idp: IntrospectionServer; // accepts Basic only
  let idpPost: IntrospectionServer; // accepts client_secret_post only
  let flaky: IntrospectionServer; // fails, hangs and stops on demand
  let idpTls: IntrospectionServer;
  let ca: TestCa;
  let gw: GatewayWorker;
  const registry = new Registry();
  const nowS = Math.floor(Date.now() / 1000);

  before(async () => {
    up = await startUpstream('up');
    ca = makeTestCa();
    idp = await startIntrospectionServer({ clientId: CLIENT_ID, clientSecret: SECRET, accept: 'basic' });
    idpPost = await startIntrospectionServer({ clientId: CLIENT_ID, clientSecret: SECRET, accept: 'post' });
    flaky = await startIntrospectionServer({ clientId: CLIENT_ID, clientSecret: SECRET });
    idpTls = await startIntrospectionServer({ clientId: CLIENT_ID, clientSecret: SECRET, tls: { key: ca.key, cert: ca.cert } });
    for (const s of [idp, idpPost, flaky, idpTls]) {
      s.tokens.set('alice', { active: true, sub: 'u-alice', username: 'alice', client_id: 'web', roles: ['staff', 'ops'], scope: 'orders:read', email: 'alice@example.com' });
      s.tokens.set('writer', { active: true, sub: 'u-writer', scope: 'orders:read orders:write', exp: nowS + 3600 });
      s.tokens.set('stale', { active: true, sub: 'u-stale', exp: nowS - 5 }); // past exp, within the 30 s clock skew
    }
    const creds = `clientId: "${CLIENT_ID}", clientSecret: env:TP_E2E_INTROSPECTION_SECRET`;
    const config = configFromYaml(`upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
policies:
  idp: { oauth2-introspection: { url: "${idp.url}", ${creds}, cacheTtl: 1m, negativeCacheTtl: 1m, groupsClaim: roles } }
  idp-post: { oauth2-introspection: { url: "${idpPost.url}", ${creds}, clientAuth: post } }
  scoped: { oauth2-introspection: { url: "${idp.url}", ${creds}, requiredScopes: [ "orders:read", "orders:write" ] } }
  hidden: { oauth2-introspection: { url: "${idp.url}", ${creds}, hideCredentials: true, claimsToHeaders: { x-user-email: email } } }
  flaky: { oauth2-introspection: { url: "${flaky.url}", ${creds}, timeout: 300ms, cacheTtl: 1m } }
  tls: { oauth2-introspection: { url: "${idpTls.url}", ${creds}, ca: "${ca.caFile}" } }
  small: { oauth2-introspection: { url: "${idp.url}", ${creds}, maxInFlight: 4, maxQueued: 4, timeout: 10s } }
routes:
  - { name: basic, match: { path: /basic/* }, upstream: up, policies: [ idp ] }
  - { name: post, match: { path: /post/* }, upstream: up, policies: [ idp-post ] }
  - { name: scoped, match: { path: /scoped/* }, upstream: up, policies: [ scoped ] }
  - { name: hidden, match: { path: /hidden/* }, upstream: up, policies: [ hidden ] }
  - { name: flaky, match: { path: /flaky/* }, upstream: up, policies: [ flaky ] }
  - { name: tls, match: { path: /tls/* }, upstream: up, policies: [ tls ] }
  - { name: small, match: { path: /small/* }, upstream: up, policies: [ small ] }
`);
    gw = await startWorker(config, { metricsRegistry: registry });
  });

  after(async () => {
    await gw.drain(1000);
    await Promise.all([up.close(), idp.close(), idpPost.close(), flaky.close(), idpTls.close()]);
    ca.remove();
  });

  test('an active token: 200, the consumer headers reach the upstream, spoofed ones are removed', async () => {
    const r = await send(gw.port, '/basic/a', { ...bearer('alice'), 'x-consumer-id': 'admin', 'x-consumer-groups': 'root' });
    const h = upstreamHeaders(r);
    assert.equal(h['x-consumer-id'], 'u-alice');
    assert.equal(h['x-consumer-username'], 'alice');
    assert.equal(h['x-consumer-groups'], 'staff,ops');
    assert.equal(h.authorization, 'Bearer alice', 'kept without hideCredentials');
    const call = idp.calls.find((c) => c.token === 'alice')!;
    assert.equal(call.auth, 'basic');
    assert.equal(call.authOk, true);
    assert.equal(call.tokenTypeHint, 'access_token');
  });

  test('cached: the same token again makes no call', async () => {
    await send(gw.port, '/basic/c1', bearer('writer'));
    const before = idp.callsFor('writer');
    assert.equal(upstreamHeaders(await send(gw.port, '/basic/c2', bearer('writer')))['x-consumer-id'], 'u-writer');
    assert.equal(idp.callsFor('writer'), before);
    assert.ok(await metric(registry, 'turnpike_introspection_cache_lookups_total', { policy: 'idp', result: 'hit' }) >= 1);
  });

  test('an inactive token: 401 invalid_token with a Bearer challenge, cached negatively, never upstream', async () => {
    const seen = up.seen.length;
    const r = await send(gw.port, '/basic/x', bearer('revoked'));
    assertProblem(r, 401, 'invalid_token');
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="turnpike", error="invalid_token", error_description="inactive"');
    assert.equal(r.json?.reason, 'inactive');
    assertProblem(await send(gw.port, '/basic/x', bearer('revoked')), 401, 'invalid_token');
    assert.equal(idp.callsFor('revoked'), 1, 'the second answer came from the negative cache');
    assert.equal(up.seen.length, seen);
  });

  test('no token: 401 unauthorized with a bare challenge', async () => {
    const r = await send(gw.port, '/basic/x');
    assertProblem(r, 401, 'unauthorized');
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="turnpike"');
    assertProblem(await send(gw.port, '/basic/x', { authorization: 'Basic dXNlcjpwYXNz' }), 401, 'unauthorized');
  });

  test('missing required scopes: 403 insufficient_scope naming them', async () => {
    const r = await send(gw.port, '/scoped/x', bearer('alice'));
    assertProblem(r, 403, 'insufficient_scope');
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="turnpike", error="insufficient_scope", scope="orders:read orders:write"');
    assert.deepEqual(r.json?.requiredScopes, ['orders:read', 'orders:write']);
    assert.equal(upstreamHeaders(await send(gw.port, '/scoped/x', bearer('writer')))['x-consumer-id'], 'u-writer');
  });

  test('exp bounds the cache: a token whose exp has passed is asked about every time', async () => {
    upstreamHeaders(await send(gw.port, '/basic/s', bearer('stale')));
    upstreamHeaders(await send(gw.port, '/basic/s', bearer('stale')));
    assert.equal(idp.callsFor('stale'), 2);
  });

  test('50 concurrent requests with one unknown token: exactly one introspection call', async () => {
    idp.tokens.set('burst', { active: true, sub: 'u-burst' });
    const release = idp.hold();
    let replies: Array<Promise<Reply>> = [];
    try {
      replies = Array.from({ length: 50 }, () => send(gw.port, '/basic/burst', bearer('burst')));
      // Every request has reached the policy (49 joined the first one's call) before the endpoint answers.
      await until('49 joined lookups', async () => await metric(registry, 'turnpike_introspection_cache_lookups_total', { policy: 'idp', result: 'joined' }) >= 49);
    } finally { release(); }
    const all = await Promise.all(replies);
    assert.ok(all.every((r) => r.status === 200), all.map((r) => r.status).join(','));
    assert.equal(idp.callsFor('burst'), 1);
  });

  test('a flood of random tokens: at most maxInFlight calls at once, maxQueued wait, the rest get 503 at once', async () => {
    const before = idp.calls.length;
    const release = idp.hold();
    let replies: Array<Promise<Reply>> = [];
    try {
      replies = Array.from({ length: 60 }, (_, i) => send(gw.port, '/small/x', bearer('random-' + i + '-' + Math.random())));
      await until('52 overloaded', async () => await metric(registry, 'turnpike_introspection_overloaded_total', { policy: 'small' }) >= 52);
      await until('4 calls at the endpoint', () => idp.calls.length - before >= 4);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(idp.calls.length - before, 4, 'only maxInFlight calls reached the endpoint');
    } finally { release(); }
    const statuses = (await Promise.all(replies)).map((r) => r.status);
    assert.equal(statuses.filter((st) => st === 503).length, 52);
    assert.equal(statuses.filter((st) => st === 401).length, 8, 'the running and queued ones were answered (inactive)');
    assert.equal(idp.calls.length - before, 8);
  });

  test('clientAuth post: the credentials go in the form body', async () => {
    assert.equal(upstreamHeaders(await send(gw.port, '/post/x', bearer('alice')))['x-consumer-id'], 'u-alice');
    const call = idpPost.calls.find((c) => c.token === 'alice')!;
    assert.equal(call.auth, 'post');
    assert.equal(call.authOk, true);
  });

  test('hideCredentials removes the token; claimsToHeaders replaces client-sent values', async () => {
    const h = upstreamHeaders(await send(gw.port, '/hidden/x', { ...bearer('alice'), 'x-user-email': 'mallory@evil.example' }));
    assert.equal(h.authorization, undefined);
    assert.equal(h['x-user-email'], 'alice@example.com');
    const none = upstreamHeaders(await send(gw.port, '/hidden/x', { ...bearer('writer'), 'x-user-email': 'mallory@evil.example' }));
    assert.equal(none['x-user-email'], undefined, 'absent claim: the client-sent header is still removed');
  });

  test('two tokens in one request: 401 duplicate_credentials', async () => {
    const r = await send(gw.port, '/basic/x', { authorization: ['Bearer alice', 'Bearer writer'] });
    assertProblem(r, 401, 'duplicate_credentials');
    assert.match(String(r.headers['www-authenticate']), /^Bearer realm="turnpike", error="invalid_request"/);
  });

  test('garbage and oversized tokens: 401 or 431, never 5xx', async () => {
    const calls = idp.calls.length;
    assertProblem(await send(gw.port, '/basic/x', bearer('ab\tcd')), 401, 'invalid_token');
    // Non-ASCII bytes: whatever reaches the policy of them, never a 5xx.
    const latin = await send(gw.port, '/basic/x', bearer('é\u00ff'));
    assert.equal(latin.status, 401, latin.body);
    assert.ok(['unauthorized', 'invalid_token'].includes(String(latin.json?.code)));
    assertProblem(await send(gw.port, '/basic/x', bearer('x'.repeat(9000))), 401, 'invalid_token');
    assertProblem(await send(gw.port, '/basic/x', bearer('a'.repeat(20 * 1024))), 431, 'request_header_fields_too_large');
    // Far beyond maxHeaderSize, uWS itself answers a bare 431 (see README "Errors").
    assert.equal((await send(gw.port, '/basic/x', bearer('a'.repeat(100 * 1024)))).status, 431);
    assert.equal(idp.calls.length, calls, 'none of them was sent for introspection');
    assertProblem(await send(gw.port, '/basic/x', bearer('{"active":true}')), 401, 'invalid_token');
  });

  test('endpoint down or failing: cached tokens keep working, others get 503, never 200', async () => {
    upstreamHeaders(await send(gw.port, '/flaky/x', bearer('alice')));
    for (const mode of ['error500', 'garbage', 'reset'] as const) {
      flaky.mode = mode;
      assert.equal(upstreamHeaders(await send(gw.port, '/flaky/x', bearer('alice')))['x-consumer-id'], 'u-alice', mode);
      const r = await send(gw.port, '/flaky/x', bearer('writer'));
      assertProblem(r, 503, 'auth_provider_unavailable');
      assert.equal(r.headers['www-authenticate'], undefined);
    }
    flaky.mode = 'ok';
    await flaky.stop();
    try {
      upstreamHeaders(await send(gw.port, '/flaky/x', bearer('alice')));
      assertProblem(await send(gw.port, '/flaky/x', bearer('writer')), 503, 'auth_provider_unavailable');
    } finally { await flaky.start(); }
    upstreamHeaders(await send(gw.port, '/flaky/x', bearer('writer')));
    assert.ok(await metric(registry, 'turnpike_introspection_calls_total', { policy: 'flaky', result: 'http_status' }) >= 1);
  });

  test('a hanging endpoint is bounded by the timeout: 503', async () => {
    flaky.mode = 'hang';
    try {
      const started = Date.now();
      const r = await send(gw.port, '/flaky/h', bearer('hang-token'));
      assertProblem(r, 503, 'auth_provider_unavailable');
      assert.ok(Date.now() - started < 10_000, 'bounded (timeout 300 ms; generous bound)');
      assert.ok(await metric(registry, 'turnpike_introspection_calls_total', { policy: 'flaky', result: 'timeout' }) >= 1);
    } finally { flaky.mode = 'ok'; }
  });

  test('https endpoint with a configured ca', async () => {
    assert.equal(upstreamHeaders(await send(gw.port, '/tls/x', bearer('alice')))['x-consumer-id'], 'u-alice');
    assert.equal(idpTls.callsFor('alice'), 1);
  });
});
