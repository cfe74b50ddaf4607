// The Redis store against the real Redis at 127.0.0.1:6379 (a unique
// namespace per test), and against Redis servers the test starts, stops and
// kills for the failure cases.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRedisClient, type RedisClientHandle } from '../../stores/redis-client.js';
import { startRedisServer } from '../rate-limit/testing/redis-server.js';
import { uniqueName } from '../rate-limit/testing/sequences.js';
import { CacheEntry, VaryMarker, type EntryTimes } from './cache-entry.js';
import { RedisStore, escapeGlob } from './redis-store.js';

const handles: RedisClientHandle[] = [];
after(async () => { await Promise.all(handles.map((h) => h.close())); });

async function connect(url = 'redis://127.0.0.1:6379', commandTimeoutMs = 100): Promise<RedisClientHandle> {
  const h = createRedisClient(url, { commandTimeoutMs });
  handles.push(h);
  const deadline = Date.now() + 3000;
  while (h.health.state !== 'ready' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  return h;
}

const times = (keepUntil: number): EntryTimes => ({
  responseTime: Date.now(), initialAgeMs: 0, freshUntil: keepUntil, swrMs: 0, sieMs: 0, keepUntil,
  etag: '"e"', lastModified: '', lastModifiedMs: NaN, noCache: false, mustRevalidate: false,
});
const entry = (key: string, path: string, body: string, keepUntil = Date.now() + 60_000): CacheEntry =>
  new CacheEntry(key, path, 200, ['content-type', 'text/plain'], Buffer.from(body), times(keepUntil), null, '');

async function eventually(check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 3000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('entries are stored under hashed names with a TTL, and read back', async () => {
  const h = await connect();
  const ns = uniqueName('cache');
  const store = new RedisStore(h, ns, () => undefined);
  const key = 'GET h /catalog/1 Authorization-free';
  store.set(key, entry(key, '/catalog/1', 'one'), Date.now());
  await eventually(async () => (await h.client.exists(store.valueKey(key))) === 1);
  assert.match(store.valueKey(key), new RegExp(`^tp:c:${ns}:v:[A-Za-z0-9_-]{43}$`));
  const ttl = await h.client.pttl(store.valueKey(key));
  assert.ok(ttl > 50_000 && ttl <= 60_000, `pttl ${ttl}`);
  const got = await store.get(key, Date.now());
  assert.ok(got instanceof CacheEntry);
  assert.equal(got.body.toString(), 'one');
  assert.equal(got.storeKey, key);
  assert.equal(await store.get('GET h /nothing ', Date.now()), undefined);
  const marker = new VaryMarker('k', '/m', Date.now() + 60_000, ['accept'], 'e1');
  store.set('k', marker, Date.now());
  await eventually(async () => (await store.get('k', Date.now())) instanceof VaryMarker);
  assert.equal(await store.purge({ pathPrefix: '/m' }), 0, 'a marker is not counted as a purged entry');
  assert.equal(await store.get('k', Date.now()), undefined, 'but it is gone');
  store.set('k', marker, Date.now());
  await eventually(async () => (await store.get('k', Date.now())) instanceof VaryMarker);
  store.delete('k');
  await eventually(async () => (await store.get('k', Date.now())) === undefined);
  assert.equal(store.errors, 0);
});

test('purges by key prefix and path prefix match literally (glob characters escaped), across namespaces only their own', async () => {
  const h = await connect();
  const ns = uniqueName('cache');
  const store = new RedisStore(h, ns, () => undefined);
  const other = new RedisStore(h, uniqueName('cache'), () => undefined);
  const now = Date.now();
  const keys = ['GET h /a*b/1 ', 'GET h /aXb/1 ', 'GET h /a[b]/2 ', 'GET h /z/1 '];
  for (const k of keys) store.set(k, entry(k, k.split(' ')[2], k), now);
  other.set(keys[0], entry(keys[0], '/a*b/1', 'x'), now);
  await eventually(async () => (await h.client.zcard(`tp:c:${ns}:i`)) === 8);
  assert.equal(await store.purge({ keyPrefix: 'GET h /a*' }), 1, 'the * is literal');
  assert.ok(await store.get('GET h /aXb/1 ', Date.now()));
  assert.equal(await store.purge({ pathPrefix: '/a[b]' }), 1);
  assert.equal(await store.purge({ pathPrefix: '/a' }), 1);
  assert.equal(await store.purge({ pathPrefix: '/a' }), 0);
  assert.ok(await store.get('GET h /z/1 ', Date.now()));
  assert.ok(await other.get(keys[0], Date.now()), 'another namespace is untouched');
  assert.equal(escapeGlob('a*b?[c]\\'), 'a\\*b\\?\\[c\\]\\\\');
});

test('no Redis listening: lookups are misses at once, stores are dropped, both counted', async () => {
  const { freePort } = await import('../rate-limit/testing/redis-server.js');
  const h = createRedisClient(`redis://127.0.0.1:${await freePort()}`, { commandTimeoutMs: 100 });
  handles.push(h);
  const store = new RedisStore(h, uniqueName('cache'), () => undefined);
  const t = Date.now();
  assert.equal(store.get('k', Date.now()), undefined, 'synchronously a miss');
  store.set('k', entry('k', '/k', 'v'), Date.now());
  assert.ok(Date.now() - t < 50);
  assert.equal(store.errors, 2);
});

test('a hanging Redis: a lookup gives up after the command timeout, then the store is skipped for a second', async () => {
  const server = await startRedisServer();
  try {
    const h = await connect(server.url, 100);
    const seen: unknown[] = [];
    const store = new RedisStore(h, uniqueName('cache'), (err) => seen.push(err));
    store.set('k', entry('k', '/k', 'v'), Date.now());
    await eventually(async () => (await store.get('k', Date.now())) !== undefined);
    await server.kill('SIGSTOP');
    const t = Date.now();
    assert.equal(await store.get('k', Date.now()), undefined);
    const waited = Date.now() - t;
    assert.ok(waited >= 90 && waited < 2000, `gave up after ${waited} ms`);
    assert.equal(store.errors, 1);
    assert.match(String((seen[0] as Error).message), /timed out/i);
    assert.equal(store.get('k', Date.now()), undefined, 'skipped: a miss without asking');
    assert.equal(store.errors, 2);
    await server.kill('SIGCONT');
    await new Promise((r) => setTimeout(r, 1100));
    await eventually(async () => (await store.get('k', Date.now())) !== undefined);
  } finally {
    await server.stop();
  }
});
