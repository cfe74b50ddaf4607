// Reload under load: SIGHUP swaps worker generations while 16 keep-alive
// loops hammer the gateway, and not a single request may fail.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { gatewayYaml } from './fixtures/config.js';
import { alive, freePort, httpGet, readyz, sample, sleep, startGateway, waitUntil, type Gateway } from './fixtures/gateway-process.js';
import { failures, startLoad, type Load } from './fixtures/load.js';
import { startUpstream, type Upstream } from './fixtures/upstreams.js';

let a: Upstream;
let b: Upstream;
let gw: Gateway | null = null;
let load: Load | null = null;

before(async () => {
  a = await startUpstream('A');
  b = await startUpstream('B');
});

after(async () => {
  await load?.stop();
  gw?.cleanup();
  await Promise.all([a.close(), b.close()]);
});

test('SIGHUP under keep-alive load switches /svc/* from A to B with zero failed requests', async () => {
  const port = await freePort();
  const adminPort = await freePort();
  const spec = { port, adminPort, upstreams: { a: a.url, b: b.url }, routes: [{ name: 'svc', path: '/svc/*', upstream: 'a' }] };
  gw = await startGateway(gatewayYaml(spec));
  const v1 = await readyz(gw);
  assert.equal(v1.status, 200);
  assert.equal(v1.body.generation, 1);
  const oldPids = v1.body.workers.map((w) => w.pid);
  assert.equal(oldPids.length, 2);

  // Half the loops get Content-Length bodies (buffered by the gateway), half
  // chunked ones (streamed): both ways of ending a response while draining.
  load = startLoad({ port, paths: ['/svc/fixed', '/svc/chunked'], concurrency: 16, maxMs: 12_000 });
  await sleep(700);
  gw.writeConfig(gatewayYaml({ ...spec, routes: [{ name: 'svc', path: '/svc/*', upstream: 'b' }] }));
  process.kill(gw.pid, 'SIGHUP');
  await gw.waitForLine((l) => l.msg === 'reloaded' && l.generation === 2, 10_000, 'the "reloaded" line');
  const g = gw;
  await waitUntil('only generation 2 is left', async () => {
    const r = await readyz(g);
    return r.status === 200 && r.body.generation === 2 && r.body.workers.length === 2 && r.body.workers.every((w) => w.generation === 2);
  });
  const oldGoneAt = Date.now();
  await sleep(700);
  const outcomes = await load.stop();
  load = null;

  assert.deepEqual(failures(outcomes), [], 'no request failed during the reload');
  for (const path of ['/svc/fixed', '/svc/chunked']) {
    const fromA = outcomes.filter((o) => o.body === `A:${path}`).length;
    const fromB = outcomes.filter((o) => o.body === `B:${path}`).length;
    assert.ok(fromA > 0 && fromB > 0, `${path} served by A (${fromA}) then B (${fromB})`);
  }
  const bodies = new Set(outcomes.map((o) => o.body));
  assert.deepEqual([...bodies].sort(), ['A:/svc/chunked', 'A:/svc/fixed', 'B:/svc/chunked', 'B:/svc/fixed'], 'every answer is intact and from A or B');
  const late = outcomes.filter((o) => o.sentAt > oldGoneAt);
  assert.ok(late.length > 0, 'requests were sent after the old generation left');
  assert.ok(late.every((o) => o.body!.startsWith('B:')), 'after the swap every request goes to B');

  for (const pid of oldPids) {
    await gw.waitForLine((l) => l.msg === 'worker exited' && l.workerPid === pid && l.code === 0, 8000, `old worker ${pid} exiting 0`);
    assert.equal(alive(pid), false, `old worker ${pid} is gone`);
  }
  const routes = JSON.parse((await httpGet(adminPort, '/routes')).body) as { routes: Array<{ name: string; upstream: string }>; table: string[] };
  assert.equal(routes.routes.length, 1);
  assert.equal(routes.routes[0].upstream, 'b');
  assert.ok(routes.table.some((line) => line.includes('/svc/*') && line.includes('b')), routes.table.join('\n'));
  const metrics = (await httpGet(adminPort, '/metrics')).body;
  assert.equal(sample(metrics, 'turnpike_config_reloads_total{result="ok"}'), 1);
  assert.equal((await httpGet(port, '/svc/after')).body, 'B:/svc/after');
});
