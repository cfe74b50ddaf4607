// The batching exporter against a real HTTP collector run by the test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { normaliseTracing } from './tracing-config.js';
import { SpanExporter, type ExportFailure } from './span-exporter.js';

interface Collector {
  url: string;
  /** One entry per export: the span ids in it. */
  batches: string[][];
  headers: IncomingMessage['headers'][];
  /** Status to answer with (200 by default). */
  status: number;
  close(): Promise<void>;
}

async function collector(): Promise<Collector> {
  const c: Collector = { url: '', batches: [], headers: [], status: 200, close: async () => undefined };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      c.batches.push(body.resourceSpans[0].scopeSpans[0].spans.map((s: { spanId: string }) => s.spanId));
      c.headers.push(req.headers);
      res.writeHead(c.status, { 'content-type': 'application/json' });
      res.end(c.status === 200 ? '{}' : '{"code":8,"message":"busy"}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  c.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`;
  c.close = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  return c;
}

function span(id: number): string {
  return `{"traceId":"${'1'.repeat(32)}","spanId":"${String(id).padStart(16, '0')}","name":"GET","kind":2,`
    + '"startTimeUnixNano":"1","endTimeUnixNano":"2","attributes":[],"status":{}}';
}

function exporter(url: string, batch: Record<string, unknown>, failures: ExportFailure[] = []): SpanExporter {
  const config = normaliseTracing({ endpoint: url, headers: { 'x-collector-key': 'k1' }, batch });
  return new SpanExporter(config, { 'service.name': 'edge' }, '1.0.0', (f) => failures.push(f));
}

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail('timed out waiting for ' + what);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a full batch goes out at once; the rest waits for the timer', async (t) => {
  const c = await collector();
  t.after(() => c.close());
  const e = exporter(c.url, { maxExportBatchSize: 3, scheduledDelay: '300ms' });
  for (let i = 1; i <= 4; i++) e.add(span(i));
  await until('the full batch', () => c.batches.length === 1);
  assert.equal(c.batches[0].length, 3);
  const started = Date.now();
  await until('the timed batch', () => c.batches.length === 2);
  assert.ok(Date.now() - started >= 150, 'the leftover span waited for the scheduled delay');
  assert.deepEqual(c.batches.flat(), [1, 2, 3, 4].map((i) => String(i).padStart(16, '0')));
  assert.equal(c.headers[0]['x-collector-key'], 'k1');
  assert.equal(c.headers[0]['content-type'], 'application/json');
  await e.shutdown(1000);
  assert.deepEqual(e.stats, { exported: 4, dropped: 0, failedExports: 0 });
});

test('the queue is bounded: spans past maxQueueSize are dropped and counted', async (t) => {
  const c = await collector();
  t.after(() => c.close());
  const e = exporter(c.url, { maxQueueSize: 5, maxExportBatchSize: 5, scheduledDelay: '10s' });
  for (let i = 1; i <= 8; i++) e.add(span(i));
  assert.equal(e.stats.dropped, 3);
  await until('the batch', () => c.batches.length === 1);
  assert.equal(c.batches[0].length, 5);
  await e.shutdown(1000);
});

test('shutdown exports everything queued, batch after batch, then drops late spans', async (t) => {
  const c = await collector();
  t.after(() => c.close());
  const e = exporter(c.url, { maxExportBatchSize: 4, scheduledDelay: '10s' });
  for (let i = 1; i <= 3; i++) e.add(span(i));
  await e.shutdown(2000);
  assert.deepEqual(c.batches.map((b) => b.length), [3]);
  e.add(span(99));
  assert.equal(e.stats.dropped, 1);
  assert.equal(e.stats.exported, 3);
});

test('a collector error or a dead collector is reported, never thrown; spans are dropped', async (t) => {
  const c = await collector();
  t.after(() => c.close());
  c.status = 503;
  const failures: ExportFailure[] = [];
  const e = exporter(c.url, { maxExportBatchSize: 2, scheduledDelay: '10s' }, failures);
  e.add(span(1));
  e.add(span(2));
  await until('the failure', () => failures.length === 1);
  assert.equal(failures[0].spans, 2);
  assert.match(failures[0].reason, /collector answered 503: \{"code":8/);
  await e.shutdown(1000);

  const deadFailures: ExportFailure[] = [];
  const dead = exporter('http://127.0.0.1:9/v1/traces', { maxExportBatchSize: 1, exportTimeout: '1s' }, deadFailures);
  dead.add(span(3));
  await until('the connect failure', () => deadFailures.length === 1);
  assert.equal(dead.stats.dropped, 1);
  await dead.shutdown(1000);
});

test('shutdown is bounded by its cap when the collector never answers', async (t) => {
  const hang = createServer(() => { /* never answers */ });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => { hang.closeAllConnections(); hang.close(() => r()); }));
  const e = exporter(`http://127.0.0.1:${(hang.address() as AddressInfo).port}/v1/traces`, { scheduledDelay: '10s' });
  e.add(span(1));
  const started = Date.now();
  await e.shutdown(300);
  assert.ok(Date.now() - started < 2000);
  assert.equal(e.stats.exported, 0);
});
