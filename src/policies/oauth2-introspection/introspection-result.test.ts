import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimHeaderValue, toResult, type ActiveResult, type InactiveResult } from './introspection-result.js';
import { resolveSettings } from './settings.js';
import type { IntrospectionConfig } from './schema.js';

const NOW = 1_700_000_000_000;

function settings(extra: Partial<IntrospectionConfig> = {}): ReturnType<typeof resolveSettings> {
  return resolveSettings({ url: 'http://127.0.0.1:1/i', clientId: 'gw', clientSecret: 's', ...extra });
}

function active(body: Record<string, unknown>, extra?: Partial<IntrospectionConfig>): ActiveResult {
  const r = toResult(body, settings(extra), NOW);
  assert.equal(r.active, true, JSON.stringify(r));
  return r as ActiveResult;
}

function refused(body: Record<string, unknown>, extra?: Partial<IntrospectionConfig>): string {
  const r = toResult(body, settings(extra), NOW);
  assert.equal(r.active, false);
  assert.equal(r.expiresAt, NOW + 5000, 'refusals are cached negativeCacheTtl');
  return (r as InactiveResult).reason;
}

test('only active: true (the boolean) is active', () => {
  assert.equal(refused({ active: false, sub: 'a' }), 'inactive');
  assert.equal(refused({ active: 'true', sub: 'a' }), 'inactive');
  assert.equal(refused({ active: 1, sub: 'a' }), 'inactive');
  assert.equal(refused({ sub: 'a' }), 'inactive');
  assert.equal(active({ active: true, sub: 'a' }).consumer.id, 'a');
});

test('the cache time is min(cacheTtl, exp); an exp past the clock skew is refused', () => {
  assert.equal(active({ active: true, sub: 'a' }).expiresAt, NOW + 30_000);
  assert.equal(active({ active: true, sub: 'a', exp: NOW / 1000 + 10 }).expiresAt, NOW + 10_000);
  assert.equal(active({ active: true, sub: 'a', exp: NOW / 1000 + 3600 }).expiresAt, NOW + 30_000);
  // Expired 10 s ago on our clock: within the 60 s skew, so let through, but not reusable.
  assert.ok(active({ active: true, sub: 'a', exp: NOW / 1000 - 10 }).expiresAt <= NOW);
  assert.equal(refused({ active: true, sub: 'a', exp: NOW / 1000 - 61 }), 'expired');
  assert.equal(refused({ active: true, sub: 'a', exp: NOW / 1000 - 3 }, { clockSkew: '1s' }), 'expired');
  assert.equal(active({ active: true, sub: 'a', nbf: NOW / 1000 + 60 }).notBeforeMs, NOW + 60_000);
  assert.equal(active({ active: true, sub: 'a', exp: 'soon' }).expiresAt, NOW + 30_000);
});

test('issuer and audiences are checked when configured', () => {
  const cfg = { issuer: 'https://idp.example.com', audiences: ['orders', 'billing'] };
  assert.equal(active({ active: true, sub: 'a', iss: 'https://idp.example.com', aud: 'orders' }, cfg).consumer.id, 'a');
  assert.equal(active({ active: true, sub: 'a', iss: 'https://idp.example.com', aud: ['x', 'billing'] }, cfg).consumer.id, 'a');
  assert.equal(refused({ active: true, sub: 'a', iss: 'https://evil.example.com', aud: 'orders' }, cfg), 'bad_issuer');
  assert.equal(refused({ active: true, sub: 'a', iss: 'https://idp.example.com', aud: ['x'] }, cfg), 'bad_audience');
  assert.equal(refused({ active: true, sub: 'a', iss: 'https://idp.example.com' }, cfg), 'bad_audience');
});

test('the consumer: sub, then username, then client_id; or the configured claims', () => {
  const a = active({ active: true, sub: 'u-1', username: 'ann', client_id: 'app', scope: 'a b' });
  assert.deepEqual({ ...a.consumer, claims: null }, { id: 'u-1', username: 'ann', groups: [], credential: { kind: 'oauth2', id: 'app' }, claims: null });
  assert.equal(a.consumer.claims?.scope, 'a b');
  assert.equal(active({ active: true, username: 'ann', client_id: 'app' }).consumer.id, 'ann');
  assert.equal(active({ active: true, sub: '', client_id: 'app' }).consumer.id, 'app');
  assert.equal(active({ active: true, sub: 42 }).consumer.id, '42');
  assert.equal(refused({ active: true, scope: 'a' }), 'missing_claim');
  assert.equal(active({ active: true, sub: 'u', email: 'e@x' }, { consumerClaim: ['email', 'sub'] }).consumer.id, 'e@x');
  assert.equal(refused({ active: true, sub: 'u' }, { consumerClaim: 'email' }), 'missing_claim');
  assert.equal(active({ active: true, sub: 'u', login: 'ann' }, { usernameClaim: 'login' }).consumer.username, 'ann');
  // Values go into headers: a control character makes the claim unusable, non-ASCII is percent-encoded.
  assert.equal(refused({ active: true, sub: 'a\r\nx-evil: 1' }), 'malformed');
  assert.equal(refused({ active: true, sub: true }), 'malformed');
  assert.equal(refused({ active: true, sub: { id: 1 } }), 'malformed');
  assert.equal(active({ active: true, sub: 'é' }).consumer.id, '%C3%A9');
  assert.equal(active({ active: true, sub: 'u', username: 'a\nb' }).consumer.username, '');
});

test('groups from a list or a space/comma-separated string', () => {
  assert.deepEqual(active({ active: true, sub: 'a', roles: ['admin', 'ops', 3, 'a,b', 'x\ny'] }, { groupsClaim: 'roles' }).consumer.groups, ['admin', 'ops', 'a%2Cb']);
  assert.deepEqual(active({ active: true, sub: 'a', roles: 'admin  ops,dev' }, { groupsClaim: 'roles' }).consumer.groups, ['admin', 'ops', 'dev']);
  assert.deepEqual(active({ active: true, sub: 'a' }, { groupsClaim: 'roles' }).consumer.groups, []);
});

test('required scopes: all of them, from a space-separated scope (or an array)', () => {
  const cfg = { requiredScopes: ['orders:read', 'orders:write'] };
  assert.equal(active({ active: true, sub: 'a', scope: 'x orders:write orders:read' }, cfg).scopeOk, true);
  assert.equal(active({ active: true, sub: 'a', scope: ['orders:read', 'orders:write'] }, cfg).scopeOk, true);
  assert.equal(active({ active: true, sub: 'a', scope: 'orders:read' }, cfg).scopeOk, false);
  assert.equal(active({ active: true, sub: 'a', scope: 'orders:readorders:write' }, cfg).scopeOk, false);
  assert.equal(active({ active: true, sub: 'a' }, cfg).scopeOk, false);
  assert.equal(active({ active: true, sub: 'a' }).scopeOk, true);
});

test('claimsToHeaders: values rendered once; absent, structured or unsafe claims send nothing', () => {
  const r = active({ active: true, sub: 'a', email: 'ann@example.com', tenant: 7, admin: false, roles: ['a', 'b'], meta: { k: 1 }, bad: 'x\r\ny' },
    { claimsToHeaders: { 'X-User-Email': 'email', 'x-tenant': 'tenant', 'x-admin': 'admin', 'x-roles': 'roles', 'x-meta': 'meta', 'x-bad': 'bad', 'x-missing': 'missing' } });
  assert.deepEqual(r.headers, ['x-user-email', 'ann@example.com', 'x-tenant', '7', 'x-admin', 'false']);
  assert.equal(claimHeaderValue('a\nb'), null);
  assert.equal(claimHeaderValue(''), null);
  assert.equal(claimHeaderValue(null), null);
  assert.equal(claimHeaderValue(Infinity), null);
  assert.equal(claimHeaderValue('café'), 'caf%C3%A9');
});
