import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { b64url, epoch, hmacToken, JwksServer, signToken, testKey, unsignedToken, type TestKey } from '../../src/policies/jwt/test-support.js';
import { configFromYaml, nodeRequest, startUpstream, type TestGateway, type TestUpstream } from './helpers.js';
import {
  assertRefused, bearer, claims, get, ISS, jwks, printTable, record, SECRET, upstreamHeaders, yamlFor,
} from './jwt-helpers.js';

describe('jwt policy end to end (real gateway, JWKS server and upstream)', () => {
  let up: TestUpstream;
  let rsa: TestKey; let ec: TestKey; let attacker: TestKey;
  let idp: JwksServer; let evil: JwksServer;
  let gw: TestGateway;
  const registry = new Registry();

  before(async () => {
    process.env.TP_JWT_E2E_SECRET = SECRET;
    [rsa, ec, attacker] = await Promise.all([testKey('RS256', 'k-rsa'), testKey('ES256', 'k-ec'), testKey('RS256', 'k-rsa')]);
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
    printTable();
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
    const hugeQuery = record('100 KB token in the query', await get(gw, '/api/x?access_token=' + 'a'.repeat(100 * 1024)));
    assert.ok(hugeQuery.status === 401 || hugeQuery.status === 431, hugeQuery.body);
    const longValid = record('20 KB well-formed token in the query (over maxTokenLength 16kb)',
      await get(gw, '/api/x?access_token=' + await signToken(rsa, claims({ pad: 'p'.repeat(15_000) }))));
    assertRefused(longValid, 401, 'invalid_token', 'malformed');
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
});
