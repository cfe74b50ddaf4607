// The snapshot endpoint and the admin token, over a real admin listener, a
// real ClusterMetricsCollector and real worker registries (in-process
// peers answer the collector's requests; the e2e-process dashboard test
// covers cluster IPC).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { adminTokenSha256 } from '../admin-auth.js';
import { startAdminServer, type AdminServer } from '../admin-server.js';
import { ClusterMetricsCollector, createPrimaryMetrics, type MetricsPeer } from '../../observability/cluster-metrics.js';
import { createLogger } from '../../observability/logger.js';
import { createRequestMetrics, createWorkerMetrics, type WorkerMetrics } from '../../observability/metrics.js';
import { RateLimitCounters, registerRateLimitMetrics } from '../../policies/rate-limit/metrics.js';
import { DASHBOARD_CSP, dashboardEndpoints } from './dashboard-endpoints.js';
import { DashboardSampler, type DashboardSnapshot } from './dashboard-snapshot.js';
import type { WorkerUpstreams } from './upstream-view.js';

interface Reply { status: number; headers: Record<string, string | string[] | undefined>; body: string }

function get(server: AdminServer, path: string, token?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
    const req = request({ host: '127.0.0.1', port: server.port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A worker registry answering the collector in-process, as a worker does over IPC. */
function peer(id: number, metrics: WorkerMetrics, collector: ClusterMetricsCollector): MetricsPeer {
  return {
    id,
    send(m) {
      void metrics.registry.getMetricsAsJSON().then((json) => collector.onResponse(id, m.requestId, json));
    },
  };
}

const UPSTREAMS: WorkerUpstreams[] = [1, 2].map((worker) => ({
  worker, pid: 1000 + worker,
  upstreams: {
    users: {
      protocol: 'http', panic: false, panicThreshold: 50, panicPicks: 0, limits: null,
      circuitBreaker: worker === 2 ? { state: 'open' } as never : { state: 'closed' } as never,
      targets: [
        { url: 'http://10.0.0.1:80', weight: 1, available: true, activeHealthy: true, ejectedUntil: 0, inflight: 2, consecutiveFailures: 0 },
        { url: 'http://10.0.0.2:80', weight: 1, available: worker === 1, activeHealthy: true, ejectedUntil: 0, inflight: 0, consecutiveFailures: 3 },
      ],
    },
  },
}));

test('snapshot: totals, rates and p50/p99 over the interval, upstream health, rate limits, worker memory; token required', async (t) => {
  const collector = new ClusterMetricsCollector(createPrimaryMetrics({ defaultMetrics: false }).registry);
  const w1 = createWorkerMetrics();
  const w2 = createWorkerMetrics({ defaultMetrics: false });
  const limits = new RateLimitCounters('per-ip');
  registerRateLimitMetrics(w2.registry, { counters: [limits], storeCommands: () => 0, storeFailures: () => 0, storeUp: () => null });
  const r1 = createRequestMetrics(['users', 'orders'], w1);
  const r2 = createRequestMetrics(['users', 'orders'], w2);
  let clock = 1_000_000;
  let detail: unknown = { source: 'etcd', revision: 42 };
  const sampler = new DashboardSampler({
    collect: () => collector.collectJson([peer(1, w1, collector), peer(2, w2, collector)]),
    workers: () => [{ id: 1, pid: 1001, generation: 3, state: 'listening' }, { id: 2, pid: 1002, generation: 3, state: 'listening' }],
    upstreams: async () => UPSTREAMS,
    config: () => ({ generation: 3, ...(detail as object) }),
    now: () => clock,
  });
  const token = 'dash-token_42';
  let tokenSha256: string | null = adminTokenSha256(token);
  const server = await startAdminServer({
    host: '127.0.0.1', port: 0, logger: createLogger('silent'),
    readiness: () => ({ ready: true, generation: 3, workers: [{ pid: 1001 }] }), metrics: async () => 'turnpike_x 1\n', routes: () => [],
    details: new Map([['redis', () => ({ connected: true })]]),
    endpoints: dashboardEndpoints(sampler, () => tokenSha256 !== null),
    tokenSha256: () => tokenSha256,
  });
  t.after(() => server.close());

  // Without the token: data endpoints answer 401 with a Bearer challenge; probes and the page shell stay open.
  for (const path of ['/ui/api/snapshot', '/metrics', '/routes', '/consumers', '/nope']) {
    const r = await get(server, path);
    assert.equal(r.status, 401, path);
    assert.equal(r.headers['www-authenticate'], 'Bearer realm="turnpike-admin"');
    assert.equal(r.headers['content-type'], 'application/problem+json');
    assert.equal(JSON.parse(r.body).code, 'unauthorized');
  }
  const wrong = await get(server, '/metrics', 'not-the-token');
  assert.equal(wrong.status, 401);
  assert.equal(wrong.headers['www-authenticate'], 'Bearer realm="turnpike-admin", error="invalid_token"');
  assert.equal(JSON.parse(wrong.body).code, 'invalid_token');
  assert.deepEqual([(await get(server, '/healthz')).status, JSON.parse((await get(server, '/healthz')).body)], [200, { status: 'ok' }]);
  assert.deepEqual(JSON.parse((await get(server, '/readyz')).body), { ready: true }, 'readyz without the token: the verdict only');
  assert.deepEqual(JSON.parse((await get(server, '/readyz', token)).body).details, { redis: { connected: true } });
  assert.deepEqual(JSON.parse((await get(server, '/ui/api/session')).body), { tokenRequired: true });
  for (const [path, type] of [['/ui', 'text/html'], ['/ui/assets/dashboard.js', 'text/javascript'], ['/ui/assets/uPlot.iife.min.js', 'text/javascript'],
    ['/ui/assets/uPlot.min.css', 'text/css'], ['/ui/assets/dashboard.css', 'text/css']]) {
    const r = await get(server, path);
    assert.equal(r.status, 200, path);
    assert.ok(String(r.headers['content-type']).startsWith(type), path);
    assert.equal(r.headers['content-security-policy'], DASHBOARD_CSP);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  }
  assert.match((await get(server, '/ui')).body, /<span class="value" id="rps">/);
  assert.equal((await get(server, '/metrics', token)).body, 'turnpike_x 1\n');

  // First sample: totals, no rates yet.
  r1.observe(0, 'GET', 200, 0.002);
  let snap = JSON.parse((await get(server, '/ui/api/snapshot', token)).body) as DashboardSnapshot;
  assert.equal(snap.intervalSeconds, null);
  assert.deepEqual([snap.requests.total, snap.requests.perSecond, snap.requests.p99Ms], [1, null, null]);

  // 2 s later: 100 more requests over both workers, 10 of them 503 and slow.
  for (let i = 0; i < 90; i++) (i % 2 === 0 ? r1 : r2).observe(0, 'GET', 200, 0.0015);
  for (let i = 0; i < 10; i++) r2.observe(1, 'POST', 503, 0.3);
  for (let i = 0; i < 30; i++) limits.count(i < 24, 'store');
  w2.upstreamErrors.inc({ upstream: 'users', kind: 'timeout' }, 4);
  clock += 2000;
  snap = JSON.parse((await get(server, '/ui/api/snapshot', token)).body) as DashboardSnapshot;
  assert.equal(snap.intervalSeconds, 2);
  assert.equal(snap.requests.total, 101);
  assert.equal(snap.requests.perSecond, 50);
  assert.equal(snap.requests.errorsPerSecond, 5);
  assert.equal(snap.requests.errorRate, 0.1);
  assert.ok(snap.requests.p50Ms! > 1 && snap.requests.p50Ms! <= 2.5, `p50 ${snap.requests.p50Ms}`);
  assert.ok(snap.requests.p99Ms! > 250 && snap.requests.p99Ms! <= 500, `p99 ${snap.requests.p99Ms}`);
  const byRoute = Object.fromEntries(snap.routes.map((r) => [r.route, r]));
  assert.deepEqual([byRoute.users.perSecond, byRoute.users.errorRate, byRoute.orders.perSecond, byRoute.orders.errorRate], [45, 0, 5, 1]);
  assert.deepEqual(snap.rateLimits, [{ limit: 'per-ip', allowedTotal: 24, limitedTotal: 6, allowedPerSecond: 12, limitedPerSecond: 3 }]);
  const users = snap.upstreams.find((u) => u.name === 'users')!;
  assert.deepEqual([users.errorsTotal, users.errorsPerSecond, users.errorsByKind, users.circuit], [4, 2, { timeout: 4 }, 'open']);
  assert.deepEqual(users.targets.map((x) => [x.url, x.available, x.availableIn, x.workers, x.inflight]),
    [['http://10.0.0.1:80', true, 2, 2, 4], ['http://10.0.0.2:80', false, 1, 2, 0]]);
  assert.equal(snap.cache.hitRatio, null);
  assert.equal(snap.workers.length, 2);
  assert.ok(snap.workers[0].residentBytes! > 0 && snap.workers[0].heapUsedBytes! > 0, 'worker 1 reports its memory');
  assert.equal(snap.workers[1].residentBytes, null, 'worker 2 has no process metrics');
  assert.deepEqual(snap.config, { generation: 3, source: 'etcd', revision: 42 });

  // Within 500 ms the same sample is served (several pages, one scrape).
  clock += 100;
  detail = { source: 'etcd', revision: 43 };
  assert.equal((JSON.parse((await get(server, '/ui/api/snapshot', token)).body) as DashboardSnapshot).time, snap.time);

  // The token is read per request: removing it opens everything again.
  tokenSha256 = null;
  assert.equal((await get(server, '/metrics')).status, 200);
  assert.deepEqual(JSON.parse((await get(server, '/ui/api/session')).body), { tokenRequired: false });
  assert.ok('generation' in JSON.parse((await get(server, '/readyz')).body));
});
