/**
 * What a verified token gives the request: the consumer (id, username,
 * groups, claims) and the claimsToHeaders values, built once per token and
 * kept in the token cache. Everything that can end up in a header is made
 * header-safe here: a value with a control character (CR, LF, NUL, other C0
 * but HTAB, DEL) is not used, non-ASCII text is written as percent-encoded
 * UTF-8 (as the headers kind does), so nothing a token carries can split a
 * header line or break undici's header check.
 */
import type { Consumer } from '../consumer.js';
import { hasControlChar, safeFieldValue } from '../headers/field-value.js';
import type { KeyRef } from './keys.js';
import type { Cacheable } from './token-cache.js';
import type { JwtSettings } from './settings.js';
import { R } from './reasons.js';

/** A verified token, as cached. */
export interface VerifiedToken extends Cacheable {
  readonly consumer: Consumer;
  /** Per claimsToHeaders entry, the header value (null: claim absent or not header-safe). */
  readonly headerValues: ReadonlyArray<string | null> | null;
  /** Epoch ms from which the token is valid (nbf − skew; -Infinity without nbf). */
  readonly validFrom: number;
  /** Epoch ms at which it has expired (exp + skew; Infinity without exp). */
  readonly expiresAt: number;
  /** The life of the key that verified it. */
  readonly key: KeyRef;
}

/** Most groups taken from the groups claim. */
const MAX_GROUPS = 256;

/**
 * A claim as a header value: strings, finite numbers and booleans; null for
 * anything else (objects, lists, absent) and for text with a control character.
 */
export function headerValue(v: unknown): string | null {
  if (typeof v === 'string') return v === '' || hasControlChar(v) ? null : safeFieldValue(v);
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : null;
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return null;
}

/** The groups claim: a list of strings, or one string of names separated by spaces and/or commas. */
export function groupsOf(v: unknown): string[] {
  const raw: unknown[] = typeof v === 'string' ? v.split(/[\s,]+/) : Array.isArray(v) ? v : [];
  const out: string[] = [];
  for (let i = 0; i < raw.length && out.length < MAX_GROUPS; i++) {
    const g = raw[i];
    if (typeof g !== 'string' || g === '' || hasControlChar(g)) continue;
    // why: groups go upstream comma-joined (x-consumer-groups); a comma inside one would make two.
    out.push(safeFieldValue(g).replaceAll(',', '%2C'));
  }
  return out;
}

/** Freezes a claims tree (shared by every request the cached token serves). */
function deepFreeze(v: unknown): void {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
}

/**
 * The cache entry of a verified token, or the reason to refuse it when the
 * consumer claim is absent (missing_claim) or unusable (malformed: not a
 * string or number, empty, or holding a control character).
 */
export function verifiedToken(s: JwtSettings, token: string, payload: Record<string, unknown>, kid: string | undefined, key: KeyRef): VerifiedToken | R {
  const rawId = payload[s.consumerClaim];
  if (rawId === undefined || rawId === null) return R.MissingClaim;
  const id = typeof rawId === 'boolean' ? null : headerValue(rawId);
  if (id === null) return R.Malformed;
  const username = s.usernameClaim === null ? '' : headerValue(payload[s.usernameClaim]) ?? '';
  const groups = s.groupsClaim === null ? [] : groupsOf(payload[s.groupsClaim]);
  deepFreeze(payload);
  const consumer: Consumer = Object.freeze({
    id, username, groups: Object.freeze(groups), credential: Object.freeze({ kind: 'jwt', id: kid ?? '' }), claims: payload,
  });
  let headerValues: Array<string | null> | null = null;
  if (s.headerClaims.length > 0) headerValues = s.headerClaims.map((claim) => headerValue(payload[claim]));
  const skewMs = s.clockSkewSec * 1000;
  return {
    token, consumer, headerValues, key, used: false,
    validFrom: typeof payload.nbf === 'number' ? payload.nbf * 1000 - skewMs : -Infinity,
    expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 + skewMs : Infinity,
  };
}
