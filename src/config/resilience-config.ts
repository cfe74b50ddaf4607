/**
 * The resilience settings of an upstream (`circuitBreaker`, `limits`,
 * `panicThreshold`): their defaults, normalisation to compiled numbers and
 * the checks the schema cannot express. The runtime lives in
 * src/upstream/resilience/.
 */
import type { ConfigPath } from './issues.js';
import type { CircuitBreakerConfig, FailOnConfig, UpstreamLimitsConfig } from './types.js';
import { parseDuration, PERCENT_HINT, PERCENT_PATTERN, tryParseDuration, tryParsePercent } from './units.js';

/** Defaults of the resilience settings (the schema's descriptions say the same). Durations in ms. */
export const RESILIENCE_DEFAULTS = {
  /** upstream panicThreshold: 50% (Envoy's healthy_panic_threshold default). */
  panicThresholdPercent: 50,
  /** circuitBreaker.failureRate: 50%. */
  failureRatePercent: 50,
  /** circuitBreaker.minRequests. */
  minRequests: 20,
  /** circuitBreaker.window: 10s. */
  windowMs: 10_000,
  /** circuitBreaker.consecutiveFailures. */
  consecutiveFailures: 5,
  /** circuitBreaker.openFor: 15s. */
  openForMs: 15_000,
  /** circuitBreaker.halfOpenRequests. */
  halfOpenRequests: 3,
  /** circuitBreaker.failOn. */
  failOn: ['connect-failure', 'timeout', 'reset', '5xx'] as const,
  /** limits.maxQueued. */
  maxQueued: 0,
  /** limits.queueTimeout: 1s. */
  queueTimeoutMs: 1_000,
} as const;

/** Shortest `circuitBreaker.window`: 10 buckets of at least 10 ms. */
const MIN_WINDOW_MS = 100;

// The input was validated against the schema, so field access is untyped here on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/** The upstream's `panicThreshold` in percent (default 50). */
export function normalisePanicThreshold(u: Obj): number {
  return u.panicThreshold === undefined ? RESILIENCE_DEFAULTS.panicThresholdPercent : tryParsePercent(u.panicThreshold) ?? 0;
}

/** The upstream's `circuitBreaker` with defaults filled, or null when there is none. */
export function normaliseCircuitBreaker(u: Obj): CircuitBreakerConfig | null {
  const c: Obj | undefined = u.circuitBreaker;
  if (c === undefined || c === null) return null;
  const d = RESILIENCE_DEFAULTS;
  return {
    failureRatePercent: c.failureRate === undefined ? d.failureRatePercent : tryParsePercent(c.failureRate) ?? d.failureRatePercent,
    minRequests: c.minRequests ?? d.minRequests,
    windowMs: c.window === undefined ? d.windowMs : parseDuration(c.window),
    consecutiveFailures: c.consecutiveFailures ?? d.consecutiveFailures,
    openForMs: c.openFor === undefined ? d.openForMs : parseDuration(c.openFor),
    halfOpenRequests: c.halfOpenRequests ?? d.halfOpenRequests,
    failOn: normaliseFailOn((c.failOn as Array<string | number> | undefined) ?? d.failOn),
  };
}

/** `failOn` as flags and the list of counted 5xx statuses (`5xx` = all of 500..599). */
export function normaliseFailOn(list: ReadonlyArray<string | number>): FailOnConfig {
  const statuses = new Set<number>();
  let all5xx = false;
  for (const item of list) {
    if (item === '5xx') all5xx = true;
    else if (typeof item === 'number') statuses.add(item);
  }
  if (all5xx) for (let s = 500; s <= 599; s++) statuses.add(s);
  return {
    connectFailure: list.includes('connect-failure'),
    timeout: list.includes('timeout'),
    reset: list.includes('reset'),
    statuses: [...statuses].sort((a, b) => a - b),
  };
}

/** The upstream's `limits` with defaults filled, or null when there is none. */
export function normaliseLimits(u: Obj): UpstreamLimitsConfig | null {
  const l: Obj | undefined = u.limits;
  if (l === undefined || l === null) return null;
  return {
    maxConcurrent: l.maxConcurrent,
    maxQueued: l.maxQueued ?? RESILIENCE_DEFAULTS.maxQueued,
    queueTimeoutMs: l.queueTimeout === undefined ? RESILIENCE_DEFAULTS.queueTimeoutMs : parseDuration(l.queueTimeout),
  };
}

/**
 * Checks of the resilience settings the schema cannot express (ranges of
 * percentages, non-zero durations). Skips values of the wrong shape: the
 * schema reports those.
 *
 * @param up the upstream's raw object
 * @param at its config path (`upstreams.<name>`)
 * @param add reports one problem at a path
 */
export function checkUpstreamResilience(up: Obj, at: ConfigPath, add: (path: ConfigPath, message: string) => void): void {
  checkPercent(up.panicThreshold, [...at, 'panicThreshold'], 0, add);
  const cb = up.circuitBreaker;
  if (isObj(cb)) {
    const p: ConfigPath = [...at, 'circuitBreaker'];
    checkPercent(cb.failureRate, [...p, 'failureRate'], 1, add);
    const windowMs = tryParseDuration(cb.window);
    if (cb.window !== undefined && windowMs !== null && windowMs < MIN_WINDOW_MS) add([...p, 'window'], `must be at least ${MIN_WINDOW_MS}ms`);
    if (cb.openFor !== undefined && tryParseDuration(cb.openFor) === 0) add([...p, 'openFor'], 'must be more than 0');
  }
  const limits = up.limits;
  if (isObj(limits)) {
    const p: ConfigPath = [...at, 'limits'];
    const queued = typeof limits.maxQueued === 'number' ? limits.maxQueued : 0;
    if (queued > 0 && limits.queueTimeout !== undefined && tryParseDuration(limits.queueTimeout) === 0) {
      add([...p, 'queueTimeout'], 'must be more than 0 when maxQueued is above 0');
    }
  }
}

/** A percentage field: within `min`%..100% when present. */
function checkPercent(v: unknown, path: ConfigPath, min: number, add: (path: ConfigPath, message: string) => void): void {
  // Other shapes (and numbers out of 0..100) are the schema's to report.
  if (typeof v !== 'number' && (typeof v !== 'string' || !PERCENT_PATTERN.test(v.trim()))) return;
  const n = tryParsePercent(v);
  if (n === null) {
    if (typeof v === 'string') add(path, PERCENT_HINT);
  } else if (n < min) add(path, `must be at least ${min}%`);
}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
