import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../config/index.js';
import { configError } from '../../config/config-test-support.js';

process.env.TP_CFG_INTROSPECTION_SECRET = 'shh';

const HEAD = `upstreams:
  up: { targets: [ { url: "http://127.0.0.1:3001" } ] }
routes:
  - { match: { path: /a/* }, upstream: up, policies: [ idp ] }
policies:
`; // five lines: the first policy is on line 6

function issues(policies: string): string[] {
  const err = configError(() => parseConfig(HEAD + policies, 'gw.yaml', {}));
  return err.issues.map((i) => `${i.line}:${i.column} ${i.path}: ${i.message}`);
}

test('an oauth2-introspection policy as in the issue loads, its config kept as written', () => {
  const c = parseConfig(`${HEAD}  idp:
    oauth2-introspection:
      url: https://idp.example.com/oauth2/introspect
      clientId: gateway
      clientSecret: env:TP_CFG_INTROSPECTION_SECRET
      clientAuth: post
      timeout: 2s
      cacheTtl: 1m
      negativeCacheTtl: 5s
      requiredScopes: [ "orders:read" ]
      from: [ "header:authorization:Bearer", "query:access_token" ]
      hideCredentials: true
      consumerClaim: [ sub, client_id ]
      groupsClaim: roles
      claimsToHeaders: { x-user-email: email }
      issuer: https://idp.example.com
      audiences: [ orders ]
`, 'gw.yaml', {});
  assert.equal(c.policies.idp.kind, 'oauth2-introspection');
  assert.equal((c.policies.idp.config as { cacheTtl: string }).cacheTtl, '1m');
});

test('required fields, unknown fields and bad values are reported with file, line and path', () => {
  assert.deepEqual(issues(`  idp:
    oauth2-introspection:
      url: ftp://idp.example.com/introspect
      clientSecret: env:TP_CFG_NOT_SET_ANYWHERE
      clientAuth: jwt
      timeout: 0
      cacheTtl: soon
      requiredScopes: [ "has space" ]
      from: [ "body:token" ]
      claimsToHeaders: { x-consumer-id: sub, "bad header": sub, X-Mail: email, x-mail: email, Authorization: sub }
      realm: 'a"b'
      ttl: 5s
`), [
    '8:7 policies.idp.oauth2-introspection.clientId: is required',
    '8:12 policies.idp.oauth2-introspection.url: must be an http:// or https:// URL',
    '9:21 policies.idp.oauth2-introspection.clientSecret: environment variable TP_CFG_NOT_SET_ANYWHERE is not set',
    '10:19 policies.idp.oauth2-introspection.clientAuth: must be basic or post',
    '11:16 policies.idp.oauth2-introspection.timeout: must be more than 0',
    '12:17 policies.idp.oauth2-introspection.cacheTtl: must be a duration like 250ms, 5s, 1m, 1h or integer milliseconds',
    '13:25 policies.idp.oauth2-introspection.requiredScopes[0]: must be a scope token (printable ASCII, no space, quote or backslash)',
    '14:15 policies.idp.oauth2-introspection.from[0]: "body:token": unknown source "body" (header, query or cookie)',
    '15:41 policies.idp.oauth2-introspection.claimsToHeaders.x-consumer-id: x-consumer-id is set by the gateway itself (identity, forwarding or framing); it cannot carry a claim',
    '15:46 policies.idp.oauth2-introspection.claimsToHeaders["bad header"]: must be a header name like x-user-email',
    '15:88 policies.idp.oauth2-introspection.claimsToHeaders.x-mail: duplicate header name "x-mail" (names are case-insensitive)',
    '16:14 policies.idp.oauth2-introspection.realm: must be printable text without quotes or backslashes',
    '17:7 policies.idp.oauth2-introspection.ttl: unknown field (expected one of: url, clientId, clientSecret, clientAuth, timeout, cacheTtl, negativeCacheTtl, cacheSize, maxInFlight, maxQueued, requiredScopes, from, hideCredentials, allowMissing, consumerClaim, usernameClaim, groupsClaim, claimsToHeaders, ca, issuer, audiences, clockSkew, maxTokenLength, realm)',
  ]);
});

test('claimsToHeaders cannot target the header the token is read from', () => {
  assert.deepEqual(issues(`  idp:
    oauth2-introspection: { url: "https://idp.example.com/i", clientId: gw, clientSecret: env:TP_CFG_INTROSPECTION_SECRET, claimsToHeaders: { Authorization: sub } }
`), ['7:158 policies.idp.oauth2-introspection.claimsToHeaders.Authorization: authorization is where the token is read from (from); it cannot also carry a claim']);
});

test('the ca file must exist and hold PEM certificates; the URL must not carry credentials', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tp-ca-check-'));
  try {
    writeFileSync(join(dir, 'not-pem.txt'), 'hello');
    writeFileSync(join(dir, 'broken.pem'), '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    const policy = (ca: string, url = 'https://idp.example.com/i'): string => `  idp:
    oauth2-introspection: { url: "${url}", clientId: gw, clientSecret: env:TP_CFG_INTROSPECTION_SECRET, ca: "${ca}" }
`;
    const missing = issues(policy(join(dir, 'missing.pem')));
    assert.equal(missing.length, 1);
    assert.ok(missing[0].startsWith('7:'), missing[0]);
    assert.ok(missing[0].endsWith(` policies.idp.oauth2-introspection.ca: cannot read CA file ${join(dir, 'missing.pem')}: ENOENT`), missing[0]);
    assert.match(issues(policy(join(dir, 'not-pem.txt')))[0], /holds no PEM certificate/);
    assert.match(issues(policy(join(dir, 'broken.pem')))[0], /certificate 1 is not a valid PEM certificate/);
    assert.match(issues(policy(join(dir, 'missing.pem'), 'https://u:p@idp.example.com/i')).join('\n'), /url: must not hold credentials/);
  } finally { rmSync(dir, { recursive: true, force: true }); }
});
