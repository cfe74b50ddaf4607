/**
 * The request-path cost of tracing, per request, measured in-process with
 * the micro harness: Turnpike's RequestTracer (own traceparent parse/format
 * and ids, the ratio decision on the id's random bytes, a sampled span
 * encoded as OTLP/JSON text at finish) next to the SDK-only way
 * (W3CTraceContextPropagator extract/inject, and tracer.startSpan for every
 * request, which builds a NonRecordingSpan when not sampled). Both at
 * sampleRatio 0.01, with and without an incoming unsampled traceparent,
 * and Turnpike with every request sampled. Exports go nowhere (nothing
 * listens, and no batch fills during a case): only the request path is timed.
 *
 *   node dist/native-bench/tracing-overhead.js [--min-ms 300] [--rounds 5]
 */
import { parseArgs } from 'node:util';
import { ROOT_CONTEXT, SpanKind, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { bench } from './micro/micro-harness.js';
import { contextFor, CURL_REQUEST } from './micro/request-fixtures.js';
import { TrustedProxies } from '../src/ingress/trusted-proxies.js';
import { RequestIdGenerator } from '../src/ingress/request-id.js';
import type { RequestContext } from '../src/ingress/request-context.js';
import { RequestTracer } from '../src/observability/tracing/request-tracer.js';
import { normaliseTracing } from '../src/observability/tracing/tracing-config.js';
import { buildUpstreamHeaders } from '../src/upstream/forward-headers.js';

const UNSAMPLED_PARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00';

function context(traceparent: string | null): RequestContext {
  const ctx = contextFor(CURL_REQUEST, new TrustedProxies([]), new RequestIdGenerator());
  if (traceparent !== null) ctx.addHeader('traceparent', traceparent);
  return ctx;
}

function headerObject(ctx: RequestContext): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i < ctx.headerNames.length; i++) o[ctx.headerNames[i]] = ctx.headerValues[i];
  return o;
}

function main(): void {
  const { values } = parseArgs({ options: { 'min-ms': { type: 'string', default: '300' }, rounds: { type: 'string', default: '5' } } });
  const minMs = Number(values['min-ms']);
  const rounds = Number(values.rounds);
  // Port 9 (discard): the batch processor's timer may try an export; nothing listens, nothing is timed.
  const ours = new RequestTracer(normaliseTracing({ endpoint: 'http://127.0.0.1:9/v1/traces', sampleRatio: 0.01 }));
  // Every request sampled; a queue of one span, so the case times building and encoding the span, not holding it.
  const every = new RequestTracer(normaliseTracing({
    endpoint: 'http://127.0.0.1:9/v1/traces', sampleRatio: 1, batch: { maxQueueSize: 1, scheduledDelay: '10m' },
  }));
  const provider = new BasicTracerProvider({ sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.01) }) });
  const sdkTracer = provider.getTracer('bench');
  const propagator = new W3CTraceContextPropagator();
  const plain = context(null);
  const withParent = context(UNSAMPLED_PARENT);
  const oursCase = (ctx: RequestContext, tracer = ours) => function oursRequest(): unknown {
    tracer.begin(ctx);
    const h = buildUpstreamHeaders(ctx, '', 'http');
    tracer.finish(ctx);
    ctx.trace = null;
    return h;
  };
  const sdkCase = (ctx: RequestContext) => {
    const carrier = headerObject(ctx);
    return function sdkRequest(): unknown {
      const parent = propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
      const span = sdkTracer.startSpan(ctx.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': ctx.method } }, parent);
      const h = buildUpstreamHeaders(ctx, '', 'http');
      const out: Record<string, string> = {};
      propagator.inject(trace.setSpan(parent, span), out, defaultTextMapSetter);
      h.push('traceparent', out.traceparent);
      span.end();
      return h;
    };
  };
  const cases: Array<[string, () => unknown]> = [
    ['tracing off: buildUpstreamHeaders', function off(): unknown { return buildUpstreamHeaders(plain, '', 'http'); }],
    ['turnpike, new trace, 1%', oursCase(plain)],
    ['sdk only, new trace, 1%', sdkCase(plain)],
    ['turnpike, unsampled parent', oursCase(withParent)],
    ['sdk only, unsampled parent', sdkCase(withParent)],
    ['turnpike, every request sampled', oursCase(plain, every)],
  ];
  for (const [name, fn] of cases) {
    const r = bench(name, fn, { minMs, rounds });
    process.stdout.write(`${name.padEnd(36)} ${r.nsPerOp.toFixed(0).padStart(6)} ns/request  (rounds ${r.samples.map((s) => (1e9 / s).toFixed(0)).join(', ')})\n`);
  }
  process.exit(0);
}

main();
