import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, parseConfig } from '../../config/index.js';

function issues(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues.map((i) => `${i.file}:${i.line} ${i.path}: ${i.message}`);
    throw err;
  }
  assert.fail('expected a ConfigError');
}

test('tracing is off by default, with the documented defaults', () => {
  const t = parseConfig('', 'x.yaml', {}).tracing!;
  assert.equal(t.enabled, false);
  assert.equal(t.sampleRatio, 0.01);
  assert.equal(t.serviceName, 'turnpike');
  assert.deepEqual(t.batch, { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMs: 1000, exportTimeoutMs: 10_000 });
});

test('an endpoint turns tracing on; a bare origin gets /v1/traces', () => {
  const t = parseConfig(`tracing:
  endpoint: http://collector:4318
  sampleRatio: 0.25
  serviceName: edge
  headers: { x-api-key: abc }
  batch: { maxQueueSize: 100, maxExportBatchSize: 500, scheduledDelay: 200ms, exportTimeout: 3s }
`, 'x.yaml', {}).tracing!;
  assert.equal(t.enabled, true);
  assert.equal(t.endpoint, 'http://collector:4318/v1/traces');
  assert.equal(t.sampleRatio, 0.25);
  assert.equal(t.serviceName, 'edge');
  assert.deepEqual(t.headers, { 'x-api-key': 'abc' });
  assert.deepEqual(t.batch, { maxQueueSize: 100, maxExportBatchSize: 100, scheduledDelayMs: 200, exportTimeoutMs: 3000 });
  assert.equal(parseConfig('tracing: { endpoint: "https://otel.example/custom/path" }', 'x.yaml', {}).tracing!.endpoint, 'https://otel.example/custom/path');
});

test('enabled: false wins over the endpoint; enabled: true alone exports to a local collector', () => {
  assert.equal(parseConfig('tracing: { endpoint: "http://c:4318", enabled: false }', 'x.yaml', {}).tracing!.enabled, false);
  const t = parseConfig('tracing: { enabled: true }', 'x.yaml', {}).tracing!;
  assert.equal(t.enabled, true);
  assert.equal(t.endpoint, 'http://127.0.0.1:4318/v1/traces');
});

test('TURNPIKE_OTLP_ENDPOINT turns tracing on and keeps the file settings', () => {
  const t = parseConfig('tracing: { sampleRatio: 0.5, enabled: false }', 'x.yaml', { TURNPIKE_OTLP_ENDPOINT: 'http://otel:4318/' }).tracing!;
  assert.equal(t.enabled, true);
  assert.equal(t.endpoint, 'http://otel:4318/v1/traces');
  assert.equal(t.sampleRatio, 0.5);
  assert.deepEqual(issues(() => parseConfig('', 'x.yaml', { TURNPIKE_OTLP_ENDPOINT: 'otel:4318' })),
    ['env:0 TURNPIKE_OTLP_ENDPOINT: must be an http:// or https:// URL, got "otel:4318"']);
});

test('a malformed tracing section names file, line and field', () => {
  const found = issues(() => parseConfig('routes: []\ntracing:\n  sampleRatio: 2\n  endpoint: ftp://x\n  colour: red\n', 'gw.yaml', {}));
  assert.ok(found.some((i) => i.startsWith('gw.yaml:3 tracing.sampleRatio')), found.join('\n'));
  assert.ok(found.some((i) => i.startsWith('gw.yaml:4 tracing.endpoint') && i.includes('http:// or https://')), found.join('\n'));
  assert.ok(found.some((i) => i.includes('tracing') && i.includes('colour')), found.join('\n'));
});
