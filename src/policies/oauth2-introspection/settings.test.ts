import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formEncode, resolveSettings } from './settings.js';

test('client credentials are form-encoded before Basic (RFC 6749 §2.3.1)', () => {
  assert.equal(formEncode('my client:1/é&+'), 'my+client%3A1%2F%C3%A9%26%2B');
  const s = resolveSettings({ url: 'https://idp.example.com/introspect?x=1', clientId: 'gw client', clientSecret: 'env:SECRET' }, { SECRET: 's3:cr&t' });
  assert.equal(s.authorization, 'Basic ' + Buffer.from('gw+client:s3%3Acr%26t').toString('base64'));
  assert.equal(s.formTail, '&token_type_hint=access_token');
  assert.deepEqual(s.sources.map((x) => x.label), ['header:authorization:Bearer']);
  assert.deepEqual(s.consumerClaims, ['sub', 'username', 'client_id']);
  assert.equal(s.timeoutMs, 3000);
  assert.equal(s.cacheTtlMs, 30_000);
  assert.equal(s.negativeCacheTtlMs, 5000);
  assert.equal(s.realm, 'turnpike');
  assert.equal(s.clockSkewMs, 60_000);
  assert.equal(s.maxTokenLength, 8192);
  assert.equal(s.usernameClaim, 'username');
});

test('clientAuth post puts the credentials in the form body and sends no Authorization', () => {
  const s = resolveSettings({
    url: 'http://127.0.0.1:1/i', clientId: 'gw', clientSecret: 'lit eral', clientAuth: 'post',
    consumerClaim: 'client_id', claimsToHeaders: { 'X-User-Email': 'email' }, cacheTtl: '2m', negativeCacheTtl: 0, maxTokenLength: '1kb',
  });
  assert.equal(s.authorization, null);
  assert.equal(s.formTail, '&token_type_hint=access_token&client_id=gw&client_secret=lit+eral');
  assert.deepEqual(s.consumerClaims, ['client_id']);
  assert.deepEqual(s.claimHeaders, [['x-user-email', 'email']]);
  assert.equal(s.maxTokenLength, 1024);
  assert.equal(s.cacheTtlMs, 120_000);
  assert.equal(s.negativeCacheTtlMs, 0);
});

test('an unreadable secret fails the build with the variable named', () => {
  assert.throws(() => resolveSettings({ url: 'http://h/i', clientId: 'a', clientSecret: 'env:NOPE' }, {}), /NOPE is not set/);
});
