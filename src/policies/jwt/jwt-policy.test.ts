import { WorkerCommands } from '../../process/worker-commands.js';
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { GatewayError } from '../../errors/gateway-error.js';
import { RequestContext } from '../../ingress/request-context.js';
import { createLogger } from '../../observability/logger.js';
import type { PolicyInstance, PolicySpec, Verdict } from '../types.js';
import { jwtFactory, type JwtConfig } from './index.js';
import type { JwtPolicy } from './jwt-policy.js';
import { epoch, hmacToken, rawRs256Token, signToken, testKey, unsignedToken, b64url, type TestKey } from './test-support.js';

const SECRET = 'a-test-secret-of-at-least-32-bytes!!';

function context(headers: Array<[string, string]> = [], query = ''): RequestContext {
  const ctx = new RequestContext(null as never);
  for (const [n, v] of headers) { ctx.headerNames.push(n); ctx.headerValues.push(v); }
  ctx.query = query;
  return ctx;
}

function policy(config: Partial<JwtConfig>, now = Date.now): { inst: PolicyInstance; registry: Registry } {
  const registry = new Registry();
  const spec: PolicySpec = { name: 'p', kind: 'jwt', config, at: [] };
  const provider = jwtFactory.create([spec], null as never, { workers: 1, logger: createLogger('silent'), registry, now, commands: new WorkerCommands() });
  return { inst: provider.instance(spec), registry };
}

async function run(inst: PolicyInstance, ctx: RequestContext): Promise<Verdict> {
  return inst.access!(ctx);
}

function reasonOf(v: Verdict): string {
  assert.ok(v instanceof GatewayError, `expected a refusal, got ${String(v)}`);
  const m = /"reason":"([a-z_]+)"/.exec(v.extraMembers);
  return v.code + (m === null ? '' : ':' + m[1]);
}

function bearer(token: string): Array<[string, string]> {
  return [['authorization', 'Bearer ' + token]];
}

describe('jwt policy (configured keys)', () => {
  let rsa: TestKey;
  let ec: TestKey;
  let base: Partial<JwtConfig>;

  before(async () => {
    rsa = await testKey('RS256', 'rsa-1');
    ec = await testKey('ES256', 'ec-1');
    base = {
      issuer: 'https://id.example.com/', audiences: ['orders-api'], algorithms: ['RS256', 'ES256', 'HS256'],
      keys: [{ jwk: rsa.jwk as Record<string, unknown> }, { pem: ec.pem, kid: 'ec-1' }, { secret: SECRET, alg: 'HS256', kid: 'hs' }],
      groupsClaim: 'groups', usernameClaim: 'name', claimsToHeaders: { 'x-user-id': 'sub', 'x-tenant': 'tenant', 'x-bad': 'evil' },
    };
  });

  const claims = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    iss: 'https://id.example.com/', aud: 'orders-api', sub: 'user-1', exp: epoch(300), tenant: 't1', ...extra,
  });

  test('RS256 and ES256 tokens set the consumer and the claim headers; spoofed claim headers are removed', async () => {
    const { inst } = policy(base);
    for (const key of [rsa, ec]) {
      const ctx = context([...bearer(await signToken(key, claims({ groups: 'a b,c', name: 'Zoë' }))), ['x-tenant', 'spoofed'], ['x-bad', 'x']]);
      assert.equal(await run(inst, ctx), undefined);
      assert.equal(ctx.consumer?.id, 'user-1');
      assert.equal(ctx.consumer?.username, 'Zo%C3%AB');
      assert.deepEqual(ctx.consumer?.groups, ['a', 'b', 'c']);
      assert.deepEqual(ctx.consumer?.credential, { kind: 'jwt', id: key.kid });
      assert.equal(ctx.consumer?.claims?.tenant, 't1');
      assert.deepEqual(ctx.headerNames.filter((n) => n.startsWith('x-')), ['x-user-id', 'x-tenant']);
      assert.equal(ctx.header('x-tenant'), 't1');
    }
  });

  test('a cached token is served without verification, and still expires', async () => {
    let now = Date.now();
    const { inst } = policy({ ...base, clockSkew: '10s' }, () => now);
    const token = await signToken(rsa, claims({ exp: Math.floor(now / 1000) + 30 }));
    assert.equal(await run(inst, context(bearer(token))), undefined);
    const hit = context(bearer(token));
    const v = inst.access!(hit);
    assert.equal(v, undefined, 'a hit answers synchronously');
    assert.equal(hit.consumer?.id, 'user-1');
    assert.equal((inst as JwtPolicy).cache.size, 1);
    now += 35_000; // past exp, within skew
    assert.equal(inst.access!(context(bearer(token))), undefined);
    now += 10_000; // past exp + skew
    assert.equal(reasonOf(inst.access!(context(bearer(token))) as Verdict), 'invalid_token:expired');
    assert.equal((inst as JwtPolicy).cache.size, 0);
  });

  test('refusal reasons', async () => {
    const { inst } = policy(base);
    const cases: Array<[string, string | Promise<string>]> = [
      ['invalid_token:bad_algorithm', unsignedToken(claims())],
      ['invalid_token:bad_algorithm', unsignedToken(claims(), { alg: 'NONE' })],
      ['invalid_token:bad_signature', hmacToken(rsa.pem, claims(), { kid: 'hs' })],
      ['invalid_token:unknown_key', hmacToken(rsa.pem, claims(), { kid: 'rsa-1' })],
      ['invalid_token:bad_signature', signToken(rsa, claims(), { kid: 'rsa-1' }).then((t) => t.slice(0, -4) + 'AAAA')],
      ['invalid_token:unknown_key', signToken(rsa, claims(), { kid: '../../dev/null' })],
      ['invalid_token:unknown_key', signToken(rsa, claims(), { kid: 'k'.repeat(10_000) })],
      ['invalid_token:expired', signToken(rsa, claims({ exp: epoch(-120) }))],
      ['invalid_token:not_yet_valid', signToken(rsa, claims({ nbf: epoch(600) }))],
      ['invalid_token:missing_exp', signToken(rsa, claims({ exp: undefined }))],
      ['invalid_token:bad_issuer', signToken(rsa, claims({ iss: 'https://evil.example.com/' }))],
      ['invalid_token:bad_issuer', signToken(rsa, claims({ iss: undefined }))],
      ['invalid_token:bad_audience', signToken(rsa, claims({ aud: 'other-api' }))],
      ['invalid_token:missing_claim', signToken(rsa, claims({ sub: undefined }))],
      ['invalid_token:malformed', signToken(rsa, claims({ sub: 'a\r\nb' }))],
      ['invalid_token:malformed', signToken(rsa, claims({ exp: 'tomorrow' }))],
      ['invalid_token:malformed', 'garbage'],
      ['invalid_token:malformed', 'a.b.c.d.e'],
      ['invalid_token:malformed', b64url('not json') + '.' + b64url(claims()) + '.sig'],
      ['invalid_token:malformed', b64url({ alg: 'RS256', kid: 7 }) + '.' + b64url(claims()) + '.sig'],
      ['invalid_token:malformed', 'x'.repeat(100_000)],
      ['invalid_token:malformed', rawRs256Token(rsa, { crit: ['exp'], exp: 1 }, claims())],
      ['invalid_token:malformed', rawRs256Token(rsa, { b64: false, crit: ['b64'] }, claims())],
    ];
    for (const [want, token] of cases) {
      const t = await token;
      assert.equal(reasonOf(await run(inst, context(bearer(t)))), want, t.slice(0, 120));
    }
  });

  test('an embedded jwk header is never trusted', async () => {
    const { inst } = policy(base);
    const attacker = await testKey('RS256', 'rsa-1');
    const t1 = await signToken(attacker, claims(), { jwk: attacker.jwk });
    assert.equal(reasonOf(await run(inst, context(bearer(t1)))), 'invalid_token:bad_signature');
    const t2 = await signToken(attacker, claims(), { kid: undefined, jwk: attacker.jwk, jku: 'http://127.0.0.1:1/jwks' });
    assert.equal(reasonOf(await run(inst, context(bearer(t2)))), 'invalid_token:bad_signature');
  });

  test('HS256 with the configured secret works, and only for its alg', async () => {
    const { inst } = policy(base);
    const ok = hmacToken(SECRET, claims(), { kid: 'hs' });
    assert.equal(await run(inst, context(bearer(ok))), undefined);
    const noKid = hmacToken(SECRET, claims());
    assert.equal(await run(inst, context(bearer(noKid))), undefined);
    // A listed HS384 has no HS384 secret here: the HS256 secret is never tried for it.
    const other = policy({ ...base, algorithms: ['RS256', 'HS256', 'HS384'] }).inst;
    assert.equal(reasonOf(await run(other, context(bearer(hmacToken(SECRET, claims(), { alg: 'HS384' }))))), 'invalid_token:unknown_key');
    // PS256 with the RSA key, EdDSA with an Ed25519 key: each only with its own key type.
    const ps = await testKey('PS256', 'rsa-1');
    const ed = await testKey('EdDSA', 'ed-1');
    const multi = policy({ algorithms: ['PS256', 'EdDSA', 'ES256'], keys: [{ jwk: { ...ps.jwk, alg: undefined } as Record<string, unknown> }, { jwk: ed.jwk as Record<string, unknown> }] }).inst;
    assert.equal(await run(multi, context(bearer(await signToken(ps, claims())))), undefined);
    assert.equal(await run(multi, context(bearer(await signToken(ed, claims())))), undefined);
    assert.equal(reasonOf(await run(multi, context(bearer(await signToken(ec, claims(), { kid: 'ed-1' }))))), 'invalid_token:unknown_key');
  });

  test('missing, duplicate, allowMissing, hideCredentials and sources', async () => {
    const { inst } = policy(base);
    const t = await signToken(rsa, claims());
    const missing = await run(inst, context([['authorization', 'Basic dTpw']]));
    assert.equal(reasonOf(missing), 'unauthorized');
    const dupCtx = context([...bearer(t), ...bearer(t)]);
    assert.equal(reasonOf(await run(inst, dupCtx)), 'duplicate_credentials:duplicate_credentials');
    assert.deepEqual(dupCtx.responseHeaders, ['www-authenticate', 'Bearer realm="turnpike", error="invalid_request", error_description="duplicate_credentials"']);

    const open = policy({ ...base, allowMissing: true }).inst;
    const anon = context([['x-tenant', 'spoofed']]);
    assert.equal(await run(open, anon), undefined);
    assert.equal(anon.consumer, null);
    assert.equal(anon.header('x-tenant'), '');
    assert.equal(reasonOf(await run(open, context(bearer('garbage')))), 'invalid_token:malformed');

    const hidden = policy({ ...base, hideCredentials: true, from: ['header:authorization:Bearer', 'query:access_token', 'cookie:session'] }).inst;
    const both = context([...bearer(t), ['cookie', 'a=1; session=' + t]], 'x=1&access_token=' + t);
    assert.equal(await run(hidden, both), undefined);
    assert.equal(both.header('authorization'), '');
    assert.equal(both.header('cookie'), 'a=1');
    assert.equal(both.query, 'x=1');
    const q = context([], 'access_token=' + t);
    assert.equal(await run(hidden, q), undefined);
    assert.equal(q.consumer?.id, 'user-1');
  });

  test('claim values that are not header-safe are not sent', async () => {
    const { inst } = policy(base);
    const ctx = context(bearer(await signToken(rsa, claims({ tenant: 'a\nb', evil: { x: 1 } }))));
    assert.equal(await run(inst, ctx), undefined);
    assert.deepEqual(ctx.headerNames.filter((n) => n.startsWith('x-')), ['x-user-id']);
  });

  test('metrics count outcomes and reasons', async () => {
    const { inst, registry } = policy(base);
    const t = await signToken(rsa, claims());
    await run(inst, context(bearer(t)));
    await run(inst, context(bearer(t)));
    await run(inst, context(bearer('garbage')));
    const text = await registry.metrics();
    assert.match(text, /turnpike_jwt_verifications_total\{policy="p",outcome="verified",reason=""\} 1/);
    assert.match(text, /turnpike_jwt_verifications_total\{policy="p",outcome="cached",reason=""\} 1/);
    assert.match(text, /turnpike_jwt_verifications_total\{policy="p",outcome="refused",reason="malformed"\} 1/);
    assert.match(text, /turnpike_jwt_token_cache_entries\{policy="p"\} 1/);
  });
});
