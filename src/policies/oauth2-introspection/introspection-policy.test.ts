import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../../errors/gateway-error.js';
import { RequestContext } from '../../ingress/request-context.js';
import { CallSlots } from './call-slots.js';
import { IntrospectionClient } from './introspection-client.js';
import { IntrospectionPolicy, wellFormedToken } from './introspection-policy.js';
import { IntrospectionCounters } from './metrics.js';
import type { IntrospectionConfig } from './schema.js';
import { resolveSettings } from './settings.js';
import { startIntrospectionServer, type IntrospectionServer } from './testing/introspection-server.js';

const T0 = 1_700_000_000_000;

/** A policy on a fake clock against the real test endpoint. */
class Rig {
  now = T0;
  readonly policy: IntrospectionPolicy;
  readonly client: IntrospectionClient;
  readonly slots: CallSlots;
  readonly counters = new IntrospectionCounters('p', () => 0);
  readonly failures: string[] = [];

  constructor(idp: IntrospectionServer, extra: Partial<IntrospectionConfig> = {}) {
    const s = resolveSettings({ url: idp.url, clientId: 'gw', clientSecret: 'pw', timeout: 500, ...extra });
    this.client = new IntrospectionClient(s);
    this.slots = new CallSlots(s.maxInFlight, s.maxQueued, s.timeoutMs, () => this.now);
    this.policy = new IntrospectionPolicy('p', s, {
      client: this.client, slots: this.slots, counters: this.counters, now: () => this.now,
      onFailure: (_p, f) => { this.failures.push(f); },
    });
  }

  /** Runs the access phase for a request with these headers; the verdict and the context. */
  async run(headers: Array<[string, string]>): Promise<{ verdict: GatewayError | undefined; ctx: RequestContext; sync: boolean }> {
    const ctx = new RequestContext(null as never);
    for (const [n, v] of headers) { ctx.headerNames.push(n); ctx.headerValues.push(v); }
    const r = this.policy.access(ctx);
    const sync = !(r instanceof Promise);
    return { verdict: (await r) as GatewayError | undefined, ctx, sync };
  }

  bearer(token: string): ReturnType<Rig['run']> {
    return this.run([['authorization', 'Bearer ' + token]]);
  }

  close(): Promise<void> { return this.client.close(); }
}

function challengeOf(ctx: RequestContext): string {
  const h = ctx.responseHeaders ?? [];
  return h[h.indexOf('www-authenticate') + 1] ?? '';
}

describe('IntrospectionPolicy (fake clock, real endpoint)', () => {
  let idp: IntrospectionServer;
  let rig: Rig;

  before(async () => {
    idp = await startIntrospectionServer({ clientId: 'gw', clientSecret: 'pw' });
  });
  after(() => idp.close());
  beforeEach(async () => {
    if (rig !== undefined) await rig.close();
    idp.mode = 'ok';
    idp.hold()(); // answers nothing is held any more (after a failed test)
    idp.tokens.clear();
    idp.calls.length = 0;
    rig = new Rig(idp, { requiredScopes: [], cacheTtl: '30s', negativeCacheTtl: '5s' });
  });

  test('active: the consumer is set; the next request is decided from the cache, synchronously, without a call', async () => {
    idp.tokens.set('t1', { active: true, sub: 'u-1', username: 'ann', client_id: 'app' });
    const first = await rig.bearer('t1');
    assert.equal(first.verdict, undefined);
    assert.equal(first.sync, false);
    assert.equal(first.ctx.consumer?.id, 'u-1');
    assert.equal(first.ctx.consumer?.credential.kind, 'oauth2');
    const second = await rig.bearer('t1');
    assert.equal(second.sync, true);
    assert.equal(second.ctx.consumer?.username, 'ann');
    assert.equal(idp.callsFor('t1'), 1);
    assert.deepEqual(rig.counters.lookups, [1, 0, 0, 1]);
    assert.deepEqual(rig.counters.calls, [1, 0, 0, 0, 0, 0]);
  });

  test('active results are reused until cacheTtl, and never past the token\'s exp', async () => {
    idp.tokens.set('long', { active: true, sub: 'a', exp: T0 / 1000 + 3600 });
    idp.tokens.set('short', { active: true, sub: 'b', exp: T0 / 1000 + 10 });
    await rig.bearer('long');
    await rig.bearer('short');
    rig.now = T0 + 9_000;
    assert.equal((await rig.bearer('short')).sync, true);
    rig.now = T0 + 10_000; // exp reached: asked again (the endpoint now says inactive)
    idp.tokens.set('short', { active: false });
    const again = await rig.bearer('short');
    assert.equal(again.verdict?.code, 'invalid_token');
    assert.equal(idp.callsFor('short'), 2);
    assert.equal((await rig.bearer('long')).sync, true);
    rig.now = T0 + 30_000; // cacheTtl reached
    assert.equal((await rig.bearer('long')).sync, false);
    assert.equal(idp.callsFor('long'), 2);
  });

  test('inactive: 401 invalid_token, cached negativeCacheTtl', async () => {
    const r = await rig.bearer('nope');
    assert.equal(r.verdict?.status, 401);
    assert.equal(r.verdict?.code, 'invalid_token');
    assert.equal(challengeOf(r.ctx), 'Bearer realm="turnpike", error="invalid_token", error_description="inactive"');
    assert.equal(r.verdict?.extraMembers, ',"reason":"inactive"');
    const cached = await rig.bearer('nope');
    assert.equal(cached.sync, true);
    assert.equal(cached.verdict?.code, 'invalid_token');
    assert.equal(idp.callsFor('nope'), 1);
    idp.tokens.set('nope', { active: true, sub: 'now-valid' });
    rig.now = T0 + 5_000;
    assert.equal((await rig.bearer('nope')).verdict, undefined);
    assert.equal(idp.callsFor('nope'), 2);
  });

  test('missing token: 401 unauthorized with a bare challenge; allowMissing lets it through without a consumer', async () => {
    const r = await rig.run([['authorization', 'Basic dTpw']]);
    assert.equal(r.verdict?.code, 'unauthorized');
    assert.equal(challengeOf(r.ctx), 'Bearer realm="turnpike"');
    const open = new Rig(idp, { allowMissing: true });
    try {
      const ok = await open.run([]);
      assert.equal(ok.verdict, undefined);
      assert.equal(ok.ctx.consumer, null);
      assert.equal((await open.bearer('bad')).verdict?.code, 'invalid_token', 'a wrong token is still refused');
    } finally { await open.close(); }
    assert.equal(idp.calls.length, 1);
  });

  test('malformed or overlong tokens are refused without a call', async () => {
    for (const token of ['a\u0001b', 'x'.repeat(8193), 'é']) {
      const r = await rig.run([['authorization', 'Bearer ' + token]]);
      assert.equal(r.sync, true);
      assert.equal(r.verdict?.code, 'invalid_token');
      assert.equal(r.verdict?.extraMembers, ',"reason":"malformed"');
    }
    assert.equal(idp.calls.length, 0);
    assert.equal(wellFormedToken('x'.repeat(8192), 8192), true);
    assert.equal(wellFormedToken('x'.repeat(8193), 8192), false);
  });

  test('two tokens in one request: 401 duplicate_credentials, no call', async () => {
    const r = await rig.run([['authorization', 'Bearer a'], ['authorization', 'Bearer b']]);
    assert.equal(r.verdict?.code, 'duplicate_credentials');
    assert.match(challengeOf(r.ctx), /error="invalid_request"/);
    assert.equal(idp.calls.length, 0);
  });

  test('N concurrent requests with one unknown token make exactly one call', async () => {
    idp.tokens.set('same', { active: true, sub: 'u' });
    const release = idp.hold();
    const runs = Array.from({ length: 50 }, () => rig.bearer('same'));
    await new Promise((r) => setTimeout(r, 50));
    release();
    const results = await Promise.all(runs);
    assert.ok(results.every((r) => r.verdict === undefined && r.ctx.consumer?.id === 'u'));
    assert.equal(idp.callsFor('same'), 1);
    assert.deepEqual(rig.counters.lookups, [0, 0, 49, 1]);
  });

  test('endpoint down: cached tokens keep working until their TTL, others get 503, failures are not cached', async () => {
    idp.tokens.set('known', { active: true, sub: 'k' });
    idp.tokens.set('other', { active: true, sub: 'o' });
    await rig.bearer('known');
    for (const mode of ['error500', 'hang', 'garbage', 'reset'] as const) {
      idp.mode = mode;
      assert.equal((await rig.bearer('known')).verdict, undefined, mode);
      const r = await rig.bearer('other');
      assert.equal(r.verdict?.status, 503, mode);
      assert.equal(r.verdict?.code, 'auth_provider_unavailable');
      assert.equal(r.ctx.consumer, null);
    }
    assert.deepEqual(rig.failures, ['http_status', 'timeout', 'bad_response', 'unreachable']);
    rig.now = T0 + 30_000;
    idp.mode = 'error500';
    assert.equal((await rig.bearer('known')).verdict?.code, 'auth_provider_unavailable', 'past its TTL: 503, never 200');
    idp.mode = 'ok';
    assert.equal((await rig.bearer('other')).verdict, undefined, 'the failure was not cached');
  });

  test('more unknown tokens than maxInFlight + maxQueued: the rest get 503 at once', async () => {
    const small = new Rig(idp, { maxInFlight: 2, maxQueued: 1 });
    try {
      for (const t of ['q1', 'q2', 'q3', 'q4', 'q5']) idp.tokens.set(t, { active: true, sub: t });
      const release = idp.hold();
      const runs = ['q1', 'q2', 'q3', 'q4', 'q5'].map((t) => small.bearer(t));
      const [r4, r5] = await Promise.all(runs.slice(3));
      assert.equal(r4.verdict?.code, 'auth_provider_unavailable');
      assert.equal(r5.verdict?.code, 'auth_provider_unavailable');
      assert.equal(small.counters.overloaded, 2);
      release();
      const first = await Promise.all(runs.slice(0, 2));
      assert.ok(first.every((r) => r.verdict === undefined));
      // The queued one waits for a slot, then its call is held until released again.
      await new Promise((r) => setTimeout(r, 50));
      idp.hold()();
      assert.equal((await runs[2]).verdict, undefined);
      assert.deepEqual(small.slots.load, { running: 0, queued: 0 });
    } finally { await small.close(); }
  });

  test('nbf in the future (beyond clockSkew): 401 not_yet_valid until it is reached', async () => {
    idp.tokens.set('later', { active: true, sub: 'l', nbf: T0 / 1000 + 80 });
    const r = await rig.bearer('later');
    assert.equal(r.verdict?.extraMembers, ',"reason":"not_yet_valid"');
    rig.now = T0 + 19_000; // nbf - now = 61 s > 60 s skew
    assert.equal((await rig.bearer('later')).verdict?.code, 'invalid_token');
    rig.now = T0 + 20_000; // within the skew now (and the result is still cached)
    assert.equal((await rig.bearer('later')).verdict, undefined);
    assert.equal(idp.callsFor('later'), 1);
  });

  test('required scopes: 403 insufficient_scope naming them', async () => {
    const scoped = new Rig(idp, { requiredScopes: ['orders:read', 'orders:write'] });
    try {
      idp.tokens.set('ro', { active: true, sub: 'u', scope: 'orders:read' });
      idp.tokens.set('rw', { active: true, sub: 'u', scope: 'orders:read orders:write' });
      const r = await scoped.bearer('ro');
      assert.equal(r.verdict?.status, 403);
      assert.equal(r.verdict?.code, 'insufficient_scope');
      assert.equal(challengeOf(r.ctx), 'Bearer realm="turnpike", error="insufficient_scope", scope="orders:read orders:write"');
      assert.equal(r.verdict?.extraMembers, ',"requiredScopes":["orders:read","orders:write"]');
      assert.equal(r.ctx.consumer, null);
      assert.equal((await scoped.bearer('rw')).verdict, undefined);
    } finally { await scoped.close(); }
  });

  test('claimsToHeaders replaces client-sent values (also when the claim is absent); hideCredentials drops the token', async () => {
    const h = new Rig(idp, { claimsToHeaders: { 'x-user-email': 'email', 'x-tenant': 'tenant' }, hideCredentials: true, from: ['header:authorization:Bearer', 'query:access_token'] });
    try {
      idp.tokens.set('tok', { active: true, sub: 'u', email: 'ann@example.com' });
      const r = await h.run([['authorization', 'Bearer tok'], ['x-user-email', 'spoof@evil'], ['x-tenant', '666'], ['accept', '*/*']]);
      assert.equal(r.verdict, undefined);
      assert.deepEqual(r.ctx.headerNames, ['accept', 'x-user-email']);
      assert.deepEqual(r.ctx.headerValues, ['*/*', 'ann@example.com']);
      const refused = await h.run([['authorization', 'Bearer unknown'], ['x-tenant', '666']]);
      assert.equal(refused.verdict?.code, 'invalid_token');
      assert.deepEqual(refused.ctx.headerNames, ['authorization']);
      const ctx = new RequestContext(null as never);
      ctx.query = 'a=1&access_token=tok';
      assert.equal(await h.policy.access(ctx), undefined);
      assert.equal(ctx.query, 'a=1');
    } finally { await h.close(); }
  });
});
