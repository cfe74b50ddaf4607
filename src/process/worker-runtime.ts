import type { GatewayWorker, StartGatewayWorker } from '../ingress/contract.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { workerMetrics } from '../observability/metrics.js';
import type { PrimaryToWorker, WorkerToPrimary } from './ipc.js';

/** Grace used when the primary disappears before telling us one. */
const ORPHAN_GRACE_MS = 30_000;

/**
 * The cluster-worker side of the process protocol, with the gateway's start
 * function injected (the real entry is `worker-main.ts`; tests pass their own).
 *
 * 1. Announces itself (`turnpike:hello`) once its IPC listener is attached.
 * 2. On `turnpike:config`, calls `start(config)` and reports `listening`
 *    (or `listen-failed`, then exits 1).
 * 3. On `turnpike:drain`, drains the gateway, sends its final metrics and
 *    `turnpike:drained`, and exits 0.
 * 4. Answers `turnpike:metrics-request` from the process-wide registry.
 * 5. Answers `turnpike:command` from the gateway's command table (admin API).
 *
 * SIGINT/SIGTERM are ignored (a terminal's Ctrl-C reaches the whole process
 * group; the primary coordinates the drain). If the primary disappears, the
 * worker drains itself. Uncaught errors are logged and exit 1, so the primary
 * restarts the worker.
 */
export function runWorker(start: StartGatewayWorker, exit: (code: number) => never = process.exit): void {
  let generation = Number(process.env.TURNPIKE_GENERATION ?? 0);
  let logger: Logger = createLogger(undefined, { role: 'worker', generation });
  let starting: Promise<GatewayWorker | null> | null = null;
  let graceMs = ORPHAN_GRACE_MS;
  let draining = false;

  function send(message: WorkerToPrimary, then?: () => void): void {
    if (!process.connected || process.send === undefined) {
      then?.();
      return;
    }
    process.send(message, undefined, {}, function sent() {
      then?.();
    });
  }

  function die(what: string, err: unknown): never {
    logger.fatal({ err: err instanceof Error ? { message: err.message, stack: err.stack } : String(err) }, what);
    return exit(1);
  }

  function onConfig(m: Extract<PrimaryToWorker, { type: 'turnpike:config' }>): void {
    if (starting !== null || draining) return;
    generation = m.generation;
    graceMs = m.config.server.gracePeriodMs;
    logger = createLogger(m.config.server.logLevel, { role: 'worker', generation });
    starting = start(m.config).then(
      function started(gateway) {
        workerMetrics().setInflightSource(() => gateway.inflight());
        logger.debug({ port: gateway.port }, 'worker listening');
        send({ type: 'turnpike:listening', generation, port: gateway.port });
        return gateway;
      },
      function failed(err: unknown) {
        const message = err instanceof Error ? err.message : String(err);
        logger.error({ reason: message }, 'worker could not start');
        send({ type: 'turnpike:listen-failed', generation, message }, () => exit(1));
        return null;
      },
    );
  }

  async function drain(ms: number): Promise<void> {
    if (draining) return;
    draining = true;
    const gateway = starting === null ? null : await starting;
    let abandoned = 0;
    try {
      if (gateway !== null) abandoned = await gateway.drain(ms);
    } catch (err) {
      die('drain failed', err);
    }
    logger.debug({ abandoned }, 'worker drained');
    const metrics = await workerMetrics().registry.getMetricsAsJSON();
    send({ type: 'turnpike:metrics-response', requestId: -1, metrics });
    send({ type: 'turnpike:drained', generation, abandoned }, () => exit(0));
  }

  async function runCommand(requestId: number, name: string, args: Record<string, string>): Promise<void> {
    const gateway = starting === null ? null : await starting;
    if (gateway === null) {
      send({ type: 'turnpike:command-result', requestId, error: 'worker not started' });
      return;
    }
    try {
      send({ type: 'turnpike:command-result', requestId, result: await gateway.command(name, args) });
    } catch (err) {
      send({ type: 'turnpike:command-result', requestId, error: err instanceof Error ? err.message : String(err) });
    }
  }

  function onMessage(raw: unknown): void {
    const m = raw as PrimaryToWorker;
    if (typeof m !== 'object' || m === null) return;
    switch (m.type) {
      case 'turnpike:config':
        onConfig(m);
        return;
      case 'turnpike:drain':
        void drain(m.graceMs);
        return;
      case 'turnpike:command':
        void runCommand(m.requestId, m.name, m.args);
        return;
      case 'turnpike:metrics-request':
        void workerMetrics().registry.getMetricsAsJSON().then((metrics) => {
          send({ type: 'turnpike:metrics-response', requestId: m.requestId, metrics });
        });
        return;
    }
  }

  process.on('uncaughtException', (err) => die('uncaught exception in worker', err));
  process.on('unhandledRejection', (reason) => die('unhandled rejection in worker', reason));
  process.on('SIGINT', function ignoreSigint() {});
  process.on('SIGTERM', function ignoreSigterm() {});
  process.on('disconnect', function orphaned() {
    logger.warn('primary went away; draining');
    void drain(graceMs);
  });
  process.on('message', onMessage);
  send({ type: 'turnpike:hello' });
}
