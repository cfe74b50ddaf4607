// OpenTelemetry tracing end to end: in-process gateway workers export their
// spans over OTLP/HTTP (JSON) to a real receiver this test runs, in front of
// real upstreams that record the traceparent they get.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { eventually } from './cache-helpers.js';
import { deadPort, nodeRequest, startGateway, startUpstream, type TestGateway, type TestUpstream } from './helpers.js';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './otlp-receiver.js';
import { parseTraceparent } from '../../src/observability/tracing/trace-context.js';

const KEY = 'trace-key-5d1c9e0a7b';
const sha = (key: string): string => createHash('sha256').update(key).digest('hex');
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

/** The traceparent the upstream got on the latest request to `path`, parsed. */
function upstreamParent(up: TestUpstream, path: string): { traceId: string; parentId: string; sampled: boolean; tracestate: unknown } {
  const seen = up.seen.filter((s) => s.url.split('?')[0] === path).at(-1);
  assert.ok(seen, 'the upstream got ' + path);
  const raw = String(seen.headers.traceparent ?? '');
  const p = parseTraceparent(raw);
  assert.ok(p, 'a valid traceparent went upstream: ' + raw);
  return { ...p, tracestate: seen.headers.tracestate };
}

async function spanById(rx: OtlpReceiver, spanId: string): Promise<ReceivedSpan> {
  await eventually('span ' + spanId + ' is exported', () => rx.spans.some((s) => s.spanId === spanId), 10_000);
  return rx.spans.find((s) => s.spanId === spanId)!;
}

async function spanByTrace(rx: OtlpReceiver, traceId: string): Promise<ReceivedSpan> {
  await eventually('a span of trace ' + traceId + ' is exported', () => rx.spans.some((s) => s.traceId === traceId), 10_000);
  return rx.spans.find((s) => s.traceId === traceId)!;
}

describe('tracing (OTLP/HTTP, W3C trace context)', () => {
  let rx: OtlpReceiver;
  let up: TestUpstream;
  let flaky: TestUpstream;
  let all: TestGateway;
  let none: TestGateway;
  let off: TestGateway;
  let flakyTries = 0;

  before(async () => {
    rx = await startOtlpReceiver();
    up = await startUpstream('up', (req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': req.url!.startsWith('/cached') ? 'max-age=60' : 'no-store' });
      res.end(JSON.stringify({ url: req.url }));
    });
    flaky = await startUpstream('flaky', (_req, res) => {
      flakyTries++;
      res.writeHead(flakyTries % 2 === 1 ? 503 : 200, { 'content-type': 'text/plain' });
      res.end('try ' + flakyTries);
    });
    const dead = await deadPort();
    const common = `
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
  flaky: { targets: [ { url: "${flaky.url}" } ] }
  dead: { targets: [ { url: "http://127.0.0.1:${dead}" } ] }
consumers:
  - { id: acme, keys: [ { sha256: "${sha(KEY)}" } ] }
policies:
  keys: { key-auth: { header: x-api-key } }
  c: { cache: {} }
routes:
  - { name: plain, match: { path: /plain }, upstream: up }
  - { name: items, match: { path: "/items/:id" }, upstream: up }
  - { name: keyed, match: { path: /keyed }, upstream: up, policies: [ keys ] }
  - { name: cached, match: { path: "/cached/*" }, upstream: up, policies: [ c ] }
  - { name: flaky, match: { path: /flaky }, upstream: flaky, retry: { attempts: 2, on: [ 503 ], backoff: { base: 1ms, max: 5ms } } }
  - { name: broken, match: { path: /broken }, upstream: dead }
  - name: agg
    match: { path: /agg }
    aggregate:
      calls:
        a: { upstream: up, path: /agg-a }
        b: { upstream: up, path: /agg-b }
`;
    all = await startGateway(common + `tracing: { endpoint: "${rx.url}", sampleRatio: 1, serviceName: edge, headers: { x-collector-key: k1 }, batch: { scheduledDelay: 50ms } }\n`);
    none = await startGateway(common + `tracing: { endpoint: "${rx.url}/v1/traces", sampleRatio: 0, batch: { scheduledDelay: 50ms } }\n`);
    off = await startGateway(common);
  });

  after(async () => {
    await Promise.all([all.close(), none.close(), off.close()]);
    await Promise.all([rx.close(), up.close(), flaky.close()]);
  });

  test('a request without traceparent starts a trace; the gateway span is the parent of the upstream request', async () => {
    const r = await nodeRequest(all.port, '/items/42', {});
    assert.equal(r.status, 200);
    const sent = upstreamParent(up, '/items/42');
    assert.equal(sent.sampled, true);
    const span = await spanById(rx, sent.parentId);
    assert.equal(span.traceId, sent.traceId);
    assert.equal(span.parentSpanId, '', 'a new trace: the gateway span is its root');
    assert.equal(span.kind, 2, 'SERVER');
    assert.equal(span.name, 'GET /items/:id');
    assert.equal(span.attributes['http.route'], '/items/:id');
    assert.equal(span.attributes['turnpike.route'], 'items');
    assert.equal(span.attributes['http.request.method'], 'GET');
    assert.equal(span.attributes['http.response.status_code'], 200);
    assert.equal(span.attributes['turnpike.upstream'], 'up');
    assert.equal(span.attributes['turnpike.upstream.target'], up.url);
    assert.equal(span.attributes['turnpike.retries'], 0);
    assert.equal(span.attributes['turnpike.request_id'], r.headers['x-request-id']);
    assert.equal(span.resource['service.name'], 'edge');
    assert.equal(span.scope, 'turnpike');
    const exportReq = rx.requests.find((q) => q.path === '/v1/traces');
    assert.ok(exportReq, 'a bare endpoint origin gets /v1/traces');
    assert.equal(exportReq.headers['x-collector-key'], 'k1', 'tracing.headers go with every export');
  });

  test('an incoming traceparent is continued and tracestate forwarded', async () => {
    const r = await nodeRequest(all.port, '/plain', { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'vendor=abc,other=1' });
    assert.equal(r.status, 200);
    const sent = upstreamParent(up, '/plain');
    assert.equal(sent.traceId, TRACE_ID, 'same trace');
    assert.notEqual(sent.parentId, PARENT_ID, 'the upstream request is a child of the gateway span, not of the client');
    assert.equal(sent.tracestate, 'vendor=abc,other=1');
    const span = await spanById(rx, sent.parentId);
    assert.equal(span.traceId, TRACE_ID);
    assert.equal(span.parentSpanId, PARENT_ID, "the gateway span's parent is the client's span");
  });

  test('an invalid traceparent starts a new trace and its tracestate is dropped', async () => {
    await nodeRequest(all.port, '/plain', { traceparent: `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`, tracestate: 'vendor=abc' });
    const sent = upstreamParent(up, '/plain');
    assert.notEqual(sent.traceId, TRACE_ID);
    assert.equal(sent.tracestate, undefined);
    const span = await spanById(rx, sent.parentId);
    assert.equal(span.parentSpanId, '');
  });

  test('consumer id on the span; a policy refusal is an event; problem+json carries the trace id', async () => {
    const ok = await nodeRequest(all.port, '/keyed', { 'x-api-key': KEY });
    assert.equal(ok.status, 200);
    const sent = upstreamParent(up, '/keyed');
    const span = await spanById(rx, sent.parentId);
    assert.equal(span.attributes['turnpike.consumer.id'], 'acme');

    const refused = await nodeRequest(all.port, '/keyed', {});
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['content-type'], 'application/problem+json');
    const body = JSON.parse(refused.body) as { traceId?: string; code: string };
    assert.match(body.traceId ?? '', /^[0-9a-f]{32}$/);
    const refusedSpan = await spanByTrace(rx, body.traceId!);
    assert.equal(refusedSpan.attributes['http.response.status_code'], 401);
    const event = refusedSpan.events.find((e) => e.name === 'policy.verdict');
    assert.ok(event, 'the refusal is recorded: ' + JSON.stringify(refusedSpan.events));
    assert.equal(event.attributes['turnpike.policy'], 'key-auth:keys', 'the policy as logs name it (kind:name)');
    assert.equal(event.attributes['turnpike.phase'], 'access');
    assert.equal(event.attributes['turnpike.verdict'], 'refused');
    assert.equal(event.attributes['http.response.status_code'], 401);
    assert.equal(event.attributes['turnpike.problem.code'], body.code);
  });

  test('cache result, retries and an upstream failure are on the spans', async () => {
    const miss = await nodeRequest(all.port, '/cached/x', {});
    assert.equal(miss.headers['x-cache'], 'MISS');
    const missSpan = await spanById(rx, upstreamParent(up, '/cached/x').parentId);
    assert.equal(missSpan.attributes['turnpike.cache'], 'MISS');
    const hit = await nodeRequest(all.port, '/cached/x', {});
    assert.equal(hit.headers['x-cache'], 'HIT');
    await eventually('the hit is exported', () => rx.spans.some((s) => s.attributes['turnpike.route'] === 'cached' && s.attributes['turnpike.cache'] === 'HIT'), 10_000);

    flakyTries = 0;
    const retried = await nodeRequest(all.port, '/flaky', {});
    assert.equal(retried.status, 200);
    assert.equal(retried.body, 'try 2');
    const flakySpan = await spanById(rx, upstreamParent(flaky, '/flaky').parentId);
    assert.equal(flakySpan.attributes['turnpike.retries'], 1);
    assert.equal(flakySpan.attributes['turnpike.upstream.attempts'], 2);
    assert.equal(flakySpan.attributes['turnpike.upstream.target'], flaky.url);

    const broken = await nodeRequest(all.port, '/broken', {});
    assert.equal(broken.status, 502);
    const traceId = (JSON.parse(broken.body) as { traceId: string }).traceId;
    const brokenSpan = await spanByTrace(rx, traceId);
    assert.equal(brokenSpan.statusCode, 2, 'a 5xx span has status ERROR');
    assert.equal(brokenSpan.attributes['turnpike.upstream'], 'dead');

    const notFound = await nodeRequest(all.port, '/nowhere', {});
    assert.equal(notFound.status, 404);
    const nf = JSON.parse(notFound.body) as { traceId: string };
    const nfSpan = await spanByTrace(rx, nf.traceId);
    assert.equal(nfSpan.name, 'GET', 'an unrouted request has no route in its name');
    assert.equal(nfSpan.attributes['http.route'], undefined);
  });

  test('aggregate calls go out as children of the gateway span', async () => {
    const r = await nodeRequest(all.port, '/agg', {});
    assert.equal(r.status, 200, r.body);
    const a = upstreamParent(up, '/agg-a');
    const b = upstreamParent(up, '/agg-b');
    assert.equal(a.traceId, b.traceId);
    assert.equal(a.parentId, b.parentId);
    const span = await spanById(rx, a.parentId);
    assert.equal(span.attributes['turnpike.route'], 'agg');
  });

  test('sampleRatio 0: a new trace is propagated unsampled and not exported; a sampled parent is exported', async () => {
    const r = await nodeRequest(none.port, '/plain', {});
    assert.equal(r.status, 200);
    const unsampled = upstreamParent(up, '/plain');
    assert.equal(unsampled.sampled, false, 'the upstream learns the trace is not recorded');
    assert.match(unsampled.traceId, /^[0-9a-f]{32}$/);
    await nodeRequest(none.port, '/plain', { traceparent: `00-${'ab'.repeat(16)}-${PARENT_ID}-00` });
    const unsampledParent = upstreamParent(up, '/plain');
    assert.equal(unsampledParent.traceId, 'ab'.repeat(16));
    assert.equal(unsampledParent.sampled, false);
    const problem = await nodeRequest(none.port, '/nowhere', {});
    assert.match((JSON.parse(problem.body) as { traceId: string }).traceId, /^[0-9a-f]{32}$/, 'unsampled requests have a trace id too');

    const sampledTrace = 'cd'.repeat(16);
    await nodeRequest(none.port, '/plain', { traceparent: `00-${sampledTrace}-${PARENT_ID}-01` });
    const sent = upstreamParent(up, '/plain');
    assert.equal(sent.sampled, true);
    const span = await spanById(rx, sent.parentId);
    assert.equal(span.parentSpanId, PARENT_ID);
    assert.equal(span.resource['service.name'], 'turnpike', 'the default service name');
    // Spans leave one worker's batch queue in order: the earlier ones would be here by now.
    assert.ok(!rx.spans.some((s) => s.traceId === unsampled.traceId || s.traceId === 'ab'.repeat(16)), 'unsampled requests export nothing');
  });

  test('tracing off: the client trace context passes through untouched, problems have no traceId', async () => {
    const tp = `00-${TRACE_ID}-${PARENT_ID}-01`;
    await nodeRequest(off.port, '/plain', { traceparent: tp, tracestate: 'vendor=abc' });
    const seen = up.seen.filter((s) => s.url === '/plain').at(-1)!;
    assert.equal(seen.headers.traceparent, tp);
    assert.equal(seen.headers.tracestate, 'vendor=abc');
    await nodeRequest(off.port, '/plain', {});
    assert.equal(up.seen.filter((s) => s.url === '/plain').at(-1)!.headers.traceparent, undefined);
    const problem = JSON.parse((await nodeRequest(off.port, '/nowhere', {})).body) as Record<string, unknown>;
    assert.equal('traceId' in problem, false);
  });

  test('spans still queued are exported when the worker drains', async () => {
    const late = await startGateway(`
upstreams:
  up: { targets: [ { url: "${up.url}" } ] }
routes:
  - { name: late, match: { path: /late }, upstream: up }
tracing: { endpoint: "${rx.url}", sampleRatio: 1, batch: { scheduledDelay: 10m } }
`);
    await nodeRequest(late.port, '/late', {});
    const sent = upstreamParent(up, '/late');
    await late.close();
    const span = await spanById(rx, sent.parentId);
    assert.equal(span.attributes['turnpike.route'], 'late');
  });
});
