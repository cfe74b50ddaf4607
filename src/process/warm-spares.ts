import cluster, { type Worker } from 'node:cluster';
import type { Logger } from '../observability/logger.js';
import { isWorkerMessage } from './ipc.js';
import { workerExecArgv } from './worker-exec-argv.js';

/** A forked worker process not yet given a config. */
export interface SpareWorker {
  readonly worker: Worker;
  /** It sent `turnpike:hello`: its modules are loaded and it waits for a config. */
  helloed: boolean;
  /** `server.workerHeap` it was forked with (a V8 flag: fixed for its life). */
  readonly heapBytes: number;
}

/**
 * Idle, pre-forked workers for the next generation.
 *
 * why: most of a reload is a new worker loading its modules (~0.3 s on an idle
 * core, over 1 s on a busy one). A spare does that ahead of time and waits,
 * so a reload only sends it the config and waits for it to listen. The cost
 * is `server.workers` idle processes (tens of MB each); the primary turns this
 * on for watched config sources (etcd), where changes should apply within a second.
 */
export class WarmSpares {
  private readonly spares: SpareWorker[] = [];
  private closed = false;

  constructor(private readonly logger: Logger, private readonly env: NodeJS.ProcessEnv | undefined) {}

  /** Forks spares until there are `count` with this heap (others are discarded). */
  fill(count: number, heapBytes: number): void {
    if (this.closed) return;
    for (const s of this.spares.filter((x) => x.heapBytes !== heapBytes)) this.discard(s);
    while (this.spares.length < count) this.spares.push(this.forkSpare(heapBytes));
  }

  /** Hands out a spare forked with `heapBytes` (its message listener removed), or null. */
  take(heapBytes: number): SpareWorker | null {
    const i = this.spares.findIndex((s) => s.heapBytes === heapBytes && s.worker.isConnected());
    if (i < 0) return null;
    const [spare] = this.spares.splice(i, 1);
    spare.worker.removeAllListeners('message');
    return spare;
  }

  /** A cluster worker exited: true if it was a spare (now forgotten). */
  onExit(worker: Worker): boolean {
    const i = this.spares.findIndex((s) => s.worker === worker);
    if (i < 0) return false;
    this.spares.splice(i, 1);
    if (!this.closed) this.logger.warn({ workerPid: worker.process.pid }, 'a spare worker exited');
    return true;
  }

  /** Kills every spare; no more are forked. */
  close(): void {
    this.closed = true;
    for (const s of [...this.spares]) this.discard(s);
  }

  private discard(s: SpareWorker): void {
    const i = this.spares.indexOf(s);
    if (i >= 0) this.spares.splice(i, 1);
    try {
      s.worker.process.kill('SIGKILL');
    } catch {
      // already gone
    }
  }

  private forkSpare(heapBytes: number): SpareWorker {
    const worker = forkWorker(heapBytes, { ...this.env, TURNPIKE_GENERATION: '0' });
    const spare: SpareWorker = { worker, helloed: false, heapBytes };
    worker.on('message', (m: unknown) => {
      if (isWorkerMessage(m) && m.type === 'turnpike:hello') spare.helloed = true;
    });
    worker.on('error', () => { /* its exit is handled by onExit */ });
    this.logger.debug({ workerPid: worker.process.pid }, 'spare worker forked');
    return spare;
  }
}

/** Forks one cluster worker with the heap flag for `heapBytes` (the exec script is set up by the Supervisor). */
export function forkWorker(heapBytes: number, env: NodeJS.ProcessEnv): Worker {
  // Per fork: a reload may change server.workerHeap.
  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv, heapBytes, process.env.NODE_OPTIONS) });
  return cluster.fork(env);
}
