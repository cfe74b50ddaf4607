// Routes the cache leaves alone: transcoded (REST→gRPC) routes are not
// considered at all (X-Cache: BYPASS, every request reaches the upstream), so
// a global cache policy costs them nothing and never holds their requests.
// Routes whose responseBody policies transform bodies are cached: the entry is
// the upstream's response, and every hit goes through the body phase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { startLibraryServer } from '../../loadtest/upstream/library-grpc-server.js';
import { send, startCacheGateway } from './cache-helpers.js';
import { startUpstream } from './helpers.js';
import { testSpec, withTestKind } from './test-policy-kind.js';

const PROTOS = resolve('config/protos');
const LIBRARY = join(PROTOS, 'example/library/v1/library.proto');

test('transcoded GETs bypass a global cache policy', async () => {
  const srv = await startLibraryServer(LIBRARY, PROTOS);
  const gw = await startCacheGateway(`
upstreams:
  library: { targets: [ { url: "h2c://127.0.0.1:${srv.port}" } ], protocol: grpc }
policies:
  c: { cache: { ttl: 60s } }
globalPolicies: [ c ]
grpc:
  - upstream: library
    protos: [ "${LIBRARY}" ]
    includeDirs: [ "${PROTOS}" ]
    services: [ example.library.v1.LibraryService ]
`);
  try {
    const before = srv.calls;
    const replies = await Promise.all([1, 2, 3].map(() => send(gw.port, '/v1/shelves/1')));
    for (const r of replies) assert.deepEqual([r.status, r.headers['x-cache']], [200, 'BYPASS'], r.body);
    assert.equal(srv.calls - before, 3);
    assert.equal((await send(gw.port, '/v1/shelves/1')).headers['x-cache'], 'BYPASS');
  } finally {
    await gw.close();
    await srv.stop();
  }
});

test('a route with a responseBody policy caches the upstream response and runs the body phase on every hit', async () => {
  let n = 0;
  const up = await startUpstream('up', (_req, res) => {
    const m = ++n;
    setTimeout(() => { res.writeHead(200, { 'cache-control': 'max-age=60' }); res.end(`body ${m}`); }, 200);
  });
  let phases = 0;
  const gw = await startCacheGateway(`
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
policies:
  c: { cache: {} }
routes:
  - { name: shout, match: { path: /shout }, upstream: up, policies: [ c ] }
  - { name: plain, match: { path: /plain }, upstream: up, policies: [ c ] }
`, (config) => {
    config.routes[0].policies.push(testSpec('upper', {
      name: 'test:upper',
      responseBody: (_ctx, res) => { phases++; res.body = Buffer.from(res.body.toString().toUpperCase() + '!'); return undefined; },
    }));
  }, withTestKind());
  try {
    const replies = await Promise.all([1, 2, 3].map(() => send(gw.port, '/shout')));
    for (const r of replies) assert.deepEqual([r.status, r.body], [200, 'BODY 1!']);
    assert.deepEqual(replies.map((r) => r.headers['x-cache']).sort(), ['HIT', 'HIT', 'MISS'], 'one fill, two coalesced');
    const hit = await send(gw.port, '/shout');
    assert.deepEqual([hit.status, hit.headers['x-cache'], hit.body, hit.headers['content-length']], [200, 'HIT', 'BODY 1!', '7']);
    assert.equal(n, 1, 'one upstream request');
    assert.equal(phases, 4, 'the body phase ran for the fill and for each hit');
    await send(gw.port, '/plain');
    const plain = await send(gw.port, '/plain');
    assert.deepEqual([plain.headers['x-cache'], plain.body], ['HIT', 'body 2'], 'the other route of the same policy caches, untransformed');
  } finally {
    await gw.close();
    await up.close();
  }
});
