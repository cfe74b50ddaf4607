import cluster, { type Worker } from 'node:cluster';
import type { GatewayConfig } from '../config/types.js';
import type { CommandBroadcaster, CommandPeer } from './command-broadcast.js';
import type { ClusterMetricsCollector, MetricsPeer, PrimaryMetrics } from '../observability/cluster-metrics.js';
import type { Logger } from '../observability/logger.js';
import { DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
import { allListening, cancelRestarts, killWorker, newGeneration, type Generation, type WorkerRecord, type WorkerState } from './generation.js';
import { isWorkerMessage, type PrimaryToWorker, type WorkerToPrimary } from './ipc.js';
import { forkWorker, WarmSpares } from './warm-spares.js';

/** Readiness as served by `GET /readyz`. */
export interface SupervisorSnapshot {
  ready: boolean;
  generation: number;
  pendingGeneration: number | null;
  stopping: boolean;
  workers: Array<{ id: number; pid: number; generation: number; slot: number; state: WorkerState }>;
}

/** Construction options of {@link Supervisor}. */
export interface SupervisorOptions {
  logger: Logger;
  metrics: PrimaryMetrics;
  collector: ClusterMetricsCollector;
  /** Collects workers' answers to admin commands (optional: tests without an admin API leave it out). */
  commands?: CommandBroadcaster;
  /** Worker entry script (cluster `exec`). */
  workerExec: string;
  workerArgs?: string[];
  /** Extra environment for workers (merged over process.env by node). */
  env?: NodeJS.ProcessEnv;
  backoff?: BackoffPolicy;
  /** How long a new generation may take to listen (default 10 s). */
  listenTimeoutMs?: number;
  /** Extra time after the grace period before a draining worker is SIGKILLed (default 5 s). */
  killAfterGraceMs?: number;
  /** Keep a generation's worth of pre-forked idle workers for the next reload (see WarmSpares; default false). */
  warmSpares?: boolean;
  /** A generation is fully listening; `initial` is true for the very first one. */
  onGenerationReady(generation: number, port: number, workers: number, initial: boolean): void;
  /** The first generation cannot listen at all (e.g. port in use): the primary should give up. */
  onFatal(message: string): void;
}

/**
 * Forks and supervises the worker generations: restarts crashed workers with
 * backoff, swaps generations on reload once the new one listens, and drains
 * everything on shutdown (SIGKILL for stragglers).
 */
export class Supervisor {
  private readonly records = new Map<number, WorkerRecord>();
  private current: Generation | null = null;
  private pending: Generation | null = null;
  private pendingDone: ((ok: boolean) => void) | null = null;
  private pendingTimer: NodeJS.Timeout | null = null;
  private nextGeneration = 1;
  private stopping = false;
  private emptyWaiters: Array<() => void> = [];
  /** Workers SIGKILLed during shutdown after missing their drain deadline. */
  killedStragglers = 0;
  private readonly spares: WarmSpares | null;

  constructor(private readonly opts: SupervisorOptions) {
    cluster.setupPrimary({ exec: opts.workerExec, args: opts.workerArgs ?? [], silent: false });
    cluster.on('exit', (worker, code, signal) => this.onExit(worker, code, signal));
    this.spares = opts.warmSpares === true ? new WarmSpares(opts.logger, opts.env) : null;
  }

  /** Tops the spares up for the serving generation's size and heap (after it is ready). */
  private refillSpares(): void {
    if (this.spares === null || this.stopping || this.current === null) return;
    const c = this.current.config.server;
    this.spares.fill(c.workers, c.workerHeapBytes);
  }

  /** Forks the first generation. */
  start(config: GatewayConfig): void {
    this.current = newGeneration(this.nextGeneration++, config, this.opts.backoff ?? DEFAULT_BACKOFF);
    for (let slot = 0; slot < config.server.workers; slot++) this.fork(this.current, slot);
  }

  /**
   * Forks a full new generation with `config`; once all of it listens, drains
   * the old one and resolves true. Resolves false (old generation kept) if a
   * new worker fails, exits, or the listen timeout passes.
   */
  reload(config: GatewayConfig): Promise<boolean> {
    if (this.stopping || this.pending !== null) return Promise.resolve(false);
    const gen = newGeneration(this.nextGeneration++, config, this.opts.backoff ?? DEFAULT_BACKOFF);
    this.pending = gen;
    const timeoutMs = this.opts.listenTimeoutMs ?? 10_000;
    return new Promise<boolean>((resolve) => {
      this.pendingDone = resolve;
      this.pendingTimer = setTimeout(() => this.abortReload(`new generation did not listen within ${timeoutMs} ms`), timeoutMs);
      for (let slot = 0; slot < config.server.workers; slot++) this.fork(gen, slot);
    });
  }

  /** Drains every worker; resolves once all have exited (stragglers are SIGKILLed). */
  shutdown(): Promise<void> {
    this.stopping = true;
    this.spares?.close();
    if (this.pending !== null) this.abortReload('shutting down', true);
    if (this.current !== null) cancelRestarts(this.current);
    for (const rec of this.records.values()) if (rec.state !== 'draining') this.drainWorker(rec);
    return this.whenEmpty();
  }

  /** SIGKILLs every worker at once (second signal); returns how many there were. */
  killAll(): number {
    this.stopping = true;
    this.spares?.close();
    for (const gen of [this.current, this.pending]) if (gen !== null) cancelRestarts(gen);
    let n = 0;
    for (const rec of this.records.values()) {
      killWorker(rec);
      n++;
    }
    return n;
  }

  /** Every slot of the current generation listens (and we are not stopping). */
  isReady(): boolean {
    return this.current !== null && !this.stopping && allListening(this.current);
  }

  /** Readiness detail for the admin server. */
  snapshot(): SupervisorSnapshot {
    const workers = [...this.records.values()].map((r) => ({ id: r.id, pid: r.pid, generation: r.generation, slot: r.slot, state: r.state }));
    return {
      ready: this.isReady(),
      generation: this.current?.number ?? 0,
      pendingGeneration: this.pending?.number ?? null,
      stopping: this.stopping,
      workers,
    };
  }

  /** Worker counts by state, for `turnpike_workers{state}`. */
  counts(): Record<string, number> {
    const c: Record<string, number> = { starting: 0, listening: 0, draining: 0 };
    for (const r of this.records.values()) c[r.state]++;
    return c;
  }

  /** Workers able to answer a metrics request (listening or draining). */
  metricsPeers(): MetricsPeer[] {
    const peers: MetricsPeer[] = [];
    for (const r of this.records.values()) {
      if (r.state === 'starting') continue;
      peers.push({ id: r.id, send: (m) => this.send(r, m) });
    }
    return peers;
  }

  /** Workers able to answer an admin command (listening or draining), for {@link CommandBroadcaster}. */
  commandPeers(): CommandPeer[] {
    const peers: CommandPeer[] = [];
    for (const r of this.records.values()) {
      if (r.state === 'starting') continue;
      peers.push({ id: r.id, pid: r.pid, send: (m) => this.send(r, m) });
    }
    return peers;
  }

  private fork(gen: Generation, slot: number): void {
    const spare = this.spares?.take(gen.config.server.workerHeapBytes) ?? null;
    const worker = spare?.worker ?? forkWorker(gen.config.server.workerHeapBytes, { ...this.opts.env, TURNPIKE_GENERATION: String(gen.number) });
    const rec: WorkerRecord = {
      id: worker.id, pid: worker.process.pid ?? 0, generation: gen.number, slot, config: gen.config, worker,
      startedAt: Date.now(), state: 'starting', port: null, killTimer: null, killed: false,
    };
    this.records.set(worker.id, rec);
    gen.members[slot] = rec;
    worker.on('message', (m: unknown) => this.onMessage(rec, m));
    worker.on('error', (err: Error) => this.opts.logger.debug({ worker: rec.id, err: err.message }, 'worker channel error'));
    this.opts.logger.debug({ worker: rec.id, workerPid: rec.pid, generation: gen.number, slot, spare: spare !== null }, 'worker forked');
    // A spare already said hello: answer it now as the hello handler would.
    if (spare?.helloed === true) this.trySend(rec, { type: 'turnpike:config', generation: rec.generation, config: rec.config });
  }

  private send(rec: WorkerRecord, message: PrimaryToWorker): void {
    if (!rec.worker.isConnected()) throw new Error('worker channel closed');
    rec.worker.send(message, undefined, function ignoreSendError() {
      // Delivery failures surface as the worker's exit; nothing to do here.
    });
  }

  private trySend(rec: WorkerRecord, message: PrimaryToWorker): void {
    try {
      this.send(rec, message);
    } catch {
      // Channel already closed: the exit handler takes over.
    }
  }

  private generationOf(rec: WorkerRecord): Generation | null {
    if (this.current?.number === rec.generation) return this.current;
    if (this.pending?.number === rec.generation) return this.pending;
    return null;
  }

  private onMessage(rec: WorkerRecord, raw: unknown): void {
    if (!isWorkerMessage(raw)) return;
    const m: WorkerToPrimary = raw;
    switch (m.type) {
      case 'turnpike:hello':
        // A drain sent before the worker's listener existed was lost: repeat it instead of starting.
        if (rec.state === 'draining') this.trySend(rec, { type: 'turnpike:drain', graceMs: rec.config.server.gracePeriodMs });
        else this.trySend(rec, { type: 'turnpike:config', generation: rec.generation, config: rec.config });
        return;
      case 'turnpike:metrics-response':
        this.opts.collector.onResponse(rec.id, m.requestId, m.metrics);
        return;
      case 'turnpike:command-result':
        this.opts.commands?.onResult(rec.id, m.requestId, m.result, m.error);
        return;
      case 'turnpike:listening':
        if (rec.state !== 'starting') return;
        rec.state = 'listening';
        rec.port = m.port;
        this.opts.logger.debug({ worker: rec.id, generation: rec.generation, port: m.port }, 'worker listening');
        this.checkGenerationReady(rec);
        return;
      case 'turnpike:listen-failed':
        this.onListenFailed(rec, m.message);
        return;
      case 'turnpike:drained':
        this.opts.logger.info({ worker: rec.id, workerPid: rec.pid, generation: rec.generation, abandoned: m.abandoned }, 'worker drained');
        return;
    }
  }

  private checkGenerationReady(rec: WorkerRecord): void {
    const gen = this.generationOf(rec);
    if (gen === null || this.stopping || !allListening(gen)) return;
    const port = rec.port ?? gen.config.server.port;
    if (gen === this.pending) {
      this.commitReload(gen);
      this.opts.onGenerationReady(gen.number, port, gen.members.length, false);
      this.refillSpares();
    } else if (!gen.everReady) {
      gen.everReady = true;
      this.opts.onGenerationReady(gen.number, port, gen.members.length, true);
      this.refillSpares();
    } else {
      this.opts.logger.info({ generation: gen.number, workers: gen.members.length }, 'all workers listening again');
    }
  }

  private onListenFailed(rec: WorkerRecord, message: string): void {
    this.opts.logger.error({ worker: rec.id, generation: rec.generation, reason: message }, 'worker could not listen');
    const gen = this.generationOf(rec);
    if (gen === null || this.stopping) return;
    if (gen === this.pending) this.abortReload(`a worker of generation ${gen.number} could not listen: ${message}`);
    else if (!gen.everReady) this.opts.onFatal(`worker could not listen: ${message}`);
  }

  private commitReload(gen: Generation): void {
    const old = this.current;
    this.clearPendingTimer();
    this.current = gen;
    this.pending = null;
    gen.everReady = true;
    const done = this.pendingDone;
    this.pendingDone = null;
    if (old !== null) {
      cancelRestarts(old);
      for (const rec of this.records.values()) if (rec.generation === old.number && rec.state !== 'draining') this.drainWorker(rec);
    }
    done?.(true);
  }

  private abortReload(reason: string, quiet = false): void {
    const gen = this.pending;
    if (gen === null) return;
    if (!quiet) this.opts.logger.error({ generation: gen.number, reason }, 'reload failed; keeping the running generation');
    this.clearPendingTimer();
    this.pending = null;
    cancelRestarts(gen);
    for (const rec of gen.members) {
      if (rec === null) continue;
      // A listening worker may already hold accepted connections: let it answer them.
      if (rec.state === 'listening') this.drainWorker(rec);
      else killWorker(rec);
    }
    const done = this.pendingDone;
    this.pendingDone = null;
    done?.(false);
    this.refillSpares();
  }

  private clearPendingTimer(): void {
    if (this.pendingTimer !== null) clearTimeout(this.pendingTimer);
    this.pendingTimer = null;
  }

  private drainWorker(rec: WorkerRecord): void {
    const graceMs = rec.config.server.gracePeriodMs;
    rec.state = 'draining';
    this.trySend(rec, { type: 'turnpike:drain', graceMs });
    rec.killTimer = setTimeout(() => {
      rec.killTimer = null;
      this.opts.logger.warn({ worker: rec.id, workerPid: rec.pid, graceMs }, 'worker missed its drain deadline; killing it');
      if (this.stopping) this.killedStragglers++;
      killWorker(rec);
    }, graceMs + (this.opts.killAfterGraceMs ?? 5000));
  }

  private onExit(worker: Worker, code: number | null, signal: string | null): void {
    const rec = this.records.get(worker.id);
    if (rec === undefined) {
      this.spares?.onExit(worker);
      return;
    }
    this.records.delete(worker.id);
    if (rec.killTimer !== null) clearTimeout(rec.killTimer);
    this.opts.collector.onWorkerExit(rec.id);
    this.opts.commands?.onWorkerExit(rec.id);
    const gen = this.generationOf(rec);
    if (gen !== null && gen.members[rec.slot] === rec) gen.members[rec.slot] = null;
    const expected = rec.state === 'draining' || rec.killed || this.stopping;
    const info = { worker: rec.id, workerPid: rec.pid, generation: rec.generation, slot: rec.slot, code, signal };
    if (expected) this.opts.logger.info(info, 'worker exited');
    else this.opts.logger.error(info, 'worker died unexpectedly');
    if (this.records.size === 0) this.notifyEmpty();
    if (expected || gen === null || this.stopping) return;
    if (gen === this.pending) this.abortReload(`a worker of generation ${gen.number} exited (code ${code}, signal ${signal})`);
    else this.scheduleRestart(gen, rec);
  }

  private scheduleRestart(gen: Generation, rec: WorkerRecord): void {
    const delayMs = gen.backoff[rec.slot].nextDelay(Date.now() - rec.startedAt);
    this.opts.logger.warn({ generation: gen.number, slot: rec.slot, delayMs }, 'restarting worker');
    gen.restartTimers[rec.slot] = setTimeout(() => {
      gen.restartTimers[rec.slot] = null;
      if (this.stopping || this.current !== gen) return;
      this.opts.metrics.workerRestarts.inc();
      this.fork(gen, rec.slot);
    }, delayMs);
  }

  private whenEmpty(): Promise<void> {
    if (this.records.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.emptyWaiters.push(resolve));
  }

  private notifyEmpty(): void {
    const waiters = this.emptyWaiters;
    this.emptyWaiters = [];
    for (const w of waiters) w();
  }
}
