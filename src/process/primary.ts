import { fileURLToPath } from 'node:url';
import { startAdminServer, type AdminServer } from '../admin/admin-server.js';
import { redactSecrets } from '../admin/redact.js';
import type { GatewayConfig } from '../config/types.js';
import { consumersListing } from '../policies/consumers/directory.js';
import { ClusterMetricsCollector, createPrimaryMetrics } from '../observability/cluster-metrics.js';
import { createLogger, resolveLogLevel, type Logger } from '../observability/logger.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { assertCanListen, type ListenError } from './listen-check.js';
import { watchParent } from './parent-watch.js';
import { Supervisor } from './supervisor.js';
import { CommandBroadcaster } from './command-broadcast.js';
import { workerEndpoints } from '../admin/worker-endpoints.js';
import { enableTcpMigrateReq } from './tcp-migrate.js';
import { isLoopbackHost } from '../admin/admin-auth.js';
import { dashboardEndpoints } from '../admin/dashboard/dashboard-endpoints.js';
import { configSummary, DashboardSampler } from '../admin/dashboard/dashboard-snapshot.js';
import type { WorkerUpstreams } from '../admin/dashboard/upstream-view.js';
import { ConfigRejected, fileConfigSource, type ConfigSource, type SourcedConfig } from '../config-source/config-source.js';

/** Passed to `onReady` (and logged as the "ready" line) once the first generation listens. */
export interface PrimaryReadyInfo {
  /** The gateway port the workers bound (as they reported it). */
  port: number;
  workers: number;
  generation: number;
  adminHost: string;
  /** The admin port actually bound (useful with admin port 0). */
  adminPort: number;
}

/** Options of {@link runPrimary}. */
export interface RunPrimaryOptions {
  configPath: string;
  /** Loads and validates the config file; throws (e.g. ConfigError) on invalid input. */
  loadConfig: (path: string) => GatewayConfig;
  /**
   * Where the config comes from (default: the file `configPath` read with
   * `loadConfig`, reloaded on SIGHUP). A watching source (etcd) asks for
   * reloads itself; every reload takes the same path as SIGHUP.
   */
  configSource?: ConfigSource;
  /** Keep pre-forked idle workers so a reload only waits for them to listen (default false; see WarmSpares). */
  warmSpares?: boolean;
  /** Environment for log level (`TURNPIKE_LOG_LEVEL`) and extra worker variables (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Worker entry script (default: the compiled `worker-main.js` beside this file). */
  workerExec?: string;
  workerArgs?: string[];
  /** JSON for `GET /routes`, given the current config (default: `config.routes`). */
  routesJson?: (config: GatewayConfig) => unknown;
  /** Called once, when the first generation listens. */
  onReady?: (info: PrimaryReadyInfo) => void;
  backoff?: Partial<BackoffPolicy>;
  /** How long a generation may take to listen on reload (default 10 s). */
  listenTimeoutMs?: number;
  /** Try to enable `net.ipv4.tcp_migrate_req` (default true). */
  tcpMigrateReq?: boolean;
  /** Install SIGTERM/SIGINT/SIGHUP handlers (default true). */
  handleSignals?: boolean;
  /**
   * Runs once the admin listener is up, before the first workers fork (the
   * CLI starts its demo services here). A rejection closes the admin
   * listener and makes `runPrimary` reject with it.
   */
  beforeWorkers?: (config: GatewayConfig) => Promise<void>;
  /**
   * Drain and exit 0 (as on SIGTERM) when this process is re-parented, i.e.
   * the process that started it exited (default false). For wrappers such as
   * `npm start` whose SIGTERM never reaches the gateway.
   */
  exitWithParent?: boolean;
  /** Ends the process (default process.exit). */
  exit?: (code: number) => void;
}

/** Control of a running primary (for the CLI and tests). */
export interface PrimaryHandle {
  readonly logger: Logger;
  readonly admin: AdminServer;
  /** Readiness extension point: providers shown under `details` in `/readyz`. */
  readonly readinessDetails: Map<string, () => unknown>;
  /** The config of the serving generation. */
  currentConfig(): GatewayConfig;
  /** Same as SIGHUP; resolves true when a new generation took over. */
  reload(): Promise<boolean>;
  /** Same as SIGTERM: drain everything, then exit 0. */
  shutdown(signal?: string): Promise<void>;
}

/**
 * Runs the cluster primary: loads the config, starts the admin listener,
 * forks `config.server.workers` workers and supervises them.
 *
 * - SIGTERM/SIGINT: drain every worker (grace = `server.gracePeriodMs`), exit 0
 *   when all are gone; stragglers are SIGKILLed at grace + 5 s. A second
 *   signal SIGKILLs everything and exits 1.
 * - SIGHUP: reload the config file; on success a new generation is forked and
 *   the old one is drained only once every new worker listens. An invalid
 *   file or a generation that cannot listen leaves the old one serving.
 *
 * Throws if the initial config cannot be loaded, a {@link ListenError} if
 * another process already listens on the gateway port (checked before any
 * worker forks: the workers' SO_REUSEPORT would otherwise share it silently)
 * or the admin port cannot be bound, or whatever `beforeWorkers` throws.
 */
export async function runPrimary(options: RunPrimaryOptions): Promise<PrimaryHandle> {
  const env = options.env ?? process.env;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const source = options.configSource ?? fileConfigSource(options.configPath, options.loadConfig);
  const first = await source.initial();
  let config = first.config;
  const logger = createLogger(config.server.logLevel, { role: 'primary' }, env);
  if (first.revision !== null) logger.info({ config: first.name, revision: first.revision }, 'config loaded');
  try {
    await assertCanListen(config.server.host, config.server.port, 'gateway');
    if (config.server.redirectHttp !== null) await assertCanListen(config.server.host, config.server.redirectHttp, 'redirectHttp');
  } catch (err) {
    await source.close();
    throw err;
  }

  if (options.tcpMigrateReq !== false) {
    const status = enableTcpMigrateReq();
    if (status.enabled) logger.info({ changed: status.changed }, 'tcp_migrate_req is on: connections queued on a closing listener migrate to the others');
    else logger.warn({ reason: status.reason }, 'tcp_migrate_req is off: a reload may reset connections still queued on the old listeners');
  }

  const metrics = createPrimaryMetrics();
  metrics.setConfigRevisions(() => source.details());
  const collector = new ClusterMetricsCollector(metrics.registry);
  const commands = new CommandBroadcaster();
  const readinessDetails = new Map<string, () => unknown>();
  readinessDetails.set('config', () => source.details());
  let stopping = false;
  let fatal = false;

  const supervisor = new Supervisor({
    logger,
    metrics,
    collector,
    commands,
    workerExec: options.workerExec ?? fileURLToPath(new URL('./worker-main.js', import.meta.url)),
    workerArgs: options.workerArgs,
    env: options.env,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    listenTimeoutMs: options.listenTimeoutMs,
    warmSpares: options.warmSpares,
    onGenerationReady(generation, port, workers, initial) {
      if (!initial) {
        logger.info({ generation, port, workers }, 'reloaded');
        return;
      }
      const info: PrimaryReadyInfo = { port, workers, generation, adminHost: admin.host, adminPort: admin.port };
      logger.info(info, 'ready');
      options.onReady?.(info);
    },
    onFatal(message) {
      if (fatal) return;
      fatal = true;
      logger.fatal({ reason: message }, 'cannot start the gateway');
      void stop('fatal', 1);
    },
  });
  metrics.setWorkerCounts(() => supervisor.counts());
  const dashboard = new DashboardSampler({
    collect: () => collector.collectJson(supervisor.metricsPeers()),
    workers: () => supervisor.snapshot().workers,
    async upstreams() {
      const answers = await commands.broadcast(supervisor.commandPeers(), 'upstreams', {});
      return answers.map((a): WorkerUpstreams => ({ worker: a.worker, pid: a.pid, upstreams: a.result as WorkerUpstreams['upstreams'], error: a.error }));
    },
    config: () => configSummary(supervisor.snapshot().generation, readinessDetails.get('config')),
  });

  const admin = await startAdminServer({
    host: config.admin.host,
    port: config.admin.port,
    logger,
    readiness: () => supervisor.snapshot(),
    metrics: () => collector.collect(supervisor.metricsPeers()),
    // why: routes carry policy configs as written, which may hold a static upstream credential.
    routes: () => redactSecrets(options.routesJson ? options.routesJson(config) : config.routes),
    consumers: () => consumersListing(config),
    details: readinessDetails,
    endpoints: [...workerEndpoints(commands, () => supervisor.commandPeers()), ...dashboardEndpoints(dashboard, () => config.admin.tokenSha256 !== null)],
    // Read per request: a reload may set, change or remove the token.
    tokenSha256: () => config.admin.tokenSha256,
  });
  logger.info({ host: admin.host, port: admin.port, token: config.admin.tokenSha256 !== null }, 'admin listening');
  if (!isLoopbackHost(admin.host) && config.admin.tokenSha256 === null) {
    logger.warn({ host: admin.host }, 'the admin listener is reachable from other hosts and has no token: set admin.token or TURNPIKE_ADMIN_TOKEN');
  }
  if (options.beforeWorkers !== undefined) {
    try {
      await options.beforeWorkers(config);
    } catch (err) {
      await admin.close();
      await source.close();
      throw err;
    }
  }

  async function stop(reason: string, code = 0): Promise<void> {
    if (stopping) return;
    stopping = true;
    await source.close();
    logger.info({ reason, graceMs: config.server.gracePeriodMs }, 'shutting down: draining workers');
    await supervisor.shutdown();
    await admin.close();
    logger.info({ killed: supervisor.killedStragglers }, supervisor.killedStragglers > 0
      ? `stopped; ${supervisor.killedStragglers} worker(s) killed after the grace period`
      : 'stopped');
    exit(code);
  }

  function onStopSignal(signal: NodeJS.Signals): void {
    if (!stopping) {
      void stop(signal);
      return;
    }
    const killed = supervisor.killAll();
    logger.warn({ signal, killed }, 'second signal: forcing exit');
    exit(1);
  }

  let reloading: Promise<boolean> | null = null;
  let reloadQueued = false;
  let forceQueued = false;

  async function reloadOnce(force: boolean): Promise<boolean> {
    let candidate: SourcedConfig | null;
    try {
      candidate = await source.next(force);
    } catch (err) {
      metrics.configReloads.inc({ result: 'error' });
      const at = err instanceof ConfigRejected ? { revision: err.revision, config: err.configName } : {};
      logger.error({ ...at, reason: err instanceof Error ? err.message : String(err) }, 'config reload failed; keeping the running configuration');
      return false;
    }
    if (candidate === null) return false;
    const next = candidate.config;
    const newRedirect = next.server.redirectHttp !== null && next.server.redirectHttp !== config.server.redirectHttp;
    if (next.server.port !== config.server.port || newRedirect) {
      // A new port is not ours yet: refuse one another process listens on.
      try {
        if (next.server.port !== config.server.port) await assertCanListen(next.server.host, next.server.port, 'gateway');
        if (newRedirect) await assertCanListen(next.server.host, next.server.redirectHttp!, 'redirectHttp');
      } catch (err) {
        metrics.configReloads.inc({ result: 'error' });
        source.settled(candidate, false, (err as ListenError).message);
        logger.error({ revision: candidate.revision ?? undefined, reason: (err as ListenError).message }, 'config reload failed; keeping the running configuration');
        return false;
      }
    }
    if (next.admin.host !== config.admin.host || next.admin.port !== config.admin.port) {
      logger.warn('the admin listener address changed; it takes effect on restart');
    }
    logger.info({ source: candidate.name, revision: candidate.revision ?? undefined }, 'reloading: starting a new generation');
    const ok = await supervisor.reload(next);
    source.settled(candidate, ok);
    metrics.configReloads.inc({ result: ok ? 'ok' : 'error' });
    if (ok) {
      config = next;
      logger.level = resolveLogLevel(next.server.logLevel, env);
    }
    return ok;
  }

  /** `force`: reload even if the source has nothing new (SIGHUP); false for a change the source signalled. */
  function reload(force = true): Promise<boolean> {
    if (stopping) return Promise.resolve(false);
    if (force) forceQueued = true;
    if (reloading !== null) {
      // why: SIGHUPs arriving mid-reload coalesce into one more reload of the latest file.
      reloadQueued = true;
      return reloading;
    }
    const run = async (): Promise<boolean> => {
      let ok = false;
      do {
        reloadQueued = false;
        const f = forceQueued;
        forceQueued = false;
        ok = await reloadOnce(f);
      } while (reloadQueued && !stopping);
      return ok;
    };
    reloading = run().finally(() => {
      reloading = null;
    });
    return reloading;
  }

  if (options.handleSignals !== false) {
    process.on('SIGTERM', onStopSignal);
    process.on('SIGINT', onStopSignal);
    process.on('SIGHUP', function onHup() {
      void reload();
    });
  }

  if (options.exitWithParent === true) {
    watchParent(function onParentGone(info) {
      logger.warn(info, 'the parent process exited; shutting down');
      void stop('parent exited');
    });
  }

  supervisor.start(config);
  source.watch(function onSourceChange() {
    void reload(false);
  }, logger);
  return {
    logger,
    admin,
    readinessDetails,
    currentConfig: () => config,
    reload: () => reload(true),
    shutdown: (signal = 'shutdown') => stop(signal),
  };
}
