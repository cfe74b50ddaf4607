/**
 * What an introspection answer (RFC 7662 §2.2) means for a policy, worked
 * out once per answer and cached: active or not (and why), until when it may
 * be reused, the consumer, whether the required scopes are there, and the
 * claim headers. A cache hit then costs no parsing at all.
 */
import type { Consumer } from '../consumer.js';
import { claimGroups, claimHeaderValue, deepFreeze } from '../credentials/claims.js';
import type { IntrospectionSettings } from './settings.js';

export { claimHeaderValue };

/** A token the endpoint called active and that passed the configured checks. */
export interface ActiveResult {
  readonly active: true;
  /** Epoch ms until which the result is reused: min(now + cacheTtl, exp). */
  readonly expiresAt: number;
  /** `nbf` in epoch ms (0 when absent), checked on every use. */
  readonly notBeforeMs: number;
  readonly consumer: Consumer;
  /** Whether the token has every required scope. */
  readonly scopeOk: boolean;
  /** Upstream headers from claimsToHeaders, flat `[name, value, ...]`. */
  readonly headers: readonly string[];
}

/** A refused token and the `reason` the client is told. */
export interface InactiveResult {
  readonly active: false;
  readonly expiresAt: number;
  /** `inactive`, `expired`, `bad_issuer`, `bad_audience`, `missing_claim` or `malformed` (an unusable consumer claim). */
  readonly reason: string;
}

/** A cacheable verdict on one token. */
export type TokenResult = ActiveResult | InactiveResult;

/** Seconds since the epoch as ms, or 0 when the claim is absent or not a number. */
function epochMs(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v * 1000 : 0;
}

/** The `scope` claim as a list (a space-separated string, or an array some servers send). */
export function scopeList(v: unknown): readonly string[] {
  if (typeof v === 'string') return v.split(' ').filter((s) => s !== '');
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === 'string' && s !== '');
  return [];
}

function audienceMatches(aud: unknown, wanted: readonly string[]): boolean {
  if (typeof aud === 'string') return wanted.includes(aud);
  if (Array.isArray(aud)) return aud.some((a) => typeof a === 'string' && wanted.includes(a));
  return false;
}

/**
 * The verdict on an introspection answer at time `now`. Only `active:
 * true` (the boolean) is active; an expired `exp` (beyond the clock skew),
 * a wrong `iss` or `aud` (when configured), or no consumer claim make the
 * token refused. `nbf` is kept and checked on each use.
 */
export function toResult(body: Record<string, unknown>, s: IntrospectionSettings, now: number): TokenResult {
  const negative = (reason: string): InactiveResult => ({ active: false, expiresAt: now + s.negativeCacheTtlMs, reason });
  if (body.active !== true) return negative('inactive');
  const expMs = epochMs(body.exp);
  if (expMs !== 0 && expMs + s.clockSkewMs <= now) return negative('expired');
  if (s.issuer !== null && body.iss !== s.issuer) return negative('bad_issuer');
  if (s.audiences !== null && !audienceMatches(body.aud, s.audiences)) return negative('bad_audience');
  // The first consumer claim present (a non-empty string or a number) names the consumer.
  let raw: unknown;
  for (let i = 0; i < s.consumerClaims.length && (raw === undefined || raw === null || raw === ''); i++) raw = body[s.consumerClaims[i]];
  if (raw === undefined || raw === null || raw === '') return negative('missing_claim');
  const id = typeof raw === 'boolean' ? null : claimHeaderValue(raw);
  if (id === null) return negative('malformed');
  const scopes = s.requiredScopes.length === 0 ? [] : scopeList(body.scope);
  const headers: string[] = [];
  for (const [header, claim] of s.claimHeaders) {
    const value = claimHeaderValue(body[claim]);
    if (value !== null) headers.push(header, value);
  }
  const clientId = claimHeaderValue(body.client_id);
  const username = claimHeaderValue(body[s.usernameClaim]) ?? '';
  deepFreeze(body);
  return {
    active: true,
    expiresAt: expMs === 0 ? now + s.cacheTtlMs : Math.min(now + s.cacheTtlMs, expMs),
    notBeforeMs: epochMs(body.nbf),
    // Shared by every request the cached result serves: frozen.
    consumer: Object.freeze({
      id,
      username,
      groups: Object.freeze(s.groupsClaim === null ? [] : claimGroups(body[s.groupsClaim])),
      credential: Object.freeze({ kind: 'oauth2', id: clientId ?? '' }),
      claims: body,
    }),
    scopeOk: s.requiredScopes.every((r) => scopes.includes(r)),
    headers,
  };
}
