import type { GatewayConfig } from '../config/types.js';

/**
 * Messages between the cluster primary and its workers (over cluster IPC).
 * The primary validates and normalises the config once and sends the result;
 * every worker compiles the same router from it deterministically.
 */
export type PrimaryToWorker =
  | { type: 'turnpike:config'; generation: number; config: GatewayConfig }
  | { type: 'turnpike:drain'; graceMs: number }
  /** Asks a worker for its metrics registry as JSON (answered by `metrics-response`). */
  | { type: 'turnpike:metrics-request'; requestId: number }
  /** An admin command for the worker's command table (answered by `command-result`; see worker-commands.ts). */
  | { type: 'turnpike:command'; requestId: number; name: string; args: Record<string, string> };

/** Worker → primary. */
export type WorkerToPrimary =
  | { type: 'turnpike:listening'; generation: number; port: number }
  | { type: 'turnpike:listen-failed'; generation: number; message: string }
  | { type: 'turnpike:drained'; generation: number; abandoned: number }
  /**
   * The worker's IPC listener is attached: the primary sends `turnpike:config`
   * only after this (messages sent earlier are silently lost by node).
   */
  | { type: 'turnpike:hello' }
  /**
   * The worker's metrics as prom-client `getMetricsAsJSON()` output. A worker
   * also sends one unsolicited (requestId -1) after draining, so the primary
   * can keep its final counts.
   */
  | { type: 'turnpike:metrics-response'; requestId: number; metrics: unknown[] }
  /** The answer to a `turnpike:command`: its result (JSON-serialisable), or why it failed. */
  | { type: 'turnpike:command-result'; requestId: number; result?: unknown; error?: string };

/** Narrowing guard for messages the primary receives. */
export function isWorkerMessage(m: unknown): m is WorkerToPrimary {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string'
    && (m as { type: string }).type.startsWith('turnpike:');
}
