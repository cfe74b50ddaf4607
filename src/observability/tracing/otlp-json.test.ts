// The hand-built OTLP/JSON against the official serializer: the same span
// built with the SDK and written by @opentelemetry/otlp-transformer's
// JsonTraceSerializer (what OTLPTraceExporter sends) must decode to the same
// fields as ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import {
  boolAttr, encodeEvent, encodeSpan, exportEnvelope, intAttr, SPAN_KIND_SERVER, STATUS_ERROR, stringAttr, unixNanos,
} from './otlp-json.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = 'a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';
const START = 1765152000123;
const EVENT_AT = 1765152000125;
const END = 1765152000131;
// Text JSON must escape: quotes, a backslash, a control character, non-ASCII and a lone surrogate.
const PATH = '/a "quoted"\\path\u0001/é/\ud800';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function sdkExport(): Json {
  const ids: IdGenerator = { generateTraceId: () => TRACE, generateSpanId: () => SPAN };
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'edge', 'service.version': '1.2.3' }),
    idGenerator: ids, spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const parent = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: PARENT, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  const span = provider.getTracer('turnpike', '1.2.3').startSpan('GET /orders/:id', {
    kind: SpanKind.SERVER, startTime: START,
    attributes: { 'url.path': PATH, 'http.response.status_code': 503, 'turnpike.client_aborted': true },
  }, parent);
  span.addEvent('policy.verdict', { 'turnpike.policy': 'limit', 'http.response.status_code': 429 }, EVENT_AT);
  span.setStatus({ code: SpanStatusCode.ERROR });
  span.end(END);
  return JSON.parse(new TextDecoder().decode(JsonTraceSerializer.serializeRequest(memory.getFinishedSpans())!));
}

function ourExport(): Json {
  const [head, tail] = exportEnvelope({ 'service.name': 'edge', 'service.version': '1.2.3' }, 'turnpike', '1.2.3');
  const span = encodeSpan({
    traceId: TRACE, spanId: SPAN, parentSpanId: PARENT, traceState: '', name: 'GET /orders/:id', kind: SPAN_KIND_SERVER,
    startMs: START, endMs: END, statusCode: STATUS_ERROR,
    attributes: [stringAttr('url.path', PATH), intAttr('http.response.status_code', 503), boolAttr('turnpike.client_aborted', true)].join(','),
    events: encodeEvent('policy.verdict', EVENT_AT, stringAttr('turnpike.policy', 'limit') + ',' + intAttr('http.response.status_code', 429)),
  });
  return JSON.parse(head + span + tail);
}

/** The fields the gateway writes (the SDK adds zero counters and flags, which a collector defaults). */
function comparable(body: Json): Json {
  const rs = body.resourceSpans[0];
  const ss = rs.scopeSpans[0];
  const s = ss.spans[0];
  // int64 may be a JSON number (the SDK writes one) or a decimal string (ours); both decode the same.
  const value = (v: Json) => ('intValue' in v ? { intValue: Number(v.intValue) } : v);
  const byKey = (list: Json[]) => Object.fromEntries(list.map((kv: Json) => [kv.key, value(kv.value)]));
  return {
    resource: byKey(rs.resource.attributes.filter((kv: Json) => kv.key.startsWith('service.'))),
    scope: { name: ss.scope.name, version: ss.scope.version },
    span: {
      traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId, name: s.name, kind: s.kind,
      startTimeUnixNano: String(s.startTimeUnixNano), endTimeUnixNano: String(s.endTimeUnixNano),
      attributes: byKey(s.attributes), status: s.status,
      events: s.events.map((e: Json) => ({ name: e.name, timeUnixNano: String(e.timeUnixNano), attributes: byKey(e.attributes) })),
    },
  };
}

test('a span decodes to the same fields as the official JsonTraceSerializer writes', () => {
  const sdk = comparable(sdkExport());
  const ours = comparable(ourExport());
  assert.deepEqual(ours, sdk);
});

test('text values are escaped: the body stays valid JSON and the text round-trips', () => {
  const s = JSON.parse('{' + stringAttr('k', PATH).slice(1));
  assert.equal(s.key, 'k');
  assert.equal(s.value.stringValue, PATH);
});

test('unix nanoseconds keep every digit past 2^53', () => {
  assert.equal(unixNanos(1765152000123), '1765152000123000000');
  assert.equal(unixNanos(1765152000123.5), '1765152000123500000');
  assert.equal(unixNanos(1765152000123.25), '1765152000123250000');
  assert.equal(unixNanos(0.000001), '1');
  // A fraction that rounds up to a whole millisecond carries.
  assert.equal(unixNanos(1999.9999999), '2000000000');
});

test('a root span has no parentSpanId, an unset status is empty, a trace state is kept', () => {
  const s = JSON.parse(encodeSpan({
    traceId: TRACE, spanId: SPAN, parentSpanId: '', traceState: 'vendor=a,b=c', name: 'GET', kind: SPAN_KIND_SERVER,
    startMs: START, endMs: END, attributes: '', events: '', statusCode: 0,
  }));
  assert.equal('parentSpanId' in s, false);
  assert.equal('events' in s, false);
  assert.deepEqual(s.status, {});
  assert.deepEqual(s.attributes, []);
  assert.equal(s.traceState, 'vendor=a,b=c');
});
