// Cache purges through the real admin API of a two-worker gateway process:
// DELETE /cache reaches every worker (each purges its own memory store), by
// path prefix and by key prefix; bad arguments are a 400 problem.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { freePort, httpGet, startGateway, type Gateway } from './fixtures/gateway-process.js';

const counts = new Map<string, number>();
let origin: Server;
let originUrl = '';
let gw: Gateway | null = null;

before(async () => {
  origin = createServer((req, res) => {
    const path = req.url ?? '';
    counts.set(path, (counts.get(path) ?? 0) + 1);
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=300' });
    res.end(`${path} #${counts.get(path)}`);
  });
  origin.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
  originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
});

after(async () => {
  gw?.cleanup();
  origin.closeAllConnections();
  await new Promise<void>((resolve) => origin.close(() => resolve()));
});

/**
 * Requests `path` on fresh connections (the kernel spreads them over both
 * workers) until both workers have fetched it, i.e. the origin saw it
 * `want` times in all; each worker then holds it.
 */
async function fillBothWorkers(port: number, path: string, want: number): Promise<void> {
  for (let i = 0; i < 400 && (counts.get(path) ?? 0) < want; i++) {
    const r = await httpGet(port, path);
    assert.equal(r.status, 200);
  }
  assert.equal(counts.get(path), want, `${path}: both workers fetched it once`);
  // Every further request is a hit in whichever worker answers it.
  for (let i = 0; i < 20; i++) assert.equal((await httpGet(port, path)).headers['x-cache'], 'HIT');
  assert.equal(counts.get(path), want);
}

interface PurgeAnswer { workers: Array<{ worker: number; pid: number; result?: { purged: number; policies: Record<string, number> }; error?: string }> }

test('DELETE /cache purges every worker by path prefix and by key prefix; bad arguments are a 400 problem', async () => {
  const port = await freePort();
  const adminPort = await freePort();
  gw = await startGateway(`server: { host: 127.0.0.1, port: ${port}, workers: 2, gracePeriod: 2s }
admin: { host: 127.0.0.1, port: ${adminPort} }
upstreams:
  a: { targets: [ { url: "${originUrl}" } ] }
policies:
  c: { cache: { key: [ path, query ] } }
routes:
  - { name: r, match: { path: /* }, upstream: a, policies: [ c ] }
`);
  for (const p of ['/catalog/1', '/catalog/2', '/other/1']) await fillBothWorkers(port, p, 2);

  const byPath = await httpGet(adminPort, '/cache?path-prefix=/catalog/', { method: 'DELETE' });
  assert.equal(byPath.status, 200);
  const answer = JSON.parse(byPath.body) as PurgeAnswer;
  assert.equal(answer.workers.length, 2);
  assert.equal(new Set(answer.workers.map((w) => w.pid)).size, 2);
  for (const w of answer.workers) assert.deepEqual(w.result, { purged: 2, policies: { c: 2 } }, JSON.stringify(w));
  // Both workers fetch the purged paths again; the other path is still cached in both.
  for (const p of ['/catalog/1', '/catalog/2']) await fillBothWorkers(port, p, 4);
  for (let i = 0; i < 20; i++) assert.equal((await httpGet(port, '/other/1')).headers['x-cache'], 'HIT');
  assert.equal(counts.get('/other/1'), 2);

  // With key: [path, query] a key prefix is a path prefix too.
  const byKey = await httpGet(adminPort, '/cache?key-prefix=/other&policy=c', { method: 'DELETE' });
  assert.equal(byKey.status, 200);
  for (const w of (JSON.parse(byKey.body) as PurgeAnswer).workers) assert.deepEqual(w.result, { purged: 1, policies: { c: 1 } });
  await fillBothWorkers(port, '/other/1', 4);
  assert.equal(counts.get('/catalog/1'), 4);

  for (const [query, detail] of [
    ['', 'give exactly one of key-prefix and path-prefix'],
    ['?key-prefix=a&path-prefix=/b', 'give exactly one of key-prefix and path-prefix, not both'],
    ['?path-prefix=', 'path-prefix must not be empty'],
    ['?prefix=/a', 'unknown parameter "prefix" (use key-prefix or path-prefix, and optionally policy)'],
  ]) {
    const bad = await httpGet(adminPort, '/cache' + query, { method: 'DELETE' });
    assert.equal(bad.status, 400, query);
    assert.equal(bad.headers['content-type'], 'application/problem+json');
    const problem = JSON.parse(bad.body) as { code: string; detail: string };
    assert.deepEqual([problem.code, problem.detail], ['bad_request', detail]);
  }
  const unknown = JSON.parse((await httpGet(adminPort, '/cache?path-prefix=/&policy=nope', { method: 'DELETE' })).body) as PurgeAnswer;
  for (const w of unknown.workers) assert.match(w.error ?? '', /no cache policy "nope" \(defined: c\)/);
  const get = await httpGet(adminPort, '/cache?path-prefix=/');
  assert.equal(get.status, 405);
  assert.equal(get.headers.allow, 'DELETE');
});
