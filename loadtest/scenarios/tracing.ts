/**
 * `tracing-1pct` and `tracing-100pct`: `passthrough` with OpenTelemetry
 * tracing on (sampleRatio 0.01 and 1), spans exported over OTLP/HTTP to the
 * load-test upstream's /v1/traces sink. Compare their CPU per request with
 * `passthrough` (tracing off).
 */
import { passthrough } from './passthrough.js';
import type { Scenario } from './types.js';

/** Tracing on, 1% of new traces sampled (the default ratio). */
export const tracing1pct: Scenario = {
  ...passthrough,
  name: 'tracing-1pct',
  description: 'passthrough with tracing on, sampleRatio 0.01 (OTLP/HTTP export)',
  configFile: 'tracing-1pct.yaml',
};

/** Tracing on, every request sampled and exported. */
export const tracing100pct: Scenario = {
  ...passthrough,
  name: 'tracing-100pct',
  description: 'passthrough with tracing on, sampleRatio 1 (every request exported over OTLP/HTTP)',
  configFile: 'tracing-100pct.yaml',
};
