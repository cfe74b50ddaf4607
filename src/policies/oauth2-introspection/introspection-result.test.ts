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
  // Expired 10 s ago on our clock: within the 30 s skew, so let through, but not reusable.
  assert.ok(active({ active: true, sub: 'a', exp: NOW / 1000 - 10 }).expiresAt <= NOW);
  assert.equal(refused({ active: true, sub: 'a', exp: NOW / 1000 - 31 }), 'expired');
  assert.equal(refused({ active: true, sub: 'a', exp: NOW / 1000 - 3 }, { clockSkew: '1s' }), 'expired');
  assert.equal(active({ active: true, sub: 'a', nbf: NOW / 1000 + 60 }).notBeforeMs, NOW + 60_000);
  assert.equal(active({ active: true, sub: 'a', exp: 'soon' }).expiresAt, NOW + 30_000);
});

test('issuer and audiences are checked when configured', () => {
  const cfg = { issuer: 'https://idp.example.com', audiences: ['orders', 'billing'] };
  assert.equal(active({ active: true, sub: 'a', iss: 'https://idp.example.com', aud: 'orders' }, cfg).consumer.id, 'a');
  assert.equal(active({ active: true, sub: 'a', iss: 'https://idp.example.com', aud: ['x', 'billing'] }, cfg).consumer.id, 'a');
  assert.equal(refused({ active: true, sub: 'a', iss: 'https://evil.example.com', aud: 'orders' }, cfg), 'wrong_issuer');
  assert.equal(refused({ active: true, sub: 'a', iss: 'https://idp.example.com', aud: ['x'] }, cfg), 'wrong_audience');
  assert.equal(refused({ active: true, sub: 'a', iss: 'https://idp.example.com' }, cfg), 'wrong_audience');
});

test('the consumer: sub, then username, then client_id; or the configured claims', () => {
  const a = active({ active: true, sub: 'u-1', username: 'ann', client_id: 'app', scope: 'a b' });
  assert.deepEqual({ ...a.consumer, claims: null }, { id: 'u-1', username: 'ann', groups: [], credential: { kind: 'oauth2', id: 'app' }, claims: null });
  assert.equal(a.consumer.claims?.scope, 'a b');
  assert.equal(active({ active: true, username: 'ann', client_id: 'app' }).consumer.id, 'ann');
  assert.equal(active({ active: true, sub: '', client_id: 'app' }).consumer.id, 'app');
  assert.equal(active({ active: true, sub: 42 }).consumer.id, '42');
  assert.equal(refused({ active: true, scope: 'a' }), 'no_consumer');
  assert.equal(active({ active: true, sub: 'u', email: 'e@x' }, { consumerClaim: ['email', 'sub'] }).consumer.id, 'e@x');
  assert.equal(refused({ active: true, sub: 'u' }, { consumerClaim: 'email' }), 'no_consumer');
  // Values go into headers: made header-safe.
  assert.equal(active({ active: true, sub: 'a\r\nx-evil: 1' }).consumer.id, 'ax-evil: 1');
  assert.equal(active({ active: true, sub: 'é' }).consumer.id, '%C3%A9');
});

test('groups from an array or a space-separated string', () => {
  assert.deepEqual(active({ active: true, sub: 'a', roles: ['admin', 'ops', 3] }, { groupsClaim: 'roles' }).consumer.groups, ['admin', 'ops']);
  assert.deepEqual(active({ active: true, sub: 'a', roles: 'admin  ops' }, { groupsClaim: 'roles' }).consumer.groups, ['admin', 'ops']);
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

test('claimsToHeaders: values rendered once, absent claims send nothing', () => {
  const r = active({ active: true, sub: 'a', email: 'ann@example.com', tenant: 7, roles: ['a', 'b'], meta: { k: 1 } },
    { claimsToHeaders: { email: 'x-user-email', tenant: 'x-tenant', roles: 'x-roles', meta: 'x-meta', missing: 'x-missing' } });
  assert.deepEqual(r.headers, ['x-user-email', 'ann@example.com', 'x-tenant', '7', 'x-roles', 'a,b', 'x-meta', '{"k":1}']);
  assert.equal(claimHeaderValue('a\nb'), 'ab');
  assert.equal(claimHeaderValue(null), '');
  assert.equal(claimHeaderValue(false), 'false');
});
