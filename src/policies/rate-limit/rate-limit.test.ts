// The rate-limit policy end to end in one gateway worker (this process),
// against a real upstream and the real Redis at 127.0.0.1:6379 (or a
// redis-server of the test's own for outages). Multi-process and
// multi-instance accuracy is in test/e2e-process/rate-limit-cluster.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { deadPort, startGateway, startUpstream, type TestGateway, type TestUpstream } from '../../../test/e2e/helpers.js';
import { uniqueName } from './testing/sequences.js';

const REDIS = 'redis://127.0.0.1:6379';

function config(upstream: string, limits: string, extra = ''): string {
  return `
server: { workers: 1 }
${extra}
upstreams:
  up: { targets: [ { url: "${upstream}" } ] }
rateLimits:
${limits}
routes:
  - name: limited
    match: { path: /limited/* }
    upstream: up
    rateLimit: per-key
  - name: open
    match: { path: /open/* }
    upstream: up
`;
}

async function get(gw: TestGateway, path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  const r = await request(gw.base + path, { headers });
  return { status: r.statusCode, headers: r.headers, body: await r.body.text() };
}

async function burst(gw: TestGateway, n: number, headers: Record<string, string>): Promise<number[]> {
  const rs = await Promise.all(Array.from({ length: n }, () => get(gw, '/limited/x', headers)));
  return rs.map((r) => r.status);
}

describe('rate limits in one worker', () => {
  let up: TestUpstream;
  before(async () => { up = await startUpstream('up'); });
  after(async () => { await up.close(); });

  for (const store of ['in-process', 'redis'] as const) {
    test(`${store}: exactly the limit passes, then 429 problem+json with RateLimit fields and Retry-After`, async () => {
      const name = uniqueName('rl');
      const gw = await startGateway(config(up.url, `
  - { name: per-key, key: "header:x-api-key", limit: 5, window: 1m, burst: 5 }`, store === 'redis' ? `redis: { url: "${REDIS}" }` : '').replace(/per-key/g, name).replace(`rateLimit: ${name}`, `rateLimit: ${name}`));
      try {
        const statuses = await burst(gw, 8, { 'x-api-key': 'alice' });
        assert.equal(statuses.filter((s) => s === 200).length, 5, statuses.join(','));
        assert.equal(statuses.filter((s) => s === 429).length, 3, statuses.join(','));
        const ok = await get(gw, '/limited/x', { 'x-api-key': 'bob' });
        assert.equal(ok.status, 200);
        assert.equal(ok.headers['ratelimit-policy'], `"${name}";q=5;w=60`);
        assert.match(String(ok.headers.ratelimit), new RegExp(`^"${name}";r=4;t=\\d+$`));
        const limited = await get(gw, '/limited/x', { 'x-api-key': 'alice' });
        assert.equal(limited.status, 429);
        assert.equal(limited.headers['content-type'], 'application/problem+json');
        const problem = JSON.parse(limited.body) as { code: string; status: number; detail: string };
        assert.equal(problem.code, 'rate_limited');
        assert.equal(problem.status, 429);
        assert.match(problem.detail, new RegExp(`Rate limit "${name}" exceeded: 5 requests per 60 s; retry after \\d+ s`));
        // 5 per minute refill one token every 12 s.
        const retry = Number(limited.headers['retry-after']);
        assert.ok(retry >= 1 && retry <= 12, `Retry-After ${retry}`);
        assert.match(String(limited.headers.ratelimit), new RegExp(`^"${name}";r=0;t=\\d+$`));
        // A route without the limit is not limited.
        assert.equal((await get(gw, '/open/x', { 'x-api-key': 'alice' })).status, 200);
      } finally {
        await gw.close();
      }
    });
  }

  test('redis: a missing header counts under the client address; POST bodies pass while the decision is pending', async () => {
    const name = uniqueName('rl');
    const gw = await startGateway(config(up.url, `
  - { name: ${name}, key: "header:x-api-key", limit: 3, window: 1m }`, `redis: { url: "${REDIS}" }`).replace('rateLimit: per-key', `rateLimit: ${name}`));
    try {
      const small = Buffer.alloc(1000, 1);
      const large = Buffer.alloc(300 * 1024, 2); // above bufferBodySize: streamed
      const r1 = await request(gw.base + '/limited/a', { method: 'POST', body: small });
      const body1 = JSON.parse(await r1.body.text()) as { bodyBytes: number };
      assert.equal(r1.statusCode, 200);
      assert.equal(body1.bodyBytes, small.length);
      const r2 = await request(gw.base + '/limited/b', { method: 'POST', body: large });
      const body2 = JSON.parse(await r2.body.text()) as { bodyBytes: number };
      assert.equal(r2.statusCode, 200);
      assert.equal(body2.bodyBytes, large.length);
      assert.equal((await get(gw, '/limited/c')).status, 200);
      const denied = await request(gw.base + '/limited/d', { method: 'POST', body: large });
      assert.equal(denied.statusCode, 429);
      // The body was read to its end (closes the connection) or not (then it must close).
      await denied.body.text();
      assert.equal((await get(gw, '/open/x')).status, 200, 'the connection (or a new one) still serves the next request');
    } finally {
      await gw.close();
    }
  });

  test('Redis unreachable: local fallback enforces the worker share, allow lets all through, deny answers 503', async () => {
    const dead = `redis://127.0.0.1:${await deadPort()}`;
    const gw = await startGateway(`
server: { workers: 1 }
redis: { url: "${dead}", commandTimeout: 50ms }
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
rateLimits:
  - { name: local-share, key: ip, limit: 4, window: 1m, onRedisFailure: local }
  - { name: fail-open, key: ip, limit: 1, window: 1m, onRedisFailure: allow }
  - { name: fail-closed, key: ip, limit: 100, window: 1m, onRedisFailure: deny }
routes:
  - { name: a, match: { path: /local/* }, upstream: up, rateLimit: local-share }
  - { name: b, match: { path: /open/* }, upstream: up, rateLimit: fail-open }
  - { name: c, match: { path: /closed/* }, upstream: up, rateLimit: fail-closed }
`);
    try {
      const local = [];
      for (let i = 0; i < 6; i++) local.push((await get(gw, '/local/x')).status);
      assert.deepEqual(local, [200, 200, 200, 200, 429, 429], 'limit 4 with 1 worker and 1 instance: the local share is 4');
      for (let i = 0; i < 5; i++) assert.equal((await get(gw, '/open/x')).status, 200);
      const closed = await get(gw, '/closed/x');
      assert.equal(closed.status, 503);
      assert.equal((JSON.parse(closed.body) as { code: string }).code, 'rate_limit_unavailable');
    } finally {
      await gw.close();
    }
  });
});
