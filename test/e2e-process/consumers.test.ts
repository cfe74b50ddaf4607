// Consumers through the real CLI: key-auth with keys from sha256, env and a
// file; the admin API (/consumers, /routes, /readyz, /metrics) and the logs
// never show a key or its hash; a reload re-reads a rotated key file.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, httpGet, sample, startGateway, waitUntil, type Gateway } from './fixtures/gateway-process.js';
import { startUpstream, type Upstream } from './fixtures/upstreams.js';

const sha = (key: string): string => createHash('sha256').update(key).digest('hex');
const ACME_KEY = 'acme-proc-5f1e2d3c4b5a6978';
const BOB_KEY = 'bob-proc-a1b2c3d4e5f60718';
const CAROL_KEY = 'carol-proc-0f9e8d7c6b5a4938';
const CAROL_ROTATED = 'carol-proc-rotated-11223344';
const UPSTREAM_TOKEN = 'upstream-static-token-6a5b4c';
const SECRETS = [ACME_KEY, BOB_KEY, CAROL_KEY, CAROL_ROTATED].flatMap((k) => [k, sha(k)]).concat(UPSTREAM_TOKEN);

/** GET with an x-api-key (fresh connection); resolves with the status. */
function getWithKey(port: number, path: string, key: string | null): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, headers: key === null ? {} : { 'x-api-key': key } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

function assertNoSecrets(text: string, where: string): void {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${where} shows no key or key hash`);
}

let up: Upstream;
let gw: Gateway | null = null;
let dir: string;

before(async () => {
  up = await startUpstream('A');
  dir = mkdtempSync(join(tmpdir(), 'turnpike-consumers-proc-'));
});

after(async () => {
  gw?.cleanup();
  await up.close();
  rmSync(dir, { recursive: true, force: true });
});

test('admin /consumers, /routes, /readyz, /metrics and the logs never show key material; SIGHUP re-reads a key file', async () => {
  const carolFile = join(dir, 'carol.key');
  writeFileSync(carolFile, CAROL_KEY + '\n');
  const port = await freePort();
  const adminPort = await freePort();
  const yaml = `server: { host: 127.0.0.1, port: ${port}, workers: 2, gracePeriod: 5s, logLevel: info }
admin: { host: 127.0.0.1, port: ${adminPort} }
upstreams:
  a: { targets: [ { url: "${up.url}" } ] }
consumers:
  - { id: acme, username: acme-corp, groups: [ partners ], keys: [ { sha256: "${sha(ACME_KEY)}", name: ci } ] }
  - { id: bob, groups: [ internal ], keys: [ { env: BOB_API_KEY } ] }
  - { id: carol, keys: [ { file: "${carolFile}", name: laptop } ] }
policies:
  keys: { key-auth: { header: x-api-key, query: null, hideCredentials: true, anonymous: null } }
  partners-only: { acl: { allow: [ partners ] } }
routes:
  - { name: keyed, match: { path: /keyed }, upstream: a, policies: [ keys ] }
  - { name: partners, match: { path: /partners }, upstream: a, policies: [ keys, partners-only ] }
  - name: to-legacy
    match: { path: /legacy }
    upstream: a
    policies: [ keys, { headers: { request: { set: { authorization: "Bearer ${UPSTREAM_TOKEN}" } } } } ]
`;
  gw = await startGateway(yaml, { env: { BOB_API_KEY: BOB_KEY } });
  const g = gw;
  assert.equal(await getWithKey(port, '/keyed', ACME_KEY), 200);
  assert.equal(await getWithKey(port, '/keyed', BOB_KEY), 200);
  assert.equal(await getWithKey(port, '/keyed', CAROL_KEY), 200);
  assert.equal(await getWithKey(port, '/keyed', 'nope'), 401);
  assert.equal(await getWithKey(port, '/partners', ACME_KEY), 200);
  assert.equal(await getWithKey(port, '/partners', BOB_KEY), 403);

  const consumers = await httpGet(adminPort, '/consumers');
  assert.equal(consumers.status, 200);
  assert.deepEqual(JSON.parse(consumers.body), {
    consumers: [
      { id: 'acme', username: 'acme-corp', groups: ['partners'], keys: [{ name: 'ci', source: 'sha256' }] },
      { id: 'bob', username: '', groups: ['internal'], keys: [{ name: 'key-0', source: 'env' }] },
      { id: 'carol', username: '', groups: [], keys: [{ name: 'laptop', source: 'file' }] },
    ],
  });
  assertNoSecrets(consumers.body, '/consumers');
  const routes = await httpGet(adminPort, '/routes');
  assert.equal(routes.status, 200);
  assert.match(routes.body, /key-auth/);
  assert.match(routes.body, /"authorization":"\[redacted\]"/, 'a static upstream credential is redacted');
  assertNoSecrets(routes.body, '/routes');
  assertNoSecrets((await httpGet(adminPort, '/readyz')).body, '/readyz');
  let metrics = '';
  await waitUntil('the consumer counters are scraped', async () => {
    metrics = (await httpGet(adminPort, '/metrics')).body;
    return sample(metrics, 'turnpike_consumer_requests_total{consumer="bob",route="partners"}') === 1;
  });
  assert.equal(sample(metrics, 'turnpike_consumer_requests_total{consumer="acme",route="keyed"}'), 1);
  assert.equal(sample(metrics, 'turnpike_consumer_requests_total{consumer="carol",route="keyed"}'), 1);
  assertNoSecrets(metrics, '/metrics');

  // Rotate carol's key file and reload: the new key works, the old one is refused.
  writeFileSync(carolFile, CAROL_ROTATED + '\n');
  process.kill(g.pid, 'SIGHUP');
  await g.waitForLine((l) => l.msg === 'reloaded' && l.generation === 2, 10_000, 'the "reloaded" line');
  await waitUntil('the new generation serves the rotated key', async () => (await getWithKey(port, '/keyed', CAROL_ROTATED)) === 200);
  await waitUntil('the old generation is gone', async () => (await getWithKey(port, '/keyed', CAROL_KEY)) === 401);
  assert.equal(await getWithKey(port, '/keyed', BOB_KEY), 200, 'env keys are read again on reload');
  assertNoSecrets(g.out.stdout + g.out.stderr, 'the logs');
});
