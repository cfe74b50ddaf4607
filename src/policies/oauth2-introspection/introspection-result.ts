/**
 * What an introspection answer (RFC 7662 §2.2) means for a policy, worked
 * out once per answer and cached: active or not (and why), until when it may
 * be reused, the consumer, whether the required scopes are there, and the
 * claim headers. A cache hit then costs no parsing at all.
 */
import type { Consumer } from '../consumer.js';
import { safeFieldValue } from '../headers/field-value.js';
import type { IntrospectionSettings } from './settings.js';

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
  /** `inactive`, `expired`, `wrong_issuer`, `wrong_audience` or `no_consumer`. */
  readonly reason: string;
}

/** A cacheable verdict on one token. */
export type TokenResult = ActiveResult | InactiveResult;

/** Claims a consumer id may come from: a non-empty string or a finite number. */
function claimText(v: unknown): string | null {
  if (typeof v === 'string') return v === '' ? null : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

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

function groupList(v: unknown): string[] {
  const list = typeof v === 'string' ? v.split(' ') : Array.isArray(v) ? v : [];
  const out: string[] = [];
  for (const g of list) if (typeof g === 'string' && g !== '') out.push(safeFieldValue(g));
  return out;
}

/** A claim as one header value ('' when there is nothing to send). */
export function claimHeaderValue(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return safeFieldValue(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return safeFieldValue(v.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(','));
  return safeFieldValue(JSON.stringify(v));
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
  if (s.issuer !== null && body.iss !== s.issuer) return negative('wrong_issuer');
  if (s.audiences !== null && !audienceMatches(body.aud, s.audiences)) return negative('wrong_audience');
  let id: string | null = null;
  for (let i = 0; i < s.consumerClaims.length && id === null; i++) id = claimText(body[s.consumerClaims[i]]);
  if (id === null) return negative('no_consumer');
  const scopes = s.requiredScopes.length === 0 ? [] : scopeList(body.scope);
  const headers: string[] = [];
  for (const [claim, header] of s.claimHeaders) {
    const value = claimHeaderValue(body[claim]);
    if (value !== '') headers.push(header, value);
  }
  const clientId = claimText(body.client_id);
  const username = typeof body.username === 'string' ? safeFieldValue(body.username) : '';
  return {
    active: true,
    expiresAt: expMs === 0 ? now + s.cacheTtlMs : Math.min(now + s.cacheTtlMs, expMs),
    notBeforeMs: epochMs(body.nbf),
    consumer: {
      id: safeFieldValue(id),
      username,
      groups: s.groupsClaim === null ? [] : groupList(body[s.groupsClaim]),
      credential: { kind: 'oauth2', id: clientId === null ? '' : safeFieldValue(clientId) },
      claims: body,
    },
    scopeOk: s.requiredScopes.every((r) => scopes.includes(r)),
    headers,
  };
}
