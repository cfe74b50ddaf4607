// Serving stale entries end to end: stale-if-error (upstream 5xx, refused
// connection, no healthy target, timeout), its limits (must-revalidate, the
// window), and stale-while-revalidate's background refresh.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startUpstream } from './helpers.js';
import { eventually, results, send, startCacheGateway } from './cache-helpers.js';

/** An origin whose behaviour the test switches; counts requests per path. */
function switchableOrigin(): { mode: { value: 'ok' | '500' | 'hang' }; counts: Map<string, number>; handler: (req: IncomingMessage, res: ServerResponse) => void } {
  const mode = { value: 'ok' as 'ok' | '500' | 'hang' };
  const counts = new Map<string, number>();
  return {
    mode, counts,
    handler(req, res) {
      const path = (req.url ?? '').split('?')[0];
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      if (mode.value === 'hang') return; // never answers
      if (mode.value === '500') {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('origin broke');
        return;
      }
      const cc = path === '/strict' ? 'max-age=0, must-revalidate' : path === '/short-window' ? 'max-age=0, stale-if-error=1' : 'max-age=0';
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': cc });
      res.end(`good ${path} #${n}`);
    },
  };
}

test('stale-if-error: an upstream 5xx, a refused connection and then no healthy target are answered with the stale entry', async () => {
  const o = switchableOrigin();
  const up = await startUpstream('up', o.handler);
  const gw = await startCacheGateway(`
upstreams:
  up: { targets: [ { url: "${up.url}" } ], passiveHealth: { consecutiveFailures: 1, ejectTime: 30s, count5xx: false }, panicThreshold: 0% }
policies:
  c: { cache: { staleIfError: 1m } }
routes:
  - { name: cached, match: { path: /* }, upstream: up, policies: [ c ] }
`);
  try {
    for (const path of ['/item', '/strict', '/short-window']) assert.equal((await send(gw.port, path)).body, `good ${path} #1`);
    // Stale on arrival (max-age=0): each request goes upstream, and gets the new response while it works.
    assert.deepEqual([(await send(gw.port, '/item')).body, (await send(gw.port, '/item')).headers['x-cache']], ['good /item #2', 'MISS']);
    o.mode.value = '500';
    const on500 = await send(gw.port, '/item');
    assert.deepEqual([on500.status, on500.headers['x-cache'], on500.body], [200, 'STALE', 'good /item #3']);
    assert.match(String(on500.headers.age), /^\d+$/);
    // must-revalidate: never stale; the upstream's 500 goes through.
    assert.equal((await send(gw.port, '/strict')).status, 500);
    // The response's own stale-if-error=1 beats the config's minute.
    await new Promise((r) => setTimeout(r, 1200));
    assert.equal((await send(gw.port, '/short-window')).status, 500);
    await up.close();
    const refused = await send(gw.port, '/item');
    assert.deepEqual([refused.status, refused.headers['x-cache'], refused.body], [200, 'STALE', 'good /item #3']);
    // The refused connection ejected the only target: now the gateway itself answers 503 upstream_unavailable.
    const ejected = await send(gw.port, '/item');
    assert.deepEqual([ejected.status, ejected.headers['x-cache']], [200, 'STALE']);
    const strict = await send(gw.port, '/strict');
    assert.equal(strict.status, 503);
    assert.equal(JSON.parse(strict.body).code, 'upstream_unavailable');
    assert.equal(strict.headers['x-cache'], 'MISS');
    const none = await send(gw.port, '/never-stored');
    assert.equal(none.status, 503);
    assert.equal(await gw.metric(results('c', 'stale')), 3);
  } finally {
    await gw.close();
    await up.close();
  }
});

test('stale-if-error on an upstream timeout (504)', async () => {
  const o = switchableOrigin();
  const up = await startUpstream('up', o.handler);
  const gw = await startCacheGateway(`
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
policies:
  c: { cache: { staleIfError: 1m } }
routes:
  - { name: cached, match: { path: /* }, upstream: up, policies: [ c ], timeout: 400ms }
`);
  try {
    await send(gw.port, '/slow');
    o.mode.value = 'hang';
    const r = await send(gw.port, '/slow');
    assert.deepEqual([r.status, r.headers['x-cache'], r.body], [200, 'STALE', 'good /slow #1']);
    const fresh = await send(gw.port, '/never-stored');
    assert.equal(fresh.status, 504);
    assert.equal(JSON.parse(fresh.body).code, 'upstream_timeout');
  } finally {
    await gw.close();
    await up.close();
  }
});

test('stale-while-revalidate: stale answers at once, one background refresh per key, then the refreshed entry', async () => {
  let version = 1;
  const counts = new Map<string, number>();
  const seen: IncomingMessage['headers'][] = [];
  const up = await startUpstream('up', (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    counts.set(path, (counts.get(path) ?? 0) + 1);
    seen.push(req.headers);
    const delay = (counts.get(path) ?? 0) > 1 ? 600 : 0; // refreshes are slow: the stale answers must not wait
    setTimeout(() => {
      if (path === '/etag' && req.headers['if-none-match'] === '"e1"') {
        res.writeHead(304, { etag: '"e1"', 'cache-control': 'max-age=60' });
        res.end();
        return;
      }
      // why max-age=60 on refreshes: a refresh is 600 ms slow and its age counts that delay, so a 1 s lifetime
      // would leave the refreshed entry fresh for only ~0.4 s, too short for a loaded CI machine.
      const maxAge = (counts.get(path) ?? 0) > 1 ? 60 : 1;
      res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': `max-age=${maxAge}`, ...(path === '/etag' ? { etag: '"e1"' } : {}) });
      res.end(`${path} v${version}`);
    }, delay);
  });
  const gw = await startCacheGateway(`
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
policies:
  c: { cache: { staleWhileRevalidate: 30s } }
routes:
  - { name: cached, match: { path: /api/* }, upstream: up, rewrite: "/*", policies: [ c ] }
`);
  try {
    assert.equal((await send(gw.port, '/api/doc')).body, '/doc v1');
    assert.equal((await send(gw.port, '/api/etag')).body, '/etag v1');
    await new Promise((r) => setTimeout(r, 1300)); // past max-age=1
    version = 2;
    const stale = await Promise.all(Array.from({ length: 10 }, () => send(gw.port, '/api/doc', { 'x-client': 'c1' })));
    for (const r of stale) assert.deepEqual([r.status, r.headers['x-cache'], r.body], [200, 'STALE', '/doc v1']);
    await eventually('the refresh reached the upstream', () => counts.get('/doc') === 2);
    const refresh = seen.at(-1)!;
    assert.equal(refresh['x-client'], 'c1', 'the refresh repeats the request that found the stale entry');
    assert.equal(refresh['x-forwarded-for'], '127.0.0.1');
    await eventually('the refreshed entry is served', async () => (await send(gw.port, '/api/doc')).body === '/doc v2');
    const hit = await send(gw.port, '/api/doc');
    assert.deepEqual([hit.headers['x-cache'], hit.body], ['HIT', '/doc v2']);
    assert.equal(counts.get('/doc'), 2, 'one refresh for ten stale answers');
    assert.equal(await gw.metric('turnpike_cache_refreshes_total{policy="c",outcome="updated"}'), 1);
    // With a validator, the refresh is conditional and a 304 keeps the body.
    const s2 = await send(gw.port, '/api/etag');
    assert.deepEqual([s2.headers['x-cache'], s2.body], ['STALE', '/etag v1']);
    await eventually('the 304 refreshed the entry', async () => (await gw.metric('turnpike_cache_refreshes_total{policy="c",outcome="revalidated"}')) === 1);
    assert.equal(seen.at(-1)!['if-none-match'], '"e1"');
    const h2 = await send(gw.port, '/api/etag');
    assert.deepEqual([h2.headers['x-cache'], h2.body], ['HIT', '/etag v1']);
  } finally {
    await gw.close();
    await up.close();
  }
});

test('stale-if-error while the circuit breaker is open: the stale entry, and the upstream sees nothing', async () => {
  const o = switchableOrigin();
  const up = await startUpstream('up', o.handler);
  const gw = await startCacheGateway(`
upstreams:
  up:
    targets: [ { url: "${up.url}" } ]
    passiveHealth: { consecutiveFailures: 0 }
    circuitBreaker: { consecutiveFailures: 2, openFor: 60s }
policies:
  c: { cache: { staleIfError: 1m } }
routes:
  - { name: cached, match: { path: /* }, upstream: up, policies: [ c ] }
`);
  try {
    assert.equal((await send(gw.port, '/item')).body, 'good /item #1');
    o.mode.value = '500';
    // Two 500s open the circuit; each is answered from the stale entry.
    for (let i = 0; i < 2; i++) assert.equal((await send(gw.port, '/item')).headers['x-cache'], 'STALE');
    const seen = o.counts.get('/item');
    const open = await send(gw.port, '/item');
    assert.deepEqual([open.status, open.headers['x-cache'], open.body], [200, 'STALE', 'good /item #1']);
    assert.equal(o.counts.get('/item'), seen, 'the open circuit sent nothing upstream');
    // Without a stale entry the open circuit's own problem goes through.
    const fresh = await send(gw.port, '/other');
    assert.equal(fresh.status, 503);
    assert.equal(JSON.parse(fresh.body).code, 'circuit_open');
    assert.match(String(fresh.headers['retry-after']), /^\d+$/);
  } finally {
    await gw.close();
    await up.close();
  }
});
