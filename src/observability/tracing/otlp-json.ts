/**
 * OTLP/JSON (the OTLP/HTTP JSON encoding of
 * opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest), built
 * as text: ids as lower-case hex, 64-bit integers as decimal strings, enums
 * as numbers, attribute values as AnyValue objects.
 *
 * why: the SDK's JsonTraceSerializer builds an object graph for a whole
 * batch and stringifies it in one go on the worker's loop (2–5 ms per 250
 * spans on this VM, results/tracing.md); here each span becomes its text
 * once, when its request completes (a few µs), and an export only joins
 * the texts.
 */

/** `"key"` and a string AnyValue. `value` is escaped by JSON.stringify (any text is safe). */
export function stringAttr(key: string, value: string): string {
  return '{"key":"' + key + '","value":{"stringValue":' + JSON.stringify(value) + '}}';
}

/** An int AnyValue (int64 travels as a decimal string in OTLP/JSON). */
export function intAttr(key: string, value: number): string {
  return '{"key":"' + key + '","value":{"intValue":"' + Math.trunc(value) + '"}}';
}

/** A bool AnyValue. */
export function boolAttr(key: string, value: boolean): string {
  return '{"key":"' + key + '","value":{"boolValue":' + (value ? 'true' : 'false') + '}}';
}

/** Span kinds used by the gateway (opentelemetry.proto.trace.v1.Span.SpanKind). */
export const SPAN_KIND_SERVER = 2;
/** Status codes (opentelemetry.proto.trace.v1.Status.StatusCode). */
export const STATUS_ERROR = 2;

/**
 * Unix time in nanoseconds as a decimal string, from milliseconds with a
 * fraction (performance.timeOrigin + performance.now()).
 */
export function unixNanos(ms: number): string {
  // why: ms × 1e6 is past 2^53, so a float product would lose the low
  // digits; the whole milliseconds and the nanoseconds within are printed
  // separately instead.
  let whole = Math.floor(ms);
  let ns = Math.round((ms - whole) * 1e6);
  if (ns >= 1e6) { whole += 1; ns -= 1e6; }
  const frac = String(ns);
  return whole === 0 ? frac : whole + '000000'.slice(frac.length) + frac;
}

/** One span's fields, as {@link encodeSpan} writes them. */
export interface SpanText {
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  /** '' when none. */
  traceState: string;
  name: string;
  kind: number;
  startMs: number;
  endMs: number;
  /** Encoded attributes, comma-separated (see {@link stringAttr}). */
  attributes: string;
  /** Encoded events, comma-separated (see {@link encodeEvent}). */
  events: string;
  /** 0 unset, 2 error. */
  statusCode: number;
}

/** One Span object of OTLP/JSON. */
export function encodeSpan(s: SpanText): string {
  let out = '{"traceId":"' + s.traceId + '","spanId":"' + s.spanId + '"';
  if (s.parentSpanId !== '') out += ',"parentSpanId":"' + s.parentSpanId + '"';
  if (s.traceState !== '') out += ',"traceState":' + JSON.stringify(s.traceState);
  out += ',"name":' + JSON.stringify(s.name) + ',"kind":' + s.kind
    + ',"startTimeUnixNano":"' + unixNanos(s.startMs) + '","endTimeUnixNano":"' + unixNanos(s.endMs) + '"'
    + ',"attributes":[' + s.attributes + ']';
  if (s.events !== '') out += ',"events":[' + s.events + ']';
  out += s.statusCode === 0 ? ',"status":{}}' : ',"status":{"code":' + s.statusCode + '}}';
  return out;
}

/** One Span.Event of OTLP/JSON; `attributes` comma-separated encoded attributes. */
export function encodeEvent(name: string, atMs: number, attributes: string): string {
  return '{"timeUnixNano":"' + unixNanos(atMs) + '","name":' + JSON.stringify(name) + ',"attributes":[' + attributes + ']}';
}

/**
 * The text of an export request around its spans: `[head, tail]`, with the
 * spans' texts joined by ',' between them. One resource (the gateway
 * process) and one instrumentation scope.
 */
export function exportEnvelope(resource: Record<string, string>, scopeName: string, scopeVersion: string): [string, string] {
  const attrs: string[] = [];
  for (const key of Object.keys(resource)) attrs.push(stringAttr(key, resource[key]));
  const scope = '{"name":' + JSON.stringify(scopeName) + (scopeVersion !== '' ? ',"version":' + JSON.stringify(scopeVersion) : '') + '}';
  return ['{"resourceSpans":[{"resource":{"attributes":[' + attrs.join(',') + ']},"scopeSpans":[{"scope":' + scope + ',"spans":[', ']}]}]}'];
}
