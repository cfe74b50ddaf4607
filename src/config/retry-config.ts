/**
 * The `retry` block of a route and the `retryBudget` block of an upstream:
 * their defaults, normalisation and the checks the schema cannot express.
 * The runtime side (policy compile, budget, backoff) is src/upstream/retry/.
 */
import type { ConfigPath } from './issues.js';
import type { RetryBudgetConfig, RetryConfig, RetryOn } from './types.js';
import { parseDuration, PERCENT_PATTERN, tryParseDuration, tryParsePercent } from './units.js';

/** Every default of the retry settings (durations in ms). */
export const RETRY_DEFAULTS = {
  /** retry.attempts: one retry after the first try (Envoy's num_retries default). */
  attempts: 1,
  /** retry.on: what an Envoy `gateway-error` + `connect-failure` + `reset` policy retries. */
  on: ['connect-failure', 'reset', 502, 503, 504] as readonly RetryOn[],
  /** retry.methods: the idempotent methods of RFC 9110 §9.2.2. */
  methods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'] as readonly string[],
  /** retry.perTryTimeout: none. */
  perTryTimeoutMs: 0,
  /** retry.backoff.base: 25ms (capped at backoff.max when that is lower). */
  backoffBaseMs: 25,
  /** retry.backoff.max, as a multiple of base (Envoy: 10 x base, so 250ms by default). */
  backoffMaxFactor: 10,
  /** upstream retryBudget.ratio: 20%. */
  budgetRatio: 0.2,
  /** upstream retryBudget.minRetries. */
  budgetMinRetries: 3,
} as const;

/** The route timeout.request default (DEFAULTS.requestMs in normalise.ts, which imports this module). */
const DEFAULT_REQUEST_MS = 60_000;

// The input was validated against the schema, so field access is untyped here on purpose.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Obj = Record<string, any>;

/** A route's `retry` block with every default filled in. */
export function normaliseRetry(r: Obj | null): RetryConfig {
  const o: Obj = r ?? {};
  const b: Obj = o.backoff ?? {};
  const maxSet = b.max !== undefined ? parseDuration(b.max) : null;
  const baseMs = b.base !== undefined ? parseDuration(b.base) : Math.min(RETRY_DEFAULTS.backoffBaseMs, maxSet ?? Infinity);
  const on: RetryOn[] = [];
  for (const v of (o.on ?? RETRY_DEFAULTS.on) as Array<string | number>) {
    const c: RetryOn = typeof v === 'number' || /^\d+$/.test(v) ? Number(v) : (v as RetryOn);
    if (!on.includes(c)) on.push(c);
  }
  return {
    attempts: o.attempts ?? RETRY_DEFAULTS.attempts,
    on,
    methods: [...new Set(((o.methods ?? RETRY_DEFAULTS.methods) as string[]).map((m) => m.toUpperCase()))],
    perTryTimeoutMs: o.perTryTimeout === undefined ? RETRY_DEFAULTS.perTryTimeoutMs : parseDuration(o.perTryTimeout),
    backoff: { baseMs, maxMs: maxSet ?? baseMs * RETRY_DEFAULTS.backoffMaxFactor },
  };
}

/** An upstream's `retryBudget` block with its defaults filled in. */
export function normaliseRetryBudget(b: Obj | null): RetryBudgetConfig {
  const o: Obj = b ?? {};
  return {
    ratio: o.ratio === undefined ? RETRY_DEFAULTS.budgetRatio : tryParsePercent(o.ratio)! / 100,
    minRetries: o.minRetries ?? RETRY_DEFAULTS.budgetMinRetries,
  };
}

/** Where a check reports a problem. */
export type AddIssue = (path: ConfigPath, message: string) => void;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * What the schema cannot say about a route's `retry`: backoff.base not above
 * backoff.max, and perTryTimeout not above the route's request timeout (the
 * whole try sequence runs within that one). Values of the wrong shape are
 * skipped (the schema reported them).
 */
export function checkRouteRetry(route: Obj, at: ConfigPath, add: AddIssue): void {
  const retry = route.retry;
  if (!isObj(retry)) return;
  const b = retry.backoff;
  if (isObj(b) && b.base !== undefined && b.max !== undefined) {
    const base = tryParseDuration(b.base);
    const max = tryParseDuration(b.max);
    if (base !== null && max !== null && base > max) add([...at, 'retry', 'backoff', 'base'], `${String(b.base)} is above backoff.max ${String(b.max)}`);
  }
  if (retry.perTryTimeout === undefined) return;
  const perTry = tryParseDuration(retry.perTryTimeout);
  const request = requestTimeoutMs(route.timeout);
  if (perTry === null || perTry === 0 || request === null || request === 0) return;
  if (perTry > request) {
    const what = route.timeout === undefined ? 'the default request timeout 60s' : `the route's request timeout ${String(requestTimeoutText(route.timeout))}`;
    add([...at, 'retry', 'perTryTimeout'], `${String(retry.perTryTimeout)} is longer than ${what}`);
  }
}

/** The route's timeout.request in ms (default 60s); null when malformed. */
function requestTimeoutMs(t: unknown): number | null {
  if (t === undefined) return DEFAULT_REQUEST_MS;
  if (typeof t === 'string' || typeof t === 'number') return tryParseDuration(t);
  if (!isObj(t)) return null;
  return t.request === undefined ? DEFAULT_REQUEST_MS : tryParseDuration(t.request);
}

function requestTimeoutText(t: unknown): unknown {
  return isObj(t) ? (t.request ?? '60s') : t;
}

/** An upstream's `retryBudget.ratio` is at most 100%. */
export function checkRetryBudget(up: Obj, at: ConfigPath, add: AddIssue): void {
  const b = up.retryBudget;
  if (!isObj(b) || b.ratio === undefined) return;
  const ratio = tryParsePercent(b.ratio);
  if (ratio === null && typeof b.ratio === 'string' && PERCENT_PATTERN.test(b.ratio)) add([...at, 'retryBudget', 'ratio'], 'must be at most 100%');
}
