import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { LocalStore } from './local-store.js';
import { createRedisClient, parseRedisUrl, reconnectDelay, type RedisClientHandle, type RedisHealthState } from '../../stores/redis-client.js';
import { findScriptDir, rateLimitKey, RedisStore, RedisStoreError } from './redis-store.js';
import type { LimitSpec, TakeResult } from './store.js';
import { startRedisCluster } from './testing/redis-cluster.js';
import { freePort, startRedisServer } from './testing/redis-server.js';
import { quota, randomSequences, slidingWindow, tokenBucket, uniqueName } from './testing/sequences.js';

let shared: RedisClientHandle;
let store: RedisStore;

async function until(what: string, cond: () => boolean, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof RedisStoreError, String(err));
    return err.code;
  }
}

before(async () => {
  shared = createRedisClient('redis://127.0.0.1:6379');
  await until('shared Redis ready', () => shared.health.state === 'ready');
  // why: a generous bound here; the 100 ms default is tested against a private server.
  store = new RedisStore(shared.client, { timeoutMs: 3000 });
});

after(async () => {
  // Test keys would otherwise linger up to their TTL (quota: period end + 1 h).
  const keys = await shared.client.keys(`tp:rl:{*-${process.pid}-*`);
  for (let i = 0; i < keys.length; i += 500) await shared.client.del(...keys.slice(i, i + 500));
  await shared.close();
});

for (const algorithm of ['token-bucket', 'sliding-window', 'quota'] as const) {
  test(`${algorithm}.lua gives algorithms.ts's results on 300 seeded sequences`, async () => {
    const local = new LocalStore({ sweepIntervalMs: 0 });
    const seqs = randomSequences(algorithm, 300, 42, uniqueName(algorithm));
    let steps = 0;
    // why: batches of 20 keep each sequence well under 1 s of real time; Redis TTLs run on
    // the real clock while these sequences inject theirs (≥ 1 s slack on every key).
    for (let i = 0; i < seqs.length; i += 20) {
      await Promise.all(seqs.slice(i, i + 20).map(async (seq) => {
        for (const { n, now } of seq.ops) {
          const want = local.take(seq.spec, 'k', n, now);
          assert.deepEqual(await store.take(seq.spec, 'k', n, now), want, `${JSON.stringify(seq.spec)} n=${n} now=${now}`);
          steps++;
        }
      }));
    }
    assert.ok(steps > 3000);
  });
}

test('200 concurrent take(1) on one key with limit 50 grant exactly 50 (each algorithm)', async () => {
  const name = uniqueName('conc');
  const now = Date.now();
  for (const spec of [tokenBucket(name, 50, 3_600_000, 50), slidingWindow(name, 50, 3_600_000), quota(name, 50, 'day')]) {
    const results = await Promise.all(Array.from({ length: 200 }, () => store.take(spec, 'one', 1, now)));
    assert.equal(results.reduce((s, r) => s + r.granted, 0), 50, spec.algorithm);
    assert.equal(results.filter((r) => r.granted === 0 && r.retryAfterMs > 0).length, 150, spec.algorithm);
  }
});

test('keys: one hash tag per (limit, key), TTLs as documented', async () => {
  const name = uniqueName('ttl');
  const now = Date.now();
  const base = rateLimitKey(tokenBucket(name, 10, 1000, 5), 'k');
  assert.equal(base, `tp:rl:{${name}:k}`);
  await store.take(tokenBucket(name, 10, 1000, 5), 'k', 5, now);
  const tbTtl = await shared.client.pttl(base);
  assert.ok(tbTtl > 1000 && tbTtl <= 1500, `token bucket ttl ${tbTtl}`);
  await store.take(slidingWindow(name, 10, 60_000), 'k', 1, now);
  const swTtl = await shared.client.pttl(`${base}:${Math.floor(now / 60_000)}`);
  assert.ok(swTtl > 100_000 && swTtl <= 121_000, `sliding window ttl ${swTtl}`);
  const r = await store.take(quota(name, 10, 'day'), 'k', 1, now);
  const day = new Date(now).toISOString().slice(0, 10);
  const qTtl = await shared.client.pttl(`${base}:${day}`);
  assert.ok(Math.abs(qTtl - (r.resetMs + 3_600_000)) < 2000, `quota ttl ${qTtl}`);
});

test('URL parsing, reconnect backoff and the Lua folder lookup', () => {
  assert.deepEqual(parseRedisUrl('redis://127.0.0.1:6380/2'), { cluster: false, nodes: [{ host: '127.0.0.1', port: 6380 }], db: 2, username: undefined, password: undefined });
  assert.equal(parseRedisUrl('redis+cluster://a:7000,b:7001').nodes.length, 2);
  assert.equal(parseRedisUrl('redis://a:7000,b:7001').cluster, true);
  assert.equal(parseRedisUrl('redis://u:p%40ss@h').password, 'p@ss');
  assert.equal(parseRedisUrl('redis://h').nodes[0].port, 6379);
  assert.throws(() => parseRedisUrl('http://h:1'), /invalid Redis URL/);
  assert.deepEqual([1, 2, 3, 6, 7, 30].map(reconnectDelay), [50, 100, 200, 1600, 2000, 2000]);
  assert.match(findScriptDir(), /src[/\\]policies[/\\]rate-limit$/);
});

test('a server that is not there: health down, take rejects REDIS_DOWN at once', async () => {
  const h = createRedisClient(`redis://127.0.0.1:${await freePort()}`);
  try {
    await until('down', () => h.health.state === 'down');
    assert.ok(h.health.lastError !== null);
    const t0 = Date.now();
    assert.equal(await codeOf(new RedisStore(h.client).take(tokenBucket('x', 1, 1000, 1), 'k', 1, t0)), 'REDIS_DOWN');
    assert.ok(Date.now() - t0 < 100);
  } finally {
    await h.close();
  }
});

/**
 * Outcome code of `take`, retried for up to 2 s while it reports REDIS_DOWN:
 * right after SIGCONT or a restart, a command can still meet the old,
 * dying connection on a loaded machine.
 */
async function soon(take: () => Promise<TakeResult>): Promise<string> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const code = await codeOf(take());
    if (code !== 'REDIS_DOWN' || Date.now() > deadline) return code;
    await sleep(50);
  }
}

test('private server: NOSCRIPT recovery, REDIS_ERROR, REDIS_TIMEOUT, REDIS_DOWN, recovery after restart', async () => {
  const server = await startRedisServer();
  const states: RedisHealthState[] = [];
  const h = createRedisClient(server.url, { onStateChange: (s) => states.push(s) });
  const admin = new Redis(server.port, '127.0.0.1', { retryStrategy: () => 200, maxRetriesPerRequest: 0 });
  admin.on('error', () => undefined);
  try {
    await until('ready', () => h.health.state === 'ready');
    const s = new RedisStore(h.client);
    const spec = tokenBucket(uniqueName('out'), 1000, 1000, 1000);
    const take = (n = 1): Promise<TakeResult> => s.take(spec, 'k', n, Date.now());
    await s.take(spec, 'k', 1, Date.now());
    assert.equal(s.commands, 2, 'first use: EVALSHA → NOSCRIPT → EVAL');
    await take();
    assert.equal(s.commands, 3);
    await admin.script('FLUSH');
    assert.equal((await take()).granted, 1);
    assert.equal(s.commands, 5, 'NOSCRIPT after SCRIPT FLUSH: re-sent once');
    await take();
    assert.equal(s.commands, 6);

    await admin.lpush(rateLimitKey(spec, 'list'), 'x');
    assert.equal(await codeOf(s.take(spec, 'list', 1, Date.now())), 'REDIS_ERROR', 'WRONGTYPE');

    await server.kill('SIGSTOP');
    const t0 = Date.now();
    assert.equal(await codeOf(take()), 'REDIS_TIMEOUT');
    const waited = Date.now() - t0;
    assert.ok(waited >= 95 && waited < 1000, `timeout after ${waited} ms`);
    await server.kill('SIGCONT');
    assert.equal(await soon(take), 'ok');

    // A take in flight when its connection drops fails at once and is never re-sent.
    const ghost = tokenBucket(uniqueName('ghost'), 5, 3_600_000, 5);
    const id = await (h.client as Redis).client('ID');
    await admin.client('PAUSE', 300, 'WRITE');
    // codeOf attaches the handler now: the take may fail before the KILL returns.
    const inFlight = codeOf(s.take(ghost, 'k', 5, Date.now()));
    await sleep(10);
    await admin.client('KILL', 'ID', id);
    assert.equal(await inFlight, 'REDIS_DOWN');
    await until('reconnected', () => h.health.state === 'ready' && states.length === 3);
    await sleep(400);
    assert.equal((await s.take(ghost, 'k', 0, Date.now())).remaining, 5, 'no ghost take after the reconnect');

    await server.kill('SIGKILL');
    await until('down', () => h.health.state === 'down');
    assert.equal(await codeOf(take()), 'REDIS_DOWN');

    await server.restart();
    await until('ready again', () => h.health.state === 'ready');
    assert.equal(await soon(take), 'ok', 'works again (script re-loaded on the new process)');
    assert.deepEqual(states, ['ready', 'down', 'ready', 'down', 'ready']);
  } finally {
    admin.disconnect();
    await h.close();
    await server.stop();
  }
});

async function exactRound(s: RedisStore, specs: LimitSpec[], keys: number, per: number, now: number): Promise<void> {
  const jobs: Promise<number>[] = [];
  for (let k = 0; k < keys; k++) {
    const spec = specs[k % specs.length];
    for (let i = 0; i < per; i++) jobs.push(s.take(spec, `key-${k}`, 1, now).then((r) => r.granted));
  }
  const granted = await Promise.all(jobs);
  for (let k = 0; k < keys; k++) {
    const sum = granted.slice(k * per, (k + 1) * per).reduce((a, b) => a + b, 0);
    assert.equal(sum, Math.min(per, specs[k % specs.length].limit), `key-${k}`);
  }
}

test('Redis Cluster: exact counts over keys on every node, NOSCRIPT recovery on one node, preload', async () => {
  const cluster = await startRedisCluster(3);
  const h = createRedisClient(cluster.url);
  const nodes = cluster.ports.map((p) => new Redis(p, '127.0.0.1', { maxRetriesPerRequest: 0 }));
  try {
    await until('cluster ready', () => h.health.state === 'ready');
    const s = new RedisStore(h.client, { timeoutMs: 3000 });
    const name = uniqueName('cl');
    const specs = [tokenBucket(name, 5, 3_600_000, 5), slidingWindow(`${name}-sw`, 5, 3_600_000), quota(`${name}-q`, 5, 'day')];
    const now = Date.now();
    await exactRound(s, specs, 150, 8, now);
    const sizes = await Promise.all(nodes.map((n) => n.dbsize()));
    assert.ok(sizes.every((x) => x > 20), `keys per node ${sizes.join(',')}`);

    await nodes[0].script('FLUSH');
    const before = s.commands;
    await exactRound(s, specs.map((x) => ({ ...x, name: `${x.name}-2` })), 90, 3, now);
    assert.ok(s.commands > before + 270, 'NOSCRIPT on node 0 was retried with EVAL');
    const mid = s.commands;
    await exactRound(s, specs.map((x) => ({ ...x, name: `${x.name}-3` })), 90, 3, now);
    assert.equal(s.commands - mid, 270, 'scripts cached on every node again: one command per take');

    await Promise.all(nodes.map((n) => n.script('FLUSH')));
    await s.preload();
    const pre = s.commands;
    await exactRound(s, specs.map((x) => ({ ...x, name: `${x.name}-4` })), 60, 2, now);
    assert.equal(s.commands - pre, 120, 'after preload: no NOSCRIPT');
  } finally {
    for (const n of nodes) n.disconnect();
    await h.close();
    await cluster.stop();
  }
});
