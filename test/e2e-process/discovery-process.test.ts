// Service discovery in the real process model: `turnpike start` with 2
// workers finds etcd through TURNPIKE_ETCD_ENDPOINTS, every worker watches
// the prefix (GET /upstreams, GET /metrics), and SIGTERM ends the workers
// (their etcd watchers are closed) and the gateway promptly.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Etcd3 } from 'etcd3';
import { freePort, httpGet, sample, startGateway, waitUntil, type Gateway } from './fixtures/gateway-process.js';
import { startUpstream, type Upstream } from './fixtures/upstreams.js';
import { startEtcd, type TestEtcd } from '../fixtures/etcd-server.js';

let etcd: TestEtcd;
let client: Etcd3;
let up: Upstream;
let gw: Gateway | null = null;

before(async () => {
  etcd = await startEtcd();
  client = new Etcd3({ hosts: etcd.endpoint });
  up = await startUpstream('A');
});

after(async () => {
  gw?.cleanup();
  client.close();
  await up.close();
  await etcd.close();
});

test('2 workers discover a target from etcd (TURNPIKE_ETCD_ENDPOINTS); SIGTERM exits cleanly', async () => {
  const port = await freePort();
  const adminPort = await freePort();
  gw = await startGateway(`server: { host: 127.0.0.1, port: ${port}, workers: 2, gracePeriod: 2s }
admin: { host: 127.0.0.1, port: ${adminPort} }
upstreams:
  users: { discovery: { etcd: { prefix: /services/users/ } } }
routes:
  - { name: users, match: { path: /users }, upstream: users }
`, { env: { TURNPIKE_ETCD_ENDPOINTS: etcd.endpoint } });
  const empty = await httpGet(port, '/users');
  assert.equal(empty.status, 503);
  assert.equal(JSON.parse(empty.body).code, 'no_healthy_target');
  await client.put('/services/users/a').value(JSON.stringify({ url: up.url, weight: 2 }));
  await waitUntil('both workers to list the target', async () => {
    const body = JSON.parse((await httpGet(adminPort, '/upstreams')).body) as { workers: Array<{ upstreams?: Record<string, { targets: Array<{ url: string; weight: number }> }> }> };
    return body.workers.length === 2 && body.workers.every((w) => w.upstreams?.users.targets.map((t) => `${t.url} ${t.weight}`).join() === `${up.url} 2`);
  });
  for (let i = 0; i < 4; i++) assert.equal((await httpGet(port, '/users')).status, 200);
  const metrics = (await httpGet(adminPort, '/metrics')).body;
  assert.equal(sample(metrics, 'turnpike_upstream_targets{upstream="users"}'), 1);
  assert.equal(sample(metrics, `turnpike_upstream_target_available{upstream="users",target="${up.url}"}`), 1);
  process.kill(gw.pid, 'SIGTERM');
  const exit = await gw.exited;
  assert.deepStrictEqual(exit, { code: 0, signal: null });
  // The workers exited on their own (discovery closed its watchers and etcd client), not at the drain deadline.
  assert.equal(gw.lines.filter((l) => l.msg === 'worker drained').length, 2);
  assert.deepStrictEqual(gw.lines.filter((l) => l.msg === 'worker missed its drain deadline; killing it'), []);
});
