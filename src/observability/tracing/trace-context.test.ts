import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { SamplingDecision, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import {
  formatTraceparent, lastTraceIdRatioKey, parseTraceparent, randomSpanId, randomTraceId, ratioUpperBound,
} from './trace-context.js';

const T = '4bf92f3577b34da6a3ce929d0e0e4736';
const P = '00f067aa0ba902b7';

test('parses a version-00 traceparent and its sampled flag', () => {
  assert.deepEqual(parseTraceparent(`00-${T}-${P}-01`), { traceId: T, parentId: P, sampled: true });
  assert.deepEqual(parseTraceparent(`00-${T}-${P}-00`), { traceId: T, parentId: P, sampled: false });
  // Only bit 0 of the flags means sampled.
  assert.equal(parseTraceparent(`00-${T}-${P}-03`)?.sampled, true);
  assert.equal(parseTraceparent(`00-${T}-${P}-02`)?.sampled, false);
  assert.equal(parseTraceparent(`00-${T}-${P}-0f`)?.sampled, true);
});

test('refuses malformed values (the request then starts a new trace)', () => {
  for (const bad of [
    '', 'garbage', `00-${T}-${P}-1`, `00-${T.toUpperCase()}-${P}-01`, `00-${T}-${P.toUpperCase()}-01`,
    `00-${'0'.repeat(32)}-${P}-01`, `00-${T}-${'0'.repeat(16)}-01`, `ff-${T}-${P}-01`, `0g-${T}-${P}-01`,
    `00-${T}-${P}-01-extra`, `00_${T}-${P}-01`, `00-${T}_${P}-01`, `00-${T}-${P}_01`, `00-${T}-${P}-zz`,
    `01-${T}-${P}-01x`,
  ]) assert.equal(parseTraceparent(bad), null, bad);
});

test('a later version may carry more fields after a dash', () => {
  assert.deepEqual(parseTraceparent(`01-${T}-${P}-01-whatever`), { traceId: T, parentId: P, sampled: true });
  assert.deepEqual(parseTraceparent(`cc-${T}-${P}-00`), { traceId: T, parentId: P, sampled: false });
});

test('formats version 00 with the gateway span as the parent', () => {
  assert.equal(formatTraceparent(T, P, true), `00-${T}-${P}-01`);
  assert.equal(formatTraceparent(T, P, false), `00-${T}-${P}-00`);
  assert.deepEqual(parseTraceparent(formatTraceparent(T, P, true)), { traceId: T, parentId: P, sampled: true });
});

test('random ids are lower-case hex of the right length and differ', () => {
  const traces = new Set<string>();
  const spans = new Set<string>();
  // More than one pool refill's worth.
  for (let i = 0; i < 1000; i++) {
    const t = randomTraceId();
    const s = randomSpanId();
    assert.match(t, /^[0-9a-f]{32}$/);
    assert.match(s, /^[0-9a-f]{16}$/);
    traces.add(t);
    spans.add(s);
  }
  assert.equal(traces.size, 1000);
  assert.equal(spans.size, 1000);
});

test('the ratio decision on a new trace id is the SDK TraceIdRatioBasedSampler\'s', () => {
  for (const ratio of [0, 0.01, 0.1, 0.5, 0.999, 1]) {
    const sdk = new TraceIdRatioBasedSampler(ratio);
    const bound = ratioUpperBound(ratio);
    let sampled = 0;
    for (let i = 0; i < 5000; i++) {
      const id = randomTraceId();
      const ours = lastTraceIdRatioKey() < bound;
      const theirs = sdk.shouldSample(ROOT_CONTEXT, id).decision === SamplingDecision.RECORD_AND_SAMPLED;
      assert.equal(ours, theirs, `ratio ${ratio}, trace id ${id}`);
      if (ours) sampled++;
    }
    if (ratio === 0) assert.equal(sampled, 0);
    if (ratio === 1) assert.equal(sampled, 5000);
    if (ratio === 0.5) assert.ok(sampled > 2000 && sampled < 3000, String(sampled));
  }
});
