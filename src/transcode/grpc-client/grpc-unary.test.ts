import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GrpcChannel } from './grpc-channel.js';
import { GrpcClientError } from './grpc-client-error.js';
import { SERVICE, startGrpcServer, type TestGrpcServer } from './grpc-test-server.js';
import { GrpcCode, headersFromTrailers, metadataFromHeaders } from './status-map.js';

let server: TestGrpcServer;
let limited: TestGrpcServer;
let channel: GrpcChannel;

before(async () => {
  server = await startGrpcServer();
  limited = await startGrpcServer(0, { 'grpc.max_concurrent_streams': 10 });
  channel = new GrpcChannel(`h2c://127.0.0.1:${server.port}`);
});

after(async () => {
  await channel.close();
  server.stop();
  limited.stop();
});

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

test('unary OK: response bytes, allowlisted metadata in, headers and trailers back', async () => {
  const echo = await channel.unary(`/${SERVICE}/Echo`, Buffer.from([1, 2, 3, 0, 255]));
  assert.equal(echo.status, GrpcCode.OK);
  assert.deepEqual(Buffer.from(echo.response!), Buffer.from([1, 2, 3, 0, 255]));
  assert.equal(echo.sent, true);

  const metadata = metadataFromHeaders(
    { 'x-tenant': 'acme', 'x-secret': 'nope', 'x-trace-bin': 'AAEC/w', authorization: 'Bearer t' },
    ['x-tenant', 'x-trace-bin', 'authorization'],
  );
  const r = await channel.unary(`/${SERVICE}/Meta`, Buffer.alloc(0), { metadata, deadlineMs: 5000 });
  assert.equal(r.status, GrpcCode.OK, r.message);
  const seen = JSON.parse(Buffer.from(r.response!).toString()) as Record<string, string[]>;
  assert.deepEqual(seen['x-tenant'], ['acme']);
  assert.deepEqual(seen['x-trace-bin'], ['b64:AAEC/w==']);
  assert.deepEqual(seen.authorization, ['Bearer t']);
  assert.equal(seen['x-secret'], undefined);
  assert.match(seen['user-agent'][0], /^turnpike-grpc\//);
  assert.equal(r.headers['x-resp-header'], 'h1');
  assert.equal(r.headers['content-type'], 'application/grpc+proto');
  assert.equal(r.trailers['x-resp-trailer'], 't1');
  assert.equal(r.trailers['grpc-status'], '0');
  assert.deepEqual(
    { ...headersFromTrailers(r.headers, ['x-resp-*']), ...headersFromTrailers(r.trailers, ['x-resp-*']) },
    { 'x-resp-header': 'h1', 'x-resp-trailer': 't1', 'x-resp-bin': 'AAEC/w==' },
  );
});

test('error statuses carry the decoded message and details-bin', async () => {
  const cases = [
    { code: GrpcCode.NOT_FOUND, message: 'shelf "shelves/7" not found ✓ 100%' },
    { code: GrpcCode.INVALID_ARGUMENT, message: 'bad', details: 'detail-bytes\u0000\u0001' },
    { code: GrpcCode.UNAUTHENTICATED, message: 'who are you' },
  ];
  for (const c of cases) {
    const r = await channel.unary(`/${SERVICE}/Fail`, json(c));
    assert.equal(r.status, c.code);
    assert.equal(r.message, c.message);
    assert.equal(r.response, null);
    if (c.details === undefined) assert.equal(r.details, null);
    else assert.equal(Buffer.from(r.details!).toString(), c.details);
  }
  const unknown = await channel.unary(`/${SERVICE}/NoSuchMethod`, Buffer.alloc(0));
  assert.equal(unknown.status, GrpcCode.UNIMPLEMENTED);
});

test('deadline exceeded while the server sleeps', async () => {
  const t0 = Date.now();
  const r = await channel.unary(`/${SERVICE}/Sleep`, json({ ms: 3000 }), { deadlineMs: 150 });
  assert.equal(r.status, GrpcCode.DEADLINE_EXCEEDED);
  assert.ok(Date.now() - t0 < 2500, `took ${Date.now() - t0} ms`);
  const fast = await channel.unary(`/${SERVICE}/Sleep`, json({ ms: 1 }), { deadlineMs: 5000 });
  assert.equal(fast.status, GrpcCode.OK);
  const none = await channel.unary(`/${SERVICE}/Echo`, Buffer.alloc(1), { deadlineMs: 0 });
  assert.equal(none.status, GrpcCode.DEADLINE_EXCEEDED);
});

test('abort → CANCELLED and the server sees the stream reset', async () => {
  const base = server.log.cancelled;
  const ac = new AbortController();
  const pending = channel.unary(`/${SERVICE}/Sleep`, json({ ms: 3000 }), { signal: ac.signal });
  setTimeout(() => ac.abort(), 100);
  const r = await pending;
  assert.equal(r.status, GrpcCode.CANCELLED);
  for (let i = 0; i < 100 && server.log.cancelled === base; i++) await new Promise((res) => setTimeout(res, 20));
  assert.equal(server.log.cancelled, base + 1);
  const pre = await channel.unary(`/${SERVICE}/Echo`, Buffer.alloc(1), { signal: AbortSignal.abort() });
  assert.equal(pre.status, GrpcCode.CANCELLED);
});

test('200 parallel calls through a server limited to 10 concurrent streams', async () => {
  const ch = new GrpcChannel(`h2c://127.0.0.1:${limited.port}`);
  try {
    let maxActive = 0;
    let maxQueued = 0;
    const probe = setInterval(() => {
      maxActive = Math.max(maxActive, ch.load.active);
      maxQueued = Math.max(maxQueued, ch.load.queued);
    }, 2);
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      ch.unary(`/${SERVICE}/Sleep`, json({ ms: 10 + (i % 3) }), { deadlineMs: 20_000 })));
    clearInterval(probe);
    assert.ok(maxActive > 0 && maxActive <= 10, `max ${maxActive} streams open at once`);
    assert.ok(maxQueued > 0, 'calls beyond the limit were queued');
    assert.equal(results.filter((r) => r.status === GrpcCode.OK).length, 200,
      results.find((r) => r.status !== GrpcCode.OK)?.message);
    assert.ok(results.every((r) => Buffer.from(r.response!).toString() === 'slept'));
    assert.deepEqual(ch.load, { active: 0, queued: 0 });
    // The same on the unlimited server, all in flight at once.
    const echoes = await Promise.all(Array.from({ length: 200 }, (_, i) =>
      channel.unary(`/${SERVICE}/Echo`, Buffer.from(String(i)))));
    assert.ok(echoes.every((r, i) => r.status === GrpcCode.OK && Buffer.from(r.response!).toString() === String(i)));
  } finally {
    await ch.close();
  }
});

test('a response over the receive limit → RESOURCE_EXHAUSTED', async () => {
  const ch = new GrpcChannel(`http://127.0.0.1:${server.port}`, { maxReceiveMessageBytes: 1000 });
  try {
    const r = await ch.unary(`/${SERVICE}/Echo`, Buffer.alloc(1001));
    assert.equal(r.status, GrpcCode.RESOURCE_EXHAUSTED);
    assert.match(r.message, /larger than max \(1001 vs\. 1000\)/);
    const ok = await ch.unary(`/${SERVICE}/Echo`, Buffer.alloc(1000));
    assert.equal(ok.status, GrpcCode.OK);
  } finally {
    await ch.close();
  }
});

test('caller errors reject with GrpcClientError', async () => {
  await assert.rejects(channel.unary('NoSlash', Buffer.alloc(0)), (e: unknown) => e instanceof GrpcClientError && e.code === 'invalid_path');
  await assert.rejects(channel.unary(`/${SERVICE}/Echo`, Buffer.alloc(0), { metadata: [['grpc-timeout', '1S']] }),
    (e: unknown) => e instanceof GrpcClientError && e.code === 'invalid_metadata');
  for (const bad of ['grpcs://127.0.0.1:1', 'ftp://127.0.0.1:1', 'https://127.0.0.1:1/path', 'not a url']) {
    assert.throws(() => new GrpcChannel(bad), (e: unknown) => e instanceof GrpcClientError && e.code === 'invalid_target', bad);
  }
  assert.equal(new GrpcChannel('https://127.0.0.1').target, 'https://127.0.0.1:443');
  assert.equal(new GrpcChannel('h2c://127.0.0.1').target, 'h2c://127.0.0.1:80');
});
