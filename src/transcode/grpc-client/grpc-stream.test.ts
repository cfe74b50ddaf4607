import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GrpcChannel } from './grpc-channel.js';
import { SERVICE, startGrpcServer, type TestGrpcServer } from './grpc-test-server.js';
import { GrpcCode } from './status-map.js';

let server: TestGrpcServer;
let channel: GrpcChannel;
const STREAM = `/${SERVICE}/Stream`;
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

before(async () => {
  server = await startGrpcServer();
  channel = new GrpcChannel(`h2c://127.0.0.1:${server.port}`, { streamHighWaterBytes: 128 * 1024 });
});

after(async () => {
  await channel.close();
  server.stop();
});

test('many messages arrive in order, then status OK', async () => {
  const call = channel.serverStream(STREAM, json({ count: 2000, size: 100 }), { deadlineMs: 10_000 });
  let n = 0;
  for await (const m of call) {
    assert.equal(m.byteLength, 100);
    assert.equal(m[0], n % 256);
    assert.equal(m[99], n % 256);
    n++;
  }
  assert.equal(n, 2000);
  const status = await call.status;
  assert.equal(status.status, GrpcCode.OK, status.message);
  assert.equal((await call.headers)['content-type'], 'application/grpc+proto');
});

test('a 1 MiB message (split over many DATA frames) among small ones', async () => {
  const call = channel.serverStream(STREAM, json({ count: 5, size: 10, bigAt: 2 }));
  const sizes: number[] = [];
  for await (const m of call) {
    sizes.push(m.byteLength);
    assert.ok(m.every((b) => b === sizes.length - 1));
  }
  assert.deepEqual(sizes, [10, 10, 1024 * 1024, 10, 10]);
  assert.equal((await call.status).status, GrpcCode.OK);
});

test('a slow consumer pauses the stream: buffering stays bounded', async (t) => {
  const size = 32 * 1024;
  const count = 300; // ~9.4 MiB in total
  const sentBefore = server.log.streamSent;
  const call = channel.serverStream(STREAM, json({ count, size }));
  let received = 0;
  let maxBuffered = 0;
  let maxAhead = 0;
  for await (const m of call) {
    assert.equal(m.byteLength, size);
    received++;
    maxBuffered = Math.max(maxBuffered, call.bufferedBytes);
    maxAhead = Math.max(maxAhead, server.log.streamSent - sentBefore - received);
    if (received <= 60) await sleep(4); // slow phase: the server must wait for us
  }
  assert.equal(received, count);
  assert.equal((await call.status).status, GrpcCode.OK);
  // High-water mark 128 KiB + one chunk in flight + HTTP/2 windows; far below the 9.4 MiB sent.
  t.diagnostic(`max client buffer ${maxBuffered} B; server at most ${maxAhead} messages ahead`);
  assert.ok(maxBuffered < 1024 * 1024, `client buffered up to ${maxBuffered} bytes`);
  assert.ok(maxAhead < 100, `server ran ${maxAhead} messages ahead of the consumer`);
});

test('leaving the loop early cancels the call on the server', async () => {
  const cancelledBefore = server.log.cancelled;
  const call = channel.serverStream(STREAM, json({ count: 100_000, size: 1000, delayMs: 1 }));
  let n = 0;
  for await (const m of call) {
    assert.equal(m.byteLength, 1000);
    if (++n === 5) break;
  }
  const status = await call.status;
  assert.equal(status.status, GrpcCode.CANCELLED);
  for (let i = 0; i < 100 && server.log.cancelled === cancelledBefore; i++) await sleep(20);
  assert.equal(server.log.cancelled, cancelledBefore + 1);
});

test('the deadline ends a long stream with DEADLINE_EXCEEDED', async () => {
  const call = channel.serverStream(STREAM, json({ count: 100_000, size: 10, delayMs: 2 }), { deadlineMs: 250 });
  let n = 0;
  for await (const m of call) if (m.byteLength === 10) n++;
  assert.ok(n > 0);
  assert.equal((await call.status).status, GrpcCode.DEADLINE_EXCEEDED);
});
