// Connection lifecycle against real servers: nothing listening, a server
// process killed mid-stream and restarted on the same port, GOAWAY, close().
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { GrpcChannel } from './grpc-channel.js';
import type { GrpcResult } from './grpc-wire.js';
import { SERVICE, startGrpcServer } from './grpc-test-server.js';
import { GrpcCode } from './status-map.js';

const SERVER_SCRIPT = fileURLToPath(new URL('./grpc-test-server.js', import.meta.url));
const ECHO = `/${SERVICE}/Echo`;
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
const sleep = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Runs the test gRPC server in a child process (so it can be SIGKILLed). */
function spawnServer(port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, [SERVER_SCRIPT, String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/port \d+/.test(out)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`server child exited with ${code}`)));
  });
}

function killed(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Calls until OK or `ms` pass; returns the last result and the attempt count. */
async function untilOk(channel: GrpcChannel, ms: number): Promise<{ last: GrpcResult; attempts: number }> {
  const end = Date.now() + ms;
  let attempts = 0;
  for (;;) {
    attempts++;
    const last = await channel.unary(ECHO, Buffer.from('hi'), { deadlineMs: 1000 });
    if (last.status === GrpcCode.OK || Date.now() > end) return { last, attempts };
    await sleep(25);
  }
}

test('nothing listening → UNAVAILABLE fast, naming the target; then fail-fast during backoff', async () => {
  const port = await freePort();
  const channel = new GrpcChannel(`h2c://127.0.0.1:${port}`, { backoffInitialMs: 500 });
  try {
    const t0 = Date.now();
    const results = await Promise.all([channel.unary(ECHO, Buffer.alloc(0)), channel.unary(ECHO, Buffer.alloc(0))]);
    assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
    for (const r of results) {
      assert.equal(r.status, GrpcCode.UNAVAILABLE);
      assert.match(r.message, new RegExp(`h2c://127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
      assert.equal(r.sent, false, 'a failed connect never sends the request');
    }
    assert.equal(channel.state, 'down');
    const fast = await channel.unary(ECHO, Buffer.alloc(0));
    assert.equal(fast.status, GrpcCode.UNAVAILABLE);
    assert.match(fast.message, /next connection attempt in \d+ ms/);
    assert.equal(fast.sent, false);
    const stream = channel.serverStream(`/${SERVICE}/Stream`, Buffer.alloc(0));
    for await (const m of stream) assert.fail(`unexpected message of ${m.byteLength} bytes`);
    assert.equal((await stream.status).status, GrpcCode.UNAVAILABLE);
    assert.equal((await stream.status).sent, false);
  } finally {
    await channel.close();
  }
});

test('server killed mid-stream → UNAVAILABLE; reconnects after a restart on the same port', async (t) => {
  const port = await freePort();
  let child = await spawnServer(port);
  const channel = new GrpcChannel(`h2c://127.0.0.1:${port}`, { backoffInitialMs: 50, backoffMaxMs: 200 });
  try {
    assert.equal((await channel.unary(ECHO, Buffer.from('a'))).status, GrpcCode.OK);
    const call = channel.serverStream(`/${SERVICE}/Stream`, json({ count: 100_000, size: 100, delayMs: 2 }));
    let n = 0;
    for await (const m of call) {
      assert.equal(m.byteLength, 100);
      if (++n === 10) void killed(child);
    }
    const status = await call.status;
    t.diagnostic(`after SIGKILL: ${status.status} ${status.message}`);
    assert.ok(status.status === GrpcCode.UNAVAILABLE || status.status === GrpcCode.INTERNAL, `${status.status} ${status.message}`);
    assert.ok(n >= 10);
    assert.equal(status.sent, true, 'the stream was open when the connection died');

    const down = await channel.unary(ECHO, Buffer.from('b'));
    assert.equal(down.status, GrpcCode.UNAVAILABLE);
    assert.equal(down.sent, false);
    child = await spawnServer(port);
    const { last, attempts } = await untilOk(channel, 5000);
    assert.equal(last.status, GrpcCode.OK, last.message);
    assert.equal(Buffer.from(last.response!).toString(), 'hi');
    assert.ok(attempts >= 1);
    assert.equal(channel.state, 'ready');
  } finally {
    await channel.close();
    await killed(child);
  }
});

test('GOAWAY: in-flight call finishes, later calls use a new session', async () => {
  const first = await startGrpcServer();
  const channel = new GrpcChannel(`h2c://127.0.0.1:${first.port}`, { backoffInitialMs: 50, backoffMaxMs: 200 });
  let second: Awaited<ReturnType<typeof startGrpcServer>> | null = null;
  try {
    const inFlight = channel.unary(`/${SERVICE}/Sleep`, json({ ms: 300 }), { deadlineMs: 5000 });
    await sleep(50);
    const shutDown = new Promise<void>((resolve) => first.server.tryShutdown(() => resolve()));
    const r = await inFlight;
    assert.equal(r.status, GrpcCode.OK, r.message);
    await shutDown;
    second = await startGrpcServer(first.port);
    const { last } = await untilOk(channel, 5000);
    assert.equal(last.status, GrpcCode.OK, last.message);
  } finally {
    await channel.close();
    second?.stop();
    first.stop();
  }
});

test('keep-alive pings keep a healthy session ready; close() ends the channel', async () => {
  const server = await startGrpcServer();
  const channel = new GrpcChannel(`h2c://127.0.0.1:${server.port}`, { keepaliveIntervalMs: 30, keepaliveTimeoutMs: 1000 });
  try {
    assert.equal((await channel.unary(ECHO, Buffer.from('x'))).status, GrpcCode.OK);
    await sleep(200);
    assert.equal(channel.state, 'ready');
    assert.equal((await channel.unary(ECHO, Buffer.from('y'))).status, GrpcCode.OK);
    await channel.close();
    assert.equal(channel.state, 'closed');
    const after = await channel.unary(ECHO, Buffer.from('z'));
    assert.equal(after.status, GrpcCode.UNAVAILABLE);
    assert.match(after.message, /closed/);
  } finally {
    await channel.close();
    server.stop();
  }
});
