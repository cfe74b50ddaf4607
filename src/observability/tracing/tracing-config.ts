/**
 * The `tracing:` section: defaults, normalisation and the endpoint rule
 * shared by the file and TURNPIKE_OTLP_ENDPOINT.
 */
import type { TracingConfig } from '../../config/types.js';
import { parseDuration } from '../../config/units.js';

/** Defaults of `tracing:` (the schema's descriptions say the same). */
export const TRACING_DEFAULTS = {
  /** The OTLP/HTTP port of a local collector, used by `enabled: true` without an endpoint. */
  endpoint: 'http://127.0.0.1:4318/v1/traces',
  sampleRatio: 0.01,
  serviceName: 'turnpike',
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
  scheduledDelayMs: 1000,
  exportTimeoutMs: 10_000,
} as const;

// The input was validated against the schema, so field access is untyped here on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/**
 * The traces URL for a configured endpoint: a bare origin (no path, or `/`)
 * gets the OTLP default path `/v1/traces`, like OTEL_EXPORTER_OTLP_ENDPOINT;
 * a URL with a path is used as written.
 */
export function tracesUrl(endpoint: string): string {
  const u = new URL(endpoint);
  if (u.pathname === '/' || u.pathname === '') return u.origin + '/v1/traces' + u.search;
  return endpoint;
}

/**
 * Normalises a schema-valid `tracing:` section (absent = off). Tracing is
 * on when it names an endpoint, or says `enabled: true` (then a local
 * collector's default endpoint), unless it says `enabled: false`.
 */
export function normaliseTracing(t: Obj | null | undefined): TracingConfig {
  const doc: Obj = t ?? {};
  const batch: Obj = doc.batch ?? {};
  const endpoint = typeof doc.endpoint === 'string' ? tracesUrl(doc.endpoint) : '';
  const enabled = doc.enabled === undefined ? endpoint !== '' : doc.enabled === true;
  return {
    enabled,
    endpoint: endpoint !== '' ? endpoint : TRACING_DEFAULTS.endpoint,
    sampleRatio: doc.sampleRatio ?? TRACING_DEFAULTS.sampleRatio,
    serviceName: doc.serviceName ?? TRACING_DEFAULTS.serviceName,
    headers: { ...(doc.headers ?? {}) },
    batch: {
      maxQueueSize: batch.maxQueueSize ?? TRACING_DEFAULTS.maxQueueSize,
      maxExportBatchSize: Math.min(batch.maxExportBatchSize ?? TRACING_DEFAULTS.maxExportBatchSize,
        batch.maxQueueSize ?? TRACING_DEFAULTS.maxQueueSize),
      scheduledDelayMs: batch.scheduledDelay === undefined ? TRACING_DEFAULTS.scheduledDelayMs : parseDuration(batch.scheduledDelay),
      exportTimeoutMs: batch.exportTimeout === undefined ? TRACING_DEFAULTS.exportTimeoutMs : parseDuration(batch.exportTimeout),
    },
  };
}
