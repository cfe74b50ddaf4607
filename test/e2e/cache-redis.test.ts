// The Redis cache store end to end: two gateway instances (workers in this
// process, as two instances would be) share entries and purges through the
// real Redis at 127.0.0.1:6379 (a unique namespace per test); a Redis that is
// not there, or dies, degrades every lookup to a miss, never to an error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startRedisServer, freePort } from '../../src/policies/rate-limit/testing/redis-server.js';
import { uniqueName } from '../../src/policies/rate-limit/testing/sequences.js';
import { startUpstream } from './helpers.js';
import { eventually, results, send, startCacheGateway } from './cache-helpers.js';

function countingOrigin(): { counts: Map<string, number>; handler: (req: IncomingMessage, res: ServerResponse) => void } {
  const counts = new Map<string, number>();
  return {
    counts,
    handler(req, res) {
      const path = (req.url ?? '').split('?')[0];
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60', vary: path.startsWith('/vary') ? 'accept-language' : 'accept-encoding' });
      res.end(`${path} ${req.headers['accept-language'] ?? ''} #${n}`);
    },
  };
}

function config(upstream: string, redisUrl: string, namespace: string): string {
  return `
redis: { url: "${redisUrl}", commandTimeout: 200ms }
upstreams:
  up: { targets: [ { url: "${upstream}" } ] }
policies:
  shared: { cache: { store: redis, namespace: ${namespace}, key: [ path, query ] } }
routes:
  - { name: cached, match: { path: /* }, upstream: up, policies: [ shared ] }
`;
}

test('two instances share entries (Vary too) and purges through Redis', async () => {
  const o = countingOrigin();
  const up = await startUpstream('up', o.handler);
  const ns = uniqueName('cache');
  const a = await startCacheGateway(config(up.url, 'redis://127.0.0.1:6379', ns));
  const b = await startCacheGateway(config(up.url, 'redis://127.0.0.1:6379', ns));
  try {
    const miss = await send(a.port, '/catalog/1');
    assert.equal(miss.headers['x-cache'], 'MISS');
    await eventually('B answers from the entry A stored', async () => (await send(b.port, '/catalog/1')).headers['x-cache'] === 'HIT');
    const hit = await send(b.port, '/catalog/1');
    assert.deepEqual([hit.body, hit.headers.vary], ['/catalog/1  #1', 'accept-encoding']);
    await send(a.port, '/vary/1', { 'accept-language': 'en' });
    await send(a.port, '/vary/1', { 'accept-language': 'de' });
    await eventually('both variants are shared', async () => {
      const [en, de] = await Promise.all([send(b.port, '/vary/1', { 'accept-language': 'en' }), send(b.port, '/vary/1', { 'accept-language': 'de' })]);
      return en.body === '/vary/1 en #1' && de.body === '/vary/1 de #2' && en.headers['x-cache'] === 'HIT';
    });
    await send(a.port, '/catalog/2');
    await send(a.port, '/other/1');
    await eventually('stored', async () => (await send(b.port, '/other/1')).headers['x-cache'] === 'HIT');
    // A purge on one instance removes the entries for every instance.
    const purged = await b.worker.command('cache-purge', { 'path-prefix': '/catalog/' }) as { purged: number };
    assert.equal(purged.purged, 2);
    assert.equal((await send(a.port, '/catalog/1')).headers['x-cache'], 'MISS');
    assert.equal((await send(a.port, '/other/1')).headers['x-cache'], 'HIT');
    const byKey = await a.worker.command('cache-purge', { 'key-prefix': '/vary/' }) as { purged: number };
    assert.equal(byKey.purged, 2, 'two variants (their Vary marker is not counted)');
    assert.equal((await send(b.port, '/vary/1', { 'accept-language': 'en' })).headers['x-cache'], 'MISS');
    assert.equal(o.counts.get('/catalog/2'), 1);
    assert.equal(await a.metric('turnpike_cache_store_errors_total{policy="shared"}'), 0);
  } finally {
    await a.close();
    await b.close();
    await up.close();
  }
});

test('an unsafe request invalidates every variant of a varied entry in Redis: none comes back with the next marker', async () => {
  const o = countingOrigin();
  const up = await startUpstream('up', o.handler);
  const gw = await startCacheGateway(config(up.url, 'redis://127.0.0.1:6379', uniqueName('cache')));
  try {
    for (const lang of ['en', 'de']) {
      await send(gw.port, '/vary/doc', { 'accept-language': lang });
      await eventually(`the ${lang} variant is stored`, async () => (await send(gw.port, '/vary/doc', { 'accept-language': lang })).headers['x-cache'] === 'HIT');
    }
    const post = await send(gw.port, '/vary/doc', { 'content-type': 'text/plain' }, 'POST', 'x');
    assert.equal(post.status, 200);
    const en = await send(gw.port, '/vary/doc', { 'accept-language': 'en' });
    assert.equal(en.headers['x-cache'], 'MISS');
    await eventually('the new en variant is stored', async () => (await send(gw.port, '/vary/doc', { 'accept-language': 'en' })).headers['x-cache'] === 'HIT');
    const de = await send(gw.port, '/vary/doc', { 'accept-language': 'de' });
    assert.equal(de.headers['x-cache'], 'MISS', 'the de variant from before the POST is not served');
    assert.equal(de.body, '/vary/doc de #5');
  } finally {
    await gw.close();
    await up.close();
  }
});

test('no Redis listening: every request is a miss served by the upstream, counted as store errors', async () => {
  const o = countingOrigin();
  const up = await startUpstream('up', o.handler);
  const gw = await startCacheGateway(config(up.url, `redis://127.0.0.1:${await freePort()}`, uniqueName('cache')));
  try {
    for (let i = 1; i <= 5; i++) {
      const r = await send(gw.port, '/item');
      assert.deepEqual([r.status, r.headers['x-cache'], r.body], [200, 'MISS', `/item  #${i}`]);
    }
    assert.ok((await gw.metric('turnpike_cache_store_errors_total{policy="shared"}')) >= 5);
    assert.equal(await gw.metric(results('shared', 'miss')), 5);
  } finally {
    await gw.close();
    await up.close();
  }
});

test('Redis dies under the gateway: misses meanwhile, hits again once it is back', async () => {
  const server = await startRedisServer();
  const o = countingOrigin();
  const up = await startUpstream('up', o.handler);
  const gw = await startCacheGateway(config(up.url, server.url, uniqueName('cache')));
  try {
    await send(gw.port, '/item');
    await eventually('stored', async () => (await send(gw.port, '/item')).headers['x-cache'] === 'HIT');
    await server.kill('SIGKILL');
    for (let i = 0; i < 5; i++) {
      const r = await send(gw.port, '/item');
      assert.deepEqual([r.status, r.headers['x-cache']], [200, 'MISS']);
    }
    await server.restart();
    await eventually('the store is used again', async () => (await send(gw.port, '/item')).headers['x-cache'] === 'HIT', 10_000);
    assert.ok((await gw.metric('turnpike_cache_store_errors_total{policy="shared"}')) >= 5);
  } finally {
    await gw.close();
    await up.close();
    await server.stop();
  }
});
