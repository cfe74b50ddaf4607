import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseConfig } from '../../src/config/load.js';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { createWorkerMetrics, type WorkerMetrics } from '../../src/observability/metrics.js';
import { WorkerObserver } from '../../src/observability/worker-observer.js';
import { nodeRequest, startUpstream, type TestUpstream } from './helpers.js';

interface Reply { status: number; headers: IncomingMessage['headers']; body: string; json: Record<string, unknown> | null }

/** One request on a fresh connection; a header given as a list is sent as that many lines. */
async function send(port: number, path: string, headers: OutgoingHttpHeaders = {}): Promise<Reply> {
  const r = await nodeRequest(port, path, headers);
  const json = r.body !== '' && /json/.test(String(r.headers['content-type'])) ? JSON.parse(r.body) as Record<string, unknown> : null;
  return { ...r, json };
}

const sha = (key: string): string => createHash('sha256').update(key).digest('hex');
const ACME_KEY = 'acme-7f3c9a1e5b2d4c8f';
const BOB_KEY = 'bob-env-0d1e2f3a4b5c6d7e';
const CAROL_KEY = 'carol-file-9a8b7c6d5e4f';
const KEYS = [ACME_KEY, BOB_KEY, CAROL_KEY];

/** The identity headers the upstream received on its latest request. */
function identity(up: TestUpstream): Record<string, unknown> {
  const h = up.seen.at(-1)!.headers;
  const out: Record<string, unknown> = {};
  for (const name of ['x-consumer-id', 'x-consumer-username', 'x-consumer-groups', 'x-anonymous-consumer']) if (h[name] !== undefined) out[name] = h[name];
  return out;
}

function assertProblem(r: Reply, status: number, code: string): void {
  assert.equal(r.status, status, r.body);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  assert.equal(r.json?.code, code);
  for (const key of KEYS) assert.ok(!r.body.includes(key), 'a refusal never echoes a key');
}

describe('key-auth and acl end to end (real gateway, real upstream)', () => {
  let up: TestUpstream;
  let gw: GatewayWorker;
  let metrics: WorkerMetrics;
  let dir: string;

  before(async () => {
    up = await startUpstream('up');
    dir = mkdtempSync(join(tmpdir(), 'turnpike-key-auth-'));
    const carolFile = join(dir, 'carol.key');
    writeFileSync(carolFile, CAROL_KEY + '\n');
    // One worker: without Redis each worker enforces 1/workers of a limit.
    const config = parseConfig(`server: { workers: 1 }
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
consumers:
  - { id: acme, username: acme-corp, groups: [ partners ], keys: [ { sha256: "${sha(ACME_KEY)}", name: ci } ] }
  - { id: bob, groups: [ internal ], keys: [ { env: BOB_API_KEY } ] }
  - { id: carol, username: Carol Example, groups: [ partners, suspended ], keys: [ { file: "${carolFile}", name: laptop } ] }
  - { id: guest, groups: [ public ] }
policies:
  keys: { key-auth: { header: x-api-key, query: null, hideCredentials: true, anonymous: null } }
  keys-or-query: { key-auth: { query: apikey } }
  keys-visible: { key-auth: { hideCredentials: false } }
  keys-anon: { key-auth: { anonymous: guest } }
  partners-only: { acl: { allow: [ partners ], deny: [ suspended ] } }
  per-consumer: { rate-limit: { key: consumer, limit: 3, window: 1m } }
routes:
  - { name: open, match: { path: /open }, upstream: up }
  - { name: keyed, match: { path: /keyed }, upstream: up, policies: [ keys ] }
  - { name: query, match: { path: /query }, upstream: up, policies: [ keys-or-query ] }
  - { name: visible, match: { path: /visible }, upstream: up, policies: [ keys-visible ] }
  - { name: anon, match: { path: /anon }, upstream: up, policies: [ keys-anon ] }
  - { name: partners, match: { path: /partners }, upstream: up, policies: [ keys, partners-only ] }
  - { name: acl-only, match: { path: /acl-only }, upstream: up, policies: [ partners-only ] }
  - { name: anon-partners, match: { path: /anon-partners }, upstream: up, policies: [ keys-anon, partners-only ] }
  - { name: limited, match: { path: /limited }, upstream: up, policies: [ keys, per-consumer ] }
`, 'test.yaml', { BOB_API_KEY: BOB_KEY });
    config.server.host = '127.0.0.1';
    config.server.port = 0;
    metrics = createWorkerMetrics({ defaultMetrics: false });
    gw = await startWorker(config, { observer: new WorkerObserver(config, null, metrics), metricsRegistry: metrics.registry });
  });

  after(async () => {
    await gw?.drain(1000);
    await up?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  test('a valid key in the header: 200, consumer headers upstream, the key not forwarded', async () => {
    const r = await send(gw.port, '/keyed', { 'x-api-key': ACME_KEY });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(identity(up), { 'x-consumer-id': 'acme', 'x-consumer-username': 'acme-corp', 'x-consumer-groups': 'partners' });
    assert.equal(up.seen.at(-1)!.headers['x-api-key'], undefined, 'hideCredentials (default true) removes the key');
    assert.equal(r.headers['www-authenticate'], undefined);
  });

  test('keys from env and from a file (hashed at load) identify their consumers', async () => {
    assert.equal((await send(gw.port, '/keyed', { 'x-api-key': BOB_KEY })).status, 200);
    assert.deepEqual(identity(up), { 'x-consumer-id': 'bob', 'x-consumer-groups': 'internal' });
    assert.equal((await send(gw.port, '/keyed', { 'X-API-Key': CAROL_KEY })).status, 200);
    assert.deepEqual(identity(up), { 'x-consumer-id': 'carol', 'x-consumer-username': 'Carol Example', 'x-consumer-groups': 'partners,suspended' });
  });

  test('missing key: 401 unauthorized; wrong key: 401 invalid_api_key; both with WWW-Authenticate, nothing forwarded', async () => {
    const before = up.seen.length;
    const missing = await send(gw.port, '/keyed');
    assertProblem(missing, 401, 'unauthorized');
    assert.equal(missing.headers['www-authenticate'], 'ApiKey realm="turnpike"');
    assert.equal(missing.json?.detail, 'An API key is required in the x-api-key header');
    const wrong = await send(gw.port, '/keyed', { 'x-api-key': ACME_KEY + 'x' });
    assertProblem(wrong, 401, 'invalid_api_key');
    assert.equal(wrong.headers['www-authenticate'], 'ApiKey realm="turnpike"');
    assertProblem(await send(gw.port, '/keyed', { 'x-api-key': sha(ACME_KEY) }), 401, 'invalid_api_key');
    assertProblem(await send(gw.port, '/keyed', { 'x-api-key': '' }), 401, 'unauthorized');
    assertProblem(await send(gw.port, '/keyed?x-api-key=' + ACME_KEY), 401, 'unauthorized');
    assert.equal(up.seen.length, before);
  });

  test('duplicates: two x-api-key headers, or a header and a different query key, are 401 duplicate_credentials', async () => {
    const before = up.seen.length;
    const two = await send(gw.port, '/keyed', { 'x-api-key': [ACME_KEY, BOB_KEY] });
    assertProblem(two, 401, 'duplicate_credentials');
    assert.equal(two.headers['www-authenticate'], 'ApiKey realm="turnpike", error="invalid_request", error_description="duplicate_credentials"');
    assert.equal(two.json?.reason, 'duplicate_credentials');
    assertProblem(await send(gw.port, '/keyed', { 'x-api-key': [ACME_KEY, ACME_KEY] }), 401, 'duplicate_credentials');
    assertProblem(await send(gw.port, `/query?apikey=${BOB_KEY}`, { 'x-api-key': ACME_KEY }), 401, 'duplicate_credentials');
    assertProblem(await send(gw.port, `/query?apikey=${BOB_KEY}&apikey=${BOB_KEY}`), 401, 'duplicate_credentials');
    assert.equal(up.seen.length, before);
  });

  test('a query key is read and removed from the upstream query; the same key in header and query is one credential', async () => {
    assert.equal((await send(gw.port, `/query?a=1&apikey=${BOB_KEY}&b=%20x`)).status, 200);
    assert.equal(up.seen.at(-1)!.url, '/query?a=1&b=%20x');
    assert.equal(identity(up)['x-consumer-id'], 'bob');
    assert.equal((await send(gw.port, `/query?apikey=${ACME_KEY}`, { 'x-api-key': ACME_KEY })).status, 200);
    assert.equal(up.seen.at(-1)!.url, '/query');
    assert.equal(up.seen.at(-1)!.headers['x-api-key'], undefined);
  });

  test('hideCredentials: false forwards the key', async () => {
    assert.equal((await send(gw.port, '/visible', { 'x-api-key': ACME_KEY })).status, 200);
    assert.equal(up.seen.at(-1)!.headers['x-api-key'], ACME_KEY);
    assert.equal(identity(up)['x-consumer-id'], 'acme');
  });

  test('anonymous: no key passes as the anonymous consumer (x-anonymous-consumer: true); a wrong key is still 401', async () => {
    assert.equal((await send(gw.port, '/anon')).status, 200);
    assert.deepEqual(identity(up), { 'x-consumer-id': 'guest', 'x-consumer-groups': 'public', 'x-anonymous-consumer': 'true' });
    assertProblem(await send(gw.port, '/anon', { 'x-api-key': 'guessed' }), 401, 'invalid_api_key');
    assert.equal((await send(gw.port, '/anon', { 'x-api-key': ACME_KEY })).status, 200);
    assert.deepEqual(identity(up), { 'x-consumer-id': 'acme', 'x-consumer-username': 'acme-corp', 'x-consumer-groups': 'partners' });
  });

  test('client-sent consumer headers never reach the upstream, on routes with and without authentication', async () => {
    const spoof = {
      'x-consumer-id': 'admin', 'x-consumer-username': 'root', 'x-consumer-groups': 'admins', 'x-anonymous-consumer': 'false',
      'x-client-cert-subject': 'CN=admin', 'x-client-cert-fingerprint': 'ab:cd',
    };
    assert.equal((await send(gw.port, '/open', spoof)).status, 200);
    const open = up.seen.at(-1)!.headers;
    for (const name of Object.keys(spoof)) assert.equal(open[name], undefined, `${name} stripped on a route without auth`);
    assert.equal((await send(gw.port, '/keyed', { ...spoof, 'x-api-key': BOB_KEY })).status, 200);
    assert.deepEqual(identity(up), { 'x-consumer-id': 'bob', 'x-consumer-groups': 'internal' }, 'only the gateway\'s values, once each');
    assert.equal(up.seen.at(-1)!.headers['x-client-cert-subject'], undefined);
    assert.equal((await send(gw.port, '/anon', spoof)).status, 200);
    assert.deepEqual(identity(up), { 'x-consumer-id': 'guest', 'x-consumer-groups': 'public', 'x-anonymous-consumer': 'true' });
    const before = up.seen.length;
    assertProblem(await send(gw.port, '/keyed', spoof), 401, 'unauthorized');
    assert.equal(up.seen.length, before, 'a spoofed identity header is not a credential');
  });

  test('acl: allowed group passes, other groups 403 acl_forbidden, deny wins over allow', async () => {
    const before = up.seen.length;
    assert.equal((await send(gw.port, '/partners', { 'x-api-key': ACME_KEY })).status, 200);
    assertProblem(await send(gw.port, '/partners', { 'x-api-key': BOB_KEY }), 403, 'acl_forbidden');
    assertProblem(await send(gw.port, '/partners', { 'x-api-key': CAROL_KEY }), 403, 'acl_forbidden');
    assertProblem(await send(gw.port, '/partners'), 401, 'unauthorized');
    assert.deepEqual(up.seen.slice(before).map((s) => s.url), ['/partners']);
  });

  test('acl without an identified consumer is 401 unauthorized (no challenge); an anonymous consumer is judged by its groups', async () => {
    const before = up.seen.length;
    const none = await send(gw.port, '/acl-only', { 'x-consumer-id': 'acme', 'x-consumer-groups': 'partners' });
    assertProblem(none, 401, 'unauthorized');
    assert.equal(none.headers['www-authenticate'], undefined);
    assertProblem(await send(gw.port, '/anon-partners'), 403, 'acl_forbidden');
    assert.equal((await send(gw.port, '/anon-partners', { 'x-api-key': ACME_KEY })).status, 200);
    assert.equal(up.seen.length, before + 1);
  });

  test('rate-limit key: consumer after key-auth gives each consumer its own budget', async () => {
    for (let i = 0; i < 3; i++) assert.equal((await send(gw.port, '/limited', { 'x-api-key': ACME_KEY })).status, 200);
    assertProblem(await send(gw.port, '/limited', { 'x-api-key': ACME_KEY }), 429, 'rate_limited');
    // Another consumer from the same client address has its own budget; the first stays limited.
    for (let i = 0; i < 3; i++) assert.equal((await send(gw.port, '/limited', { 'x-api-key': BOB_KEY })).status, 200, `bob #${i}`);
    assertProblem(await send(gw.port, '/limited', { 'x-api-key': BOB_KEY }), 429, 'rate_limited');
    assertProblem(await send(gw.port, '/limited', { 'x-api-key': ACME_KEY }), 429, 'rate_limited');
    assert.equal((await send(gw.port, '/limited', { 'x-api-key': CAROL_KEY })).status, 200);
  });

  test('metrics count requests per consumer id and route; no key or key hash appears', async () => {
    const text = await metrics.registry.metrics();
    const count = (consumer: string, route: string): number => {
      const line = text.split('\n').find((l) => l.startsWith(`turnpike_consumer_requests_total{consumer="${consumer}",route="${route}"} `));
      return line === undefined ? 0 : Number(line.split(' ')[1]);
    };
    assert.ok(count('acme', 'keyed') >= 1);
    assert.ok(count('guest', 'anon') >= 2);
    assert.equal(count('bob', 'limited'), 4, 'refused requests of an identified consumer count too (3 passed, 1 limited)');
    assert.equal(count('acme', 'partners'), 1);
    assert.equal(count('bob', 'partners'), 1, 'identified, then refused by the acl');
    assert.ok(!text.includes('consumer="admin"'), 'a spoofed header is never a consumer');
    for (const key of KEYS) {
      assert.ok(!text.includes(key));
      assert.ok(!text.includes(sha(key)));
    }
  });
});

describe('key-auth config errors (turnpike validate)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'turnpike-key-auth-cfg-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const bin = fileURLToPath(new URL('../../../bin/turnpike.js', import.meta.url));

  function validate(name: string, yaml: string, env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string; file: string }> {
    const file = join(dir, name);
    writeFileSync(file, yaml);
    return new Promise((resolve) => {
      execFile(process.execPath, [bin, 'validate', '--config', file], { env: { PATH: process.env.PATH ?? '', ...env } }, (err, stdout, stderr) => {
        resolve({ code: err === null ? 0 : Number(err.code), stdout, stderr, file });
      });
    });
  }

  const yaml = `upstreams:
  up: { targets: [ { url: "http://127.0.0.1:3001" } ] }
consumers:
  - { id: acme, keys: [ { env: ACME_KEY } ] }
  - { id: bob, keys: [ { env: BOB_KEY } ] }
policies:
  keys: { key-auth: { anonymous: guest } }
routes:
  - { name: r, match: { path: /r }, upstream: up, policies: [ keys ] }
`;

  test('an unset env key, a key shared by two consumers and an unknown anonymous consumer: file:line:col, exit 1, no key shown', async () => {
    const r = await validate('bad.yaml', yaml, { BOB_KEY: 'shared-key-value' });
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `invalid configuration (2 errors):
${r.file}:4:32: consumers[0].keys[0].env: environment variable ACME_KEY is not set
${r.file}:7:34: policies.keys.key-auth.anonymous: unknown consumer "guest" (defined: acme, bob)
`);
    const dup = await validate('dup.yaml', yaml.replace('anonymous: guest', 'anonymous: bob'), { ACME_KEY: 'shared-key-value', BOB_KEY: 'shared-key-value' });
    assert.equal(dup.code, 1);
    assert.equal(dup.stderr, `invalid configuration (1 error):
${dup.file}:5:24: consumers[1].keys[0]: the same key as consumers[0].keys[0] (a key must name one consumer)
`);
    assert.ok(!dup.stderr.includes('shared-key-value'));
  });

  test('with the environment set the config is valid', async () => {
    const r = await validate('good.yaml', yaml.replace('anonymous: guest', 'anonymous: bob'), { ACME_KEY: 'a-key', BOB_KEY: 'b-key' });
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.match(r.stdout, /OK \(1 routes, 1 upstreams\)/);
  });
});
