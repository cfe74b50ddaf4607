// The transform policy kind end to end: a real upstream (plain, gzip, br,
// deflate, invalid JSON, text, large and chunked bodies, cacheable), one
// gateway worker in this process with its own metrics registry.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { brotliCompressSync, brotliDecompressSync, deflateSync, gunzipSync, gzipSync } from 'node:zlib';
import { join, resolve } from 'node:path';
import { startLibraryServer } from '../../loadtest/upstream/library-grpc-server.js';
import { startCacheGateway, type CacheGateway } from './cache-helpers.js';
import { startUpstream, type TestUpstream } from './helpers.js';

const PROTOS = resolve('config/protos');
const LIBRARY = join(PROTOS, 'example/library/v1/library.proto');

interface Reply { status: number; headers: IncomingHttpHeaders; raw: Buffer; body: string }

/** One request on a fresh connection; the body as raw bytes too (compressed answers). */
function call(port: number, path: string, headers: OutgoingHttpHeaders = {}, method = 'GET', body?: Buffer | string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const raw = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, raw, body: raw.toString() });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = (r: Reply): unknown => JSON.parse(r.body);

const USER = {
  id: 7, name: 'Ann', email: 'ann@example.com', password: 'secret', passwordHint: 'cat', role: 'admin',
  address: { city: 'Oslo', street: 'Main 1' },
};
const PUBLIC_USER = { id: 7, name: 'Ann', email: 'ann@example.com', address: { city: 'Oslo' }, apiVersion: 2 };
/** A user whose projection stays over 1 KiB (so it is worth compressing again). */
const BIG_USER = { ...USER, name: 'N'.repeat(3000) };
const BIG_PUBLIC = { ...PUBLIC_USER, name: BIG_USER.name };
/** 5000+ bytes of JSON (over the 2kb limit of the `small` policies). */
const LARGE = JSON.stringify({ id: 1, pad: 'x'.repeat(5000) });

describe('transform policy (real gateway, real upstream)', () => {
  let up: TestUpstream;
  let gw: CacheGateway;
  let cachedCalls = 0;

  before(async () => {
    up = await startUpstream('api', (req, res, body) => {
      const last = (req.url ?? '').split('?')[0].split('/').pop() ?? '';
      const send = (status: number, headers: Record<string, string>, payload: string | Buffer): void => { res.writeHead(status, headers); res.end(payload); };
      const JSON_CT = { 'content-type': 'application/json; charset=utf-8' };
      switch (last) {
        case 'echo':
          return send(200, JSON_CT, JSON.stringify({ got: body.toString('latin1'), encoding: req.headers['content-encoding'] ?? null, length: req.headers['content-length'] ?? null }));
        case 'created': return send(201, { ...JSON_CT, etag: '"v1"' }, JSON.stringify(USER));
        case 'gzip': return send(200, { ...JSON_CT, 'content-encoding': 'gzip' }, gzipSync(JSON.stringify(USER)));
        case 'gzip-big': return send(200, { ...JSON_CT, 'content-encoding': 'gzip', vary: 'Accept-Encoding' }, gzipSync(JSON.stringify(BIG_USER)));
        case 'br-big': return send(200, { ...JSON_CT, 'content-encoding': 'br' }, brotliCompressSync(JSON.stringify(BIG_USER)));
        case 'deflate': return send(200, { ...JSON_CT, 'content-encoding': 'deflate' }, deflateSync(JSON.stringify(USER)));
        case 'bad-gzip': return send(200, { ...JSON_CT, 'content-encoding': 'gzip' }, 'not gzip at all');
        case 'zstd': return send(200, { ...JSON_CT, 'content-encoding': 'zstd' }, 'opaque');
        case 'invalid': return send(200, JSON_CT, '{"id": 7, "name": "Ann",');
        case 'deep': return send(200, JSON_CT, '{"id":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}');
        case 'text': return send(200, { 'content-type': 'text/plain' }, 'plain {"password":"x"}');
        case 'problem': return send(404, { 'content-type': 'application/problem+json' }, '{"title":"nope","password":"x"}');
        case 'empty': return send(200, JSON_CT, '');
        case 'large': return send(200, JSON_CT, LARGE);
        case 'chunked': {
          // No Content-Length: the gateway learns the size only as the chunks come.
          res.writeHead(200, JSON_CT);
          let at = 0;
          const next = (): void => {
            if (at >= LARGE.length) { res.end(); return; }
            res.write(LARGE.slice(at, at + 1000));
            at += 1000;
            setTimeout(next, 2);
          };
          return next();
        }
        case 'cached': cachedCalls++; return send(200, { ...JSON_CT, 'cache-control': 'max-age=60' }, JSON.stringify({ ...USER, n: cachedCalls }));
        case 'list': return send(200, JSON_CT, JSON.stringify({ items: [{ id: 1, secret: 's', x: 1 }, { id: 2, x: 2 }], meta: { total: 2 }, metaNote: 'n', other: true }));
        default: return send(200, JSON_CT, JSON.stringify(USER));
      }
    });
    gw = await startCacheGateway(`
upstreams:
  api: { targets: [ { url: "${up.url}" } ] }
policies:
  public-user:
    transform:
      request:  { json: { set: { source: gateway, "meta.client": "\${header.x-client}" }, remove: [ internalFlag ], rename: { userName: username } } }
      response: { json: { allow: [ id, name, email, "address.city" ], remove: [ "password*" ], set: { apiVersion: 2 } }, status: { 201: 200 } }
  requests:
    transform: { request: { json: { set: { source: gateway, "meta.client": "\${header.x-client}" }, remove: [ internalFlag ], rename: { userName: username } } } }
  small:
    transform: { maxBody: 2kb, request: { json: { set: { t: true } } }, response: { json: { set: { t: true } } } }
  small-fail:
    transform: { maxBody: 2kb, oversize: fail, response: { json: { set: { t: true } } } }
  lists:
    transform: { response: { json: { allow: [ "items[].id", "items[].secret", "meta*" ], remove: [ "items[].secret" ], rename: { metaNote: note } } } }
  per-client:
    transform: { response: { json: { allow: [ id, n ], set: { client: "\${header.x-client}" } } } }
  c: { cache: {} }
routes:
  - { name: users, match: { path: /users/* }, upstream: api, policies: [ public-user ] }
  - { name: req, match: { path: /req/* }, upstream: api, policies: [ requests ] }
  - { name: small, match: { path: /small/* }, upstream: api, policies: [ small ] }
  - { name: fail, match: { path: /fail/* }, upstream: api, policies: [ small-fail ] }
  - { name: lists, match: { path: /lists/* }, upstream: api, policies: [ lists ] }
  - { name: cached, match: { path: /cached/* }, upstream: api, policies: [ c, per-client ] }
`);
  });
  after(async () => { await gw?.close(); await up?.close(); });

  const series = (route: string, policy: string, side: string, result: string): string =>
    `turnpike_transform_bodies_total{route="${route}",policy="${policy}",side="${side}",result="${result}"}`;

  test('the contract response block: projection, glob removal, set, status 201 → 200, length recomputed, ETag weakened', async () => {
    const r = await call(gw.port, '/users/created');
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(json(r), PUBLIC_USER);
    assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body)));
    assert.equal(r.headers.etag, 'W/"v1"');
    const plain = await call(gw.port, '/users/1');
    assert.deepEqual([plain.status, json(plain)], [200, PUBLIC_USER]);
    // HEAD: the upstream's length is not the transformed GET's, so none is sent.
    const head = await call(gw.port, '/users/1', {}, 'HEAD');
    assert.deepEqual([head.status, head.headers['content-length'], head.raw.length], [200, undefined, 0]);
    assert.ok(await gw.metric(series('users', 'public-user', 'response', 'transformed')) >= 2);
  });

  test('arrays, globs and renames in one projection', async () => {
    const r = await call(gw.port, '/lists/list');
    assert.deepEqual(json(r), { items: [{ id: 1 }, { id: 2 }], meta: { total: 2 }, note: 'n' });
  });

  test('the contract request block: set with a header variable, remove, rename; Content-Length recomputed upstream', async () => {
    const sent = JSON.stringify({ userName: 'ann', internalFlag: true, keep: [1, 2] });
    const r = await call(gw.port, '/req/echo', { 'content-type': 'application/json', 'x-client': 'ios "17"' }, 'POST', sent);
    assert.equal(r.status, 200, r.body);
    const echoed = json(r) as { got: string; encoding: string | null; length: string };
    assert.deepEqual(JSON.parse(echoed.got), { keep: [1, 2], username: 'ann', source: 'gateway', meta: { client: 'ios "17"' } });
    assert.equal(echoed.length, String(Buffer.byteLength(echoed.got)));
    assert.equal(await gw.metric(series('req', 'requests', 'request', 'transformed')), 1);
  });

  test('a gzip request body is decoded, transformed and sent upstream uncompressed; an unknown coding is refused (415)', async () => {
    const r = await call(gw.port, '/req/echo', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'POST', gzipSync(JSON.stringify({ userName: 'bo' })));
    const echoed = json(r) as { got: string; encoding: string | null };
    assert.deepEqual([JSON.parse(echoed.got), echoed.encoding], [{ username: 'bo', source: 'gateway', meta: { client: '' } }, null]);
    const refused = await call(gw.port, '/req/echo', { 'content-type': 'application/json', 'content-encoding': 'zstd' }, 'POST', 'xx');
    assert.equal(refused.status, 415);
    assert.equal(refused.headers['content-type'], 'application/problem+json');
    assert.equal((json(refused) as { code: string }).code, 'unsupported_content_encoding');
    const corrupt = await call(gw.port, '/req/echo', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'POST', 'not gzip');
    assert.deepEqual([corrupt.status, (json(corrupt) as { code: string }).code], [400, 'bad_request']);
  });

  test('compressed upstream bodies: decoded, transformed, re-encoded when the client accepts the coding and it pays', async () => {
    const small = await call(gw.port, '/users/gzip', { 'accept-encoding': 'gzip' });
    assert.deepEqual([small.headers['content-encoding'], json(small)], [undefined, PUBLIC_USER], 'a small result goes uncompressed');
    assert.equal(small.headers.vary, 'accept-encoding');
    const gz = await call(gw.port, '/users/gzip-big', { 'accept-encoding': 'gzip, br;q=0.5' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers['content-length'], String(gz.raw.length));
    assert.deepEqual(JSON.parse(gunzipSync(gz.raw).toString()), BIG_PUBLIC);
    assert.equal(gz.headers.vary, 'Accept-Encoding', 'the upstream\'s Vary already names it');
    const identity = await call(gw.port, '/users/gzip-big', { 'accept-encoding': 'gzip;q=0, deflate' });
    assert.deepEqual([identity.headers['content-encoding'], json(identity)], [undefined, BIG_PUBLIC]);
    const br = await call(gw.port, '/users/br-big', { 'accept-encoding': 'br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.deepEqual(JSON.parse(brotliDecompressSync(br.raw).toString()), BIG_PUBLIC);
    const deflate = await call(gw.port, '/users/deflate');
    assert.deepEqual(json(deflate), PUBLIC_USER);
  });

  test('invalid JSON: a request gets 400 invalid_json; an upstream body 502 upstream_invalid_json (counted)', async () => {
    const bad = await call(gw.port, '/req/echo', { 'content-type': 'application/json' }, 'POST', '{"userName": ');
    assert.equal(bad.status, 400);
    assert.equal((json(bad) as { code: string }).code, 'invalid_json');
    const before = up.seen.length;
    const upstream = await call(gw.port, '/users/invalid');
    assert.equal(upstream.status, 502);
    assert.equal(upstream.headers['content-type'], 'application/problem+json');
    assert.equal((json(upstream) as { code: string }).code, 'upstream_invalid_json');
    assert.ok(!upstream.body.includes('Ann'), 'the upstream body is never echoed');
    assert.equal(up.seen.length, before + 1);
    assert.equal(await gw.metric(series('users', 'public-user', 'response', 'invalid_json')), 1);
    // The corrupt gzip body of the test before counts as invalid too.
    assert.equal(await gw.metric(series('req', 'requests', 'request', 'invalid_json')), 2);
    // Valid, but deeper than JSON.stringify can go: refused like invalid JSON, never a 500.
    const deep = '['.repeat(200_000) + ']'.repeat(200_000);
    const tooDeep = await call(gw.port, '/req/echo', { 'content-type': 'application/json' }, 'POST', deep);
    assert.deepEqual([tooDeep.status, (json(tooDeep) as { code: string }).code], [400, 'invalid_json']);
    const deepUp = await call(gw.port, '/users/deep');
    assert.deepEqual([deepUp.status, (json(deepUp) as { code: string }).code], [502, 'upstream_invalid_json']);
    const undecodable = await call(gw.port, '/users/bad-gzip');
    assert.deepEqual([undecodable.status, (json(undecodable) as { code: string }).code], [502, 'upstream_bad_response']);
  });

  test('other content types and codings pass untouched (and are counted)', async () => {
    const text = await call(gw.port, '/users/text');
    assert.deepEqual([text.status, text.headers['content-type'], text.body], [200, 'text/plain', 'plain {"password":"x"}']);
    const problem = await call(gw.port, '/users/problem');
    assert.equal(problem.status, 404);
    assert.equal(JSON.parse(problem.body).password, undefined, 'application/problem+json is JSON: transformed');
    const zstd = await call(gw.port, '/users/zstd');
    assert.deepEqual([zstd.headers['content-encoding'], zstd.body], ['zstd', 'opaque']);
    const empty = await call(gw.port, '/users/empty');
    assert.deepEqual([empty.status, empty.body], [200, '']);
    const sent = 'userName=ann&internalFlag=1';
    const form = await call(gw.port, '/req/echo', { 'content-type': 'application/x-www-form-urlencoded' }, 'POST', sent);
    assert.equal((json(form) as { got: string }).got, sent);
    assert.equal(await gw.metric(series('users', 'public-user', 'response', 'passed_not_json')), 1);
    assert.equal(await gw.metric(series('users', 'public-user', 'response', 'passed_encoding')), 1);
    assert.equal(await gw.metric(series('req', 'requests', 'request', 'passed_not_json')), 1);
  });

  test('size limits: a request over maxBody is refused (413); a response over it passes untransformed, declared or chunked', async () => {
    const big = await call(gw.port, '/small/echo', { 'content-type': 'application/json' }, 'POST', LARGE);
    assert.deepEqual([big.status, (json(big) as { code: string }).code], [413, 'payload_too_large']);
    const gzBig = await call(gw.port, '/small/echo', { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'POST', gzipSync(LARGE));
    assert.equal(gzBig.status, 413, 'the decoded size counts');
    const ok = await call(gw.port, '/small/1');
    assert.equal((json(ok) as { t: boolean }).t, true);
    const declared = await call(gw.port, '/small/large');
    assert.deepEqual([declared.status, declared.body], [200, LARGE]);
    const chunked = await call(gw.port, '/small/chunked');
    assert.deepEqual([chunked.status, chunked.body], [200, LARGE]);
    assert.equal(await gw.metric(series('small', 'small', 'response', 'passed_oversize')), 2);
    assert.equal(await gw.metric(series('small', 'small', 'request', 'refused_oversize')), 2);
  });

  test('oversize: fail answers 502 upstream_response_too_large, declared or chunked', async () => {
    for (const path of ['/fail/large', '/fail/chunked']) {
      const r = await call(gw.port, path);
      assert.deepEqual([r.status, (json(r) as { code: string }).code], [502, 'upstream_response_too_large'], path);
    }
    assert.equal((json(await call(gw.port, '/fail/1')) as { t: boolean }).t, true);
  });

  test('cache + transform: the cache stores the upstream response; every hit is transformed for its own request', async () => {
    const first = await call(gw.port, '/cached/cached', { 'x-client': 'web' });
    assert.deepEqual([first.status, first.headers['x-cache'], json(first)], [200, 'MISS', { id: 7, n: 1, client: 'web' }]);
    const hit = await call(gw.port, '/cached/cached', { 'x-client': 'ios' });
    assert.deepEqual([hit.status, hit.headers['x-cache'], json(hit)], [200, 'HIT', { id: 7, n: 1, client: 'ios' }]);
    assert.equal(hit.headers['content-length'], String(hit.raw.length));
    const head = await call(gw.port, '/cached/cached', { 'x-client': 'ios' }, 'HEAD');
    assert.deepEqual([head.status, head.headers['x-cache'], head.headers['content-length'], head.raw.length], [200, 'HIT', String(hit.raw.length), 0]);
    assert.equal(cachedCalls, 1, 'the upstream was asked once');
    assert.equal(await gw.metric(series('cached', 'per-client', 'response', 'transformed')), 3);
  });
});

test('transcoded (gRPC) answers go through the transform like upstream ones', async () => {
  const srv = await startLibraryServer(LIBRARY, PROTOS);
  const gw = await startCacheGateway(`
upstreams:
  library: { targets: [ { url: "h2c://127.0.0.1:${srv.port}" } ], protocol: grpc }
policies:
  shape: { transform: { response: { json: { remove: [ "create*", bookCount ], rename: { theme: topic }, set: { via: "\${route}" } } } } }
globalPolicies: [ shape ]
grpc:
  - upstream: library
    protos: [ "${LIBRARY}" ]
    includeDirs: [ "${PROTOS}" ]
    services: [ example.library.v1.LibraryService ]
`);
  try {
    const r = await call(gw.port, '/v1/shelves/1');
    assert.equal(r.status, 200, r.body);
    const body = json(r) as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), ['name', 'topic', 'via']);
    assert.equal(body.topic, 'science');
    assert.equal(typeof body.via, 'string');
    assert.equal(r.headers['content-length'], String(r.raw.length));
  } finally {
    await gw.close();
    await srv.stop();
  }
});

test('stale answers of the cache (upstream 5xx, refused connection) are transformed too', async () => {
  let mode: 'ok' | '500' = 'ok';
  let n = 0;
  const origin = await startUpstream('origin', (_req, res) => {
    if (mode === '500') { res.writeHead(500, { 'content-type': 'application/json' }); res.end('{"error":"broke","password":"x"}'); return; }
    res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=0' });
    res.end(JSON.stringify({ ...USER, n: ++n }));
  });
  const gw = await startCacheGateway(`
upstreams:
  origin: { targets: [ { url: "${origin.url}" } ] }
policies:
  c: { cache: { staleIfError: 1m } }
  view: { transform: { response: { json: { allow: [ id, n ], set: { client: "\${header.x-client}" } } } } }
routes:
  - { name: stale, match: { path: /* }, upstream: origin, policies: [ c, view ] }
`);
  try {
    assert.deepEqual(json(await call(gw.port, '/u', { 'x-client': 'a' })), { id: 7, n: 1, client: 'a' });
    mode = '500';
    const on500 = await call(gw.port, '/u', { 'x-client': 'b' });
    assert.deepEqual([on500.status, on500.headers['x-cache'], json(on500)], [200, 'STALE', { id: 7, n: 1, client: 'b' }]);
    await origin.close();
    const refused = await call(gw.port, '/u', { 'x-client': 'c' });
    assert.deepEqual([refused.status, refused.headers['x-cache'], json(refused)], [200, 'STALE', { id: 7, n: 1, client: 'c' }]);
    assert.equal(refused.headers['content-length'], String(refused.raw.length));
  } finally {
    await gw.close();
    await origin.close();
  }
});
