// A worker SIGKILLed under keep-alive load is replaced; only requests on its
// own connections may fail, and never with a gateway 5xx.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gatewayYaml } from './fixtures/config.js';
import { alive, freePort, httpGet, readyz, sample, sleep, startGateway, waitUntil, type Gateway } from './fixtures/gateway-process.js';
import { failures, startLoad, type Load } from './fixtures/load.js';
import { startUpstream, type Upstream } from './fixtures/upstreams.js';

const LOOPS = 8;
let up: Upstream;
let gw: Gateway | null = null;
let load: Load | null = null;

before(async () => {
  up = await startUpstream('A');
});

after(async () => {
  await load?.stop();
  gw?.cleanup();
  await up.close();
});

test('a SIGKILLed worker is replaced under load; at most one failure per loop, no 5xx', async (t) => {
  const port = await freePort();
  const adminPort = await freePort();
  gw = await startGateway(gatewayYaml({ port, adminPort, upstreams: { a: up.url }, routes: [{ name: 'svc', path: '/svc/*', upstream: 'a' }] }));
  const before = await readyz(gw);
  assert.equal(before.status, 200);
  assert.equal(before.body.workers.length, 2);
  const victim = before.body.workers[0].pid;
  const survivor = before.body.workers[1].pid;
  const metricsBefore = (await httpGet(adminPort, '/metrics')).body;
  assert.equal(sample(metricsBefore, 'turnpike_worker_restarts_total'), 0);

  load = startLoad({ port, paths: ['/svc/fixed', '/svc/chunked'], concurrency: LOOPS, maxMs: 10_000 });
  await sleep(600);
  const killedAt = Date.now();
  process.kill(victim, 'SIGKILL');
  const g = gw;
  let replacement = 0;
  await waitUntil('a replacement worker listens', async () => {
    const r = await readyz(g);
    const fresh = r.body.workers.find((w) => w.pid !== victim && w.pid !== survivor);
    if (r.status !== 200 || r.body.workers.length !== 2 || fresh === undefined) return false;
    replacement = fresh.pid;
    return r.body.workers.every((w) => w.state === 'listening');
  });
  const replacedAt = Date.now();
  await sleep(800);
  const outcomes = await load.stop();
  load = null;

  assert.equal(alive(victim), false);
  assert.ok(alive(replacement), 'the replacement worker runs');
  const now = await readyz(gw);
  assert.equal(now.status, 200);
  assert.deepEqual(now.body.workers.map((w) => w.pid).sort(), [survivor, replacement].sort());
  assert.ok(now.body.workers.every((w) => w.generation === 1), 'a restart stays in the same generation');
  const metrics = (await httpGet(adminPort, '/metrics')).body;
  assert.equal(sample(metrics, 'turnpike_worker_restarts_total'), 1);
  await gw.waitForLine((l) => l.msg === 'worker died unexpectedly' && l.workerPid === victim && l.signal === 'SIGKILL');

  const failed = failures(outcomes);
  t.diagnostic(`${outcomes.length} requests, ${failed.length} failed at the connection level: ${failed.map((f) => f.error).join(', ')}`);
  // Only connection-level failures (the killed worker's sockets) are allowed:
  // no status other than 200, so certainly no 5xx from the gateway.
  assert.deepEqual(failed.filter((o) => o.status !== undefined), [], 'no request got a non-200 status');
  assert.ok(failed.length <= LOOPS, `${failed.length} connection failures, at most one per loop (${LOOPS})`);
  for (const f of failed) {
    assert.ok(f.doneAt >= killedAt && f.sentAt <= replacedAt, `failure ${JSON.stringify(f)} happened around the kill`);
  }
  const afterwards = outcomes.filter((o) => o.sentAt > replacedAt);
  assert.ok(afterwards.length > 50, `load went on after the replacement (${afterwards.length} requests)`);
  assert.deepEqual(failures(afterwards), [], 'every request after the replacement succeeded');
  assert.ok(outcomes.filter((o) => o.status === 200).every((o) => o.body === 'A:/svc/fixed' || o.body === 'A:/svc/chunked'));
});
