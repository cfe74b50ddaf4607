// REST→gRPC transcoding to gRPC upstreams over TLS: real @grpc/grpc-js
// LibraryServices listening with ServerCredentials.createSsl (certificates
// made by the test with the openssl CLI), reached through the gateway's
// transcoding routes with the upstream's `tls` block: trust, names, mTLS,
// failures as 502 upstream_tls, passive health, retries and active
// grpc.health.v1 checks over TLS.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import grpc from '@grpc/grpc-js';
import { request } from 'undici';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import { configFromYaml, startGateway, type TestGateway } from './helpers.js';
import { makeUpstreamCerts, type UpstreamCerts } from './upstream-tls-certs.js';
import { startLibraryServer, type LibraryServer } from '../../loadtest/upstream/library-grpc-server.js';

const PROTOS = resolve('config/protos');
const LIBRARY = join(PROTOS, 'example/library/v1/library.proto');
const SERVICE = 'example.library.v1.LibraryService';

interface Answer { status: number; type: string; json: Record<string, unknown>; text: string; ms: number }

async function call(base: string, method: string, path: string, body?: unknown): Promise<Answer> {
  const start = performance.now();
  const r = await request(base + path, {
    method: method as 'GET', headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.body.text();
  let json: Record<string, unknown> = {};
  try { json = JSON.parse(text) as Record<string, unknown>; } catch { /* ndjson */ }
  return { status: r.statusCode, type: String(r.headers['content-type']), json, text, ms: performance.now() - start };
}

/** Asserts a 502 upstream_tls problem whose detail matches `detail`, answered long before the call's 10 s deadline. */
function assertTlsProblem(res: Answer, detail: RegExp): void {
  assert.equal(res.status, 502, res.text);
  assert.equal(res.type, 'application/problem+json');
  assert.equal(res.json.code, 'upstream_tls');
  assert.match(String(res.json.detail), detail);
  assert.equal(res.json.grpcStatus, undefined, 'a TLS failure is not presented as a gRPC status');
  assert.doesNotMatch(String(res.json.detail), /\/|\.c:|openssl|routines|127\.0\.0\.1/i, 'no library message, path or address reaches the client');
  assert.ok(res.ms < 5000, `answered in ${Math.round(res.ms)} ms, not at a timeout`);
}

/** A TLS LibraryService: the server certificate from `certs` (or the wrong CA's), optionally requiring a client certificate. */
function tlsServer(certs: UpstreamCerts, opts: { wrongCert?: boolean; requireClientCert?: boolean; health?: boolean } = {}): Promise<LibraryServer> {
  const pair = opts.wrongCert === true
    ? { private_key: readFileSync(certs.wrongServerKey), cert_chain: readFileSync(certs.wrongServerCert) }
    : { private_key: readFileSync(certs.serverKey), cert_chain: readFileSync(certs.serverCert) };
  const credentials = opts.requireClientCert === true
    ? grpc.ServerCredentials.createSsl(readFileSync(certs.ca), [pair], true)
    : grpc.ServerCredentials.createSsl(null, [pair]);
  return startLibraryServer(LIBRARY, PROTOS, { credentials, health: opts.health === true });
}

/** A grpc entry serving Echo of `upstream` at POST /<upstream>/echo. */
function echoEntry(upstream: string, extra = ''): string {
  return `  - upstream: ${upstream}
    protos: [ "${LIBRARY}" ]
    includeDirs: [ "${PROTOS}" ]
    routes: [ { rpc: ${SERVICE}/Echo, method: POST, path: /${upstream}/echo, body: "*" } ]
    timeout: 10s
${extra}`;
}

describe('transcoding to gRPC upstreams over TLS (real grpc-js TLS servers)', () => {
  let certs: UpstreamCerts;
  let plain: LibraryServer; let mtls: LibraryServer; let wrong: LibraryServer;
  let gw: TestGateway;

  before(async () => {
    certs = makeUpstreamCerts();
    plain = await tlsServer(certs);
    mtls = await tlsServer(certs, { requireClientCert: true });
    wrong = await tlsServer(certs, { wrongCert: true });
    process.env.TURNPIKE_TEST_GRPC_KEY_PASS = 's3cret';
    const names = ['good-name', 'wrong-ca', 'default-store', 'wrong-name', 'mtls', 'mtls-encrypted', 'mtls-no-cert', 'ejecting', 'half-bad'];
    gw = await startGateway(`
server: { workers: 1 }
upstreams:
  good: { protocol: grpc, targets: [ { url: "https://127.0.0.1:${plain.port}" } ], tls: { ca: "${certs.ca}" } }
  good-name: { protocol: grpc, targets: [ { url: "https://localhost:${plain.port}" } ], tls: { ca: "${certs.ca}" } }
  wrong-ca: { protocol: grpc, targets: [ { url: "https://127.0.0.1:${plain.port}" } ], tls: { ca: "${certs.wrongCa}" } }
  default-store: { protocol: grpc, targets: [ { url: "https://localhost:${plain.port}" } ] }
  wrong-name: { protocol: grpc, targets: [ { url: "https://127.0.0.1:${plain.port}" } ], tls: { ca: "${certs.ca}", serverName: wrong.example } }
  mtls:
    protocol: grpc
    targets: [ { url: "https://127.0.0.1:${mtls.port}" } ]
    tls: { ca: "${certs.ca}", cert: "${certs.clientCert}", key: "${certs.clientKey}" }
  mtls-encrypted:
    protocol: grpc
    targets: [ { url: "https://127.0.0.1:${mtls.port}" } ]
    tls: { ca: "${certs.ca}", cert: "${certs.clientCert}", key: "${certs.clientKeyEncrypted}", passphrase: "env:TURNPIKE_TEST_GRPC_KEY_PASS" }
  mtls-no-cert: { protocol: grpc, targets: [ { url: "https://127.0.0.1:${mtls.port}" } ], tls: { ca: "${certs.ca}" } }
  ejecting:
    protocol: grpc
    targets: [ { url: "https://127.0.0.1:${plain.port}" } ]
    tls: { ca: "${certs.wrongCa}" }
    passiveHealth: { consecutiveFailures: 2, ejectTime: 1m }
    panicThreshold: 0%
  half-bad:
    protocol: grpc
    targets: [ { url: "https://127.0.0.1:${wrong.port}" }, { url: "https://127.0.0.1:${plain.port}" } ]
    tls: { ca: "${certs.ca}" }
    passiveHealth: { consecutiveFailures: 0 }
grpc:
${echoEntry('good', `    services: [ ${SERVICE} ]\n`)}${names.map((n) => echoEntry(n)).join('')}`);
  });

  after(async () => {
    await gw?.close();
    for (const s of [plain, mtls, wrong]) s?.kill();
    delete process.env.TURNPIKE_TEST_GRPC_KEY_PASS;
    certs?.remove();
  });

  test('the configured CA verifies the target: unary and server-streaming calls work over TLS (IP target, host name target)', async () => {
    const shelf = await call(gw.base, 'GET', '/v1/shelves/s1');
    assert.equal(shelf.status, 200, shelf.text);
    assert.equal(shelf.json.name, 'shelves/s1');
    const stream = await call(gw.base, 'GET', '/v1/shelves/s3/books:stream?limit=2');
    assert.equal(stream.status, 200, stream.text);
    assert.deepEqual(stream.text.trim().split('\n').map((l) => (JSON.parse(l) as { name: string }).name), ['shelves/s3/books/0', 'shelves/s3/books/1']);
    for (const route of ['/good/echo', '/good-name/echo']) {
      const r = await call(gw.base, 'POST', route, { text: 'over tls' });
      assert.equal(r.status, 200, `${route}: ${r.text}`);
      assert.deepEqual(r.json, { text: 'over tls' });
    }
    assert.equal(plain.lastClientCert, null, 'no client certificate without cert/key');
  });

  test('a certificate the gateway does not trust is 502 upstream_tls: wrong CA, default store, wrong name', async () => {
    assertTlsProblem(await call(gw.base, 'POST', '/wrong-ca/echo', { text: 'x' }), /^certificate verify failed: unable to verify the first certificate$/);
    assertTlsProblem(await call(gw.base, 'POST', '/default-store/echo', { text: 'x' }), /^certificate verify failed: /);
    assertTlsProblem(await call(gw.base, 'POST', '/wrong-name/echo', { text: 'x' }), /^certificate verify failed: the certificate is not valid for the server name$/);
  });

  test('mTLS: a server that requires a client certificate gets the configured one (plain or encrypted key); without it, 502 upstream_tls', async () => {
    for (const route of ['/mtls/echo', '/mtls-encrypted/echo']) {
      mtls.lastClientCert = null;
      const r = await call(gw.base, 'POST', route, { text: 'mutual' });
      assert.equal(r.status, 200, `${route}: ${r.text}`);
      assert.deepEqual(r.json, { text: 'mutual' });
      assert.equal(mtls.lastClientCert, 'turnpike-gateway');
    }
    const calls = mtls.calls;
    assertTlsProblem(await call(gw.base, 'POST', '/mtls-no-cert/echo', { text: 'x' }), /certificate required \(the upstream requires a client certificate\)$/);
    assert.equal(mtls.calls, calls, 'the call never reached the server');
  });

  test('TLS failures count as connect failures for passive health: the target is ejected, then 503 upstream_unavailable', async () => {
    assertTlsProblem(await call(gw.base, 'POST', '/ejecting/echo', { text: 'x' }), /^certificate verify failed: /);
    assertTlsProblem(await call(gw.base, 'POST', '/ejecting/echo', { text: 'x' }), /^certificate verify failed: /);
    const r = await call(gw.base, 'POST', '/ejecting/echo', { text: 'x' });
    assert.equal(r.status, 503, r.text);
    assert.equal(r.json.code, 'upstream_unavailable');
  });

  test('a TLS failure is retried once on another target, like a refused connection', async () => {
    const before = plain.calls;
    for (let i = 0; i < 4; i++) {
      const r = await call(gw.base, 'POST', '/half-bad/echo', { text: `try ${i}` });
      assert.equal(r.status, 200, r.text);
    }
    assert.equal(plain.calls - before, 4);
    assert.equal(wrong.calls, 0, 'no call reached the target whose certificate failed');
  });
});

describe('active grpc.health.v1 checks over TLS', () => {
  let certs: UpstreamCerts;
  let good: LibraryServer; let bad: LibraryServer;

  before(async () => {
    certs = makeUpstreamCerts();
    // The good target requires the gateway's client certificate: its checks pass only with the upstream's TLS settings.
    good = await tlsServer(certs, { requireClientCert: true, health: true });
    bad = await tlsServer(certs, { wrongCert: true, health: true });
  });

  after(() => {
    good?.kill();
    bad?.kill();
    certs?.remove();
  });

  async function checkedWorker(tls: string, onDown: (target: string, reason: string) => void): Promise<{ port: number; events: Array<{ target: string; available: boolean; reason: string }>; drain(): Promise<unknown> }> {
    const events: Array<{ target: string; available: boolean; reason: string }> = [];
    const worker = await startWorker(configFromYaml(`
server: { workers: 1 }
upstreams:
  checked:
    protocol: grpc
    targets: [ { url: "https://127.0.0.1:${good.port}" }, { url: "https://127.0.0.1:${bad.port}" } ]
    tls: ${tls}
    healthCheck: { path: /${SERVICE}, interval: 100ms, timeout: 2s, unhealthyThreshold: 1, healthyThreshold: 1 }
    passiveHealth: { consecutiveFailures: 0 }
grpc:
${echoEntry('checked')}`), {
      onTargetHealth: (_upstream, target, available, reason) => {
        events.push({ target, available, reason });
        if (!available) onDown(target, reason);
      },
    });
    return { port: worker.port, events, drain: () => worker.drain(1000) };
  }

  test('checks use the upstream\'s CA, client certificate and serverName: the wrong-CA target goes unhealthy, the good one stays healthy', async () => {
    const badUrl = `https://127.0.0.1:${bad.port}`;
    let sawBadDown: () => void = () => undefined;
    const badDown = new Promise<void>((r) => { sawBadDown = r; });
    const w = await checkedWorker(`{ ca: "${certs.ca}", cert: "${certs.clientCert}", key: "${certs.clientKey}", serverName: localhost }`,
      (target) => { if (target === badUrl) sawBadDown(); });
    try {
      await badDown;
      assert.match(w.events.find((e) => e.target === badUrl)!.reason, /^tls: certificate verify failed: unable to verify the first certificate/);
      // Let the good target be checked a few times too (each check is a real Health/Check over mTLS).
      while (good.health!.asked.length < 3) await new Promise((r) => setTimeout(r, 50));
      assert.ok(good.health!.asked.every((s) => s === SERVICE), good.health!.asked.join(', '));
      assert.deepStrictEqual(w.events.filter((e) => e.target !== badUrl), [], 'the good target never went unhealthy');
      assert.equal(bad.health!.asked.length, 0, 'no check got through to the wrong-CA target');
      for (let i = 0; i < 3; i++) {
        const r = await call(`http://127.0.0.1:${w.port}`, 'POST', '/checked/echo', { text: `c${i}` });
        assert.equal(r.status, 200, r.text);
        assert.equal(good.lastClientCert, 'turnpike-gateway');
      }
      assert.equal(bad.calls, 0, 'traffic avoids the unhealthy target');
    } finally {
      await w.drain();
    }
  });

  test('without the client certificate the mTLS target\'s checks fail with a tls: reason', async () => {
    const goodUrl = `https://127.0.0.1:${good.port}`;
    let sawGoodDown: () => void = () => undefined;
    const goodDown = new Promise<void>((r) => { sawGoodDown = r; });
    const asked = good.health!.asked.length;
    const w = await checkedWorker(`{ ca: "${certs.ca}" }`, (target) => { if (target === goodUrl) sawGoodDown(); });
    try {
      await goodDown;
      assert.match(w.events.find((e) => e.target === goodUrl)!.reason, /^tls: handshake failed: .*certificate required \(the upstream requires a client certificate\)/);
      assert.equal(good.health!.asked.length, asked, 'no check reached the server');
    } finally {
      await w.drain();
    }
  });
});
