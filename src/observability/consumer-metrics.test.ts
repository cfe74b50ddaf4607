import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregatorRegistry } from 'prom-client';
import { ConsumerRecorder, ConsumerStore, OTHER_CONSUMER, TOKEN_CONSUMER_CAP } from './consumer-metrics.js';
import { createConsumerMetrics, createWorkerMetrics } from './metrics.js';

function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  return undefined;
}

test('turnpike_consumer_requests_total counts by consumer id and route', async () => {
  const m = createWorkerMetrics({ defaultMetrics: false });
  const rec = createConsumerMetrics(['orders', 'users'], ['acme', 'bob'], m);
  rec.observe(0, 'acme');
  rec.observe(0, 'acme');
  rec.observe(1, 'acme');
  rec.observe(1, 'bob');
  rec.observe(9, 'bob'); // a route index the config does not have counts under (none)
  const text = await m.registry.metrics();
  assert.match(text, /# TYPE turnpike_consumer_requests_total counter/);
  assert.equal(sample(text, 'turnpike_consumer_requests_total{consumer="acme",route="orders"}'), 2);
  assert.equal(sample(text, 'turnpike_consumer_requests_total{consumer="acme",route="users"}'), 1);
  assert.equal(sample(text, 'turnpike_consumer_requests_total{consumer="bob",route="users"}'), 1);
  assert.equal(sample(text, 'turnpike_consumer_requests_total{consumer="bob",route="(none)"}'), 1);
  assert.equal(sample(text, 'turnpike_consumer_requests_total{consumer="bob",route="orders"}'), undefined, 'no series before a request');
});

test('ids outside the config get series up to the cap, then count as (other); configured ids never do', () => {
  const store = new ConsumerStore();
  const rec = new ConsumerRecorder(store, ['(none)', 'r'], ['acme'], 3);
  for (const id of ['t1', 't2', 't3', 't4', 't5', 't1', 'acme']) rec.observe(0, id);
  const values = store.counterValues().map((v) => `${v.labels.consumer}=${v.value}`).sort();
  assert.deepEqual(values, ['(other)=2', 'acme=1', 't1=2', 't2=1', 't3=1']);
  assert.equal(OTHER_CONSUMER, '(other)');
  assert.ok(TOKEN_CONSUMER_CAP >= 10);
});

test('workers aggregate by summing', async () => {
  const a = createWorkerMetrics({ defaultMetrics: false });
  const b = createWorkerMetrics({ defaultMetrics: false });
  createConsumerMetrics(['r'], ['acme'], a).observe(0, 'acme');
  const rb = createConsumerMetrics(['r'], ['acme'], b);
  rb.observe(0, 'acme');
  rb.observe(0, 'acme');
  const text = await AggregatorRegistry.aggregate([await a.registry.getMetricsAsJSON(), await b.registry.getMetricsAsJSON()]).metrics();
  assert.equal(sample(text, 'turnpike_consumer_requests_total{consumer="acme",route="r"}'), 3);
});
