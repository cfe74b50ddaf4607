import type { GatewayConfig } from '../config/types.js';

/** A running gateway worker: one uWebSockets.js listener plus its upstream pools. */
export interface GatewayWorker {
  /** The port actually bound (useful when config asks for 0). */
  readonly port: number;
  /** The port of the server.redirectHttp listener actually bound (null when there is none). */
  readonly redirectPort: number | null;
  /** Requests currently in flight. */
  inflight(): number;
  /**
   * Stop accepting new connections, answer in-flight requests (responses carry
   * `Connection: close`), and resolve when none remain or `graceMs` elapsed;
   * then close every socket and upstream pool. Resolves with the number of
   * requests abandoned at the deadline.
   */
  drain(graceMs: number): Promise<number>;
  /**
   * Runs an admin command of this worker's command table (see
   * src/process/worker-commands.ts); rejects for an unknown command.
   */
  command(name: string, args: Readonly<Record<string, string>>): Promise<unknown>;
}

/** Starts a worker; implemented by src/ingress/gateway-worker.ts. */
export type StartGatewayWorker = (config: GatewayConfig) => Promise<GatewayWorker>;
