import type { Worker } from 'node:cluster';
import type { GatewayConfig } from '../config/types.js';
import { Backoff, type BackoffPolicy } from './backoff.js';

/** Lifecycle of one worker process as the primary sees it. */
export type WorkerState = 'starting' | 'listening' | 'draining';

/** One live worker process. */
export interface WorkerRecord {
  readonly id: number;
  readonly pid: number;
  readonly generation: number;
  readonly slot: number;
  readonly config: GatewayConfig;
  readonly worker: Worker;
  readonly startedAt: number;
  state: WorkerState;
  port: number | null;
  killTimer: NodeJS.Timeout | null;
  killed: boolean;
}

/** One generation: `config.server.workers` slots forked from one config. */
export interface Generation {
  readonly number: number;
  readonly config: GatewayConfig;
  readonly members: (WorkerRecord | null)[];
  readonly backoff: Backoff[];
  readonly restartTimers: (NodeJS.Timeout | null)[];
  everReady: boolean;
}

/** A new generation with empty slots, one backoff per slot. */
export function newGeneration(number: number, config: GatewayConfig, policy: BackoffPolicy): Generation {
  const n = config.server.workers;
  return {
    number,
    config,
    members: new Array<WorkerRecord | null>(n).fill(null),
    backoff: Array.from({ length: n }, () => new Backoff(policy)),
    restartTimers: new Array<NodeJS.Timeout | null>(n).fill(null),
    everReady: false,
  };
}

/** Every slot of `gen` has a listening worker. */
export function allListening(gen: Generation): boolean {
  for (const m of gen.members) if (m === null || m.state !== 'listening') return false;
  return true;
}

/** Cancels the pending crash restarts of `gen`. */
export function cancelRestarts(gen: Generation): void {
  for (let i = 0; i < gen.restartTimers.length; i++) {
    const t = gen.restartTimers[i];
    if (t !== null) clearTimeout(t);
    gen.restartTimers[i] = null;
  }
}

/** SIGKILLs a worker; its exit is then treated as expected. */
export function killWorker(rec: WorkerRecord): void {
  rec.killed = true;
  try {
    rec.worker.process.kill('SIGKILL');
  } catch {
    // Already gone.
  }
}
