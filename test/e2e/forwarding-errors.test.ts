import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { deadPort, nodeRequest, rawRequest, startGateway, startUpstream, type TestGateway, type TestUpstream } from './helpers.js';

describe('header forwarding and error statuses (real upstreams)', () => {
  let echo: TestUpstream; let slow: TestUpstream; let stalling: TestUpstream; let big: TestUpstream;
  let bigConnections = 0; let failing: TestUpstream; let gw: TestGateway;
  let dead: number;

  before(async () => {
    echo = await startUpstream('echo');
    slow = await startUpstream('slow', (_req, res) => {
      setTimeout(() => { if (!res.destroyed) { res.writeHead(200); res.end('late'); } }, 1500);
    });
    stalling = await startUpstream('stalling', (_req, res) => {
      // Headers and a first chunk at once, then nothing: the whole-request
      // deadline must cut the streamed response.
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first chunk;');
    });
    big = await startUpstream('big', (_req, res) => {
      const body = Buffer.alloc(200 * 1024, 98);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length) });
      res.end(body);
    });
    big.server.on('connection', () => { bigConnections++; });
    failing = await startUpstream('failing', (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end('boom');
    });
    dead = await deadPort();
    gw = await startGateway(`
server: { maxBodySize: 1kb, maxHeaderSize: 4kb, trustedProxies: [ 127.0.0.0/8 ] }
upstreams:
  echo: { targets: [ { url: "${echo.url}" } ] }
  slow: { targets: [ { url: "${slow.url}" } ] }
  stalling: { targets: [ { url: "${stalling.url}" } ] }
  big: { targets: [ { url: "${big.url}" } ] }
  failing:
    targets: [ { url: "${failing.url}" } ]
    passiveHealth: { consecutiveFailures: 0 }
  dead:
    targets: [ { url: "http://127.0.0.1:${dead}" } ]
    passiveHealth: { consecutiveFailures: 1, ejectTime: 1m }
    panicThreshold: 0%
routes:
  - { name: echo, match: { path: /echo/* }, upstream: echo }
  - { name: preserve, match: { path: /preserve/* }, upstream: echo, preserveHost: true }
  - { name: slow, match: { path: /slow }, upstream: slow, timeout: 300ms }
  - { name: failing, match: { path: /failing }, upstream: failing }
  - { name: big, match: { path: /big }, upstream: big }
  - { name: stalling, match: { path: /stalling }, upstream: stalling, timeout: { headers: 5s, request: 400ms } }
  - { name: dead, match: { path: /dead }, upstream: dead }
`);
  });
  after(async () => { await gw?.close(); await Promise.all([echo?.close(), slow?.close(), stalling?.close(), big?.close(), failing?.close()]); });

  test('forwards identity headers per RFC 9110 and drops hop-by-hop ones', async () => {
    const res = await nodeRequest(gw.port, '/echo/x', {
      'x-forwarded-for': '203.0.113.9', connection: 'keep-alive, x-secret-hop', 'x-secret-hop': '1',
      'keep-alive': 'timeout=5', 'x-custom': 'kept', host: 'shop.example.com',
    });
    const body = JSON.parse(res.body) as { headers: Record<string, string> };
    assert.equal(res.status, 200);
    // The peer (127.0.0.1) is a trusted proxy: the incoming chain is kept and the peer appended.
    assert.equal(body.headers['x-forwarded-for'], '203.0.113.9, 127.0.0.1');
    assert.equal(body.headers['x-forwarded-proto'], 'http');
    assert.equal(body.headers['x-forwarded-host'], 'shop.example.com');
    assert.equal(body.headers['x-custom'], 'kept');
    assert.equal(body.headers['x-secret-hop'], undefined);
    assert.equal(body.headers['keep-alive'], undefined);
    assert.equal(body.headers.host, `127.0.0.1:${echo.port}`);
    const rid = body.headers['x-request-id'];
    assert.match(rid, /^[0-9a-f]{24}-[0-9a-z]+$/);
    assert.equal(res.headers['x-request-id'], rid);
    assert.equal(res.headers['x-upstream'], 'echo');
  });

  test('keeps a client X-Request-Id and preserves Host when asked', async () => {
    const res = await request(gw.base + '/preserve/y', { headers: { 'x-request-id': 'abc-123', host: 'shop.example.com' } });
    const body = await res.body.json() as { headers: Record<string, string> };
    assert.equal(body.headers['x-request-id'], 'abc-123');
    assert.equal(res.headers['x-request-id'], 'abc-123');
    assert.equal(body.headers.host, 'shop.example.com');
  });

  test('502 when the upstream refuses connections, then 503 once it is ejected', async () => {
    const first = await fetch(gw.base + '/dead');
    assert.equal(first.status, 502);
    const p1 = await first.json() as { code: string };
    assert.equal(p1.code, 'upstream_connect_failed');
    const second = await fetch(gw.base + '/dead');
    assert.equal(second.status, 503);
    assert.equal(second.headers.get('content-type'), 'application/problem+json');
    assert.equal((await second.json() as { code: string }).code, 'upstream_unavailable');
  });

  test('504 when the upstream is slower than the route timeout', async () => {
    const t0 = Date.now();
    const res = await fetch(gw.base + '/slow');
    assert.equal(res.status, 504);
    assert.equal((await res.json() as { code: string }).code, 'upstream_timeout');
    assert.ok(Date.now() - t0 < 1400, 'answered at the deadline, not when the upstream finished');
  });

  test('a streamed response that outlives the request timeout is cut', async () => {
    const t0 = Date.now();
    const res = await fetch(gw.base + '/stalling');
    assert.equal(res.status, 200);
    await assert.rejects(res.text(), 'the truncated body is an error for the client');
    const elapsed = Date.now() - t0;
    assert.ok(elapsed >= 350 && elapsed < 2000, `cut after ${elapsed} ms`);
  });

  test('streamed responses keep the upstream connection alive', async () => {
    // Bodies over bufferBodySize stream; finishing one must leave the upstream
    // keep-alive connection reusable (a regression once reset it every time).
    for (let i = 0; i < 5; i++) {
      const res = await fetch(gw.base + '/big');
      assert.equal(res.status, 200);
      assert.equal((await res.arrayBuffer()).byteLength, 200 * 1024);
    }
    assert.equal(bigConnections, 1);
  });

  test('an upstream 5xx is passed through unchanged', async () => {
    const res = await fetch(gw.base + '/failing');
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'boom');
  });

  test('413 for a body over maxBodySize', async () => {
    const res = await fetch(gw.base + '/echo/upload', { method: 'POST', body: Buffer.alloc(4096, 1) });
    assert.equal(res.status, 413);
    assert.equal((await res.json() as { code: string }).code, 'payload_too_large');
  });

  test('413 for a chunked body that grows over maxBodySize', async () => {
    const reply = await rawRequest(gw.port,
      'POST /echo/chunked HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n' + 'a'.repeat(0x800) + '\r\n0\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 413 /);
    assert.match(reply, /payload_too_large/);
  });

  test('a small POST body reaches the upstream intact', async () => {
    const res = await fetch(gw.base + '/echo/upload', { method: 'POST', body: 'hello world' });
    const body = await res.json() as { bodyBytes: number; headers: Record<string, string> };
    assert.equal(body.bodyBytes, 11);
    assert.equal(body.headers['content-length'], '11');
  });

  test('431 for oversized headers', async () => {
    const res = await fetch(gw.base + '/echo/x', { headers: { 'x-big': 'a'.repeat(6000) } });
    assert.equal(res.status, 431);
    assert.equal((await res.json() as { code: string }).code, 'request_header_fields_too_large');
  });

  test('400 for both Content-Length and Transfer-Encoding (smuggling)', async () => {
    const reply = await rawRequest(gw.port,
      'POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /echo/smuggled HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.match(reply, /^HTTP\/1\.1 400 /);
    assert.ok(!echo.seen.some((s) => s.url === '/echo/smuggled'), 'the smuggled request never reached the upstream');
  });

  test('400 for an invalid Content-Length', async () => {
    const reply = await rawRequest(gw.port, 'POST /echo/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1x\r\n\r\nab');
    assert.match(reply, /^HTTP\/1\.1 400 /);
  });

  test('malformed requests are refused at the parser and the worker keeps serving', async () => {
    // uWS's parser rejects these before any handler runs: an unparseable request
    // line closes the connection, an invalid header line gets its bare 400.
    const garbage = await rawRequest(gw.port, 'GARBAGE\r\n\r\n');
    assert.ok(garbage === '' || /^HTTP\/1\.1 400 /.test(garbage), garbage);
    const badHeader = await rawRequest(gw.port, 'GET /echo/x HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n');
    assert.match(badHeader, /^HTTP\/1\.1 400 /);
    const teFirst = await rawRequest(gw.port,
      'POST /echo/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n');
    assert.match(teFirst, /^HTTP\/1\.1 400 /);
    const badTe = await rawRequest(gw.port, 'POST /echo/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n');
    assert.match(badTe, /^HTTP\/1\.1 400 /);
    const ok = await fetch(gw.base + '/echo/after');
    assert.equal(ok.status, 200);
  });
});
