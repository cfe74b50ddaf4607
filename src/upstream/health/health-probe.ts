import { Client } from 'undici';
import type { ActiveHealthCheckConfig } from '../../config/types.js';
import { tlsFailureReason } from '../../errors/tls-failure.js';
import { preciseConnector } from '../precise-connector.js';
import type { Target } from '../target.js';

/** Outcome of one active check. */
export interface ProbeResult {
  ok: boolean;
  /** Short reason for logs (`status 200`, `error ECONNREFUSED`, `timeout after 2000ms`). */
  reason: string;
}

/**
 * How one target is checked. The checker owns scheduling, the deadline and
 * the thresholds; a probe only runs one check at a time.
 */
export interface HealthProbe {
  /**
   * One check. Must settle promptly once `signal` aborts (the checker's
   * `timeoutMs` deadline) and never reject.
   */
  check(signal: AbortSignal): Promise<ProbeResult>;
  /** Releases the probe's connection. */
  close(): Promise<void>;
}

/** Builds the probe of one target (called once per target when the checker is built). */
export type HealthProbeFactory = (target: Target, config: ActiveHealthCheckConfig) => HealthProbe;

/** Body bytes read from a health response before the connection is dropped instead. */
const MAX_DRAIN_BYTES = 64 * 1024;

/**
 * The HTTP probe (default): `GET <path>`; a status within `expectStatus` is a
 * success, anything else, an error or the deadline is a failure.
 *
 * It uses a dedicated single-connection client, NOT the target's request
 * pool: under load the pool's connections are all busy and a check queued
 * behind real traffic would time out and mark a merely busy target unhealthy
 * (a classic cascading failure). A separate keep-alive connection also keeps
 * probing the target's connect path independently of the pool. Cost: one
 * extra socket per target per worker.
 */
export const httpHealthProbe: HealthProbeFactory = (target, config) => {
  const client = new Client(target.url, {
    pipelining: 1,
    // The per-check abort deadline covers connect, headers and body;
    // only connect gets its own limit, so a hung dial is abandoned too.
    // An https:// target is checked with the same TLS settings as requests.
    connect: target.tls === null ? { timeout: config.timeoutMs } : preciseConnector(config.timeoutMs, target.tls),
  });
  const { path, timeoutMs, expectStatus } = config;
  return {
    async check(signal: AbortSignal): Promise<ProbeResult> {
      try {
        const res = await client.request({
          method: 'GET',
          path,
          signal,
          headers: { 'user-agent': 'turnpike-health-check' },
        });
        await res.body.dump({ limit: MAX_DRAIN_BYTES });
        const ok = res.statusCode >= expectStatus[0] && res.statusCode <= expectStatus[1];
        return { ok, reason: `status ${res.statusCode}` };
      } catch (err) {
        const code = describeError(err);
        if (signal.aborted || code === 'UND_ERR_CONNECT_TIMEOUT') return { ok: false, reason: `timeout after ${timeoutMs}ms` };
        const tls = tlsFailureReason(err);
        return { ok: false, reason: tls !== null ? `tls: ${tls}` : `error ${code}` };
      }
    },
    close: () => client.destroy().catch(() => undefined),
  };
};

/** Short description of a request error: its code when it has one. */
export function describeError(err: unknown): string {
  if (err !== null && typeof err === 'object') {
    const e = err as { code?: unknown; message?: unknown };
    if (typeof e.code === 'string') return e.code;
    if (typeof e.message === 'string') return e.message;
  }
  return String(err);
}
