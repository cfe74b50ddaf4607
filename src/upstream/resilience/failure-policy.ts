import type { FailOnConfig } from '../../config/types.js';
import type { FailureKind } from '../../errors/map-error.js';

/**
 * Which attempt outcomes a circuit breaker counts as failures (`failOn`),
 * compiled once so that classifying an outcome is a flag or a table read.
 *
 * - `connect-failure`: refused, unreachable, not resolved, TLS handshake
 *   failed (failureKind `connect`/`tls`): nothing reached the upstream.
 * - `timeout`: connect, headers or whole-request timeout before the head.
 * - `reset`: anything else that failed the attempt before the response
 *   head (connection reset or closed, malformed response).
 * - statuses: a response with one of the listed 5xx codes (`5xx` = all).
 */
export class FailurePolicy {
  private readonly connect: boolean;
  private readonly timeout: boolean;
  private readonly reset: boolean;
  /** 1 at `status - 500` for each counted 5xx status. */
  private readonly statuses = new Uint8Array(100);

  constructor(config: FailOnConfig) {
    this.connect = config.connectFailure;
    this.timeout = config.timeout;
    this.reset = config.reset;
    for (const s of config.statuses) if (s >= 500 && s <= 599) this.statuses[s - 500] = 1;
  }

  /** Whether a response with `status` is a failure. */
  statusFails(status: number): boolean {
    return status >= 500 && status <= 599 && this.statuses[status - 500] === 1;
  }

  /** Whether an attempt that failed with `kind` (errors/map-error.ts failureKind) is a failure. */
  errorFails(kind: FailureKind): boolean {
    switch (kind) {
      case 'connect': case 'tls': return this.connect;
      case 'timeout': return this.timeout;
      default: return this.reset;
    }
  }
}
