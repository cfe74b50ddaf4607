// Request coalescing end to end: concurrent misses for one key make one
// upstream request; when the response turns out not cacheable (or too large)
// the waiting requests go upstream themselves.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startUpstream, type TestUpstream } from './helpers.js';
import { results, send, startCacheGateway, type CacheGateway } from './cache-helpers.js';

const counts = new Map<string, number>();
const hits = (path: string): number => counts.get(path) ?? 0;

function origin(req: IncomingMessage, res: ServerResponse): void {
  const path = (req.url ?? '').split('?')[0];
  const n = (counts.get(path) ?? 0) + 1;
  counts.set(path, n);
  // Slow enough that every concurrent request arrives while the first is upstream.
  setTimeout(() => {
    if (path.startsWith('/nostore')) {
      res.writeHead(200, { 'cache-control': 'no-store' });
      res.end(`#${n}`);
    } else if (path.startsWith('/huge')) {
      res.writeHead(200, { 'cache-control': 'max-age=60' });
      res.end(Buffer.alloc(200_000, 120));
    } else if (path.startsWith('/reval')) {
      if (req.headers['if-none-match'] === '"r"') {
        res.writeHead(304, { etag: '"r"', 'cache-control': 'max-age=0' });
        res.end();
      } else {
        res.writeHead(200, { etag: '"r"', 'cache-control': 'max-age=0' });
        res.end(`body #${n}`);
      }
    } else {
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=60' });
      res.end(`shared ${path} #${n}`);
    }
  }, 1000);
}

describe('request coalescing', () => {
  let up: TestUpstream;
  let gw: CacheGateway;
  before(async () => {
    up = await startUpstream('up', origin);
    gw = await startCacheGateway(`
upstreams:
  up: { targets: [ { url: "${up.url}" } ], connections: 256 }
policies:
  c: { cache: { maxEntry: 100kb } }
routes:
  - { name: cached, match: { path: /* }, upstream: up, policies: [ c ], timeout: 20s }
`);
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  test('100 concurrent misses for one key make one upstream request; all get its response', async () => {
    const replies = await Promise.all(Array.from({ length: 100 }, () => send(gw.port, '/item/1')));
    assert.equal(hits('/item/1'), 1);
    for (const r of replies) {
      assert.equal(r.status, 200);
      assert.equal(r.body, 'shared /item/1 #1');
    }
    const caches = replies.map((r) => r.headers['x-cache']);
    assert.equal(caches.filter((c) => c === 'MISS').length, 1);
    assert.equal(caches.filter((c) => c === 'HIT').length, 99);
    // Requests that arrived after the fill (a very slow machine) are plain hits.
    const coalesced = await gw.metric(results('c', 'coalesced'));
    assert.equal(coalesced + (await gw.metric(results('c', 'hit'))), 99);
    assert.ok(coalesced >= 50, `${coalesced} coalesced`);
    // HEAD requests wait on the GET fill too.
    const mixed = await Promise.all([send(gw.port, '/item/2'), send(gw.port, '/item/2', {}, 'HEAD'), send(gw.port, '/item/2')]);
    assert.deepEqual(mixed.map((r) => r.status), [200, 200, 200]);
    assert.equal(mixed[1].body, '');
    assert.equal(hits('/item/2'), 1);
  });

  test('a response that may not be stored sends the waiting requests upstream themselves (hit-for-pass)', async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, () => send(gw.port, '/nostore/1')));
    assert.equal(hits('/nostore/1'), 20);
    assert.deepEqual(new Set(replies.map((r) => r.status)), new Set([200]));
    assert.deepEqual(new Set(replies.map((r) => r.headers['x-cache'])), new Set(['MISS']));
    assert.equal(new Set(replies.map((r) => r.body)).size, 20, 'each got its own upstream response');
  });

  test('a body over maxEntry: the leader streams it uncached, the waiters fetch it themselves', async () => {
    const replies = await Promise.all(Array.from({ length: 5 }, () => fetch(`${gw.base}/huge/1`).then(async (r) => (await r.arrayBuffer()).byteLength)));
    assert.deepEqual(replies, [200_000, 200_000, 200_000, 200_000, 200_000]);
    assert.equal(hits('/huge/1'), 5);
  });

  test('concurrent requests for a stale entry share one revalidation', async () => {
    await send(gw.port, '/reval/1');
    const replies = await Promise.all(Array.from({ length: 30 }, () => send(gw.port, '/reval/1')));
    assert.equal(hits('/reval/1'), 2, 'the fill and one conditional request');
    for (const r of replies) assert.deepEqual([r.status, r.body, r.headers['x-cache']], [200, 'body #1', 'HIT']);
  });
});
