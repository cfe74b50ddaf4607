import type { RetryConfig } from '../../config/types.js';

/**
 * Why a try failed, as a retry policy sees it: bit flags, so that a policy's
 * conditions are one mask and a decision is one `&`.
 */
export const enum RetryReason {
  /** Not a retryable failure (a malformed response, the request deadline, a failure after the headers). */
  None = 0,
  /** Connection refused or unreachable, DNS failure, or a failed TLS handshake: nothing was sent. */
  Connect = 1,
  /** The connection was not made within the connect timeout: nothing was sent. */
  ConnectTimeout = 2,
  /** The connection was reset or closed before the response headers. */
  Reset = 4,
  /** The try's perTryTimeout or headers timeout expired before the response headers. */
  Timeout = 8,
}

/**
 * A route's retry policy compiled for the request path: conditions as a
 * bit mask, statuses as a lookup table, methods as a set. Built once per
 * route when the worker starts; shared by every request of the route.
 */
export interface RetryPolicy {
  /** Retries after the first try. */
  readonly retries: number;
  /** {@link RetryReason} bits retried. */
  readonly reasons: number;
  /** `statuses[s] === 1` when status `s` is retried (length 600; empty for the legacy policy). */
  readonly statuses: Uint8Array;
  /** Methods that may be retried; null = any (the legacy connect retry). */
  readonly methods: ReadonlySet<string> | null;
  /** Limit of each try until its response headers, ms (0 = none). */
  readonly perTryMs: number;
  /** Backoff base and cap, ms. */
  readonly baseMs: number;
  readonly maxMs: number;
  /**
   * The built-in retry of routes without `retry`: once, at once, only on a
   * refused connection or failed handshake, and only on another target.
   */
  readonly legacy: boolean;
}

/** Compiles a normalised `retry` block (see src/config/retry-config.ts for its defaults). */
export function compileRetryPolicy(config: RetryConfig): RetryPolicy {
  let reasons = RetryReason.None;
  const statuses = new Uint8Array(600);
  const all = RetryReason.Connect | RetryReason.ConnectTimeout | RetryReason.Reset | RetryReason.Timeout;
  for (const on of config.on) {
    if (typeof on === 'number') {
      statuses[on] = 1;
      // A try's timeout is what the gateway answers 504 for: listing 504 retries it (Envoy does the same for per_try_timeout).
      if (on === 504) reasons |= RetryReason.Timeout;
      continue;
    }
    switch (on) {
      case 'connect-failure': reasons |= RetryReason.Connect | RetryReason.ConnectTimeout; break;
      case 'reset': reasons |= RetryReason.Reset; break;
      case 'timeout': reasons |= RetryReason.Timeout; break;
      case '5xx': reasons |= all; statuses.fill(1, 500, 600); break;
      case 'gateway-error': reasons |= all; statuses[502] = statuses[503] = statuses[504] = 1; break;
    }
  }
  return {
    retries: config.attempts,
    reasons,
    statuses,
    methods: new Set(config.methods),
    perTryMs: config.perTryTimeoutMs,
    baseMs: config.backoff.baseMs,
    maxMs: config.backoff.maxMs,
    legacy: false,
  };
}

/**
 * The retry every route without `retry` keeps: one more try on another
 * target after a refused connection or a failed TLS handshake (nothing
 * reached the upstream's application, so any method is safe), at once.
 */
export const LEGACY_RETRY: RetryPolicy = Object.freeze({
  retries: 1,
  reasons: RetryReason.Connect,
  statuses: new Uint8Array(0),
  methods: null,
  perTryMs: 0,
  baseMs: 0,
  maxMs: 0,
  legacy: true,
});

/** Whether the policy retries a request with this method (its `methods`; null: any). */
export function retriesMethod(policy: RetryPolicy, method: string): boolean {
  return policy.methods === null || policy.methods.has(method);
}

/** Whether `policy` retries a response with `status`. */
export function retriesStatus(policy: RetryPolicy, status: number): boolean {
  return status < policy.statuses.length && policy.statuses[status] === 1;
}
