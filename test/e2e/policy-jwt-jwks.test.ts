import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { JwksServer, signToken, testKey, type TestKey } from '../../src/policies/jwt/test-support.js';
import { startGateway, startUpstream, type TestGateway, type TestUpstream } from './helpers.js';
import { assertRefused, bearer, claims, get, junkToken, jwks, printTable, record, table, yamlFor } from './jwt-helpers.js';

after(printTable);

describe('jwt policy and JWKS rotation (real gateway, JWKS server and upstream)', () => {
  let up: TestUpstream;
  let rsa: TestKey; let rsa2: TestKey;

  before(async () => {
    up = await startUpstream('up');
    [rsa, rsa2] = await Promise.all([testKey('RS256', 'k-rsa'), testKey('RS256', 'k-rsa-2')]);
  });
  after(() => up?.close());

  test('rotation, random-kid flood, and key removal', async () => {
    const server = await JwksServer.start([rsa.jwk]);
    const rot = await startGateway(yamlFor(up.url, `  j: { jwt: { algorithms: [ RS256 ], jwks: { url: "${server.url}", cooldown: 1s, timeout: 1s } } }`,
      '  - { name: r, match: { path: /r/* }, upstream: up, policies: [ j ] }\n'));
    try {
      const old = await signToken(rsa, claims());
      assert.equal((await get(rot, '/r/1', bearer(old))).status, 200);
      assert.equal(server.fetches, 1);
      server.keys = [rsa.jwk, rsa2.jwk];
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal(record('rotation: new kid after one refetch', await get(rot, '/r/2', bearer(await signToken(rsa2, claims())))).status, 200);
      assert.equal(server.fetches, 2, 'the new kid was found after exactly one fetch');
      assert.equal((await get(rot, '/r/2', bearer(await signToken(rsa2, claims({ sub: 'other' }))))).status, 200);
      assert.equal(server.fetches, 2);
      // The IdP drops the old key: once the gateway refetches, its cached tokens stop working.
      server.keys = [rsa2.jwk];
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await get(rot, '/r/3', bearer(junkToken({ alg: 'RS256', kid: 'trigger-refetch' })))).status, 401);
      assert.equal(server.fetches, 3);
      assertRefused(record('cached token whose key was removed from the JWKS', await get(rot, '/r/4', bearer(old))), 401, 'invalid_token', 'unknown_key');
    } finally {
      await rot.close();
      await server.close();
    }
  });

  test('1,000 random kids in a few seconds cause at most a couple of JWKS fetches', async () => {
    const server = await JwksServer.start([rsa.jwk]);
    const flood = await startGateway(yamlFor(up.url, `  j: { jwt: { algorithms: [ RS256, ES256 ], jwks: ${jwks(server.url)} } }`,
      '  - { name: f, match: { path: /f/* }, upstream: up, policies: [ j ] }\n'));
    try {
      const before = server.fetches;
      const t0 = performance.now();
      const statuses = new Map<number, number>();
      for (let batch = 0; batch < 20; batch++) {
        const replies = await Promise.all(Array.from({ length: 50 }, () => fetch(`${flood.base}/f/x`, {
          headers: bearer(junkToken({ alg: batch % 2 === 0 ? 'RS256' : 'ES256', kid: randomBytes(12).toString('hex') })),
        }).then(async (r) => { await r.arrayBuffer(); return r.status; })));
        for (const s of replies) statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
      const seconds = (performance.now() - t0) / 1000;
      const fetched = server.fetches - before;
      table.push([`1,000 random kids in ${seconds.toFixed(1)} s: JWKS fetches caused = ${fetched}`, [...statuses].map(([s, n]) => `${s}×${n}`).join(' '), 'invalid_token', 'unknown_key']);
      assert.deepEqual([...statuses.keys()], [401]);
      assert.ok(fetched >= 1 && fetched <= 2, `fetches: ${fetched}`);
      assert.equal((await get(flood, '/f/ok', bearer(await signToken(rsa, claims())))).status, 200, 'the known key still works');
    } finally {
      await flood.close();
      await server.close();
    }
  });
});

describe('jwt policy when the JWKS endpoint fails', () => {
  let up: TestUpstream;
  let key: TestKey;

  before(async () => {
    up = await startUpstream('up');
    key = await testKey('ES256', 'k-ec');
  });
  after(() => up?.close());

  async function gatewayFor(server: JwksServer, jwksExtra: string): Promise<TestGateway> {
    return startGateway(yamlFor(up.url, `  j: { jwt: { algorithms: [ ES256 ], jwks: { url: "${server.url}"${jwksExtra} } } }`,
      '  - { name: g, match: { path: /g/* }, upstream: up, policies: [ j ] }\n'));
  }

  async function until(what: string, ok: () => boolean): Promise<void> {
    for (let i = 0; i < 200 && !ok(); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(ok(), what);
  }

  test('warm cache: the last good set keeps working while the endpoint fails (up to maxStale)', async () => {
    const server = await JwksServer.start([key.jwk]);
    const gw = await gatewayFor(server, ', cacheTtl: 300ms, maxStale: 1h');
    try {
      const cached = await signToken(key, claims());
      assert.equal((await get(gw, '/g/1', bearer(cached))).status, 200);
      server.mode = 'fail';
      const failedFrom = server.fetches;
      await until('a scheduled refresh failed', () => server.fetches > failedFrom);
      assert.equal(record('JWKS down, warm cache: cached token', await get(gw, '/g/2', bearer(cached))).status, 200);
      assert.equal(record('JWKS down, warm cache: new token, known kid', await get(gw, '/g/3', bearer(await signToken(key, claims({ sub: 'new' }))))).status, 200);
    } finally {
      await gw.close();
      await server.close();
    }
  });

  test('past maxStale the set is unusable: 503, cached tokens included', async () => {
    const server = await JwksServer.start([key.jwk]);
    const gw = await gatewayFor(server, ', cacheTtl: 200ms, maxStale: 300ms');
    try {
      const cached = await signToken(key, claims());
      assert.equal((await get(gw, '/g/1', bearer(cached))).status, 200);
      server.mode = 'fail';
      await new Promise((r) => setTimeout(r, 700));
      assertRefused(record('JWKS down past maxStale: cached token', await get(gw, '/g/stale-1', bearer(cached))), 503, 'auth_provider_unavailable');
      assertRefused(await get(gw, '/g/stale-2', bearer(await signToken(key, claims({ sub: 'new' })))), 503, 'auth_provider_unavailable');
      assert.equal(up.seen.filter((s) => s.url.startsWith('/g/stale')).length, 0);
    } finally {
      await gw.close();
      await server.close();
    }
  });

  test('cold cache with the endpoint down: 503, never through; recovers once the endpoint answers', async () => {
    const server = await JwksServer.start([key.jwk]);
    server.mode = 'fail';
    const gw = await gatewayFor(server, ', cooldown: 1s');
    try {
      const t = await signToken(key, claims());
      assertRefused(record('JWKS down, cold cache', await get(gw, '/g/cold', bearer(t))), 503, 'auth_provider_unavailable');
      const fetches = server.fetches;
      assertRefused(await get(gw, '/g/cold', bearer(t)), 503, 'auth_provider_unavailable');
      assert.equal(server.fetches, fetches, 'within the cooldown no new fetch');
      assert.equal(up.seen.filter((s) => s.url === '/g/cold').length, 0);
      server.mode = 'ok';
      await new Promise((r) => setTimeout(r, 1100));
      assert.equal((await get(gw, '/g/cold', bearer(t))).status, 200);
    } finally {
      await gw.close();
      await server.close();
    }
  });

  test('a hanging endpoint is bounded by timeout: 503 within about the timeout', async () => {
    const server = await JwksServer.start([key.jwk]);
    server.mode = 'hang';
    const gw = await gatewayFor(server, ', timeout: 500ms');
    try {
      const t = await signToken(key, claims());
      const t0 = performance.now();
      const r = record('JWKS hanging (timeout 500ms), cold cache', await get(gw, '/g/hang', bearer(t)));
      const ms = performance.now() - t0;
      assertRefused(r, 503, 'auth_provider_unavailable');
      assert.ok(ms < 3000, `answered after ${ms} ms`);
      table.push([`  (answered after ${Math.round(ms)} ms)`, '', '', '']);
    } finally {
      await gw.close();
      await server.close();
    }
  });

});
