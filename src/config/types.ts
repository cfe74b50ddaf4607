import type { PolicySpec } from '../policies/types.js';
import type { LogConfig } from './log-config.js';

/**
 * The validated, normalised gateway configuration. Every duration is in
 * milliseconds, every size in bytes; defaults are filled in by the loader, so
 * nothing downstream needs to re-check presence or units.
 */
export interface GatewayConfig {
  server: ServerConfig;
  admin: AdminConfig;
  upstreams: Record<string, UpstreamConfig>;
  routes: RouteConfig[];
  /** Shared rate-limit state (url null = in-process limits). */
  redis: RedisConfig;
  /** Named rate limits and quotas, in config order. */
  rateLimits: RateLimitConfig[];
  /** Names of the limits every route applies before its own. */
  globalRateLimits: string[];
  /** Header naming the consumer for rate-limit key `consumer` (lower-case). */
  rateLimitConsumerHeader: string;
  /** Named policy instances (`policies:`), in config order; rate-limit ones also appear in `rateLimits`. */
  policies: Record<string, PolicySpec>;
  /** Names of the policies every route runs first, in order. */
  globalPolicies: string[];
  /** The configured consumers (`consumers:`), in config order; keys only as hashes. */
  consumers: ConsumerConfig[];
  /** REST→gRPC transcoding entries (their routes are appended to `routes`). */
  grpc: GrpcTranscodeConfig[];
  /**
   * OpenTelemetry tracing (`tracing:`, env TURNPIKE_OTLP_ENDPOINT); always
   * set by the loader (optional for configs built by hand, which trace nothing).
   */
  tracing?: TracingConfig;
  /** Where the config came from (absolute path), for messages. */
  source: string;
  /** Request logging: the access log (log-config.ts). */
  log: LogConfig;
}

/** OpenTelemetry tracing: spans exported over OTLP/HTTP (JSON). */
export interface TracingConfig {
  /** On when an endpoint is configured (file or env) and not `enabled: false`. */
  enabled: boolean;
  /** Full OTLP/HTTP traces URL (`/v1/traces` appended to a bare origin). */
  endpoint: string;
  /** Ratio of new traces (no sampled parent) that are recorded, 0-1. */
  sampleRatio: number;
  /** Resource `service.name`. */
  serviceName: string;
  /** Extra HTTP headers sent with every export (e.g. an API key of the collector). */
  headers: Record<string, string>;
  /** Batching of exported spans (off the request path). */
  batch: { maxQueueSize: number; maxExportBatchSize: number; scheduledDelayMs: number; exportTimeoutMs: number };
}

/** One configured consumer. */
export interface ConsumerConfig {
  id: string;
  /** '' when not configured. */
  username: string;
  groups: string[];
  keys: ConsumerKeyConfig[];
}

/**
 * One API key of a consumer, as its hash only: `sha256:` keys as written,
 * `env:` and `file:` keys read and hashed at load (the key itself never
 * enters the normalised config, so it never reaches a worker, the admin API
 * or a log).
 */
export interface ConsumerKeyConfig {
  /** The configured name, or `key-<index>`. */
  name: string;
  /** SHA-256 of the key, lower-case hex. */
  sha256: string;
  /** Where it came from: `sha256`, `env` or `file`. */
  source: 'sha256' | 'env' | 'file';
}

/** One REST→gRPC transcoding entry. */
export interface GrpcTranscodeConfig {
  upstream: string;
  /** Absolute paths of the .proto files. */
  protos: string[];
  /** Absolute include dirs. */
  includeDirs: string[];
  services: string[];
  routes: Array<{ rpc: string; method: string; path: string; body: string; responseBody: string }>;
  unknownFields: 'reject' | 'ignore';
  emitDefaults: boolean;
  streaming: 'ndjson' | 'json-array';
  metadata: string[];
  responseHeaders: string[];
  offload: 'auto' | 'always' | 'never';
  offloadThresholdBytes: number;
  threads: number;
  /** Deadline of each call, ms. */
  timeoutMs: number;
}

/** Marks a route generated from a gRPC binding: which entry, and the candidate bindings (keys) to try in order. */
export interface TranscodeRoute {
  grpc: number;
  candidates: string[];
}

/** Where rate-limit state is shared. */
export interface RedisConfig {
  /** redis://… or redis+cluster://…; null = none (limits per worker). */
  url: string | null;
  /** Per Redis call, ms, before the limit's onRedisFailure applies. */
  commandTimeoutMs: number;
  /** Gateway instances sharing the Redis (sizes the local fallback). */
  instances: number;
}

/** One named rate limit or quota. */
export interface RateLimitConfig {
  name: string;
  /** Key parts, in order: 'ip', 'route', 'consumer' or 'header:<lower-case name>'. */
  key: string[];
  limit: number;
  /** Window for token-bucket and sliding-window, ms (quota: the period's nominal length). */
  windowMs: number;
  /** token-bucket burst (requests at once from a full bucket). */
  burst: number;
  algorithm: 'token-bucket' | 'sliding-window' | 'quota';
  /** quota's calendar period (UTC); null for the others. */
  period: 'day' | 'month' | null;
  onRedisFailure: 'local' | 'allow' | 'deny';
}

/** The public listener and its limits. */
export interface ServerConfig {
  host: string;
  port: number;
  /** Resolved worker count (`auto` becomes os.availableParallelism()). */
  workers: number;
  /** Largest request body accepted before 413 (default 10 MiB; 0 = unlimited). */
  maxBodyBytes: number;
  /** Largest total request header size accepted before 431 (default 16 KiB). */
  maxHeaderBytes: number;
  /**
   * Old-generation heap a worker may fill before V8's first full GC, given to
   * forked workers as `--initial-old-space-size` (default 64 MiB; 0 = V8's own).
   */
  workerHeapBytes: number;
  /** How long SIGTERM waits for in-flight requests (default 30 s). */
  gracePeriodMs: number;
  /** CIDRs or addresses whose X-Forwarded-For is trusted and appended to. */
  trustedProxies: string[];
  /** Bodies up to this size are buffered whole (fast path); larger ones stream (default 64 KiB). */
  bufferBodyBytes: number;
  /**
   * Most request-body bytes one streamed request may hold waiting for a slower
   * upstream before it fails with 503 (default 64 MiB; 0 = unlimited). uWS's
   * pause() cannot always stop a fast client, so this bounds memory.
   */
  maxBodyBacklogBytes: number;
  /** Log level: fatal|error|warn|info|debug|trace|silent. */
  logLevel: string;
  /** TLS termination on the public listener (null = plain HTTP). */
  tls: TlsConfig | null;
  /** Port of a plain listener answering every request with a 308 to https (null = none; needs `tls`). */
  redirectHttp: number | null;
}

/**
 * TLS termination (`server.tls`). Files are PEM and read by each worker when
 * it starts (so a reload's new workers pick up replaced files); the loader
 * checks them first, so a bad file never reaches uWS.
 */
export interface TlsConfig {
  /** Absolute path of the certificate (chain) file. */
  cert: string;
  /** Absolute path of the private key file. */
  key: string;
  /** Secret reference (`env:NAME`, `file:PATH` or literal) of an encrypted key's passphrase; null when none. */
  passphrase: string | null;
  /** Certificates chosen by the client's SNI server name, in config order. */
  sni: SniCertConfig[];
  /** Absolute path of the CA bundle client certificates must chain to; null = none. */
  clientCa: string | null;
  /**
   * Client certificates: `none` (not requested), `optional` (requested and
   * verified when presented), `require` (every request without a verified
   * certificate gets 401 client_cert_required). Default `require` with a
   * clientCa, else `none`.
   */
  clientAuth: 'none' | 'optional' | 'require';
}

/** One `server.tls.sni` entry: the certificate for a server name. */
export interface SniCertConfig {
  /** Lower-case host name, or `*.example.com` (one label). */
  host: string;
  cert: string;
  key: string;
  passphrase: string | null;
}

/** The admin listener (health, readiness, metrics, routes). */
export interface AdminConfig {
  host: string;
  port: number;
  /**
   * SHA-256 (hex) of the admin bearer token (`admin.token` read, or
   * TURNPIKE_ADMIN_TOKEN); null = no token. The token itself never enters
   * the normalised config.
   */
  tokenSha256: string | null;
}

/** One upstream: a named group of targets with balancing and health. */
export interface UpstreamConfig {
  name: string;
  targets: TargetConfig[];
  balance: 'round-robin' | 'least-request' | 'hash';
  /** For `hash`: `ip` or `header:<name>` (lowercase). */
  hashOn: string;
  healthCheck: ActiveHealthCheckConfig | null;
  passiveHealth: PassiveHealthConfig;
  /** Max connections per target in the undici pool (default 128). */
  connections: number;
  /** Keep-alive idle timeout for upstream sockets (default 60 s). */
  keepAliveTimeoutMs: number;
  protocol: 'http' | 'grpc';
  /**
   * TLS to the upstream's https:// targets: the `tls` block with defaults
   * filled in; also set (all defaults) when a target is https:// and there
   * is no block. null when the upstream has no https:// target.
   */
  tls: UpstreamTlsConfig | null;
  /**
   * Cap on the retries in flight to this upstream (per worker); absent when
   * not configured, which means the defaults (20%, minRetries 3, see
   * src/upstream/retry/retry-budget.ts).
   */
  retryBudget?: RetryBudgetConfig;
  /**
   * Panic mode: below this share of available targets (percent, 0..100)
   * `pick` ignores health and uses every target; 0 disables. The loader
   * always sets it (default 50); absent (hand-built configs) = 0.
   */
  panicThresholdPercent?: number;
  /** The circuit breaker; null or absent = none. */
  circuitBreaker?: CircuitBreakerConfig | null;
  /** The concurrency limit and queue; null or absent = none. */
  limits?: UpstreamLimitsConfig | null;
  /**
   * Service discovery: the targets come from etcd or DNS at run time
   * (`targets` is then empty at start). null or absent = the configured targets.
   */
  discovery?: DiscoveryConfig | null;
}

/** An upstream's service discovery: exactly one of `etcd` and `dns` is set (see src/upstream/discovery/). */
export interface DiscoveryConfig {
  etcd: EtcdDiscoveryConfig | null;
  dns: DnsDiscoveryConfig | null;
}

/** Targets from the keys under an etcd prefix (values `{"url": ..., "weight": n}`). */
export interface EtcdDiscoveryConfig {
  /** Key prefix, e.g. `/services/users/`. */
  prefix: string;
  /**
   * etcd client URLs, resolved at load: `endpoints`, else env
   * TURNPIKE_ETCD_ENDPOINTS, else the cluster of TURNPIKE_CONFIG_SOURCE=etcd://...
   */
  endpoints: string[];
}

/** Targets from DNS records, re-resolved every `intervalMs`. */
export interface DnsDiscoveryConfig {
  name: string;
  /** `auto` = A and AAAA. SRV when the name starts with `_` and no type is given. */
  type: 'a' | 'aaaa' | 'srv' | 'auto';
  /** Target port for A/AAAA answers (SRV records carry their own); null with srv. */
  port: number | null;
  intervalMs: number;
  scheme: 'http' | 'https';
  /** DNS servers (`host:port` or `host`); empty = the system resolvers. */
  servers: string[];
}

/**
 * An upstream's retry budget (Envoy's `retry_budget`): retries in flight
 * (waiting in backoff included) may not exceed `ratio` × the upstream's
 * active requests, with `minRetries` always allowed.
 */
export interface RetryBudgetConfig {
  /** Fraction of active requests, 0..1 (`20%` → 0.2). */
  ratio: number;
  /** Retries in flight always allowed, whatever the ratio gives. */
  minRetries: number;
}

/** An upstream's circuit breaker (see src/upstream/resilience/circuit-breaker.ts). */
export interface CircuitBreakerConfig {
  /** Failed share of the attempts in the window that opens the circuit (percent, 1..100; default 50). */
  failureRatePercent: number;
  /** Attempts the window must hold before the rate applies (default 20). */
  minRequests: number;
  /** Sliding window of the rate, ms (default 10 s). */
  windowMs: number;
  /** Failures in a row that open the circuit; 0 disables this trigger (default 5). */
  consecutiveFailures: number;
  /** Time open before half-open, ms (default 15 s). */
  openForMs: number;
  /** Probes let through when half-open (default 3). */
  halfOpenRequests: number;
  /** What counts as a failed attempt (default: all four kinds, every 5xx). */
  failOn: FailOnConfig;
}

/** The outcomes a circuit breaker counts as failures (`failOn`). */
export interface FailOnConfig {
  /** Connection refused, unreachable or not resolved, or a failed TLS handshake: nothing reached the upstream. */
  connectFailure: boolean;
  /** Connect, headers or request timeout. */
  timeout: boolean;
  /** Connection lost, or a malformed response, before the response head. */
  reset: boolean;
  /** 5xx response statuses counted (every one for `5xx`; the listed codes otherwise; empty = none). */
  statuses: number[];
}

/** An upstream's concurrency limit (per gateway instance; each worker enforces its share). */
export interface UpstreamLimitsConfig {
  /** Requests in flight to the upstream, for the whole instance. */
  maxConcurrent: number;
  /** Requests waiting for a slot, for the whole instance (0 = no queue). */
  maxQueued: number;
  /** Longest wait in the queue, ms (default 1 s). */
  queueTimeoutMs: number;
}

/**
 * How the gateway connects to https:// targets. Files are PEM; paths are
 * absolute (relative ones in the file resolve against the working directory).
 * Certificates are always verified (there is no way to turn that off).
 */
export interface UpstreamTlsConfig {
  /** CA bundle trusted for the targets' certificates; replaces Node's default store. null = the default store. */
  ca: string | null;
  /** Client certificate (chain) presented to targets that ask for one (mTLS); set together with `key`. */
  cert: string | null;
  /** Private key of `cert`. */
  key: string | null;
  /** Passphrase of an encrypted `key`: a secret reference (`env:NAME`, `file:PATH` or literal); null = none. */
  passphrase: string | null;
  /** SNI and the name the certificate is verified against; null = the target URL's host (an IP: no SNI, IP SAN checked). */
  serverName: string | null;
  /** Lowest TLS version offered (default TLSv1.2). */
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

/** One target of an upstream. */
export interface TargetConfig {
  /** Origin, e.g. http://127.0.0.1:3001 (no path). */
  url: string;
  weight: number;
}

/** Active HTTP health checking on an interval. */
export interface ActiveHealthCheckConfig {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive successes to mark a target healthy again (default 1). */
  healthyThreshold: number;
  /** Consecutive failures to mark it unhealthy (default 2). */
  unhealthyThreshold: number;
  /** Status codes counted as healthy: inclusive range (default 200-399). */
  expectStatus: [number, number];
}

/** Passive health: eject a target after consecutive connect errors or 5xx. */
export interface PassiveHealthConfig {
  /** Consecutive failures before ejection (default 5; 0 disables). */
  consecutiveFailures: number;
  /** Ejection time before the target is tried again (default 30 s). */
  ejectMs: number;
  /** Whether 5xx responses count as failures (default true). */
  count5xx: boolean;
}

/** One route. */
export interface RouteConfig {
  /** Unique name (defaults to `route-<index>`). */
  name: string;
  /** Index in the config file's routes list (config order, for precedence and messages). */
  index: number;
  match: RouteMatchConfig;
  /** Single upstream (exactly one of upstream/split is set). */
  upstream: string | null;
  /** Weighted split across upstreams (canary). */
  split: SplitEntry[] | null;
  /** Sticky key for split: `ip` or `header:<name>` (lowercase), or null. */
  sticky: string | null;
  /** Path template with `:param` and `*` from the match, e.g. /v1/users/:id. */
  rewrite: string | null;
  /** Prefix removed from the path before forwarding (e.g. /api). */
  stripPrefix: string | null;
  preserveHost: boolean;
  timeout: RouteTimeouts;
  /** Rate-limit names for this route (after the global ones); [] when none. */
  rateLimit: string[];
  /** This route's own policies, in order (named ones resolved, inline ones named `<route>#<position>`). */
  policies: PolicySpec[];
  /** Largest request body, bytes (route maxBodySize; null = server.maxBodySize; 0 = unlimited). */
  maxBodyBytes: number | null;
  /** Set on routes generated from gRPC bindings (absent on configured routes). */
  transcode?: TranscodeRoute;
  /** The route's retry policy (`retry:`); absent when not configured (only the connect-failure retry applies). */
  retry?: RetryConfig;
  /** WebSocket proxying (`websocket: true` or an object); absent when the route does not proxy WebSockets. */
  websocket?: WebSocketRouteConfig;
  /** Response aggregation terminal (`aggregate:`); absent on other routes (upstream and split are then null). */
  aggregate?: AggregateConfig;
}

/** A route's `aggregate` block, defaults filled in (see README "Response aggregation"). */
export interface AggregateConfig {
  /** Bound of the whole aggregate, ms (> 0; default the route's request timeout, else 60 s). */
  timeoutMs: number;
  /** The calls in config order. */
  calls: AggregateCallConfig[];
  /** Output key → `call` or `call.field.path`; null: an object keyed by call name. */
  merge: Array<{ key: string; ref: string }> | null;
  /** `allow`: a failed optional call becomes null (listed in x-partial); `fail`: it fails the aggregate. */
  partial: 'allow' | 'fail';
  /** Whether the client's headers are forwarded as on a proxied request (default true). */
  forwardHeaders: boolean;
}

/** One call of an aggregate. */
export interface AggregateCallConfig {
  name: string;
  upstream: string;
  /** Path template: `:param` (route captures) and `${call.field}` (a dependency's response). */
  path: string;
  /** Upper-case method (default GET). */
  method: string;
  /** Headers to add or replace, by lower-case name (an object, so admin output redacts credentials by name). */
  headers: Record<string, string>;
  /** Bound of this call, ms (0 = the aggregate's timeout). */
  timeoutMs: number;
  optional: boolean;
  /** Calls that must finish first. */
  after: string[];
  /** The call's retry policy (absent: a refused connection is tried once more on another target). */
  retry?: RetryConfig;
}

/**
 * A condition a retry policy retries on: `connect-failure`, `reset`,
 * `timeout`, the aliases `5xx` and `gateway-error`, or a response status.
 */
export type RetryOn = 'connect-failure' | 'reset' | 'timeout' | '5xx' | 'gateway-error' | number;

/** A route's retry policy, defaults filled (see README "Retries"). */
export interface RetryConfig {
  /** Retries after the first try, 0..10 (default 1). */
  attempts: number;
  /** What is retried (default connect-failure, reset, 502, 503, 504); statuses as numbers. */
  on: RetryOn[];
  /** Upper-case methods that may be retried (default GET HEAD OPTIONS PUT DELETE TRACE). */
  methods: string[];
  /** Limit of each try until the response headers, ms (0 = none: only the route's timeouts). */
  perTryTimeoutMs: number;
  /** Jittered exponential backoff between tries, ms. */
  backoff: { baseMs: number; maxMs: number };
}

/** A route's WebSocket settings (`websocket:`), defaults filled in. */
export interface WebSocketRouteConfig {
  /** Largest message either way, bytes (default 16 MiB); a bigger one closes the connection with 1009. */
  maxPayloadBytes: number;
  /** No frame either way for this long closes both sides with 1001, ms (default 120 s; 0 = never). */
  idleTimeoutMs: number;
}

/** Match criteria of a route. */
export interface RouteMatchConfig {
  /** Path pattern: static segments, `:name` params, and a trailing `*`. */
  path: string;
  /** Upper-case methods; null = any method. */
  methods: string[] | null;
  /** Exact host or `*.example.com`; null = any host. Lower-case, no port. */
  host: string | null;
  /** Exact header values (header names lower-case). */
  headers: Record<string, string>;
  /** Exact query parameter values. */
  query: Record<string, string>;
}

/** One side of a weighted split. */
export interface SplitEntry {
  upstream: string;
  weight: number;
}

/** Per-route timeouts, in milliseconds (0 = none). */
export interface RouteTimeouts {
  /** TCP connect to the upstream (default 5 s). */
  connectMs: number;
  /** From request sent to response headers received (default 30 s). */
  headersMs: number;
  /** Whole exchange including the body (default 60 s; 0 = none). */
  requestMs: number;
}
