/**
 * One request's place in a trace (`ctx.trace`, only when tracing is on):
 * the ids every traced request has, sampled or not, and what a sampled one
 * collects for its span until the request completes. Fixed fields, one
 * hidden class.
 */
export class RequestTrace {
  /** 32 lower-case hex: the incoming trace's, or a new one. */
  traceId = '';
  /** 16 lower-case hex: the gateway's own span, the parent of the upstream request. */
  spanId = '';
  /** The incoming parent span id ('' when the request started a trace). */
  parentSpanId = '';
  /** Whether the trace is recorded (sampled flag sent upstream). */
  sampled = false;
  /** The incoming `tracestate` (lines joined by ','); '' when none or the traceparent was invalid. */
  traceState = '';
  /** The `traceparent` sent upstream. */
  traceparent = '';
  /** A sampled request whose span is not written yet (cleared when the span is). */
  recording = false;
  /** The span's events so far, as comma-separated OTLP/JSON (policy verdicts). */
  events = '';
}
