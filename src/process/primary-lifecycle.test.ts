import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { eventually, get, readyz, sample, spawnPrimary, startPrimary, testConfig } from './fixtures/harness.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('readyz turns 200 only once every worker of the generation listens', async (t) => {
  // Worker 1 listens after 300 ms, worker 2 after 600 ms.
  const config = testConfig('r1', 2, { test: { startDelayMs: 300 } });
  config.server.workerHeapBytes = 32 * 1024 * 1024;
  const primary = spawnPrimary(config);
  t.after(() => primary.cleanup());
  const adminLine = await primary.waitForLine((l) => l.msg === 'admin listening');
  primary.adminPort = adminLine.port as number;
  const observed: Array<{ status: number; listening: number }> = [];
  await eventually(async () => {
    const r = await readyz(primary);
    observed.push({ status: r.status, listening: r.body.workers.filter((w) => w.state === 'listening').length });
    return r.status === 200;
  });
  assert.ok(observed.some((o) => o.status === 503 && o.listening === 1), 'saw 503 with one of two workers listening');
  assert.ok(observed.every((o) => (o.status === 200) === (o.listening === 2)), 'never 200 before both listen');
  const ready = await primary.waitForLine((l) => l.msg === 'ready');
  assert.equal(ready.workers, 2);
  assert.equal(ready.adminPort, primary.adminPort);
  primary.port = ready.port as number;
  const r = await readyz(primary);
  assert.equal(r.status, 200);
  assert.equal(r.body.ready, true);
  assert.equal(r.body.generation, 1);
  assert.equal(r.body.workers.length, 2);
  // The file source names itself; it has no revisions.
  const details = r.body.details as { config: Record<string, unknown> };
  assert.deepEqual(Object.keys(details), ['config']);
  assert.equal(details.config.source, 'file');
  assert.match(String(details.config.path), /config\.json$/);
  assert.equal(details.config.revision, null);
  assert.equal(details.config.rejectedReason, null);
  // server.workerHeap reaches the forked workers as a V8 flag.
  if (existsSync('/proc/self/cmdline')) {
    for (const w of r.body.workers) {
      assert.ok(readFileSync(`/proc/${w.pid}/cmdline`, 'latin1').split('\0').includes('--initial-old-space-size=32'), `worker ${w.pid} flags`);
    }
  }
  const health = await get(primary.adminPort, '/healthz');
  assert.equal(health.status, 200);
  assert.deepEqual(JSON.parse(health.body), { status: 'ok' });
  const served = await get(primary.port, '/');
  assert.equal(JSON.parse(served.body).route, 'r1');
  const routes = await get(primary.adminPort, '/routes');
  assert.deepEqual(JSON.parse(routes.body), { routes: ['r1'] });
});

test('a SIGKILLed worker is replaced, readiness recovers, and the restart is counted', async (t) => {
  const primary = await startPrimary(testConfig('r1', 2));
  t.after(() => primary.cleanup());
  const before = await readyz(primary);
  const victim = before.body.workers[0].pid;
  process.kill(victim, 'SIGKILL');
  await eventually(async () => {
    const r = await readyz(primary);
    return r.status === 200 && r.body.workers.length === 2 && !r.body.workers.some((w) => w.pid === victim);
  });
  const metrics = await get(primary.adminPort, '/metrics');
  assert.equal(metrics.status, 200);
  assert.match(String(metrics.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  assert.equal(sample(metrics.body, 'turnpike_worker_restarts_total'), 1);
  assert.equal(sample(metrics.body, 'turnpike_workers{state="listening"}'), 2);
  await primary.waitForLine((l) => l.msg === 'worker died unexpectedly' && l.workerPid === victim);
});

test('SIGTERM lets an in-flight slow request finish, then the primary exits 0', async (t) => {
  const primary = await startPrimary(testConfig('r1', 2));
  t.after(() => primary.cleanup());
  const { body } = await readyz(primary);
  const pids = body.workers.map((w) => w.pid);
  const slow = get(primary.port, '/slow?ms=1000');
  await new Promise((r) => setTimeout(r, 250));
  const signalledAt = Date.now();
  primary.child.kill('SIGTERM');
  const reply = await slow;
  assert.equal(reply.status, 200);
  assert.equal(await primary.exited, 0);
  assert.ok(Date.now() - signalledAt < 4000, 'exited well before the grace period ran out');
  for (const pid of pids) assert.equal(alive(pid), false, `worker ${pid} is gone`);
  const stopped = await primary.waitForLine((l) => l.msg === 'stopped');
  assert.equal(stopped.killed, 0);
});

test('a second SIGTERM forces an immediate exit', async (t) => {
  const primary = await startPrimary(testConfig('r1', 1));
  t.after(() => primary.cleanup());
  await readyz(primary);
  const slow = get(primary.port, '/slow?ms=5000').catch((err: Error) => err);
  await new Promise((r) => setTimeout(r, 200));
  primary.child.kill('SIGTERM');
  await primary.waitForLine((l) => typeof l.msg === 'string' && l.msg.startsWith('shutting down'));
  primary.child.kill('SIGTERM');
  assert.equal(await primary.exited, 1);
  assert.ok((await slow) instanceof Error, 'the slow request was cut off');
  await primary.waitForLine((l) => l.msg === 'second signal: forcing exit');
});

test('a first generation that cannot listen makes the primary give up with exit 1', async (t) => {
  const primary = spawnPrimary(testConfig('fail-listen', 2));
  t.after(() => primary.cleanup());
  assert.equal(await primary.exited, 1);
  const fatal = await primary.waitForLine((l) => l.msg === 'cannot start the gateway');
  assert.match(String(fatal.reason), /refusing to listen/);
  assert.ok(!primary.lines.some((l) => l.msg === 'ready'));
});

test('workers that never finish draining are SIGKILLed at grace + 5 s and the primary still exits 0', async (t) => {
  const config = testConfig('r1', 1, { test: { hangOnDrain: true } });
  config.server.gracePeriodMs = 200;
  const primary = await startPrimary(config);
  t.after(() => primary.cleanup());
  const { body } = await readyz(primary);
  const started = Date.now();
  primary.child.kill('SIGTERM');
  assert.equal(await primary.exited, 0);
  const elapsed = Date.now() - started;
  assert.ok(elapsed >= 5000 && elapsed < 7000, `killed after ${elapsed} ms`);
  const stopped = await primary.waitForLine((l) => l.msg === 'stopped; 1 worker(s) killed after the grace period');
  assert.equal(stopped.killed, 1);
  assert.equal(alive(body.workers[0].pid), false);
});
