import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { parseConfig } from '../../config/load.js';
import { configError } from '../../config/config-test-support.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { RequestContext } from '../../ingress/request-context.js';
import type { Consumer } from '../consumer.js';
import { consumerDirectory } from '../consumers/directory.js';
import { KeyAuthPolicy } from './key-auth-policy.js';
import type { KeyAuthConfig } from './schema.js';

const sha = (key: string): string => createHash('sha256').update(key).digest('hex');

const CONSUMERS = `consumers:
  - { id: acme, username: acme-corp, groups: [ partners ], keys: [ { sha256: "${sha('acme-key')}", name: ci } ] }
  - { id: bob, groups: [ internal ], keys: [ { sha256: "${sha('bob-key')}" } ] }
  - { id: guest, groups: [ public ] }
`; // four lines: what follows starts on line 5

const DIRECTORY = consumerDirectory(parseConfig(CONSUMERS, 'gw.yaml', {}));

function policy(config: KeyAuthConfig | null = {}): KeyAuthPolicy {
  return new KeyAuthPolicy('keys', config, DIRECTORY);
}

function ctxWith(headers: Array<[string, string]>, query = ''): RequestContext {
  const ctx = new RequestContext(null as never);
  for (const [n, v] of headers) { ctx.headerNames.push(n); ctx.headerValues.push(v); }
  ctx.query = query;
  return ctx;
}

/** The verdict as `<status> <code>` (or `pass <consumer id>`), and the WWW-Authenticate header if any. */
function run(p: KeyAuthPolicy, ctx: RequestContext): { verdict: string; challenge?: string } {
  const v = p.access(ctx);
  const challenge = ctx.responseHeaders?.[1];
  if (v === undefined) return { verdict: `pass ${ctx.consumer?.id ?? '-'}`, ...(challenge ? { challenge } : {}) };
  assert.ok(v instanceof GatewayError);
  return { verdict: `${v.status} ${v.code}`, ...(challenge ? { challenge } : {}) };
}

test('a known key in x-api-key identifies its consumer and is removed from the upstream request', () => {
  const ctx = ctxWith([['accept', '*/*'], ['x-api-key', 'acme-key']]);
  assert.deepEqual(run(policy(), ctx), { verdict: 'pass acme' });
  assert.deepEqual(ctx.consumer, { id: 'acme', username: 'acme-corp', groups: ['partners'], credential: { kind: 'api-key', id: 'ci' }, claims: null });
  assert.deepEqual(ctx.headerNames, ['accept']);
  assert.equal(ctx.responseHeaders, null);
});

test('missing, unknown and duplicate keys: 401 with an ApiKey challenge; nothing identified', () => {
  const p = policy();
  assert.deepEqual(run(p, ctxWith([])), { verdict: '401 unauthorized', challenge: 'ApiKey realm="turnpike"' });
  assert.deepEqual(run(p, ctxWith([['x-api-key', '']])), { verdict: '401 unauthorized', challenge: 'ApiKey realm="turnpike"' });
  assert.deepEqual(run(p, ctxWith([['x-api-key', 'nope']])), { verdict: '401 invalid_api_key', challenge: 'ApiKey realm="turnpike"' });
  assert.deepEqual(run(p, ctxWith([['x-api-key', 'ACME-KEY']])).verdict, '401 invalid_api_key', 'keys are case-sensitive');
  const dup = 'ApiKey realm="turnpike", error="invalid_request", error_description="duplicate_credentials"';
  assert.deepEqual(run(p, ctxWith([['x-api-key', 'acme-key'], ['x-api-key', 'bob-key']])), { verdict: '401 duplicate_credentials', challenge: dup });
  assert.deepEqual(run(p, ctxWith([['x-api-key', 'acme-key'], ['x-api-key', 'acme-key']])).verdict, '401 duplicate_credentials');
  assert.deepEqual(run(p, ctxWith([['x-api-key', 'acme-key, bob-key']])).verdict, '401 duplicate_credentials');
  const missing = p.access(ctxWith([])) as GatewayError;
  assert.equal(missing.detail, 'An API key is required in the x-api-key header');
  const wrong = p.access(ctxWith([['x-api-key', 'nope']])) as GatewayError;
  assert.ok(!String(wrong.detail).includes('nope'), 'the refusal never echoes the key');
});

test('header and query sources: the query key is read, a header and a different query key are a duplicate', () => {
  const p = policy({ header: 'X-Key', query: 'apikey', realm: 'partners api' });
  const ctx = ctxWith([['x-key', 'bob-key']], 'a=1&apikey=bob-key&b=2');
  assert.deepEqual(run(p, ctx), { verdict: 'pass bob' });
  assert.deepEqual(ctx.headerNames, [], 'hidden from the header');
  assert.equal(ctx.query, 'a=1&b=2', 'and from the query');
  assert.deepEqual(run(p, ctxWith([], 'apikey=acme-key')), { verdict: 'pass acme' });
  assert.deepEqual(run(p, ctxWith([], 'apikey=acme%2Dkey')).verdict, 'pass acme', 'query keys are percent-decoded');
  assert.deepEqual(run(p, ctxWith([['x-key', 'acme-key']], 'apikey=bob-key')).verdict, '401 duplicate_credentials');
  assert.deepEqual(run(p, ctxWith([], 'apikey=a&apikey=b')).verdict, '401 duplicate_credentials');
  assert.deepEqual(run(p, ctxWith([])), { verdict: '401 unauthorized', challenge: 'ApiKey realm="partners api"' });
  assert.equal((p.access(ctxWith([])) as GatewayError).detail, 'An API key is required in the x-key header or the apikey query parameter');
  const queryOnly = policy({ header: null, query: 'apikey' });
  assert.deepEqual(run(queryOnly, ctxWith([['x-api-key', 'acme-key']])).verdict, '401 unauthorized', 'header: null reads no header');
  assert.deepEqual(run(policy(), ctxWith([], 'x-api-key=acme-key')).verdict, '401 unauthorized', 'query defaults to null: no query key');
});

test('hideCredentials: false forwards the key', () => {
  const ctx = ctxWith([['x-api-key', 'acme-key']], 'apikey=acme-key');
  assert.deepEqual(run(policy({ hideCredentials: false, query: 'apikey' }), ctx), { verdict: 'pass acme' });
  assert.deepEqual(ctx.headerNames, ['x-api-key']);
  assert.equal(ctx.query, 'apikey=acme-key');
});

test('anonymous: no key passes as the anonymous consumer; a wrong or duplicate key is still refused', () => {
  const p = policy({ anonymous: 'guest' });
  const ctx = ctxWith([]);
  assert.deepEqual(run(p, ctx), { verdict: 'pass guest' });
  assert.deepEqual(ctx.consumer, { id: 'guest', username: '', groups: ['public'], credential: { kind: 'anonymous', id: '' }, claims: null, anonymous: true });
  assert.deepEqual(run(p, ctxWith([['x-api-key', 'nope']])).verdict, '401 invalid_api_key');
  assert.deepEqual(run(p, ctxWith([['x-api-key', 'a'], ['x-api-key', 'b']])).verdict, '401 duplicate_credentials');
  const keyed = ctxWith([['x-api-key', 'bob-key']]);
  assert.deepEqual(run(p, keyed), { verdict: 'pass bob' });
  assert.equal(keyed.consumer?.anonymous, undefined);
});

test('with anonymous, a consumer an earlier identity policy proved stands (either credential); without, a key is required', () => {
  const earlier: Consumer = { id: 'from-jwt', username: '', groups: [], credential: { kind: 'jwt', id: 'k' }, claims: {} };
  const either = ctxWith([['x-api-key', 'nope']]);
  either.consumer = earlier;
  assert.deepEqual(run(policy({ anonymous: 'guest' }), either), { verdict: 'pass from-jwt' });
  const both = ctxWith([]);
  both.consumer = earlier;
  assert.deepEqual(run(policy(), both).verdict, '401 unauthorized');
  // An anonymous consumer from an earlier policy is replaced by a key's consumer.
  const anon = ctxWith([['x-api-key', 'acme-key']]);
  anon.consumer = { id: 'guest', username: '', groups: [], credential: { kind: 'anonymous', id: '' }, claims: null, anonymous: true };
  assert.deepEqual(run(policy({ anonymous: 'guest' }), anon), { verdict: 'pass acme' });
});

/** The reported issues as `file:line:col: path: message` lines. */
function errorsOf(yaml: string): string[] {
  return configError(() => parseConfig(yaml, 'gw.yaml', {})).message.split('\n').slice(1);
}

test('config: the contract example and an empty body load', () => {
  const config = parseConfig(`${CONSUMERS}policies:
  keys: { key-auth: { header: x-api-key, query: null, hideCredentials: true, anonymous: null } }
  defaults: { key-auth: }
  guests: { key-auth: { anonymous: guest, query: api_key, realm: "Acme API" } }
`, 'gw.yaml', {});
  assert.deepEqual(config.policies.keys.config, { header: 'x-api-key', query: null, hideCredentials: true, anonymous: null });
  assert.deepEqual(config.policies.defaults.config, {});
});

test('config errors: unknown anonymous consumer, no source, bad names, unknown fields', () => {
  assert.deepEqual(errorsOf(`${CONSUMERS}policies:
  a: { key-auth: { anonymous: nobody } }
  b: { key-auth: { header: null } }
  c: { key-auth: { header: "x api key", query: "a&b" } }
  d: { key-auth: { realm: 'say "hi"', hideCredential: true } }
  e: { key-auth: { hideCredentials: yes please } }
  f: { key-auth: [] }
`), [
    'gw.yaml:6:31: policies.a.key-auth.anonymous: unknown consumer "nobody" (defined: acme, bob, guest)',
    'gw.yaml:7:18: policies.b.key-auth: needs a header or a query parameter to read the key from (header and query are both null)',
    'gw.yaml:8:28: policies.c.key-auth.header: must be a header name',
    'gw.yaml:8:48: policies.c.key-auth.query: must be a query parameter name of letters, digits, _ . ~ -',
    'gw.yaml:9:27: policies.d.key-auth.realm: must be 1-64 printable ASCII characters without " or \\',
    'gw.yaml:9:39: policies.d.key-auth.hideCredential: unknown field (did you mean "hideCredentials"?)',
    'gw.yaml:10:37: policies.e.key-auth.hideCredentials: must be true or false',
    'gw.yaml:11:18: policies.f.key-auth: must be an object',
  ]);
  assert.deepEqual(errorsOf(`routes:
  - { match: { path: /a }, upstream: u, policies: [ { key-auth: { anonymous: guest } } ] }
upstreams:
  u: { targets: [ { url: "http://127.0.0.1:1" } ] }
`), ['gw.yaml:2:78: routes[0].policies[0].key-auth.anonymous: unknown consumer "guest" (no consumers are defined)']);
});
