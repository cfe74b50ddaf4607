import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import {
  b64url, epoch, hmacToken, JwksServer, signToken, testKey, unsignedToken, type TestKey,
} from '../../src/policies/jwt/test-support.js';
import { Registry } from 'prom-client';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { configFromYaml, nodeRequest, startGateway, startUpstream, type TestGateway, type TestUpstream } from './helpers.js';

const ISS = 'https://id.example.com/';
const SECRET = 'an-e2e-hmac-secret-of-more-than-32-bytes';

interface Reply { status: number; headers: IncomingHttpHeaders; body: string; json: Record<string, unknown> | null }

async function get(gw: TestGateway, path: string, headers: Record<string, string> = {}): Promise<Reply> {
  const r = await nodeRequest(gw.port, path, headers);
  const json = /json/.test(String(r.headers['content-type'])) ? JSON.parse(r.body) as Record<string, unknown> : null;
  return { ...r, json };
}

function bearer(token: string): Record<string, string> {
  return { authorization: 'Bearer ' + token };
}

/** What the echo upstream received (its JSON echo). */
function upstreamHeaders(r: Reply): Record<string, string> {
  assert.equal(r.status, 200, r.body);
  return (r.json as { headers: Record<string, string> }).headers;
}

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISS, aud: 'orders-api', sub: 'alice', exp: epoch(300), groups: ['admins', 'ops'], tenant: 't-1', ...extra };
}

/** The attack table of the report: case, status, code, reason. */
const table: string[][] = [];

function record(name: string, r: Reply): Reply {
  table.push([name, String(r.status), String(r.json?.code ?? '-'), String(r.json?.reason ?? '-')]);
  return r;
}

function assertRefused(r: Reply, status: number, code: string, reason?: string): void {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(r.json?.code, code, r.body);
  if (reason !== undefined) {
    assert.equal(r.json?.reason, reason, r.body);
    assert.equal(r.headers['www-authenticate'], `Bearer realm="turnpike", error="invalid_token", error_description="${reason}"`);
  }
  assert.doesNotMatch(r.body, /ERR_|jose|at \w+ \(/, 'no library message or stack');
}

/** A hand-made token with header `h` and a junk signature (never reaches a signature check). */
function junkToken(h: Record<string, unknown>): string {
  return b64url(h) + '.' + b64url(claims()) + '.' + randomBytes(32).toString('base64url');
}

function yamlFor(upstream: string, policies: string, routes: string): string {
  return `server: { workers: 1, logLevel: error }
upstreams:
  up: { targets: [ { url: "${upstream}" } ] }
policies:
${policies}
routes:
${routes}`;
}

function jwks(url: string, extra = ''): string {
  return `{ url: "${url}", cacheTtl: 10m, cooldown: 30s, timeout: 1s, maxStale: 1h${extra} }`;
}

describe('jwt policy end to end (real gateway, JWKS server and upstream)', () => {
  let up: TestUpstream;
  let rsa: TestKey; let ec: TestKey; let rsa2: TestKey; let attacker: TestKey;
  let idp: JwksServer; let evil: JwksServer;
  let gw: TestGateway;
  const registry = new Registry();

  before(async () => {
    process.env.TP_JWT_E2E_SECRET = SECRET;
    [rsa, ec, rsa2, attacker] = await Promise.all([testKey('RS256', 'k-rsa'), testKey('ES256', 'k-ec'), testKey('RS256', 'k-rsa-2'), testKey('RS256', 'k-rsa')]);
    up = await startUpstream('up');
    idp = await JwksServer.start([rsa.jwk, ec.jwk]);
    evil = await JwksServer.start([attacker.jwk]);
    const common = `issuer: ${ISS}
      audiences: [ orders-api ]
      algorithms: [ RS256, ES256 ]
      jwks: ${jwks(idp.url)}`;
    const worker = await startWorker(configFromYaml(yamlFor(up.url, `  jwt-main:
    jwt:
      ${common}
      from: [ "header:authorization:Bearer", "query:access_token", "cookie:session" ]
      clockSkew: 60s
      requireExp: true
      consumerClaim: sub
      groupsClaim: groups
      claimsToHeaders: { x-user-id: sub, x-tenant: tenant }
  jwt-hide:
    jwt:
      ${common}
      from: [ "header:authorization:Bearer", "query:access_token", "cookie:session" ]
      hideCredentials: true
  jwt-open:
    jwt:
      ${common}
      allowMissing: true
      claimsToHeaders: { x-tenant: tenant }
  jwt-mixed:
    jwt:
      algorithms: [ RS256, HS256 ]
      jwks: ${jwks(idp.url)}
      keys: [ { secret: "env:TP_JWT_E2E_SECRET", alg: HS256 } ]
  per-consumer: { rate-limit: { key: consumer, limit: 2, window: 1m } }`, `  - { name: api, match: { path: /api/* }, upstream: up, policies: [ jwt-main ] }
  - { name: hidden, match: { path: /hidden/* }, upstream: up, policies: [ jwt-hide ] }
  - { name: open, match: { path: /open/* }, upstream: up, policies: [ jwt-open ] }
  - { name: mixed, match: { path: /mixed/* }, upstream: up, policies: [ jwt-mixed ] }
  - { name: limited, match: { path: /limited/* }, upstream: up, policies: [ jwt-main, per-consumer ] }
`)), { metricsRegistry: registry });
    gw = { worker, port: worker.port, base: `http://127.0.0.1:${worker.port}`, close: async () => { await worker.drain(1000); } };
  });

  after(async () => {
    await gw?.close();
    await Promise.all([up?.close(), idp?.close(), evil?.close()]);
    delete process.env.TP_JWT_E2E_SECRET;
  });

  test('valid RS256 and ES256 tokens reach the upstream with the consumer and claim headers', async () => {
    for (const key of [rsa, ec]) {
      const r = record(`valid ${key.alg}`, await get(gw, '/api/orders', { ...bearer(await signToken(key, claims())), 'x-tenant': 'spoofed', 'x-consumer-id': 'mallory' }));
      const h = upstreamHeaders(r);
      assert.equal(h['x-user-id'], 'alice');
      assert.equal(h['x-tenant'], 't-1', 'the client-sent x-tenant was replaced');
      assert.equal(h['x-consumer-id'], 'alice');
      assert.equal(h['x-consumer-groups'], 'admins,ops');
      assert.equal(h.authorization?.startsWith('Bearer '), true, 'the token goes upstream unless hideCredentials');
    }
    assert.equal(idp.fetches, 1, 'one JWKS fetch at worker start');
  });

  test('forged tokens: alg none, HS256 with the RSA public key, embedded jwk, jku', async () => {
    assertRefused(record('alg none', await get(gw, '/api/x', bearer(unsignedToken(claims(), { kid: 'k-rsa' })))), 401, 'invalid_token', 'bad_algorithm');
    // HS256 is not accepted on /api; on /mixed it is, with its own secret only.
    assertRefused(record('HS256 signed with RSA public PEM (RS256-only policy)', await get(gw, '/api/x', bearer(hmacToken(rsa.pem, claims(), { kid: 'k-rsa' })))), 401, 'invalid_token', 'bad_algorithm');
    assertRefused(record('HS256 signed with RSA public PEM (policy allowing HS256 + RS256)', await get(gw, '/mixed/x', bearer(hmacToken(rsa.pem, claims())))), 401, 'invalid_token', 'bad_signature');
    assert.equal(upstreamHeaders(await get(gw, '/mixed/x', bearer(hmacToken(SECRET, claims()))))['x-consumer-id'], 'alice');
    const embedded = await signToken(attacker, claims(), { jwk: attacker.jwk });
    assertRefused(record('embedded jwk header (attacker key, our kid)', await get(gw, '/api/x', bearer(embedded))), 401, 'invalid_token', 'bad_signature');
    const jku = await signToken(attacker, claims(), { kid: 'evil-kid', jku: evil.url, x5u: evil.url });
    const fetchesBefore = idp.fetches;
    assertRefused(record('jku/x5u pointing at an attacker JWKS', await get(gw, '/api/x', bearer(jku))), 401, 'invalid_token', 'unknown_key');
    assert.equal(evil.fetches, 0, 'the jku server never heard from the gateway');
    assert.equal(idp.fetches, fetchesBefore + 1, 'the unknown kid caused one refetch from the configured JWKS');
  });

  test('hostile kids and tokens: 401 or 431, never 5xx', async () => {
    assertRefused(record('kid ../../dev/null', await get(gw, '/api/x', bearer(await signToken(rsa, claims(), { kid: '../../dev/null' })))), 401, 'invalid_token', 'unknown_key');
    assertRefused(record('kid of 10 KB', await get(gw, '/api/x', bearer(await signToken(rsa, claims(), { kid: 'k'.repeat(10_000) })))), 401, 'invalid_token', 'unknown_key');
    const huge = await get(gw, '/api/x', bearer('a'.repeat(100 * 1024)));
    record('100 KB token in the header', huge);
    assert.ok(huge.status === 401 || huge.status === 431, huge.body);
    assertRefused(record('12 KB garbage token', await get(gw, '/api/x', bearer('e'.repeat(12 * 1024)))), 401, 'invalid_token', 'malformed');
    for (const [name, t] of [['garbage', 'garbage'], ['five segments', 'a.b.c.d.e'], ['header not JSON', b64url(Buffer.from('{{{')) + '.e30.x'],
      ['binary junk', randomBytes(300).toString('base64url') + '.' + randomBytes(30).toString('base64url') + '.x']] as const) {
      assertRefused(record(`garbage: ${name}`, await get(gw, '/api/x', bearer(t))), 401, 'invalid_token', 'malformed');
    }
    assert.equal(up.seen.filter((s) => s.url === '/api/x').length, 0, 'nothing refused reached the upstream');
  });

  test('time and claims: skew, nbf, exp required, issuer, audience', async () => {
    assert.equal(record('expired 30 s ago (within 60 s skew)', await get(gw, '/api/t', bearer(await signToken(rsa, claims({ exp: epoch(-30) }))))).status, 200);
    assertRefused(record('expired 120 s ago (beyond skew)', await get(gw, '/api/t', bearer(await signToken(rsa, claims({ exp: epoch(-120) }))))), 401, 'invalid_token', 'expired');
    assertRefused(record('nbf 10 min ahead', await get(gw, '/api/t', bearer(await signToken(rsa, claims({ nbf: epoch(600) }))))), 401, 'invalid_token', 'not_yet_valid');
    assertRefused(record('no exp (requireExp)', await get(gw, '/api/t', bearer(await signToken(rsa, claims({ exp: undefined }))))), 401, 'invalid_token', 'missing_exp');
    assertRefused(record('wrong iss', await get(gw, '/api/t', bearer(await signToken(rsa, claims({ iss: 'https://evil.example.com/' }))))), 401, 'invalid_token', 'bad_issuer');
    assertRefused(record('wrong aud', await get(gw, '/api/t', bearer(await signToken(rsa, claims({ aud: 'billing-api' }))))), 401, 'invalid_token', 'bad_audience');
  });

  test('missing and duplicate credentials; query and cookie sources', async () => {
    const missing = record('no token', await get(gw, '/api/m'));
    assertRefused(missing, 401, 'unauthorized');
    assert.equal(missing.headers['www-authenticate'], 'Bearer realm="turnpike"');
    const t = await signToken(rsa, claims());
    const other = await signToken(ec, claims({ sub: 'bob' }));
    const two = await nodeRequest(gw.port, '/api/m', { authorization: ['Bearer ' + t, 'Bearer ' + other] as unknown as string });
    const twoReply = { ...two, json: JSON.parse(two.body) as Record<string, unknown> };
    assertRefused(record('two Authorization headers', twoReply), 401, 'duplicate_credentials');
    assertRefused(record('header and query tokens that differ', await get(gw, '/api/m?access_token=' + other, bearer(t))), 401, 'duplicate_credentials');
    assert.equal((await get(gw, '/api/m?access_token=' + t, bearer(t))).status, 200, 'the same token twice is one credential');
    assert.equal(upstreamHeaders(await get(gw, '/api/m?access_token=' + other))['x-consumer-id'], 'bob');
    assert.equal(upstreamHeaders(await get(gw, '/api/m', { cookie: 'theme=dark; session=' + other }))['x-consumer-id'], 'bob');
  });

  test('hideCredentials removes the token from header, query and cookie', async () => {
    const t = await signToken(rsa, claims());
    const r = await get(gw, '/hidden/h?a=1&access_token=' + t, { ...bearer(t), cookie: 'theme=dark; session=' + t });
    const h = upstreamHeaders(r);
    assert.equal(h.authorization, undefined);
    assert.equal(h.cookie, 'theme=dark');
    assert.equal((r.json as { url: string }).url, '/hidden/h?a=1');
    assert.equal(h['x-consumer-id'], 'alice');
  });

  test('allowMissing lets a request without a token through without a consumer, spoofed headers removed', async () => {
    const h = upstreamHeaders(record('allowMissing, no token, spoofed x-tenant/x-consumer-id', await get(gw, '/open/o', { 'x-tenant': 'spoofed', 'x-consumer-id': 'mallory' })));
    assert.equal(h['x-tenant'], undefined);
    assert.equal(h['x-consumer-id'], undefined);
    assertRefused(record('allowMissing, invalid token', await get(gw, '/open/o', bearer('garbage'))), 401, 'invalid_token', 'malformed');
    assert.equal(upstreamHeaders(await get(gw, '/open/o', bearer(await signToken(rsa, claims()))))['x-tenant'], 't-1');
  });

  test('rate-limit key: consumer counts per JWT consumer', async () => {
    const alice = await signToken(rsa, claims({ sub: 'rl-alice' }));
    const bob = await signToken(ec, claims({ sub: 'rl-bob' }));
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await get(gw, '/limited/l', bearer(alice))).status);
    assert.deepEqual(statuses, [200, 200, 429]);
    // A second token of the same consumer shares the count; another consumer has its own.
    assert.equal((await get(gw, '/limited/l', bearer(await signToken(ec, claims({ sub: 'rl-alice' }))))).status, 429);
    assert.equal((await get(gw, '/limited/l', bearer(bob))).status, 200);
  });

  test('metrics: verifications by outcome and reason, JWKS fetches by result', async () => {
    const text = await registry.metrics();
    assert.match(text, /turnpike_jwt_verifications_total\{policy="jwt-main",outcome="refused",reason="bad_algorithm"\} 2/);
    assert.match(text, /turnpike_jwt_verifications_total\{policy="jwt-main",outcome="verified",reason=""\} \d+/);
    assert.match(text, /turnpike_jwt_verifications_total\{policy="jwt-main",outcome="cached",reason=""\} \d+/);
    assert.match(text, /turnpike_jwt_verifications_total\{policy="jwt-main",outcome="duplicate",reason=""\} 2/);
    assert.match(text, new RegExp(`turnpike_jwt_jwks_fetches_total\\{jwks="${idp.url.replace(/[.]/g, '\\.')}",result="ok"\\} \\d+`));
  });

  test('rotation, random-kid flood, and key removal', async () => {
    const server = await JwksServer.start([rsa.jwk]);
    const rot = await startGateway(yamlFor(up.url, `  j: { jwt: { algorithms: [ RS256 ], jwks: { url: "${server.url}", cooldown: 1s, timeout: 1s } } }`,
      '  - { name: r, match: { path: /r/* }, upstream: up, policies: [ j ] }\n'));
    try {
      const old = await signToken(rsa, claims());
      assert.equal((await get(rot, '/r/1', bearer(old))).status, 200);
      assert.equal(server.fetches, 1);
      server.keys = [rsa.jwk, rsa2.jwk];
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal(record('rotation: new kid after one refetch', await get(rot, '/r/2', bearer(await signToken(rsa2, claims())))).status, 200);
      assert.equal(server.fetches, 2, 'the new kid was found after exactly one fetch');
      assert.equal((await get(rot, '/r/2', bearer(await signToken(rsa2, claims({ sub: 'other' }))))).status, 200);
      assert.equal(server.fetches, 2);
      // The IdP drops the old key: once the gateway refetches, its cached tokens stop working.
      server.keys = [rsa2.jwk];
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await get(rot, '/r/3', bearer(junkToken({ alg: 'RS256', kid: 'trigger-refetch' })))).status, 401);
      assert.equal(server.fetches, 3);
      assertRefused(record('cached token whose key was removed from the JWKS', await get(rot, '/r/4', bearer(old))), 401, 'invalid_token', 'unknown_key');
    } finally {
      await rot.close();
      await server.close();
    }
  });

  test('1,000 random kids in a few seconds cause at most a couple of JWKS fetches', async () => {
    const server = await JwksServer.start([rsa.jwk]);
    const flood = await startGateway(yamlFor(up.url, `  j: { jwt: { algorithms: [ RS256, ES256 ], jwks: ${jwks(server.url)} } }`,
      '  - { name: f, match: { path: /f/* }, upstream: up, policies: [ j ] }\n'));
    try {
      const before = server.fetches;
      const t0 = performance.now();
      const statuses = new Map<number, number>();
      for (let batch = 0; batch < 20; batch++) {
        const replies = await Promise.all(Array.from({ length: 50 }, () => fetch(`${flood.base}/f/x`, {
          headers: bearer(junkToken({ alg: batch % 2 === 0 ? 'RS256' : 'ES256', kid: randomBytes(12).toString('hex') })),
        }).then(async (r) => { await r.arrayBuffer(); return r.status; })));
        for (const s of replies) statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
      const seconds = (performance.now() - t0) / 1000;
      const fetched = server.fetches - before;
      table.push([`1,000 random kids in ${seconds.toFixed(1)} s: JWKS fetches caused = ${fetched}`, [...statuses].map(([s, n]) => `${s}×${n}`).join(' '), 'invalid_token', 'unknown_key']);
      assert.deepEqual([...statuses.keys()], [401]);
      assert.ok(fetched >= 1 && fetched <= 2, `fetches: ${fetched}`);
      assert.equal((await get(flood, '/f/ok', bearer(await signToken(rsa, claims())))).status, 200, 'the known key still works');
    } finally {
      await flood.close();
      await server.close();
    }
  });
});

describe('jwt policy when the JWKS endpoint fails', () => {
  let up: TestUpstream;
  let key: TestKey;

  before(async () => {
    up = await startUpstream('up');
    key = await testKey('ES256', 'k-ec');
  });
  after(() => up?.close());

  async function gatewayFor(server: JwksServer, jwksExtra: string): Promise<TestGateway> {
    return startGateway(yamlFor(up.url, `  j: { jwt: { algorithms: [ ES256 ], jwks: { url: "${server.url}"${jwksExtra} } } }`,
      '  - { name: g, match: { path: /g/* }, upstream: up, policies: [ j ] }\n'));
  }

  async function until(what: string, ok: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(ok(), what);
  }

  test('warm cache: the last good set keeps working while the endpoint fails (up to maxStale)', async () => {
    const server = await JwksServer.start([key.jwk]);
    const gw = await gatewayFor(server, ', cacheTtl: 300ms, maxStale: 1h');
    try {
      const cached = await signToken(key, claims());
      assert.equal((await get(gw, '/g/1', bearer(cached))).status, 200);
      server.mode = 'fail';
      const failedFrom = server.fetches;
      await until('a scheduled refresh failed', () => server.fetches > failedFrom);
      assert.equal(record('JWKS down, warm cache: cached token', await get(gw, '/g/2', bearer(cached))).status, 200);
      assert.equal(record('JWKS down, warm cache: new token, known kid', await get(gw, '/g/3', bearer(await signToken(key, claims({ sub: 'new' }))))).status, 200);
    } finally {
      await gw.close();
      await server.close();
    }
  });

  test('past maxStale the set is unusable: 503, cached tokens included', async () => {
    const server = await JwksServer.start([key.jwk]);
    const gw = await gatewayFor(server, ', cacheTtl: 200ms, maxStale: 300ms');
    try {
      const cached = await signToken(key, claims());
      assert.equal((await get(gw, '/g/1', bearer(cached))).status, 200);
      server.mode = 'fail';
      await new Promise((r) => setTimeout(r, 700));
      assertRefused(record('JWKS down past maxStale: cached token', await get(gw, '/g/stale-1', bearer(cached))), 503, 'auth_provider_unavailable');
      assertRefused(await get(gw, '/g/stale-2', bearer(await signToken(key, claims({ sub: 'new' })))), 503, 'auth_provider_unavailable');
      assert.equal(up.seen.filter((s) => s.url.startsWith('/g/stale')).length, 0);
    } finally {
      await gw.close();
      await server.close();
    }
  });

  test('cold cache with the endpoint down: 503, never through; recovers once the endpoint answers', async () => {
    const server = await JwksServer.start([key.jwk]);
    server.mode = 'fail';
    const gw = await gatewayFor(server, ', cooldown: 1s');
    try {
      const t = await signToken(key, claims());
      assertRefused(record('JWKS down, cold cache', await get(gw, '/g/cold', bearer(t))), 503, 'auth_provider_unavailable');
      const fetches = server.fetches;
      assertRefused(await get(gw, '/g/cold', bearer(t)), 503, 'auth_provider_unavailable');
      assert.equal(server.fetches, fetches, 'within the cooldown no new fetch');
      assert.equal(up.seen.filter((s) => s.url === '/g/cold').length, 0);
      server.mode = 'ok';
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await get(gw, '/g/cold', bearer(t))).status, 200);
    } finally {
      await gw.close();
      await server.close();
    }
  });

  test('a hanging endpoint is bounded by timeout: 503 within about the timeout', async () => {
    const server = await JwksServer.start([key.jwk]);
    server.mode = 'hang';
    const gw = await gatewayFor(server, ', timeout: 500ms');
    try {
      const t = await signToken(key, claims());
      const t0 = performance.now();
      const r = record('JWKS hanging (timeout 500ms), cold cache', await get(gw, '/g/hang', bearer(t)));
      const ms = performance.now() - t0;
      assertRefused(r, 503, 'auth_provider_unavailable');
      assert.ok(ms < 3000, `answered after ${ms} ms`);
      table.push([`  (answered after ${Math.round(ms)} ms)`, '', '', '']);
    } finally {
      await gw.close();
      await server.close();
    }
  });

  after(() => {
    console.log('\n| case | status | code | reason |\n|---|---|---|---|\n' + table.map((r) => '| ' + r.join(' | ') + ' |').join('\n'));
  });
});
