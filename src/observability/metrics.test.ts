import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregatorRegistry } from 'prom-client';
import { ClusterMetricsCollector, createPrimaryMetrics, type MetricsPeer } from './cluster-metrics.js';
import { createRequestMetrics, createWorkerMetrics, type WorkerMetrics } from './metrics.js';

function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  return undefined;
}

test('observe counts by route, method and status, with (none) for no route', async () => {
  const m = createWorkerMetrics({ defaultMetrics: false });
  const rec = createRequestMetrics(['users', 'orders'], m);
  rec.observe(0, 'GET', 200, 0.002);
  rec.observe(0, 'get', 200, 0.002);
  rec.observe(1, 'POST', 503, 0.2);
  rec.observe(-1, 'GET', 404, 0.0001);
  rec.observe(7, 'GET', 404, 0.0001);
  rec.observe(0, 'BREW', 418, 0.001);
  const text = await m.registry.metrics();
  assert.equal(sample(text, 'turnpike_requests_total{route="users",method="GET",status="200"}'), 2);
  assert.equal(sample(text, 'turnpike_requests_total{route="orders",method="POST",status="503"}'), 1);
  assert.equal(sample(text, 'turnpike_requests_total{route="(none)",method="GET",status="404"}'), 2);
  assert.equal(sample(text, 'turnpike_requests_total{route="users",method="OTHER",status="418"}'), 1);
  assert.match(text, /# TYPE turnpike_requests_total counter/);
  assert.match(text, /# TYPE turnpike_request_duration_seconds histogram/);
});

test('the duration histogram is cumulative over the gateway buckets', async () => {
  const m = createWorkerMetrics({ defaultMetrics: false });
  const rec = createRequestMetrics(['r'], m);
  rec.observe(0, 'GET', 200, 0.0005); // exactly on a bound: counted in it
  rec.observe(0, 'GET', 200, 0.003);
  rec.observe(0, 'GET', 200, 20);
  const text = await m.registry.metrics();
  assert.equal(sample(text, 'turnpike_request_duration_seconds_bucket{route="r",le="0.0005"}'), 1);
  assert.equal(sample(text, 'turnpike_request_duration_seconds_bucket{route="r",le="0.0025"}'), 1);
  assert.equal(sample(text, 'turnpike_request_duration_seconds_bucket{route="r",le="0.005"}'), 2);
  assert.equal(sample(text, 'turnpike_request_duration_seconds_bucket{route="r",le="10"}'), 2);
  assert.equal(sample(text, 'turnpike_request_duration_seconds_bucket{route="r",le="+Inf"}'), 3);
  assert.equal(sample(text, 'turnpike_request_duration_seconds_count{route="r"}'), 3);
  assert.equal(sample(text, 'turnpike_request_duration_seconds_sum{route="r"}'), 20.0035);
});

test('aggregation sums counters, histograms and inflight; target availability takes the minimum', async () => {
  const a = createWorkerMetrics();
  const b = createWorkerMetrics();
  createRequestMetrics(['r'], a).observe(0, 'GET', 200, 0.01);
  const rb = createRequestMetrics(['r'], b);
  rb.observe(0, 'GET', 200, 0.01);
  rb.observe(0, 'GET', 200, 1);
  a.upstreamErrors.inc({ upstream: 'u', kind: 'connect' });
  b.upstreamErrors.inc({ upstream: 'u', kind: 'connect' }, 2);
  a.targetAvailable.set({ upstream: 'u', target: 'http://t' }, 1);
  b.targetAvailable.set({ upstream: 'u', target: 'http://t' }, 0);
  a.setInflightSource(() => 3);
  b.setInflightSource(() => 4);
  const text = await AggregatorRegistry.aggregate([await a.registry.getMetricsAsJSON(), await b.registry.getMetricsAsJSON()]).metrics();
  assert.equal(sample(text, 'turnpike_requests_total{route="r",method="GET",status="200"}'), 3);
  assert.equal(sample(text, 'turnpike_request_duration_seconds_bucket{route="r",le="0.01"}'), 2);
  assert.equal(sample(text, 'turnpike_request_duration_seconds_bucket{route="r",le="+Inf"}'), 3);
  assert.equal(sample(text, 'turnpike_upstream_errors_total{upstream="u",kind="connect"}'), 3);
  assert.equal(sample(text, 'turnpike_upstream_target_available{upstream="u",target="http://t"}'), 0);
  assert.equal(sample(text, 'turnpike_inflight_requests'), 7);
});

/** A peer backed by a real worker registry, answering like worker-runtime does. */
function peer(id: number, metrics: WorkerMetrics, collector: ClusterMetricsCollector, answer = true): MetricsPeer {
  return {
    id,
    send(message) {
      if (!answer) return;
      void metrics.registry.getMetricsAsJSON().then((json) => collector.onResponse(id, message.requestId, json));
    },
  };
}

test('the collector keeps the counts of exited workers and skips silent ones after its timeout', async () => {
  const primary = createPrimaryMetrics({ defaultMetrics: false });
  const collector = new ClusterMetricsCollector(primary.registry, 100);
  const w1 = createWorkerMetrics({ defaultMetrics: false });
  const w2 = createWorkerMetrics({ defaultMetrics: false });
  createRequestMetrics(['r'], w1).observe(0, 'GET', 200, 0.01);
  const r2 = createRequestMetrics(['r'], w2);
  r2.observe(0, 'GET', 200, 0.01);
  r2.observe(0, 'GET', 200, 0.01);
  w1.setInflightSource(() => 5);
  primary.workerRestarts.inc();
  const series = 'turnpike_requests_total{route="r",method="GET",status="200"}';

  let text = await collector.collect([peer(1, w1, collector), peer(2, w2, collector)]);
  assert.equal(sample(text, series), 3);
  assert.equal(sample(text, 'turnpike_inflight_requests'), 5);
  assert.equal(sample(text, 'turnpike_worker_restarts_total'), 1);

  collector.onWorkerExit(1);
  text = await collector.collect([peer(2, w2, collector)]);
  assert.equal(sample(text, series), 3, 'worker 1 counts kept after it exited');
  assert.equal(sample(text, 'turnpike_inflight_requests'), 0, 'gauges of exited workers are not kept');

  const started = Date.now();
  text = await collector.collect([peer(2, w2, collector), peer(3, w1, collector, false)]);
  assert.ok(Date.now() - started < 1000);
  assert.equal(sample(text, series), 3, 'a silent worker is left out, the rest still reported');

  // Worker 2 answers, then exits while the scrape still waits for a silent worker: counted once.
  const pending = collector.collect([peer(2, w2, collector), peer(4, w1, collector, false)]);
  await new Promise((r) => setTimeout(r, 20));
  collector.onWorkerExit(2);
  text = await pending;
  assert.equal(sample(text, series), 3, 'a worker that exits mid-scrape is not counted twice');
});
