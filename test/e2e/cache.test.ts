// The response cache end to end in one gateway worker (this process), in
// front of a real node:http upstream that counts the requests it gets:
// hits and misses, HEAD, client conditionals, Vary, what is never stored,
// revalidation with the upstream, the client's Cache-Control, invalidation,
// and bodies larger than maxEntry.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { startUpstream, type TestUpstream } from './helpers.js';
import { eventually, results, send, startCacheGateway, type CacheGateway } from './cache-helpers.js';

const LAST_MODIFIED = 'Sun, 06 Nov 1994 08:49:37 GMT';
const counts = new Map<string, number>();
const hits = (path: string): number => counts.get(path) ?? 0;

/** A deterministic body of `n` bytes. */
function payload(n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + 7) & 0xff;
  return b;
}

function origin(req: IncomingMessage, res: ServerResponse): void {
  const url = req.url ?? '';
  const path = url.split('?')[0];
  const n = (counts.get(path) ?? 0) + 1;
  counts.set(path, n);
  const text = (extra: Record<string, string | string[]>, body: string, status = 200): void => {
    res.writeHead(status, { 'content-type': 'text/plain', ...extra });
    res.end(body);
  };
  if (path.startsWith('/fresh/')) return text({ 'cache-control': 'max-age=60', etag: '"v1"', 'last-modified': LAST_MODIFIED }, `${url} #${n}`);
  if (path.startsWith('/vary/')) return text({ 'cache-control': 'max-age=60', vary: 'Accept-Language' }, `${path} ${req.headers['accept-language'] ?? '-'} #${n}`);
  if (path === '/star') return text({ 'cache-control': 'max-age=60', vary: '*' }, `#${n}`);
  if (path === '/nostore') return text({ 'cache-control': 'no-store, max-age=60' }, `#${n}`);
  if (path === '/private') return text({ 'cache-control': 'private, max-age=60' }, `#${n}`);
  if (path.startsWith('/cookie')) return text({ 'cache-control': 'max-age=60', 'set-cookie': 'sid=s' + n }, `#${n}`);
  if (path === '/public') return text({ 'cache-control': 'public, max-age=60' }, `${req.headers.authorization ?? ''} #${n}`);
  if (path === '/plain') return text({ 'x-cache': 'origin-hit' }, `#${n}`);
  if (path === '/missing') return text({}, `gone #${n}`, 404);
  if (path === '/missing-explicit') return text({ 'cache-control': 'max-age=60' }, `gone #${n}`, 404);
  if (path.startsWith('/reval/')) {
    // Stale on arrival, with a validator: every use is revalidated.
    const version = path.endsWith('/changed') && n > 1 ? 'r2' : 'r1';
    if (req.headers['if-none-match'] === `"${version}"`) {
      res.writeHead(304, { etag: `"${version}"`, 'cache-control': 'max-age=0', 'x-revalidated': String(n) });
      res.end();
      return;
    }
    return text({ 'cache-control': 'max-age=0', etag: `"${version}"` }, `${version} body #${n}`);
  }
  if (path.startsWith('/size/')) {
    const size = Number(path.split('/')[2]);
    const body = payload(size);
    const chunked = url.includes('chunked');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'cache-control': 'max-age=60', ...(chunked ? {} : { 'content-length': String(size) }) });
    // Several writes: the gateway sees the body in many chunks.
    for (let at = 0; at < size; at += 16_384) res.write(body.subarray(at, Math.min(size, at + 16_384)));
    res.end();
    return;
  }
  return text({ 'cache-control': 'max-age=60' }, `other ${url} #${n}`);
}

describe('response cache (memory store)', () => {
  let up: TestUpstream;
  let gw: CacheGateway;
  before(async () => {
    up = await startUpstream('up', origin);
    gw = await startCacheGateway(`
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
policies:
  c:
    cache:
      maxEntry: 256kb
      key: [ method, host, path, query ]
  auth-cache: { cache: { cacheAuthorized: true } }
  strip-cookies: { cache: { setCookie: strip } }
  own-cc: { cache: { ignoreRequestCacheControl: true } }
routes:
  - { name: plain-route, match: { path: /uncached/* }, upstream: up }
  - { name: auth, match: { path: /public }, upstream: up, policies: [ auth-cache ] }
  - { name: strip, match: { path: /cookie-strip }, upstream: up, policies: [ strip-cookies ] }
  - { name: own, match: { path: /own/* }, upstream: up, policies: [ own-cc ] }
  - { name: cached, match: { path: /* }, upstream: up, policies: [ c ] }
`);
  });
  after(async () => {
    await gw.close();
    await up.close();
  });

  test('a miss goes upstream and is stored; hits carry Age and X-Cache: HIT; HEAD is answered from the GET entry', async () => {
    const first = await send(gw.port, '/fresh/a?x=1');
    assert.equal(first.status, 200);
    assert.equal(first.headers['x-cache'], 'MISS');
    assert.equal(first.body, '/fresh/a?x=1 #1');
    for (let i = 0; i < 3; i++) {
      const r = await send(gw.port, '/fresh/a?x=1');
      assert.equal(r.status, 200);
      assert.equal(r.body, '/fresh/a?x=1 #1');
      assert.equal(r.headers['x-cache'], 'HIT');
      assert.match(String(r.headers.age), /^\d+$/);
      assert.equal(r.headers.etag, '"v1"');
      assert.equal(r.headers['content-type'], 'text/plain');
      assert.equal(r.headers['content-length'], String(first.body.length));
      assert.match(String(r.headers['x-request-id']), /./, 'each answer has its own request id');
      assert.notEqual(r.headers['x-request-id'], first.headers['x-request-id']);
    }
    const head = await send(gw.port, '/fresh/a?x=1', {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['x-cache'], 'HIT');
    assert.equal(head.headers['content-length'], String(first.body.length));
    assert.equal(head.body, '');
    assert.equal(hits('/fresh/a'), 1);
    // Another query is another key.
    assert.equal((await send(gw.port, '/fresh/a?x=2')).headers['x-cache'], 'MISS');
    // A route without the cache is untouched.
    const plain = await send(gw.port, '/uncached/1');
    assert.equal(plain.headers['x-cache'], undefined);
    assert.ok((await gw.metric(results('c', 'hit'))) >= 4);
  });

  test('client conditionals are answered from the entry (304 with the validators); the fill itself is unconditional', async () => {
    const miss = await send(gw.port, '/fresh/cond', { 'if-none-match': '"v1"' });
    assert.equal(miss.status, 200, 'the cache fetched a full response for itself');
    assert.equal(up.seen.at(-1)!.headers['if-none-match'], undefined);
    const inm = await send(gw.port, '/fresh/cond', { 'if-none-match': 'W/"v0", "v1"' });
    assert.equal(inm.status, 304);
    assert.equal(inm.body, '');
    assert.equal(inm.headers.etag, '"v1"');
    assert.equal(inm.headers['cache-control'], 'max-age=60');
    assert.equal(inm.headers['x-cache'], 'HIT');
    assert.equal(inm.headers['content-type'], undefined);
    assert.equal((await send(gw.port, '/fresh/cond', { 'if-none-match': '"other"' })).status, 200);
    assert.equal((await send(gw.port, '/fresh/cond', { 'if-modified-since': LAST_MODIFIED })).status, 304);
    assert.equal((await send(gw.port, '/fresh/cond', { 'if-modified-since': 'Sat, 05 Nov 1994 08:49:37 GMT' })).status, 200);
    // If-None-Match wins over If-Modified-Since.
    assert.equal((await send(gw.port, '/fresh/cond', { 'if-none-match': '"x"', 'if-modified-since': LAST_MODIFIED })).status, 200);
    assert.equal(hits('/fresh/cond'), 1);
  });

  test('Vary: each Accept-Language value has its own entry; Vary: * is never stored', async () => {
    const en = await send(gw.port, '/vary/v', { 'accept-language': 'en' });
    const de = await send(gw.port, '/vary/v', { 'accept-language': 'de' });
    assert.deepEqual([en.headers['x-cache'], de.headers['x-cache']], ['MISS', 'MISS']);
    assert.equal(en.body, '/vary/v en #1');
    assert.equal(de.body, '/vary/v de #2');
    const en2 = await send(gw.port, '/vary/v', { 'accept-language': 'en' });
    const de2 = await send(gw.port, '/vary/v', { 'accept-language': 'de' });
    const none = await send(gw.port, '/vary/v');
    assert.deepEqual([en2.body, en2.headers['x-cache'], de2.body, de2.headers['x-cache']], ['/vary/v en #1', 'HIT', '/vary/v de #2', 'HIT']);
    assert.equal(none.body, '/vary/v - #3');
    assert.equal(hits('/vary/v'), 3);
    await send(gw.port, '/star');
    assert.equal((await send(gw.port, '/star')).headers['x-cache'], 'MISS');
    assert.equal(hits('/star'), 2);
  });

  test('never stored: no-store, private, Set-Cookie; requests with Authorization or Range bypass', async () => {
    for (const path of ['/nostore', '/private', '/cookie']) {
      await send(gw.port, path);
      const again = await send(gw.port, path);
      assert.equal(again.headers['x-cache'], 'MISS', path);
      assert.equal(hits(path), 2, path);
    }
    assert.equal((await send(gw.port, '/cookie')).headers['set-cookie']?.[0], 'sid=s3', 'Set-Cookie reaches the client that caused it');
    await send(gw.port, '/fresh/auth');
    const authed = await send(gw.port, '/fresh/auth', { authorization: 'Bearer t' });
    assert.equal(authed.headers['x-cache'], 'BYPASS');
    assert.equal(authed.body, '/fresh/auth #2', 'not answered from the entry stored for anonymous requests');
    const ranged = await send(gw.port, '/fresh/auth', { range: 'bytes=0-3' });
    assert.equal(ranged.headers['x-cache'], 'BYPASS');
    assert.equal(hits('/fresh/auth'), 3);
    assert.equal((await send(gw.port, '/fresh/auth', { 'cache-control': 'no-store' })).headers['x-cache'], 'BYPASS');
    assert.ok((await gw.metric(results('c', 'bypass'))) >= 3);
  });

  test('setCookie: strip stores the response without Set-Cookie; cacheAuthorized stores public responses to Authorization requests', async () => {
    const first = await send(gw.port, '/cookie-strip');
    assert.equal(first.headers['set-cookie']?.[0], 'sid=s1');
    const hit = await send(gw.port, '/cookie-strip');
    assert.deepEqual([hit.headers['x-cache'], hit.headers['set-cookie'], hit.body], ['HIT', undefined, '#1']);
    const a = await send(gw.port, '/public', { authorization: 'Bearer a' });
    const b = await send(gw.port, '/public', { authorization: 'Bearer b' });
    assert.deepEqual([a.headers['x-cache'], b.headers['x-cache'], b.body], ['MISS', 'HIT', 'Bearer a #1']);
  });

  test('a stale entry with a validator is revalidated: upstream 304 → the stored body, refreshed; a changed resource replaces it', async () => {
    const first = await send(gw.port, '/reval/same');
    assert.equal(first.body, 'r1 body #1');
    const second = await send(gw.port, '/reval/same');
    assert.equal(second.status, 200);
    assert.equal(second.body, 'r1 body #1');
    assert.equal(second.headers['x-cache'], 'HIT');
    assert.equal(second.headers['x-revalidated'], '2', 'the 304\'s fields update the entry');
    assert.equal(up.seen.at(-1)!.headers['if-none-match'], '"r1"');
    // The client's own conditional is answered after the revalidation.
    assert.equal((await send(gw.port, '/reval/same', { 'if-none-match': '"r1"' })).status, 304);
    assert.equal(up.seen.at(-1)!.headers['if-none-match'], '"r1"', 'the cache\'s conditional went upstream, not the client\'s');
    assert.ok((await gw.metric(results('c', 'revalidated'))) >= 2);
    await send(gw.port, '/reval/changed');
    const changed = await send(gw.port, '/reval/changed');
    assert.deepEqual([changed.body, changed.headers['x-cache'], changed.headers.etag], ['r2 body #2', 'MISS', '"r2"']);
    assert.equal((await send(gw.port, '/reval/changed')).body, 'r2 body #2');
  });

  test('the client\'s Cache-Control: no-cache and max-age=0 revalidate, Pragma too, only-if-cached never goes upstream; ignoreRequestCacheControl', async () => {
    await send(gw.port, '/fresh/cc');
    assert.equal((await send(gw.port, '/fresh/cc', { 'cache-control': 'no-cache' })).headers['x-cache'], 'MISS');
    assert.equal(up.seen.at(-1)!.headers['if-none-match'], '"v1"', 'a conditional request with the entry\'s validator');
    assert.equal((await send(gw.port, '/fresh/cc', { 'cache-control': 'max-age=0' })).headers['x-cache'], 'MISS');
    assert.equal((await send(gw.port, '/fresh/cc', { pragma: 'no-cache' })).headers['x-cache'], 'MISS');
    assert.equal((await send(gw.port, '/fresh/cc', { 'cache-control': 'max-age=3600' })).headers['x-cache'], 'HIT');
    assert.equal((await send(gw.port, '/fresh/cc', { 'cache-control': 'min-fresh=3600' })).headers['x-cache'], 'MISS');
    assert.equal(hits('/fresh/cc'), 5);
    const onlyCached = await send(gw.port, '/fresh/never-fetched', { 'cache-control': 'only-if-cached' });
    assert.equal(onlyCached.status, 504);
    assert.equal(onlyCached.headers['content-type'], 'application/problem+json');
    assert.equal(JSON.parse(onlyCached.body).code, 'not_cached');
    assert.equal(hits('/fresh/never-fetched'), 0);
    assert.equal((await send(gw.port, '/fresh/cc', { 'cache-control': 'only-if-cached' })).headers['x-cache'], 'HIT');
    await send(gw.port, '/own/1');
    assert.equal((await send(gw.port, '/own/1', { 'cache-control': 'no-cache' })).headers['x-cache'], 'HIT');
  });

  test('ttl applies when the upstream says nothing (200), not to a 404 without explicit freshness', async () => {
    const miss = await send(gw.port, '/plain');
    assert.equal(miss.headers['x-cache'], 'MISS', 'the origin\'s own X-Cache is replaced, not repeated');
    const hit = await send(gw.port, '/plain');
    assert.deepEqual([hit.headers['x-cache'], hit.body], ['HIT', '#1']);
    await send(gw.port, '/missing');
    assert.equal((await send(gw.port, '/missing')).body, 'gone #2');
    await send(gw.port, '/missing-explicit');
    const gone = await send(gw.port, '/missing-explicit');
    assert.deepEqual([gone.status, gone.headers['x-cache'], gone.body], [404, 'HIT', 'gone #1']);
  });

  test('a successful unsafe request invalidates the GET entry of its target', async () => {
    await send(gw.port, '/fresh/inv');
    assert.equal((await send(gw.port, '/fresh/inv')).headers['x-cache'], 'HIT');
    const post = await send(gw.port, '/fresh/inv', { 'content-type': 'text/plain' }, 'POST', 'x');
    assert.equal(post.headers['x-cache'], 'BYPASS');
    assert.equal((await send(gw.port, '/fresh/inv')).headers['x-cache'], 'MISS');
  });

  test('bodies stream: under maxEntry (streamed in many chunks, chunked or with a length) they are stored whole; larger ones pass uncached', async () => {
    for (const path of ['/size/200000', '/size/200001?chunked']) {
      const want = createHash('sha256').update(payload(Number(path.split('/')[2].split('?')[0]))).digest('hex');
      const miss = await fetchBody(gw.port, path);
      const hit = await fetchBody(gw.port, path);
      assert.deepEqual([miss.cache, hit.cache, miss.sha, hit.sha], ['MISS', 'HIT', want, want], path);
    }
    for (const path of ['/size/300000', '/size/300001?chunked']) {
      const want = createHash('sha256').update(payload(Number(path.split('/')[2].split('?')[0]))).digest('hex');
      const a = await fetchBody(gw.port, path);
      const b = await fetchBody(gw.port, path);
      assert.deepEqual([a.cache, b.cache, a.sha, b.sha], ['MISS', 'MISS', want, want], path);
    }
    assert.equal(hits('/size/300001'), 2);
    await eventually('the bytes gauge counts the stored bodies', async () => (await gw.metric('turnpike_cache_bytes{policy="c"}')) > 400_000);
  });
});

async function fetchBody(port: number, path: string): Promise<{ cache: string; sha: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  const body = Buffer.from(await res.arrayBuffer());
  return { cache: res.headers.get('x-cache') ?? '', sha: createHash('sha256').update(body).digest('hex') };
}
