import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AggregatorRegistry, Registry } from 'prom-client';
import { websocketMetrics } from './websocket-metrics.js';

function sample(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  return undefined;
}

test('per-route series: gauge, totals by direction, closes by cause; one store per registry', async () => {
  const registry = new Registry();
  const m = websocketMetrics(registry);
  assert.equal(websocketMetrics(registry), m, 'registered once per registry');
  const chat = m.route('chat');
  assert.equal(m.route('chat'), chat);
  chat.open = 2; chat.accepted = 5;
  chat.toUpstreamMessages = 3; chat.toUpstreamBytes = 300; chat.toClientMessages = 7; chat.toClientBytes = 7000;
  chat.closed('idle'); chat.closed('idle'); chat.closed('client_closed');
  const text = await registry.metrics();
  assert.equal(sample(text, 'turnpike_websocket_connections{route="chat"}'), 2);
  assert.equal(sample(text, 'turnpike_websocket_connections_total{route="chat"}'), 5);
  assert.equal(sample(text, 'turnpike_websocket_messages_total{route="chat",direction="to_upstream"}'), 3);
  assert.equal(sample(text, 'turnpike_websocket_messages_total{route="chat",direction="to_client"}'), 7);
  assert.equal(sample(text, 'turnpike_websocket_bytes_total{route="chat",direction="to_upstream"}'), 300);
  assert.equal(sample(text, 'turnpike_websocket_bytes_total{route="chat",direction="to_client"}'), 7000);
  assert.equal(sample(text, 'turnpike_websocket_closes_total{route="chat",cause="idle"}'), 2);
  assert.equal(sample(text, 'turnpike_websocket_closes_total{route="chat",cause="client_closed"}'), 1);
  assert.equal(sample(text, 'turnpike_websocket_closes_total{route="chat",cause="backlog"}'), undefined, 'causes that never happened are left out');
  // A second scrape does not double the counters.
  assert.equal(sample(await registry.metrics(), 'turnpike_websocket_messages_total{route="chat",direction="to_client"}'), 7);
});

test('workers aggregate by sum', async () => {
  const a = new Registry(); const b = new Registry();
  websocketMetrics(a).route('r').open = 1;
  websocketMetrics(b).route('r').open = 2;
  websocketMetrics(a).route('r').toClientBytes = 10;
  websocketMetrics(b).route('r').toClientBytes = 5;
  const text = await AggregatorRegistry.aggregate([await a.getMetricsAsJSON(), await b.getMetricsAsJSON()]).metrics();
  assert.equal(sample(text, 'turnpike_websocket_connections{route="r"}'), 3);
  assert.equal(sample(text, 'turnpike_websocket_bytes_total{route="r",direction="to_client"}'), 15);
});
