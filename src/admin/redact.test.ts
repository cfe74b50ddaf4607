import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseConfig } from '../config/load.js';
import { redactSecrets } from './redact.js';

test('credential-named string fields are redacted; references, other fields and the input are kept', () => {
  const input = {
    routes: [{
      name: 'r', rateLimit: ['per-key'],
      policies: [
        { kind: 'headers', config: { request: { set: { authorization: 'Bearer s3cr3t', 'x-api-key': 'k3y', 'x-route': 'r' }, remove: ['cookie'] } } },
        { kind: 'jwt', config: { secret: 'env:JWT_SECRET', clientSecret: 'literal', passphrase: 'file:/run/pp', tokenTtl: 5 } },
        { kind: 'key-auth', config: { header: 'x-api-key', hideCredentials: true } },
        { kind: 'rate-limit', config: { key: ['consumer'] } },
      ],
    }],
  };
  const out = redactSecrets(input) as typeof input;
  assert.deepEqual(out.routes[0].policies.map((p) => p.config), [
    { request: { set: { authorization: '[redacted]', 'x-api-key': '[redacted]', 'x-route': 'r' }, remove: ['cookie'] } },
    { secret: 'env:JWT_SECRET', clientSecret: '[redacted]', passphrase: 'file:/run/pp', tokenTtl: 5 },
    { header: 'x-api-key', hideCredentials: true },
    { key: ['consumer'] },
  ]);
  assert.equal((input.routes[0].policies[0].config as { request: { set: { authorization: string } } }).request.set.authorization, 'Bearer s3cr3t');
});

test('a "__proto__" field is copied as data, never as a prototype', () => {
  const out = redactSecrets(JSON.parse('{"__proto__": {"token": "t0k", "polluted": true}}')) as Record<string, unknown>;
  assert.deepEqual(Object.getOwnPropertyDescriptor(out, '__proto__')?.value, { token: '[redacted]', polluted: true });
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
});

test('a real config: a static upstream credential in a headers policy never shows in the routes JSON', () => {
  const config = parseConfig(`upstreams:
  up: { targets: [ { url: "http://127.0.0.1:1" } ] }
routes:
  - name: r
    match: { path: /r }
    upstream: up
    policies: [ { headers: { request: { set: { authorization: "Basic dXNlcjpzM2NyM3Q=" } } } } ]
`, 'gw.yaml', {});
  const text = JSON.stringify(redactSecrets(config.routes));
  assert.ok(!text.includes('dXNlcjpzM2NyM3Q='));
  assert.match(text, /"authorization":"\[redacted\]"/);
});
