import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../config/load.js';
import { configError } from '../../config/config-test-support.js';
import { testKey, type TestKey } from './test-support.js';

const HEAD = `upstreams:
  orders:
    targets: [ { url: "http://127.0.0.1:3002" } ]
`; // three lines: what follows starts on line 4

function errorsOf(yaml: string): string[] {
  return configError(() => parseConfig(yaml, 'gw.yaml', {})).message.split('\n').slice(1);
}

let dir: string;
let rsa: TestKey;
let ec: TestKey;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jwt-config-'));
  rsa = await testKey('RS256', 'r1');
  ec = await testKey('ES256', 'e1');
  writeFileSync(join(dir, 'rsa.pem'), rsa.pem);
  writeFileSync(join(dir, 'ec.pem'), ec.pem);
  writeFileSync(join(dir, 'not-a-key.pem'), 'hello\n');
  process.env.TP_JWT_TEST_SECRET = 's'.repeat(40);
  process.env.TP_JWT_SHORT_SECRET = 'short';
});

after(() => {
  rmSync(dir, { recursive: true, force: true });
  delete process.env.TP_JWT_TEST_SECRET;
  delete process.env.TP_JWT_SHORT_SECRET;
});

test('the contract example loads, and the spec keeps the config as written', () => {
  const config = parseConfig(`${HEAD}policies:
  jwt-main:
    jwt:
      issuer: https://id.example.com/
      audiences: [ orders-api ]
      algorithms: [ RS256, ES256 ]
      jwks: { url: https://id.example.com/.well-known/jwks.json, cacheTtl: 10m, cooldown: 30s, timeout: 2s, maxStale: 1h }
      from: [ "header:authorization:Bearer", "query:access_token", "cookie:session" ]
      clockSkew: 60s
      requireExp: true
      consumerClaim: sub
      groupsClaim: groups
      claimsToHeaders: { x-user-id: sub, x-tenant: tenant }
      hideCredentials: false
      allowMissing: false
  jwt-keys:
    jwt:
      algorithms: [ RS256, ES256, HS256 ]
      keys: [ { pem: ${join(dir, 'rsa.pem')} }, { jwk: ${JSON.stringify(ec.jwk)} }, { secret: "env:TP_JWT_TEST_SECRET", alg: HS256, kid: hs } ]
routes:
  - { name: orders, match: { path: /orders/* }, upstream: orders, policies: [ jwt-main, jwt-keys ] }
`, 'gw.yaml', {});
  assert.equal(config.policies['jwt-main'].kind, 'jwt');
  assert.deepEqual((config.policies['jwt-main'].config as { algorithms: string[] }).algorithms, ['RS256', 'ES256']);
});

test('algorithms: required, none refused, HMAC only with secrets, each with a key', () => {
  assert.deepEqual(errorsOf(`${HEAD}policies:
  a: { jwt: { jwks: { url: "https://id.example.com/jwks" } } }
  b: { jwt: { algorithms: [ none ], jwks: { url: "https://id.example.com/jwks" } } }
  c: { jwt: { algorithms: [], jwks: { url: "https://id.example.com/jwks" } } }
  d: { jwt: { algorithms: [ HS256 ], jwks: { url: "https://id.example.com/jwks" } } }
  e: { jwt: { algorithms: [ RS256 ], keys: [ { pem: ${join(dir, 'ec.pem')} } ] } }
  f: { jwt: { algorithms: [ RS256 ] } }
  g: { jwt: { algorithms: [ RS256, RS256 ], jwks: { url: "https://id.example.com/jwks" } } }
`), [
    'gw.yaml:5:13: policies.a.jwt.algorithms: is required',
    'gw.yaml:6:29: policies.b.jwt.algorithms[0]: must be one of: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519, HS256, HS384, HS512 ("none" is never accepted)',
    'gw.yaml:7:27: policies.c.jwt.algorithms: must list at least one algorithm',
    'gw.yaml:8:29: policies.d.jwt.algorithms[0]: HS256 needs a key { secret: ..., alg: HS256 } (HMAC algorithms never use public keys or jwks)',
    `gw.yaml:9:46: policies.e.jwt.keys[0]: an EC P-256 key fits none of algorithms (RS256)`,
    'gw.yaml:9:29: policies.e.jwt.algorithms[0]: RS256 has no key: add jwks or a fitting public key to keys',
    'gw.yaml:10:13: policies.f.jwt: needs jwks (a JWK Set URL) or keys (configured keys), or both',
    'gw.yaml:10:29: policies.f.jwt.algorithms[0]: RS256 has no key: add jwks or a fitting public key to keys',
    'gw.yaml:11:27: policies.g.jwt.algorithms: lists the same algorithm twice',
  ].sort((x, y) => lineCol(x) - lineCol(y)));
});

function lineCol(issue: string): number {
  const m = /^gw\.yaml:(\d+):(\d+)/.exec(issue)!;
  return Number(m[1]) * 1000 + Number(m[2]);
}

test('keys: one of jwk/pem/secret, secrets readable and long enough, public keys never for HMAC', () => {
  const errors = errorsOf(`${HEAD}policies:
  k:
    jwt:
      algorithms: [ RS256, HS256, HS512 ]
      keys:
        - { }
        - { pem: ${join(dir, 'rsa.pem')}, secret: x, alg: HS256 }
        - { secret: "env:TP_JWT_NOT_SET", alg: HS256 }
        - { secret: "env:TP_JWT_SHORT_SECRET", alg: HS256 }
        - { secret: "env:TP_JWT_TEST_SECRET" }
        - { secret: "env:TP_JWT_TEST_SECRET", alg: RS256 }
        - { pem: ${join(dir, 'rsa.pem')}, alg: HS256 }
        - { pem: ${join(dir, 'missing.pem')} }
        - { pem: ${join(dir, 'not-a-key.pem')} }
        - { jwk: { kty: oct, k: c2VjcmV0 } }
        - { jwk: { kty: RSA, n: AQAB, e: AQAB } }
        - { secret: "env:TP_JWT_TEST_SECRET", alg: HS384 }
`);
  const want = [
    'gw.yaml:9:11: policies.k.jwt.keys[0]: needs one of jwk, pem or secret',
    'gw.yaml:10:11: policies.k.jwt.keys[1]: takes one of jwk, pem or secret, not pem and secret',
    'gw.yaml:11:21: policies.k.jwt.keys[2].secret: environment variable TP_JWT_NOT_SET is not set',
    'gw.yaml:12:21: policies.k.jwt.keys[3].secret: is 5 bytes; HS256 needs a secret of at least 32 bytes (RFC 7518 §3.2)',
    'gw.yaml:13:11: policies.k.jwt.keys[4]: a secret needs alg: HS256, HS384 or HS512',
    'gw.yaml:14:52: policies.k.jwt.keys[5].alg: a secret only verifies HMAC algorithms (HS256, HS384, HS512), not RS256',
    `gw.yaml:15:${25 + join(dir, 'rsa.pem').length}: policies.k.jwt.keys[6].alg: HS256 is an HMAC algorithm: it only takes a secret, never a public key`,
  ];
  for (const w of want) assert.ok(errors.includes(w), `missing: ${w}\n${errors.join('\n')}`);
  assert.ok(errors.some((e) => /keys\[7\]\.pem: cannot read .*missing\.pem: ENOENT/.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /keys\[8\]\.pem: is not a PEM public key or certificate/.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /keys\[9\]\.jwk: is a symmetric \(oct\) key/.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /keys\[10\]\.jwk: (is not a usable public key|an RSA key of \d+ bits is too small)/.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /keys\[11\]\.alg: HS384 is not in algorithms/.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /algorithms\[2\]: HS512 needs a key/.test(e)), errors.join('\n'));
});

test('jwks, sources, claim headers and sizes', () => {
  const errors = errorsOf(`${HEAD}policies:
  j:
    jwt:
      algorithms: [ RS256 ]
      jwks: { url: "ftp://id.example.com/jwks", cacheTtl: 0, timeout: 2 parsecs, ca: ${join(dir, 'not-a-key.pem')} }
      from: [ "body:token", "header:x y", "header:authorization:Bearer" ]
      claimsToHeaders: { host: sub, x-consumer-id: sub, X-User: sub, x-user: sub, authorization: sub, "bad header": sub }
      maxTokenLength: 0
      realm: 'a"b'
      tokenCacheSize: -1
`);
  const want = [
    /jwks\.url: must be an http:\/\/ or https:\/\/ URL/,
    /jwks\.cacheTtl: must be more than 0/,
    /jwks\.timeout: must be a duration/,
    /jwks\.ca: .*not-a-key\.pem holds no PEM certificate/,
    /from\[0\]: "body:token": unknown source "body"/,
    /from\[1\]: "header:x y": "x y" is not a valid header name/,
    /claimsToHeaders\.host: host is set by the gateway/,
    /claimsToHeaders\.x-consumer-id: x-consumer-id is an identity header/,
    /claimsToHeaders\.x-user: duplicate header name "x-user"/,
    /claimsToHeaders\.authorization: authorization is where the token is read from/,
    /claimsToHeaders\["bad header"\]: is not a valid header name/,
    /maxTokenLength: must be more than 0/,
    /realm: must be printable ASCII without " or \\/,
    /tokenCacheSize: /,
  ];
  for (const w of want) assert.ok(errors.some((e) => w.test(e)), `missing ${w}\n${errors.join('\n')}`);
  assert.ok(errors.every((e) => /^gw\.yaml:\d+:\d+: policies\.j\.jwt/.test(e)), errors.join('\n'));
});

test('an inline route policy reports its route path', () => {
  assert.deepEqual(errorsOf(`${HEAD}routes:
  - name: orders
    match: { path: /orders/* }
    upstream: orders
    policies:
      - jwt: { algorithms: [ none ], keys: [ { pem: ${join(dir, 'rsa.pem')} } ] }
`).filter((e) => e.includes('algorithms[0]')), [
    'gw.yaml:9:30: routes[0].policies[0].jwt.algorithms[0]: must be one of: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519, HS256, HS384, HS512 ("none" is never accepted)',
  ]);
});
