import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../observability/logger.js';
import { JwksSource, type JwksOptions } from './jwks-source.js';
import type { VerifyKey } from './keys.js';
import { TokenCache, tokenSlot } from './token-cache.js';
import { JwksServer, testKey, type TestKey } from './test-support.js';

const logger = createLogger('silent');

function options(url: string, extra: Partial<JwksOptions> = {}): JwksOptions {
  return { url, cacheTtlMs: 600_000, cooldownMs: 30_000, timeoutMs: 2_000, maxStaleMs: 3_600_000, ca: null, ...extra };
}

function lookup(s: JwksSource, now: number, alg: string, kid: string | undefined): VerifyKey[] {
  const out: VerifyKey[] = [];
  s.keys(now)?.candidates(alg, kid, out);
  return out;
}

describe('JwksSource against a real JWKS server', () => {
  let k1: TestKey;
  let k2: TestKey;
  let ec: TestKey;
  let server: JwksServer;

  before(async () => {
    [k1, k2, ec] = await Promise.all([testKey('RS256', 'k1'), testKey('RS256', 'k2'), testKey('ES256', 'e1')]);
    server = await JwksServer.start([]);
  });
  after(() => server.close());

  test('fetches once at start; concurrent refreshes are one fetch; kid and alg pick the key', async () => {
    server.keys = [k1.jwk, ec.jwk, { kty: 'oct', k: 'c2VjcmV0', kid: 'sym' }, { ...k2.jwk, use: 'enc' }];
    server.fetches = 0;
    const s = new JwksSource(options(server.url), Date.now, logger);
    await s.start();
    assert.equal(server.fetches, 1);
    await Promise.all([s.refresh(), s.refresh(), s.refresh()]);
    assert.equal(server.fetches, 2);
    const now = Date.now();
    assert.deepEqual(lookup(s, now, 'RS256', 'k1').map((k) => k.kid), ['k1']);
    assert.deepEqual(lookup(s, now, 'ES256', 'k1'), [], 'an RSA key never verifies ES256');
    assert.deepEqual(lookup(s, now, 'HS256', 'sym'), [], 'symmetric JWKS keys are skipped');
    assert.deepEqual(lookup(s, now, 'RS256', 'k2'), [], 'encryption keys are skipped');
    assert.deepEqual(lookup(s, now, 'ES256', undefined).map((k) => k.kid), ['e1']);
    assert.equal(s.fetches[0], 2);
    await s.close();
  });

  test('unknown kids: one fetch per cooldown, shared by concurrent requests', async () => {
    server.keys = [k1.jwk];
    server.fetches = 0;
    let now = 1_000_000;
    const s = new JwksSource(options(server.url, { cooldownMs: 30_000 }), () => now, logger);
    await s.start();
    const first = s.demand(now);
    assert.ok(first !== null);
    assert.equal(s.demand(now), first, 'a demand while a fetch is in flight joins it');
    await first;
    for (let i = 0; i < 100; i++) assert.equal(s.demand(now + i), null);
    assert.equal(server.fetches, 2);
    now += 30_000;
    server.keys = [k1.jwk, k2.jwk];
    assert.equal(await s.demand(now), true);
    assert.equal(lookup(s, now, 'RS256', 'k2').length, 1);
    assert.equal(server.fetches, 3);
    await s.close();
  });

  test('rotation: a dropped or changed key ends its cached tokens; a kept key keeps its life', async () => {
    server.keys = [k1.jwk, k2.jwk];
    const now = Date.now();
    const s = new JwksSource(options(server.url), () => now, logger);
    await s.start();
    const [kept] = lookup(s, now, 'RS256', 'k1');
    const [dropped] = lookup(s, now, 'RS256', 'k2');
    assert.ok(kept.ref.usableUntil > now && dropped.ref.usableUntil > now);
    server.keys = [k1.jwk, ec.jwk];
    await s.refresh();
    assert.equal(lookup(s, now, 'RS256', 'k1')[0], kept, 'an unchanged key is the same object');
    assert.ok(kept.ref.usableUntil > now);
    assert.equal(dropped.ref.usableUntil, 0);
    server.keys = [{ ...k2.jwk, kid: 'k1' }];
    await s.refresh();
    assert.equal(kept.ref.usableUntil, 0, 'new key material under an old kid is a new key');
    await s.close();
  });

  test('failures keep the last good set up to maxStale; a cold set stays cold', async () => {
    server.keys = [k1.jwk];
    server.mode = 'ok';
    let now = 5_000_000;
    const s = new JwksSource(options(server.url, { cacheTtlMs: 1_000, maxStaleMs: 10_000 }), () => now, logger);
    await s.start();
    server.mode = 'fail';
    now += 5_000;
    assert.equal(await s.refresh(), false);
    assert.equal(lookup(s, now, 'RS256', 'k1').length, 1);
    assert.equal((s.status(now) as { state: string }).state, 'stale');
    now += 6_001;
    assert.equal(s.keys(now), null);
    assert.equal((s.status(now) as { state: string }).state, 'expired');
    assert.ok(s.fetches[1] >= 1, 'http_error counted');
    const cold = new JwksSource(options(server.url), () => now, logger);
    await cold.start();
    assert.equal(cold.keys(now), null);
    assert.equal((cold.status(now) as { state: string; lastError: string }).lastError, 'HTTP 500');
    server.mode = 'ok';
    await Promise.all([s.close(), cold.close()]);
  });

  test('a hanging endpoint is bounded by timeout', async () => {
    server.mode = 'hang';
    const s = new JwksSource(options(server.url, { timeoutMs: 300 }), Date.now, logger);
    const t0 = performance.now();
    assert.equal(await s.refresh(), false);
    const ms = performance.now() - t0;
    assert.ok(ms >= 250 && ms < 3000, `took ${ms} ms`);
    assert.equal(s.fetches[2], 1, 'counted as timeout');
    server.mode = 'ok';
    await s.close();
  });

  test('a body that is not a JWKS, or over 512 KiB, is a failed fetch', async () => {
    server.keys = 'nope' as never;
    const s = new JwksSource(options(server.url), Date.now, logger);
    assert.equal(await s.refresh(), false);
    assert.equal(s.fetches[4], 1);
    server.keys = new Array(5000).fill(k1.jwk);
    assert.equal(await s.refresh(), false);
    assert.equal(s.fetches[4], 2);
    assert.match(s.lastError, /larger than 524288 bytes/);
    await s.close();
  });
});

describe('JwksSource over https', () => {
  let dir: string;
  let server: JwksServer;
  let ca: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jwks-tls-'));
    const openssl = (...args: string[]): void => { execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' }); };
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=test-ca',
      '-keyout', 'ca.key', '-out', 'ca.pem');
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=localhost', '-keyout', 'srv.key', '-out', 'srv.csr');
    writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
    openssl('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'ext.cnf', '-out', 'srv.pem');
    ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
    const key = await testKey('ES256', 'e1');
    server = await JwksServer.start([key.jwk], { key: readFileSync(join(dir, 'srv.key'), 'utf8'), cert: readFileSync(join(dir, 'srv.pem'), 'utf8') });
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('trusts the ca file in addition to node\'s store, and nothing else', async () => {
    const trusted = new JwksSource(options(server.url, { ca }), Date.now, logger);
    assert.equal(await trusted.refresh(), true);
    assert.equal(lookup(trusted, Date.now(), 'ES256', 'e1').length, 1);
    const untrusted = new JwksSource(options(server.url), Date.now, logger);
    assert.equal(await untrusted.refresh(), false);
    assert.equal(untrusted.fetches[3], 1, 'a certificate error is a network failure');
    await Promise.all([trusted.close(), untrusted.close()]);
  });
});

test('TokenCache: bounded, CLOCK keeps recently used entries, a hit needs the whole token', () => {
  const entry = (n: number, used = false): { token: string; used: boolean; n: number } => ({ token: 'header.payload.sig' + n, used, n });
  const c = new TokenCache<{ token: string; used: boolean; n: number }>(3);
  for (let n = 0; n < 3; n++) c.set(entry(n));
  assert.equal(c.get('header.payload.sig0')?.n, 0); // t0 used: gets a second chance
  c.set(entry(3));
  assert.equal(c.size, 3);
  assert.equal(c.get('header.payload.sig1'), undefined, 'the oldest unused entry went');
  assert.equal(c.get('header.payload.sig0')?.n, 0);
  assert.equal(c.get('other.payload.sig0'), undefined, 'same signature, other token: a miss');
  for (let n = 4; n < 100; n++) c.set(entry(n, true));
  assert.equal(c.size, 3);
  c.delete('header.payload.sig99');
  assert.equal(c.size, 2);
  const none = new TokenCache<{ token: string; used: boolean }>(0);
  none.set({ token: 'x', used: false });
  assert.equal(none.get('x'), undefined);
  // Slots: small integers, spread.
  const slots = new Set<number>();
  for (let i = 0; i < 10_000; i++) {
    const s = tokenSlot('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.' + i.toString(36).padStart(40, 'q'));
    assert.ok(Number.isInteger(s) && s >= 0 && s < 2 ** 30);
    slots.add(s);
  }
  assert.ok(slots.size > 9_900, `${slots.size} distinct slots of 10,000`);
});
