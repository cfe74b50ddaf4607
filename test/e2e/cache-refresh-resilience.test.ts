// The response cache's background refresh goes through UpstreamClient and
// so honours the upstream's circuit breaker and concurrency limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startUpstream } from './helpers.js';
import { eventually, send, startCacheGateway } from './cache-helpers.js';

test('stale-while-revalidate: a refresh is refused by the open circuit (nothing sent) and the stale entry stays', async () => {
  let failing = false;
  const counts = new Map<string, number>();
  const up = await startUpstream('up', (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    counts.set(path, (counts.get(path) ?? 0) + 1);
    if (failing) { res.writeHead(500); res.end('broken'); return; }
    res.writeHead(200, { 'content-type': 'text/plain', 'cache-control': 'max-age=1' });
    res.end(`${path} ok`);
  });
  const gw = await startCacheGateway(`
upstreams:
  up:
    targets: [ { url: "${up.url}" } ]
    passiveHealth: { consecutiveFailures: 0 }
    circuitBreaker: { consecutiveFailures: 2, openFor: 60s }
policies:
  c: { cache: { staleWhileRevalidate: 30s } }
routes:
  - { name: cached, match: { path: /cached/* }, upstream: up, policies: [ c ] }
  - { name: direct, match: { path: /direct/* }, upstream: up }
`);
  try {
    assert.equal((await send(gw.port, '/cached/doc')).body, '/cached/doc ok');
    failing = true;
    // Two 500s on the uncached route open the upstream's circuit.
    for (let i = 0; i < 2; i++) assert.equal((await send(gw.port, '/direct/x')).status, 500);
    assert.equal((await send(gw.port, '/direct/x')).status, 503, 'the circuit is open');
    await new Promise((r) => setTimeout(r, 1200)); // past max-age=1
    const before = counts.get('/cached/doc');
    const stale = await send(gw.port, '/cached/doc');
    assert.deepEqual([stale.status, stale.headers['x-cache'], stale.body], [200, 'STALE', '/cached/doc ok']);
    await eventually('the refresh failed', async () => (await gw.metric('turnpike_cache_refreshes_total{policy="c",outcome="failed"}')) === 1);
    assert.equal(counts.get('/cached/doc'), before, 'the open circuit kept the refresh from the upstream');
    assert.equal((await send(gw.port, '/cached/doc')).headers['x-cache'], 'STALE');
  } finally {
    await gw.close();
    await up.close();
  }
});
