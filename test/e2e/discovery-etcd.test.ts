// Service discovery from a real, private etcd with real upstream servers:
// targets registered with leases receive traffic, removed ones drain under
// load with no failed request, an empty set answers 503 no_healthy_target,
// and the watch resumes after etcd is killed and restarted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Etcd3, type Lease } from 'etcd3';
import { startEtcd, type TestEtcd } from '../fixtures/etcd-server.js';
import { configFromYaml, nodeRequest, startUpstream, type TestUpstream } from './helpers.js';
import { startWorker } from '../../src/ingress/gateway-worker.js';
import type { GatewayWorker } from '../../src/ingress/contract.js';
import { createWorkerMetrics } from '../../src/observability/metrics.js';
import { waitFor } from './resilience-helpers.js';

const PREFIX = '/services/users/';

/** Upstreams whose `/health` answers 503. */
const sick = new Set<string>();

/** An upstream answering `/slow` after `ms` (query) and everything else at once, naming itself. */
function upstream(name: string): Promise<TestUpstream> {
  return startUpstream(name, (req, res) => {
    if (req.url === '/health') { res.writeHead(sick.has(name) ? 503 : 200); res.end(); return; }
    const ms = /[?&]ms=(\d+)/.exec(req.url ?? '')?.[1];
    const answer = (): void => { res.writeHead(200, { 'x-upstream': name }); res.end(name); };
    if (ms === undefined) answer();
    else setTimeout(answer, Number(ms));
  });
}

describe('etcd service discovery (real etcd, real upstreams)', () => {
  let etcd: TestEtcd;
  let client: Etcd3;
  let worker: GatewayWorker;
  const metrics = createWorkerMetrics({ defaultMetrics: false });
  const ups = new Map<string, TestUpstream>();
  const leases = new Map<string, Lease>();

  before(async () => {
    etcd = await startEtcd();
    client = new Etcd3({ hosts: etcd.endpoint });
    for (const n of ['a', 'b', 'c', 'd']) ups.set(n, await upstream(n));
    worker = await startWorker(configFromYaml(`
server: { workers: 1 }
upstreams:
  users:
    discovery: { etcd: { prefix: ${PREFIX}, endpoints: [ "${etcd.endpoint}" ] } }
  checked:
    discovery: { etcd: { prefix: ${PREFIX}, endpoints: [ "${etcd.endpoint}" ] } }
    healthCheck: { path: /health, interval: 100ms, unhealthyThreshold: 1 }
    panicThreshold: 0%
routes:
  - { name: users, match: { path: /users }, upstream: users }
  - { name: checked, match: { path: /checked }, upstream: checked }
  - { name: slow, match: { path: /users/slow }, upstream: users }
`), { onUpstreamGroups: (list) => metrics.setUpstreamSource(() => list) });
  });

  after(async () => {
    await worker.drain(1000);
    for (const l of leases.values()) await l.revoke().catch(() => undefined);
    client.close();
    for (const u of ups.values()) await u.close();
    await etcd.close();
  });

  /** Registers upstream `name` under a 30 s lease, as a service would. */
  async function register(name: string, value?: string): Promise<void> {
    const lease = client.lease(30);
    leases.set(name, lease);
    await lease.put(PREFIX + name).value(value ?? JSON.stringify({ url: ups.get(name)!.url, weight: 1 }));
  }

  /** Deregisters upstream `name` by revoking its lease (its key goes with it). */
  async function deregister(name: string): Promise<void> {
    await leases.get(name)!.revoke();
    leases.delete(name);
  }

  async function get(path: string): Promise<{ status: number; from: string; code: string | null }> {
    const r = await nodeRequest(worker.port, path, {});
    const code = r.headers['content-type'] === 'application/problem+json' ? (JSON.parse(r.body) as { code: string }).code : null;
    return { status: r.status, from: String(r.headers['x-upstream'] ?? ''), code };
  }

  /** The upstreams that answered `n` requests. */
  async function answering(n = 12, path = '/users'): Promise<string[]> {
    const seen = new Set<string>();
    for (let i = 0; i < n; i++) { const r = await get(path); if (r.status === 200) seen.add(r.from); }
    return [...seen].sort();
  }

  async function targetsGauge(): Promise<number | undefined> {
    const text = await metrics.registry.metrics();
    const m = /^turnpike_upstream_targets\{upstream="users"\} (\d+)$/m.exec(text);
    return m === null ? undefined : Number(m[1]);
  }

  test('an empty prefix answers 503 no_healthy_target; a registered target then receives traffic', async () => {
    const r = await get('/users');
    assert.deepStrictEqual([r.status, r.code], [503, 'no_healthy_target']);
    assert.equal(await targetsGauge(), 0);
    await register('a');
    await waitFor('a to receive traffic', async () => (await get('/users')).from === 'a');
    assert.equal(await targetsGauge(), 1);
  });

  test('a key whose value is not {"url": ...} is skipped; a valid one next to it is used', async () => {
    await client.put(PREFIX + 'broken').value('not json');
    await client.put(PREFIX + 'nourl').value('{"weight": 2}');
    await register('b');
    await waitFor('a and b to share the traffic', async () => (await answering()).join() === 'a,b');
    assert.equal(await targetsGauge(), 2);
    await client.delete().key(PREFIX + 'broken');
    await client.delete().key(PREFIX + 'nourl');
  });

  test('active health checks apply to discovered targets (a second upstream on the same prefix shares the watcher)', async () => {
    await waitFor('a and b behind the checked upstream', async () => (await answering(12, '/checked')).join() === 'a,b');
    sick.add('b');
    await waitFor('b marked down by its health check', async () => (await answering(12, '/checked')).join() === 'a');
    assert.deepStrictEqual(await answering(), ['a', 'b'], 'the unchecked upstream still uses b');
    sick.delete('b');
    await waitFor('b back', async () => (await answering(12, '/checked')).join() === 'a,b');
  });

  test('targets added and removed under continuous load: zero failed requests, a slow request to a removed target completes', async () => {
    let stop = false;
    const statuses = new Map<number, number>();
    const errors: string[] = [];
    const loop = async (): Promise<void> => {
      while (!stop) {
        try {
          const r = await nodeRequest(worker.port, '/users', {});
          statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
        } catch (err) {
          errors.push((err as Error).message);
        }
      }
    };
    const loops = Array.from({ length: 8 }, loop);
    // Slow requests in flight to every current target (a, b), then both are removed while c and d join.
    const slow = Array.from({ length: 4 }, () => get('/users/slow?ms=800'));
    await new Promise((r) => setTimeout(r, 200));
    await register('c');
    await deregister('a');
    await new Promise((r) => setTimeout(r, 300));
    await register('d');
    await deregister('b');
    await new Promise((r) => setTimeout(r, 400));
    await register('a');
    await new Promise((r) => setTimeout(r, 300));
    await deregister('c');
    await new Promise((r) => setTimeout(r, 800));
    stop = true;
    await Promise.all(loops);
    const slowReplies = await Promise.all(slow);
    assert.deepStrictEqual(slowReplies.map((r) => r.status), [200, 200, 200, 200], 'in-flight requests to removed targets finished');
    assert.ok(slowReplies.some((r) => r.from === 'a' || r.from === 'b'));
    assert.deepStrictEqual(errors, []);
    const total = [...statuses.values()].reduce((x, y) => x + y, 0);
    assert.ok(total > 100, `load ran (${total} requests)`);
    assert.deepStrictEqual([...statuses.keys()], [200], `every request answered 200: ${JSON.stringify([...statuses])}`);
    assert.deepStrictEqual(await answering(), ['a', 'd']);
  });

  test('removing every target empties the set: 503 no_healthy_target', async () => {
    await deregister('a');
    await deregister('d');
    await waitFor('the set to be empty', async () => (await get('/users')).code === 'no_healthy_target');
    assert.equal(await targetsGauge(), 0);
  });

  test('etcd killed and restarted: the last set keeps serving meanwhile, then the watch resumes', async () => {
    await client.put(PREFIX + 'a').value(JSON.stringify({ url: ups.get('a')!.url }));
    await waitFor('a to serve', async () => (await get('/users')).from === 'a');
    await etcd.stop();
    for (let i = 0; i < 5; i++) assert.equal((await get('/users')).from, 'a', 'last known set while etcd is down');
    await etcd.start();
    await client.put(PREFIX + 'b').value(JSON.stringify({ url: ups.get('b')!.url }));
    await waitFor('b, registered after the restart, to receive traffic', async () => (await answering()).join() === 'a,b', 20_000);
    await client.delete().key(PREFIX + 'a');
    await waitFor('a removed after the restart to get none', async () => (await answering()).join() === 'b', 10_000);
  });
});
