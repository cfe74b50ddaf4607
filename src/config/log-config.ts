/**
 * The `log` section: the access log (on by default, like nginx's) and the
 * query parameters it redacts. Normalised here; the worker builds its
 * access log from it (src/observability/access-log/).
 */
import { resolve } from 'node:path';

/** Every field an access log line may hold, in the default order. */
export const ACCESS_LOG_FIELDS = [
  'time', 'requestId', 'traceId', 'clientIp', 'consumer', 'method', 'host', 'path', 'query', 'route', 'upstream',
  'status', 'bytesIn', 'bytesOut', 'duration', 'upstreamDuration', 'cache', 'retries', 'userAgent', 'referer',
] as const;

/** One access log field name. */
export type AccessLogField = (typeof ACCESS_LOG_FIELDS)[number];

/** Fields written when `log.access.fields` is not given: all but the two free-text client headers. */
export const DEFAULT_ACCESS_LOG_FIELDS: readonly AccessLogField[] = ACCESS_LOG_FIELDS.filter((f) => f !== 'userAgent' && f !== 'referer');

/** Query parameters redacted when `log.redactQuery` is not given (lower-case). */
export const DEFAULT_REDACT_QUERY: readonly string[] = [
  'access_token', 'api_key', 'apikey', 'code', 'key', 'password', 'secret', 'sig', 'signature', 'token',
];

/** The normalised access log settings. */
export interface AccessLogConfig {
  /** false: no access log at all. */
  enabled: boolean;
  /** Absolute path to append to; null = stdout. */
  file: string | null;
  fields: readonly AccessLogField[];
  /** Share of successful requests (status < 400) logged; errors always are. */
  successSampleRatio: number;
}

/** The normalised `log` section. */
export interface LogConfig {
  access: AccessLogConfig;
  /** Lower-case query parameter names whose values are replaced with [REDACTED]. */
  redactQuery: readonly string[];
}

type Obj = Record<string, unknown>;

/** Normalises a schema-valid `log` section (undefined/null = defaults). */
export function normaliseLog(raw: unknown): LogConfig {
  const log = (raw ?? {}) as Obj;
  const a = log.access;
  const access: AccessLogConfig = { enabled: a !== false, file: null, fields: DEFAULT_ACCESS_LOG_FIELDS, successSampleRatio: 1 };
  if (a !== null && typeof a === 'object') {
    const o = a as Obj;
    if (typeof o.file === 'string') access.file = resolve(o.file);
    if (Array.isArray(o.fields)) access.fields = o.fields as AccessLogField[];
    if (typeof o.successSampleRatio === 'number') access.successSampleRatio = o.successSampleRatio;
  }
  const redact = Array.isArray(log.redactQuery) ? (log.redactQuery as string[]).map((n) => n.toLowerCase()) : DEFAULT_REDACT_QUERY;
  return { access, redactQuery: redact };
}

/**
 * TURNPIKE_ACCESS_LOG: `off` (or false/0) turns the access log off, `stdout`
 * (or on/true/1) writes it to stdout, anything else is a file path.
 */
export function applyAccessLogEnv(log: LogConfig, value: string): void {
  const v = value.trim();
  const lower = v.toLowerCase();
  if (lower === 'off' || lower === 'false' || lower === '0') log.access.enabled = false;
  else if (lower === 'stdout' || lower === 'on' || lower === 'true' || lower === '1') { log.access.enabled = true; log.access.file = null; }
  else { log.access.enabled = true; log.access.file = resolve(v); }
}
