import { setTimeout as sleep } from 'node:timers/promises';
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import type { GatewayConfig, TracingConfig } from '../config/types.js';
import { compileRouter } from '../router/index.js';
import { loadUws, uwsLoadInfo } from '../platform/uws-loader.js';
import { createUpstreamGroup, type UpstreamGroup } from '../upstream/upstream-group.js';
import type { Target, TargetConnection } from '../upstream/target.js';
import type { ResilienceListener } from '../upstream/resilience/resilience-listener.js';
import type { GatewayWorker, StartGatewayWorker } from './contract.js';
import { RequestHandler, type RequestObserver } from './request-handler.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { WorkerObserver } from '../observability/worker-observer.js';
import { AccessLog } from '../observability/access-log/access-log.js';
import type { RequestTracer } from '../observability/tracing/request-tracer.js';
import { packageVersion } from '../cli/package-version.js';
import { workerMetrics } from '../observability/metrics.js';
import { compilePolicies } from '../policies/chain.js';
import type { PolicyFactory } from '../policies/types.js';
import { Transcoder } from '../transcode/transcoder.js';
import { TranscodeTerminal } from '../terminals/transcode-terminal.js';
import { createGrpcUpstreamGroup, type GrpcUpstreamGroup } from '../transcode/grpc-upstream.js';
import { Registry } from 'prom-client';
import { clientCa, openTlsApp, routeTlsApp } from '../tls/tls-app.js';
import { createRedirectApp } from '../tls/redirect-listener.js';
import { WorkerCommands } from '../process/worker-commands.js';
import { upstreamsSnapshot } from '../upstream/upstreams-snapshot.js';
import { UpstreamClient } from '../upstream/upstream-client.js';
import { AggregateTerminal, hasAggregateRoutes } from '../aggregate/aggregate-terminal.js';
import { createWebSocketProxy } from '../websocket/websocket-proxy.js';
import { UpstreamDiscovery, type TargetsChangedListener } from '../upstream/discovery/upstream-discovery.js';

const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** How long a starting worker waits for service discovery's first answers before it listens. */
const DISCOVERY_READY_MS = 3000;

/**
 * The connect timeout of each upstream's pools: undici sets it per pool, not
 * per request, so an upstream gets the strictest `timeout.connect` of the
 * routes that send to it.
 */
export function connectTimeoutsByUpstream(config: GatewayConfig): Map<string, number> {
  const out = new Map<string, number>();
  const use = (name: string, ms: number): void => {
    if (ms <= 0) return;
    const cur = out.get(name);
    out.set(name, cur === undefined ? ms : Math.min(cur, ms));
  };
  for (const route of config.routes) {
    if (route.upstream !== null) use(route.upstream, route.timeout.connectMs);
    for (const s of route.split ?? []) use(s.upstream, route.timeout.connectMs);
  }
  return out;
}

/**
 * How long a draining worker waits with no new request before it closes the
 * remaining (idle keep-alive) connections. See `drain()`.
 */
const DRAIN_QUIET_MS = 250;

/** After the grace period: how long the WebSocket close handshakes may take before the connections are dropped. */
const WS_CLOSE_LINGER_MS = 500;

/** Options beyond the config (observability hooks). */
export interface WorkerOptions {
  observer?: RequestObserver | null;
  /** Called when a target's health changes (logs/metrics). */
  onTargetHealth?: (upstream: string, target: string, available: boolean, reason: string) => void;
  /** Where policies register their metrics (default: a registry of this worker's own). */
  metricsRegistry?: Registry;
  /** The policy kinds (default: the registered ones; tests add kinds of their own). */
  policyFactories?: readonly PolicyFactory[];
  /** Circuit breaker transitions and panic mode changes (logs). */
  resilience?: ResilienceListener;
  /** Receives the worker's upstream groups once created (the resilience metrics read them). */
  onUpstreamGroups?: (groups: ReadonlyArray<UpstreamGroup<TargetConnection>>) => void;
  /** The access log (default: built from `config.log` when on; null turns it off). */
  accessLog?: AccessLog | null;
  /** Service discovery added or removed targets of an upstream (metrics). */
  onTargetsChanged?: TargetsChangedListener;
}

/**
 * Starts one gateway worker: compiles the router from the validated config,
 * opens one undici pool per http upstream target (a GrpcChannel per grpc
 * one), and listens with a uWS App on the configured port (SO_REUSEPORT
 * on Linux, so every worker of the cluster binds the same port and the
 * kernel shards connections).
 */
export async function startWorker(config: GatewayConfig, options: WorkerOptions = {}): Promise<GatewayWorker> {
  // why: uWS reads its header-size limit once when the addon loads. It is set
  // above our own limit so that oversized headers reach our handler and get a
  // problem+json 431 rather than uWS's bare one.
  if (process.env.UWS_HTTP_MAX_HEADERS_SIZE === undefined) {
    process.env.UWS_HTTP_MAX_HEADERS_SIZE = String(Math.max(config.server.maxHeaderBytes * 2, 16 * 1024));
  }
  const uws = loadUws();
  const loadInfo = uwsLoadInfo();
  if (loadInfo !== undefined && !loadInfo.recvYield) {
    createLogger(config.server.logLevel, { role: 'worker' }).warn({ reason: loadInfo.recvYieldError },
      'uWS read loop not patched: pause() may not stop a fast upload; server.maxBodyBacklog bounds what one request holds');
  }
  const tls = config.server.tls;
  // why: the certificates are loaded before anything else starts, so a
  // broken file fails the worker (and a reload) before pools and policy
  // stores open.
  const app = tls === null ? uws.App() : openTlsApp(uws, tls);
  const router = compileRouter(config.routes);
  const groups = new Map<string, UpstreamGroup>();
  // grpc upstreams: same balancing and health, GrpcChannels instead of undici pools (used by the transcoder).
  const grpcGroups = new Map<string, GrpcUpstreamGroup>();
  const connectTimeouts = connectTimeoutsByUpstream(config);
  for (const [name, upstream] of Object.entries(config.upstreams)) {
    const hook = options.onTargetHealth;
    const groupOptions = {
      connectTimeoutMs: connectTimeouts.get(name) ?? DEFAULT_CONNECT_TIMEOUT_MS,
      workers: config.server.workers,
      resilience: options.resilience,
      ...(hook === undefined ? {} : {
        onTransition: (t: Target, healthy: boolean, reason: string) => hook(name, t.url, healthy, reason),
        onEject: (t: Target, ms: number, reason: string) => hook(name, t.url, false, 'ejected for ' + ms + ' ms: ' + reason),
      }),
    };
    if (upstream.protocol === 'grpc') grpcGroups.set(name, createGrpcUpstreamGroup(upstream, groupOptions));
    else groups.set(name, createUpstreamGroup(upstream, groupOptions));
  }
  options.onUpstreamGroups?.([...groups.values(), ...grpcGroups.values()]);
  // Null unless an upstream has `discovery`; its first answers come before the listener opens (bounded wait).
  const discovery = UpstreamDiscovery.start(config, [...groups.values(), ...grpcGroups.values()],
    createLogger(config.server.logLevel, { role: 'worker', component: 'discovery' }), options.onTargetsChanged);
  if (discovery !== null) await discovery.ready(DISCOVERY_READY_MS);
  const policyLogger = createLogger(config.server.logLevel, { role: 'worker', component: 'policies' });
  const commands = new WorkerCommands();
  commands.register('upstreams', function upstreamsCommand() { return upstreamsSnapshot(groups, grpcGroups); });
  const upstream = new UpstreamClient(config, groups, router.routes.map((r) => r.paramNames), options.observer ?? null);
  const registry = options.metricsRegistry ?? new Registry();
  const policies = compilePolicies(config, {
    workers: config.server.workers, logger: policyLogger, registry, now: Date.now, commands, upstream,
  }, options.policyFactories);
  await policies.ready();
  const transcoder = config.grpc.length > 0 ? new Transcoder(config, grpcGroups) : null;
  // Null unless a route has `websocket`: then nothing is registered with uWS for WebSockets.
  const websockets = createWebSocketProxy(config, router.routes, groups, registry, options.observer ?? null, (err) => policyLogger.error(
    { component: 'websocket', err: err instanceof Error ? err.stack ?? err.message : String(err) }, 'websocket relay failed'));
  const accessLog = options.accessLog !== undefined ? options.accessLog : config.log.access.enabled ? new AccessLog(config) : null;
  // One tracer per worker process (its batch exports run on this worker's loop); null when tracing is off.
  const tracer = config.tracing !== undefined && config.tracing.enabled
    ? await startTracer(config.tracing, createLogger(config.server.logLevel, { role: 'worker', component: 'tracing' }))
    : null;
  const handler = new RequestHandler(config, router, groups, {
    observer: options.observer ?? null,
    accessLog,
    tracer,
    chains: policies.chains,
    onPolicyError: (name, err) => policyLogger.error({ policy: name, err: err instanceof Error ? err.message : String(err) }, 'policy failed'),
    transcodeTerminal: transcoder === null ? null : (sink) => new TranscodeTerminal(transcoder, sink as RequestHandler),
    websocketTerminal: websockets === null ? null : (sink, proxy) => websockets.terminal(sink, proxy),
    aggregateTerminal: hasAggregateRoutes(config)
      ? (sink) => new AggregateTerminal(config, upstream, sink, registry, router.routes.map((r) => r.paramNames)) : null,
  });
  const withCert = tls !== null && clientCa(tls) !== null;
  const registerWs = websockets === null ? undefined
    : (target: TemplatedApp) => websockets.register(target, withCert ? handler.handleUpgradeClientCert : handler.handleUpgrade, uws.DISABLED);
  if (tls === null) {
    app.any('/*', handler.handle);
    registerWs?.(app);
  } else {
    // Only a listener that requests client certificates reads them (handleClientCert).
    routeTlsApp(app, tls, withCert ? handler.handleClientCert : handler.handle, registerWs);
  }

  const listenSocket = await listen(app, config.server.host, config.server.port, 'gateway');
  const port = uws.us_socket_local_port(listenSocket as never);
  let redirect: { app: TemplatedApp; socket: us_listen_socket; port: number } | null = null;
  if (config.server.redirectHttp !== null) {
    const redirectApp = createRedirectApp(uws, port);
    try {
      const socket = await listen(redirectApp, config.server.host, config.server.redirectHttp, 'redirectHttp');
      redirect = { app: redirectApp, socket, port: uws.us_socket_local_port(socket as never) };
    } catch (err) {
      uws.us_listen_socket_close(listenSocket);
      app.close();
      throw err;
    }
  }
  let draining: Promise<number> | null = null;

  async function drain(graceMs: number): Promise<number> {
    handler.draining = true;
    uws.us_listen_socket_close(listenSocket);
    if (redirect !== null) uws.us_listen_socket_close(redirect.socket);
    // why: app.close() resets every open connection, including idle keep-alive
    // ones on which a client may be sending its next request right now (it
    // would see ECONNRESET). While draining, every response carries
    // `Connection: close`, so busy connections close themselves after one more
    // request; wait until nothing is in flight AND no request has started for
    // DRAIN_QUIET_MS before closing what is left (bounded by the grace period).
    const deadlineAt = performance.now() + graceMs;
    for (;;) {
      const left = deadlineAt - performance.now();
      if (left <= 0) break;
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'timeout'>((resolve) => { timer = setTimeout(resolve, left, 'timeout'); });
      // Open WebSockets count as in flight: they may run until the grace period ends.
      const idle = websockets === null ? handler.whenIdle() : Promise.all([handler.whenIdle(), websockets.whenIdle()]);
      const outcome = await Promise.race([idle.then(() => 'idle' as const), deadline]);
      clearTimeout(timer);
      if (outcome === 'timeout') break;
      // A handshake that completed meanwhile opened a WebSocket: it gets the grace period too.
      if (websockets !== null && websockets.size > 0) continue;
      const quietMs = performance.now() - handler.lastStartMs;
      if (quietMs >= DRAIN_QUIET_MS) break;
      await sleep(Math.max(1, Math.min(DRAIN_QUIET_MS - quietMs, deadlineAt - performance.now())));
    }
    const abandoned = handler.inflightCount + (websockets === null ? 0 : websockets.size);
    // Then 1001 Going Away on both legs; a close handshake gets WS_CLOSE_LINGER_MS, then the connection is dropped.
    if (websockets !== null) await websockets.closeAll('gateway shutting down', WS_CLOSE_LINGER_MS);
    app.close();
    if (redirect !== null) redirect.app.close();
    if (discovery !== null) await discovery.close();
    await Promise.all([...groups.values(), ...grpcGroups.values()].map((g) => g.close()));
    await policies.close();
    if (transcoder !== null) await transcoder.close();
    if (accessLog !== null) await accessLog.close();
    // The spans of the requests served last are exported before the worker goes.
    if (tracer !== null) await tracer.shutdown();
    return abandoned;
  }

  return {
    port,
    redirectPort: redirect === null ? null : redirect.port,
    inflight: () => handler.inflightCount,
    drain: (graceMs) => (draining ??= drain(graceMs)),
    command: (name, args) => commands.run(name, args),
  };
}

/**
 * The worker's tracer. why: imported only when tracing is on, so a worker
 * without it never loads its encoder and exporter.
 */
async function startTracer(config: TracingConfig, logger: Logger): Promise<RequestTracer> {
  const { RequestTracer: Tracer } = await import('../observability/tracing/request-tracer.js');
  return new Tracer(config, packageVersion() ?? '', function tracingWarn(fields, msg) { logger.warn(fields, msg); });
}

/** Listens with `app` (SO_REUSEPORT, as uWS does by default); rejects with a one-line reason. */
function listen(app: TemplatedApp, host: string, port: number, role: string): Promise<us_listen_socket> {
  return new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(host, port, (socket) => {
      if (socket === false) reject(new Error(`cannot listen on ${host}:${port} (${role}: port in use or not permitted)`));
      else resolve(socket);
    });
  });
}

/**
 * The {@link StartGatewayWorker} the cluster worker entry uses: a worker with
 * metrics and health logging wired in.
 */
export const startGatewayWorker: StartGatewayWorker = (config) => {
  const observer = new WorkerObserver(config, createLogger(config.server.logLevel, { role: 'worker' }));
  return startWorker(config, {
    observer,
    metricsRegistry: workerMetrics().registry,
    resilience: observer,
    onUpstreamGroups: (list) => workerMetrics().setUpstreamSource(() => list),
    onTargetsChanged: (upstream, added, removed) => observer.targetsChanged(upstream, added, removed),
    onTargetHealth: (upstream, target, available, reason) => observer.targetHealth(upstream, target, available, reason),
  });
};
