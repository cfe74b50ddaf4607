import type { ConfigIssue } from './issues.js';
import { applyAccessLogEnv } from './log-config.js';
import { resolveWorkers } from './normalise.js';
import { normaliseTracing, tracesUrl } from '../observability/tracing/tracing-config.js';
import type { GatewayConfig } from './types.js';
import { adminTokenSha256, BEARER_TOKEN_SYNTAX } from '../admin/admin-auth.js';
import { DURATION_HINT, SIZE_HINT, tryParseDuration, tryParseSize } from './units.js';

/** One supported environment variable. */
export interface EnvVar {
  /** Variable name, e.g. `TURNPIKE_PORT`. */
  name: string;
  /** One-line description for the README and `turnpike --help`. */
  description: string;
}

/**
 * Every environment variable Turnpike reads. All but TURNPIKE_CONFIG override
 * the matching value of the config file; an empty value counts as unset.
 */
export const ENV_VARS: readonly EnvVar[] = [
  { name: 'TURNPIKE_CONFIG', description: 'Config file path when --config is not given (default config/gateway.yaml).' },
  { name: 'TURNPIKE_HOST', description: 'Public listener address (server.host, default 0.0.0.0).' },
  { name: 'TURNPIKE_PORT', description: 'Public listener port, 1-65535 (server.port, default 8080).' },
  { name: 'TURNPIKE_WORKERS', description: 'Worker processes: an integer >= 1 or "auto" = one per core (server.workers, default auto).' },
  { name: 'TURNPIKE_ADMIN_HOST', description: 'Admin listener address (admin.host, default 127.0.0.1).' },
  { name: 'TURNPIKE_ADMIN_PORT', description: 'Admin listener port, 1-65535 (admin.port, default 9901).' },
  { name: 'TURNPIKE_ADMIN_TOKEN', description: 'Bearer token the admin endpoints and dashboard data require (admin.token; default none). /healthz and /readyz stay open.' },
  { name: 'TURNPIKE_LOG_LEVEL', description: 'fatal, error, warn, info, debug, trace or silent (server.logLevel, default info).' },
  { name: 'TURNPIKE_GRACE_PERIOD', description: 'Shutdown grace period, e.g. 30s (server.gracePeriod, default 30s).' },
  { name: 'TURNPIKE_MAX_BODY_SIZE', description: 'Largest request body, e.g. 10mb; 0 = unlimited (server.maxBodySize, default 10mb).' },
  { name: 'TURNPIKE_MAX_HEADER_SIZE', description: 'Largest total request headers, e.g. 16kb (server.maxHeaderSize, default 16kb).' },
  { name: 'TURNPIKE_WORKER_HEAP', description: 'Heap a worker fills before its first full GC, e.g. 64mb; 0 = V8 default (server.workerHeap, default 64mb).' },
  { name: 'REDIS_URL', description: 'Redis for shared rate limits and store: redis caches: redis://host:port[/db] or redis+cluster://h1:p1,h2:p2 (redis.url; default none = per-worker limits).' },
  { name: 'TURNPIKE_REDIS_URL', description: 'Same as REDIS_URL, and wins over it.' },
  { name: 'TURNPIKE_ACCESS_LOG', description: 'Access log: off, stdout, or a file path to append to (log.access, default stdout).' },
  { name: 'TURNPIKE_OTLP_ENDPOINT', description: 'OTLP/HTTP collector URL; turns tracing on (tracing.endpoint; /v1/traces appended to a bare origin).' },
];

/** Values taken from the environment, already parsed (durations in ms, sizes in bytes). */
export interface EnvOverrides {
  host?: string;
  port?: number;
  workers?: number;
  adminHost?: string;
  adminPort?: number;
  /** SHA-256 (hex) of TURNPIKE_ADMIN_TOKEN. */
  adminTokenSha256?: string;
  logLevel?: string;
  gracePeriodMs?: number;
  maxBodyBytes?: number;
  maxHeaderBytes?: number;
  workerHeapBytes?: number;
  redisUrl?: string;
  accessLog?: string;
  otlpEndpoint?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * Reads and checks the override variables. Each invalid value adds an issue
 * whose path is the variable name (`TURNPIKE_PORT: must be an integer 1-65535, got "abc"`).
 *
 * @param env the environment (usually process.env).
 * @param issues where to add problems (file `env`, no position).
 */
export function readEnvOverrides(env: NodeJS.ProcessEnv, issues: ConfigIssue[]): EnvOverrides {
  const out: EnvOverrides = {};
  const get = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const bad = (name: string, rule: string, got: string): void => {
    issues.push({ file: 'env', line: 0, column: 0, path: name, message: `${rule}, got ${JSON.stringify(got)}` });
  };
  const port = (name: string): number | undefined => {
    const v = get(name);
    if (v === undefined) return undefined;
    if (/^\d{1,5}$/.test(v) && Number(v) >= 1 && Number(v) <= 65535) return Number(v);
    bad(name, 'must be an integer 1-65535', v);
    return undefined;
  };
  out.host = get('TURNPIKE_HOST');
  out.adminHost = get('TURNPIKE_ADMIN_HOST');
  out.port = port('TURNPIKE_PORT');
  out.adminPort = port('TURNPIKE_ADMIN_PORT');
  const token = get('TURNPIKE_ADMIN_TOKEN');
  if (token !== undefined) {
    if (BEARER_TOKEN_SYNTAX.test(token)) out.adminTokenSha256 = adminTokenSha256(token);
    else bad('TURNPIKE_ADMIN_TOKEN', 'must be a bearer token (letters, digits, -._~+/ and trailing =)', '[redacted]');
  }
  const workers = get('TURNPIKE_WORKERS');
  if (workers !== undefined) {
    if (workers === 'auto' || (/^\d+$/.test(workers) && Number(workers) >= 1)) out.workers = resolveWorkers(workers);
    else bad('TURNPIKE_WORKERS', 'must be an integer >= 1 or "auto"', workers);
  }
  const level = get('TURNPIKE_LOG_LEVEL');
  if (level !== undefined) {
    if (LOG_LEVELS.includes(level)) out.logLevel = level;
    else bad('TURNPIKE_LOG_LEVEL', `must be one of: ${LOG_LEVELS.join(', ')}`, level);
  }
  const grace = get('TURNPIKE_GRACE_PERIOD');
  if (grace !== undefined) {
    const ms = tryParseDuration(grace);
    if (ms === null) bad('TURNPIKE_GRACE_PERIOD', DURATION_HINT, grace);
    else out.gracePeriodMs = ms;
  }
  for (const [name, key] of [
    ['TURNPIKE_MAX_BODY_SIZE', 'maxBodyBytes'], ['TURNPIKE_MAX_HEADER_SIZE', 'maxHeaderBytes'], ['TURNPIKE_WORKER_HEAP', 'workerHeapBytes'],
  ] as const) {
    const v = get(name);
    if (v === undefined) continue;
    const bytes = tryParseSize(v);
    if (bytes === null) bad(name, SIZE_HINT, v);
    else out[key] = bytes;
  }
  // TURNPIKE_REDIS_URL wins over the conventional REDIS_URL; each is checked.
  for (const name of ['REDIS_URL', 'TURNPIKE_REDIS_URL']) {
    const v = get(name);
    if (v === undefined) continue;
    if (/^(?:redis|rediss|redis\+cluster):\/\/\S+$/.test(v)) out.redisUrl = v;
    else bad(name, 'must be redis://host:port[/db] or redis+cluster://host:port,host:port', v);
  }
  out.accessLog = get('TURNPIKE_ACCESS_LOG');
  const otlp = get('TURNPIKE_OTLP_ENDPOINT');
  if (otlp !== undefined) {
    if (/^https?:\/\/[^\s/]+(?:\/\S*)?$/.test(otlp) && URL.canParse(otlp)) out.otlpEndpoint = otlp;
    else bad('TURNPIKE_OTLP_ENDPOINT', 'must be an http:// or https:// URL', otlp);
  }
  return out;
}

/**
 * Applies parsed overrides to a normalised config, in place (env wins over the file).
 *
 * @param config the normalised config.
 * @param o overrides from {@link readEnvOverrides}.
 */
export function applyEnvOverrides(config: GatewayConfig, o: EnvOverrides): void {
  const s = config.server;
  if (o.host !== undefined) s.host = o.host;
  if (o.port !== undefined) s.port = o.port;
  if (o.workers !== undefined) s.workers = o.workers;
  if (o.logLevel !== undefined) s.logLevel = o.logLevel;
  if (o.gracePeriodMs !== undefined) s.gracePeriodMs = o.gracePeriodMs;
  if (o.maxBodyBytes !== undefined) s.maxBodyBytes = o.maxBodyBytes;
  if (o.maxHeaderBytes !== undefined) s.maxHeaderBytes = o.maxHeaderBytes;
  if (o.workerHeapBytes !== undefined) s.workerHeapBytes = o.workerHeapBytes;
  if (o.adminHost !== undefined) config.admin.host = o.adminHost;
  if (o.adminPort !== undefined) config.admin.port = o.adminPort;
  if (o.adminTokenSha256 !== undefined) config.admin.tokenSha256 = o.adminTokenSha256;
  if (o.redisUrl !== undefined) config.redis.url = o.redisUrl;
  if (o.accessLog !== undefined) applyAccessLogEnv(config.log, o.accessLog);
  if (o.otlpEndpoint !== undefined) {
    const t = config.tracing ??= normaliseTracing(null);
    t.enabled = true;
    t.endpoint = tracesUrl(o.otlpEndpoint);
  }
}
