import { availableParallelism } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { normaliseLog } from './log-config.js';
import type {
  ActiveHealthCheckConfig, GatewayConfig, GrpcTranscodeConfig, RateLimitConfig, RouteConfig, RouteTimeouts, ServerConfig, TlsConfig, UpstreamConfig,
  UpstreamTlsConfig, WebSocketRouteConfig,
} from './types.js';
import { parseDuration, parseSize } from './units.js';
import { normaliseRetry, normaliseRetryBudget } from './retry-config.js';
import type { PolicySpec } from '../policies/types.js';
import { normaliseConsumers } from '../policies/consumers/consumers-config.js';
import { normaliseAggregate } from '../aggregate/aggregate-config.js';
import { normaliseDiscovery } from '../upstream/discovery/discovery-config.js';
import { normaliseTracing } from '../observability/tracing/tracing-config.js';
import { normaliseCircuitBreaker, normaliseLimits, normalisePanicThreshold } from './resilience-config.js';
import { readSecret } from './secrets.js';
import { adminTokenSha256 } from '../admin/admin-auth.js';

/**
 * Every default the loader fills in (the schema's descriptions say the same).
 * Durations in ms, sizes in bytes.
 */
export const DEFAULTS = {
  /** server.host: all interfaces. */
  host: '0.0.0.0',
  /** server.port. */
  port: 8080,
  /** server.maxBodySize: 10mb. */
  maxBodyBytes: 10 * 1024 * 1024,
  /** server.maxHeaderSize: 16kb. */
  maxHeaderBytes: 16 * 1024,
  /** server.workerHeap: 64mb. */
  workerHeapBytes: 64 * 1024 * 1024,
  /** server.gracePeriod: 30s. */
  gracePeriodMs: 30_000,
  /** server.bufferBodySize: 64kb. */
  bufferBodyBytes: 64 * 1024,
  /** server.maxBodyBacklog: 64mb. */
  maxBodyBacklogBytes: 64 * 1024 * 1024,
  /** server.logLevel. */
  logLevel: 'info',
  /** admin.host: local only. */
  adminHost: '127.0.0.1',
  /** admin.port. */
  adminPort: 9901,
  /** upstream balance. */
  balance: 'round-robin',
  /** upstream hashOn (with balance: hash). */
  hashOn: 'ip',
  /** upstream connections per target. */
  connections: 128,
  /** upstream keepAliveTimeout: 60s. */
  keepAliveTimeoutMs: 60_000,
  /** upstream tls.minVersion. */
  tlsMinVersion: 'TLSv1.2' as const,
  /** passiveHealth.consecutiveFailures. */
  consecutiveFailures: 5,
  /** passiveHealth.ejectTime: 30s. */
  ejectMs: 30_000,
  /** passiveHealth.count5xx. */
  count5xx: true,
  /** healthCheck.interval: 10s. */
  healthIntervalMs: 10_000,
  /** healthCheck.timeout: 2s. */
  healthTimeoutMs: 2_000,
  /** healthCheck.healthyThreshold. */
  healthyThreshold: 1,
  /** healthCheck.unhealthyThreshold. */
  unhealthyThreshold: 2,
  /** healthCheck.expectStatus: 200-399. */
  expectStatus: [200, 399] as [number, number],
  /** route timeout.connect: 5s (also the cap of connect when timeout is a single duration). */
  connectMs: 5_000,
  /** route timeout.headers: 30s. */
  headersMs: 30_000,
  /** route timeout.request: 60s. */
  requestMs: 60_000,
  /** redis.commandTimeout: 100ms. */
  redisCommandTimeoutMs: 100,
  /** rateLimits[].window: 1m. */
  rateLimitWindowMs: 60_000,
  /** rateLimitConsumerHeader. */
  rateLimitConsumerHeader: 'x-api-key',
  /** route websocket.maxPayload: 16mb. */
  wsMaxPayloadBytes: 16 * 1024 * 1024,
  /** route websocket.idleTimeout: 120s. */
  wsIdleTimeoutMs: 120_000,
} as const;

/** Nominal length of a quota period, ms (the real one follows the calendar). */
const PERIOD_MS = { day: 86_400_000, month: 30 * 86_400_000 } as const;

// The input was validated against the schema, so field access is untyped here on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/**
 * Turns a schema- and semantics-valid config document into the normalised
 * {@link GatewayConfig}: defaults filled, units converted, names lower-cased.
 *
 * @param data the parsed YAML, already validated.
 * @param source absolute path of the file, kept for messages.
 * @param env where `env:` consumer keys are read (they are hashed here).
 */
export function normalise(data: Obj | null, source: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const doc: Obj = data ?? {};
  const upstreams: Record<string, UpstreamConfig> = {};
  for (const [name, up] of Object.entries<Obj>(doc.upstreams ?? {})) {
    Object.defineProperty(upstreams, name, { value: normaliseUpstream(name, up, env), enumerable: true, writable: true, configurable: true });
  }
  const policies = normalisePolicies(doc.policies ?? {});
  const routes = ((doc.routes ?? []) as Obj[]).map((r, i) => normaliseRoute(r, i, policies));
  const admin: Obj = doc.admin ?? {};
  const rateLimits = ((doc.rateLimits ?? []) as Obj[]).map(normaliseRateLimit);
  // A rate-limit policy is a named limit like a rateLimits entry (same store, metrics and headers).
  for (const spec of Object.values(policies)) if (spec.kind === 'rate-limit') rateLimits.push(spec.config as RateLimitConfig);
  for (const r of routes) for (const spec of r.policies) if (spec.kind === 'rate-limit' && !Object.hasOwn(policies, spec.name)) rateLimits.push(spec.config as RateLimitConfig);
  return {
    server: normaliseServer(doc.server ?? {}),
    admin: {
      host: admin.host ?? DEFAULTS.adminHost,
      port: admin.port ?? DEFAULTS.adminPort,
      tokenSha256: typeof admin.token === 'string' ? adminTokenSha256(readSecret(admin.token, env)) : null,
    },
    upstreams,
    routes,
    redis: normaliseRedis(doc.redis ?? {}),
    rateLimits,
    globalRateLimits: refs(doc.globalRateLimits),
    policies,
    globalPolicies: refs(doc.globalPolicies),
    consumers: normaliseConsumers(doc.consumers, env),
    rateLimitConsumerHeader: String(doc.rateLimitConsumerHeader ?? DEFAULTS.rateLimitConsumerHeader).toLowerCase(),
    grpc: ((doc.grpc ?? []) as Obj[]).map(normaliseGrpc),
    tracing: normaliseTracing(doc.tracing),
    source,
    log: normaliseLog(doc.log),
  };
}

function refs(v: unknown): string[] {
  return v === undefined || v === null ? [] : typeof v === 'string' ? [v] : [...(v as string[])];
}

/** A transcoding entry: paths made absolute (relative ones are taken from the working directory). */
function normaliseGrpc(g: Obj): GrpcTranscodeConfig {
  return {
    upstream: g.upstream,
    protos: (g.protos as string[]).map((f) => resolvePath(f)),
    includeDirs: ((g.includeDirs ?? []) as string[]).map((d) => resolvePath(d)),
    services: [...(g.services ?? [])],
    routes: ((g.routes ?? []) as Obj[]).map((r) => ({ rpc: r.rpc, method: String(r.method).toUpperCase(), path: r.path, body: r.body ?? '', responseBody: r.responseBody ?? '' })),
    unknownFields: g.unknownFields ?? 'reject',
    emitDefaults: g.emitDefaults ?? false,
    streaming: g.streaming ?? 'ndjson',
    metadata: ((g.metadata ?? []) as string[]).map((m) => m.toLowerCase()),
    responseHeaders: ((g.responseHeaders ?? []) as string[]).map((m) => m.toLowerCase()),
    offload: g.offload ?? 'auto',
    offloadThresholdBytes: g.offloadThreshold === undefined ? 16 * 1024 : parseSize(g.offloadThreshold),
    threads: g.threads ?? 2,
    timeoutMs: g.timeout === undefined ? 30_000 : parseDuration(g.timeout),
  };
}

function normaliseRedis(r: Obj): GatewayConfig['redis'] {
  return {
    url: r.url ?? null,
    commandTimeoutMs: r.commandTimeout === undefined ? DEFAULTS.redisCommandTimeoutMs : parseDuration(r.commandTimeout),
    instances: r.instances ?? 1,
  };
}

function normaliseRateLimit(l: Obj): RateLimitConfig {
  const algorithm = l.algorithm ?? 'token-bucket';
  const period = algorithm === 'quota' ? (l.period as 'day' | 'month') : null;
  return {
    name: l.name,
    key: (typeof l.key === 'string' ? [l.key] : (l.key as string[])).map(lowerKeySource),
    limit: l.limit,
    windowMs: period !== null ? PERIOD_MS[period] : l.window === undefined ? DEFAULTS.rateLimitWindowMs : parseDuration(l.window),
    burst: l.burst ?? l.limit,
    algorithm,
    period,
    onRedisFailure: l.onRedisFailure ?? 'local',
  };
}

/** Resolves `workers`: an integer, or `auto` = os.availableParallelism(). */
export function resolveWorkers(value: number | string | undefined): number {
  return value === undefined || value === 'auto' ? availableParallelism() : Number(value);
}

function normaliseServer(s: Obj): ServerConfig {
  return {
    host: s.host ?? DEFAULTS.host,
    port: s.port ?? DEFAULTS.port,
    workers: resolveWorkers(s.workers),
    maxBodyBytes: s.maxBodySize === undefined ? DEFAULTS.maxBodyBytes : parseSize(s.maxBodySize),
    maxHeaderBytes: s.maxHeaderSize === undefined ? DEFAULTS.maxHeaderBytes : parseSize(s.maxHeaderSize),
    workerHeapBytes: s.workerHeap === undefined ? DEFAULTS.workerHeapBytes : parseSize(s.workerHeap),
    gracePeriodMs: s.gracePeriod === undefined ? DEFAULTS.gracePeriodMs : parseDuration(s.gracePeriod),
    trustedProxies: [...(s.trustedProxies ?? [])],
    bufferBodyBytes: s.bufferBodySize === undefined ? DEFAULTS.bufferBodyBytes : parseSize(s.bufferBodySize),
    maxBodyBacklogBytes: s.maxBodyBacklog === undefined ? DEFAULTS.maxBodyBacklogBytes : parseSize(s.maxBodyBacklog),
    logLevel: s.logLevel ?? DEFAULTS.logLevel,
    tls: s.tls === undefined || s.tls === null ? null : normaliseTls(s.tls),
    redirectHttp: s.redirectHttp ?? null,
  };
}

/** server.tls: absolute file paths, lower-case SNI hosts, clientAuth defaulted from clientCa. */
function normaliseTls(t: Obj): TlsConfig {
  const clientCa = typeof t.clientCa === 'string' ? resolvePath(t.clientCa) : null;
  return {
    cert: resolvePath(t.cert),
    key: resolvePath(t.key),
    passphrase: t.passphrase ?? null,
    sni: ((t.sni ?? []) as Obj[]).map((e) => ({
      host: String(e.host).toLowerCase(), cert: resolvePath(e.cert), key: resolvePath(e.key), passphrase: e.passphrase ?? null,
    })),
    clientCa,
    clientAuth: t.clientAuth ?? (clientCa === null ? 'none' : 'require'),
  };
}

function normaliseUpstream(name: string, u: Obj, env: NodeJS.ProcessEnv): UpstreamConfig {
  const p: Obj = u.passiveHealth ?? {};
  return {
    name,
    targets: ((u.targets ?? []) as Obj[]).map((t) => ({ url: originOf(t.url), weight: t.weight ?? 1 })),
    balance: u.balance ?? DEFAULTS.balance,
    hashOn: lowerKeySource(u.hashOn ?? DEFAULTS.hashOn),
    healthCheck: u.healthCheck === undefined ? null : normaliseHealthCheck(u.healthCheck),
    passiveHealth: {
      consecutiveFailures: p.consecutiveFailures ?? DEFAULTS.consecutiveFailures,
      ejectMs: p.ejectTime === undefined ? DEFAULTS.ejectMs : parseDuration(p.ejectTime),
      count5xx: p.count5xx ?? DEFAULTS.count5xx,
    },
    connections: u.connections ?? DEFAULTS.connections,
    keepAliveTimeoutMs: u.keepAliveTimeout === undefined ? DEFAULTS.keepAliveTimeoutMs : parseDuration(u.keepAliveTimeout),
    protocol: u.protocol ?? 'http',
    tls: normaliseUpstreamTls(u),
    ...(u.retryBudget === undefined ? {} : { retryBudget: normaliseRetryBudget(u.retryBudget) }),
    panicThresholdPercent: normalisePanicThreshold(u),
    circuitBreaker: normaliseCircuitBreaker(u),
    limits: normaliseLimits(u),
    // Absent without discovery (as retryBudget), so configs without it normalise as before.
    ...(u.discovery === undefined ? {} : { discovery: normaliseDiscovery(u.discovery, env) }),
  };
}

/** The `tls` block with defaults; the defaults alone for https:// targets without one; else null. */
function normaliseUpstreamTls(u: Obj): UpstreamTlsConfig | null {
  const t: Obj | undefined = u.tls;
  // Discovered targets may be https:// (etcd values, dns scheme): they get the defaults too.
  if (t === undefined && u.discovery === undefined && !((u.targets ?? []) as Obj[]).some((x) => /^https:/i.test(x.url))) return null;
  const path = (p: unknown): string | null => (typeof p === 'string' ? resolvePath(p) : null);
  return {
    ca: path(t?.ca),
    cert: path(t?.cert),
    key: path(t?.key),
    passphrase: t?.passphrase ?? null,
    serverName: typeof t?.serverName === 'string' ? t.serverName.toLowerCase() : null,
    minVersion: t?.minVersion ?? DEFAULTS.tlsMinVersion,
  };
}

/** `scheme://host:port` of a target URL; `URL.origin` is "null" for h2c://, so build it from the parts. */
function originOf(url: string): string {
  const u = new URL(url);
  return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : `${u.protocol}//${u.host}`;
}

function normaliseHealthCheck(h: Obj): ActiveHealthCheckConfig {
  let expect: [number, number] = [...DEFAULTS.expectStatus];
  if (typeof h.expectStatus === 'number') expect = [h.expectStatus, h.expectStatus];
  else if (typeof h.expectStatus === 'string') {
    const [lo, hi] = h.expectStatus.split('-').map(Number);
    expect = [lo, hi];
  }
  return {
    path: h.path,
    intervalMs: h.interval === undefined ? DEFAULTS.healthIntervalMs : parseDuration(h.interval),
    timeoutMs: h.timeout === undefined ? DEFAULTS.healthTimeoutMs : parseDuration(h.timeout),
    healthyThreshold: h.healthyThreshold ?? DEFAULTS.healthyThreshold,
    unhealthyThreshold: h.unhealthyThreshold ?? DEFAULTS.unhealthyThreshold,
    expectStatus: expect,
  };
}

/** Named policies, in config order; a rate-limit's config is normalised to a {@link RateLimitConfig}. */
function normalisePolicies(p: Obj): Record<string, PolicySpec> {
  const out: Record<string, PolicySpec> = {};
  for (const [name, body] of Object.entries<Obj>(p)) {
    Object.defineProperty(out, name, { value: policySpec(name, body, ['policies', name]), enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** A `{ <kind>: <config> }` entry as a spec named `name`. */
function policySpec(name: string, body: Obj, at: Array<string | number>): PolicySpec {
  const kind = Object.keys(body)[0];
  const raw: unknown = body[kind] ?? {};
  const config = kind === 'rate-limit' ? normaliseRateLimit({ ...(raw as Obj), name }) : raw;
  return { name, kind, config, at: [...at, kind] };
}

function normaliseRoute(r: Obj, index: number, named: Record<string, PolicySpec>): RouteConfig {
  const m: Obj = r.match;
  const name: string = r.name ?? `route-${index}`;
  const policies = ((r.policies ?? []) as unknown[]).map((ref, i) => (typeof ref === 'string'
    ? named[ref] : policySpec(`${name}#${i}`, ref as Obj, ['routes', index, 'policies', i])));
  return {
    name,
    index,
    match: {
      path: m.path,
      methods: m.methods === undefined ? null : [...new Set((m.methods as string[]).map((x) => x.toUpperCase()))],
      host: m.host === undefined ? null : String(m.host).toLowerCase(),
      headers: Object.fromEntries(Object.entries<string>(m.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
      query: Object.fromEntries(Object.entries<string>(m.query ?? {})),
    },
    upstream: r.upstream ?? null,
    split: r.split === undefined ? null : (r.split as Obj[]).map((s) => ({ upstream: s.upstream, weight: s.weight })),
    sticky: r.sticky === undefined ? null : lowerKeySource(r.sticky),
    rewrite: r.rewrite ?? null,
    stripPrefix: r.stripPrefix ?? null,
    preserveHost: r.preserveHost ?? false,
    timeout: normaliseTimeout(r.timeout),
    rateLimit: refs(r.rateLimit),
    policies,
    maxBodyBytes: r.maxBodySize === undefined ? null : parseSize(r.maxBodySize),
    ...(r.retry === undefined ? {} : { retry: normaliseRetry(r.retry) }),
    ...(r.websocket === undefined || r.websocket === false ? {} : { websocket: normaliseWebSocket(r.websocket) }),
    ...(r.aggregate === undefined ? {} : { aggregate: normaliseAggregate(r.aggregate, normaliseTimeout(r.timeout).requestMs) }),
  };
}

/** `websocket: true` or `{ maxPayload, idleTimeout }`, defaults filled in. */
function normaliseWebSocket(w: true | Obj): WebSocketRouteConfig {
  const o: Obj = w === true ? {} : w;
  return {
    maxPayloadBytes: o.maxPayload === undefined ? DEFAULTS.wsMaxPayloadBytes : parseSize(o.maxPayload),
    idleTimeoutMs: o.idleTimeout === undefined ? DEFAULTS.wsIdleTimeoutMs : parseDuration(o.idleTimeout),
  };
}

/**
 * Route timeouts: absent → defaults (connect 5s, headers 30s, request 60s); a
 * single duration sets headers and request to it and connect to min(it, 5s);
 * an object sets each phase, defaulting the others.
 */
export function normaliseTimeout(t: unknown): RouteTimeouts {
  if (t === undefined) return { connectMs: DEFAULTS.connectMs, headersMs: DEFAULTS.headersMs, requestMs: DEFAULTS.requestMs };
  if (typeof t === 'string' || typeof t === 'number') {
    const ms = parseDuration(t);
    return { connectMs: Math.min(ms, DEFAULTS.connectMs), headersMs: ms, requestMs: ms };
  }
  const o = t as Obj;
  return {
    connectMs: o.connect === undefined ? DEFAULTS.connectMs : parseDuration(o.connect),
    headersMs: o.headers === undefined ? DEFAULTS.headersMs : parseDuration(o.headers),
    requestMs: o.request === undefined ? DEFAULTS.requestMs : parseDuration(o.request),
  };
}

/** `header:X-User-Id` → `header:x-user-id`; `ip` stays `ip`. */
function lowerKeySource(s: string): string {
  return s.startsWith('header:') ? `header:${s.slice(7).toLowerCase()}` : s;
}
