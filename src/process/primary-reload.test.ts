import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eventually, get, readyz, sample, startPrimary, testConfig, type PrimaryProcess } from './fixtures/harness.js';

/** Sends sequential requests (fresh connection each) until `stop()`; records every outcome. */
function requestLoop(primary: PrimaryProcess): { stop: () => Promise<Array<{ route?: string; error?: string; status?: number }>> } {
  const results: Array<{ route?: string; error?: string; status?: number }> = [];
  let running = true;
  const done = (async () => {
    while (running) {
      try {
        const r = await get(primary.port, '/');
        results.push({ status: r.status, route: (JSON.parse(r.body) as { route: string }).route });
      } catch (err) {
        results.push({ error: (err as Error).message });
      }
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
      return results;
    },
  };
}

test('SIGHUP with a changed config swaps generations without failing a request', async (t) => {
  const primary = await startPrimary(testConfig('v1', 2));
  t.after(() => primary.cleanup());
  const old = await readyz(primary);
  const loops = [requestLoop(primary), requestLoop(primary)];
  t.after(() => Promise.all(loops.map((l) => l.stop())));
  await new Promise((r) => setTimeout(r, 150));
  primary.writeConfig(testConfig('v2', 2));
  primary.child.kill('SIGHUP');
  await primary.waitForLine((l) => l.msg === 'reloaded' && l.generation === 2);
  // Keep going until the old generation is gone and v2 has been served a while.
  await eventually(async () => {
    const r = await readyz(primary);
    return r.body.workers.every((w) => w.generation === 2);
  });
  await new Promise((r) => setTimeout(r, 150));
  const results = (await Promise.all(loops.map((l) => l.stop()))).flat();
  const failures = results.filter((r) => r.error !== undefined || r.status !== 200);
  assert.deepEqual(failures, [], 'no request failed during the reload');
  assert.ok(results.some((r) => r.route === 'v1'), 'v1 was served before the reload');
  assert.ok(results.some((r) => r.route === 'v2'), 'v2 is served after the reload');
  const after = await get(primary.port, '/');
  assert.equal(JSON.parse(after.body).route, 'v2');
  const now = await readyz(primary);
  assert.equal(now.status, 200);
  assert.equal(now.body.generation, 2);
  for (const w of old.body.workers) assert.ok(!now.body.workers.some((n) => n.pid === w.pid), 'old workers left');
  for (const w of old.body.workers) {
    await primary.waitForLine((l) => l.msg === 'worker exited' && l.workerPid === w.pid && l.code === 0);
  }
  // Counts of the drained generation are kept (no counter reset on reload).
  const v1Served = results.filter((r) => r.route === 'v1').length;
  const metrics = (await get(primary.adminPort, '/metrics')).body;
  assert.equal(sample(metrics, 'turnpike_requests_total{route="v1",method="GET",status="200"}'), v1Served);
  assert.equal(sample(metrics, 'turnpike_config_reloads_total{result="ok"}'), 1);
  const routes = await get(primary.adminPort, '/routes');
  assert.deepEqual(JSON.parse(routes.body), { routes: ['v2'] });
});

test('SIGHUP with an invalid config keeps the running generation', async (t) => {
  const primary = await startPrimary(testConfig('v1', 2));
  t.after(() => primary.cleanup());
  primary.writeConfig({ invalid: true });
  primary.child.kill('SIGHUP');
  const line = await primary.waitForLine((l) => l.msg === 'config reload failed; keeping the running configuration');
  assert.match(String(line.reason), /invalid config \(test loader\)/);
  assert.equal(JSON.parse((await get(primary.port, '/')).body).route, 'v1');
  const r = await readyz(primary);
  assert.equal(r.status, 200);
  assert.equal(r.body.generation, 1);
  assert.match(String((r.body.details as { config: { rejectedReason: string } }).config.rejectedReason), /invalid config \(test loader\)/);
  const metrics = (await get(primary.adminPort, '/metrics')).body;
  assert.equal(sample(metrics, 'turnpike_config_reloads_total{result="error"}'), 1);
});

test('a new generation that cannot listen is discarded and the old one keeps serving', async (t) => {
  const primary = await startPrimary(testConfig('v1', 2));
  t.after(() => primary.cleanup());
  primary.writeConfig(testConfig('fail-listen', 2));
  primary.child.kill('SIGHUP');
  const line = await primary.waitForLine((l) => l.msg === 'reload failed; keeping the running generation');
  assert.equal(line.generation, 2);
  await eventually(async () => (await readyz(primary)).body.workers.every((w) => w.generation === 1));
  const r = await readyz(primary);
  assert.equal(r.status, 200);
  assert.equal(r.body.generation, 1);
  assert.equal(r.body.workers.length, 2);
  assert.equal(JSON.parse((await get(primary.port, '/')).body).route, 'v1');
  // A later valid reload still works (generation numbers keep increasing).
  primary.writeConfig(testConfig('v3', 2));
  primary.child.kill('SIGHUP');
  await primary.waitForLine((l) => l.msg === 'reloaded' && l.generation === 3);
  // Until the draining v1 workers have closed their listeners, a new
  // connection may still land on one of them (served, not refused).
  await eventually(async () => (await readyz(primary)).body.workers.every((w) => w.generation === 3));
  assert.equal(JSON.parse((await get(primary.port, '/')).body).route, 'v3');
});

test('/metrics sums request counters and histograms across workers', async (t) => {
  const primary = await startPrimary(testConfig('r1', 2));
  t.after(() => primary.cleanup());
  const perPid = new Map<number, number>();
  let total = 0;
  while ((perPid.size < 2 || total < 10) && total < 200) {
    const r = await get(primary.port, '/');
    const pid = (JSON.parse(r.body) as { pid: number }).pid;
    perPid.set(pid, (perPid.get(pid) ?? 0) + 1);
    total++;
  }
  assert.equal(perPid.size, 2, 'both workers served requests');
  await get(primary.port, '/nowhere');
  const res = await get(primary.adminPort, '/metrics');
  const text = res.body;
  assert.equal(sample(text, 'turnpike_requests_total{route="r1",method="GET",status="200"}'), total);
  assert.equal(sample(text, 'turnpike_requests_total{route="(none)",method="GET",status="200"}'), 1);
  assert.equal(sample(text, 'turnpike_request_duration_seconds_count{route="r1"}'), total);
  assert.equal(sample(text, 'turnpike_request_duration_seconds_bucket{route="r1",le="+Inf"}'), total);
  assert.equal(sample(text, 'turnpike_request_duration_seconds_bucket{route="r1",le="10"}'), total);
  assert.equal(sample(text, 'turnpike_inflight_requests'), 0);
  assert.equal(sample(text, 'turnpike_workers{state="listening"}'), 2);
  assert.ok(text.includes('\nprocess_cpu_user_seconds_total '), 'worker default metrics are present');
  assert.ok(text.includes('\nturnpike_primary_process_cpu_user_seconds_total '), 'primary default metrics are prefixed');
});

test('unknown admin paths get a problem+json 404', async (t) => {
  const primary = await startPrimary(testConfig('r1', 1));
  t.after(() => primary.cleanup());
  const r = await get(primary.adminPort, '/nope');
  assert.equal(r.status, 404);
  assert.equal(r.headers['content-type'], 'application/problem+json');
  const body = JSON.parse(r.body) as Record<string, unknown>;
  assert.equal(body.status, 404);
  assert.equal(body.code, 'route_not_found');
  assert.equal(body.type, 'urn:turnpike:problem:route_not_found');
  assert.equal(typeof body.title, 'string');
  assert.equal(typeof body.detail, 'string');
});
