/**
 * The IETF RateLimit header fields (draft-ietf-httpapi-ratelimit-headers):
 * `RateLimit-Policy: "name";q=<quota>;w=<window s>` and
 * `RateLimit: "name";r=<remaining>;t=<s until reset>`, plus `Retry-After`
 * (seconds) on a 429.
 */
import type { LimitSpec } from './store.js';

/** Header names as written (lower-case, as HTTP/2 would require). */
export const RATELIMIT_POLICY = 'ratelimit-policy';
export const RATELIMIT = 'ratelimit';
export const RETRY_AFTER = 'retry-after';

/** The RateLimit-Policy value of a limit (built once at config load). */
export function policyValue(spec: LimitSpec): string {
  return '"' + spec.name + '";q=' + spec.limit + ';w=' + Math.max(1, Math.round(spec.windowMs / 1000));
}

/** The start of a RateLimit value (`"name";r=`), built once. */
export function rateLimitPrefix(spec: LimitSpec): string {
  return '"' + spec.name + '";r=';
}

/** Seconds for `t=` and Retry-After: whole seconds, rounded up, at least 0 (Retry-After at least 1). */
export function ceilSeconds(ms: number): number {
  return ms <= 0 ? 0 : Math.ceil(ms / 1000);
}
