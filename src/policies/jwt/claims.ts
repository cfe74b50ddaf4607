/**
 * What a verified token gives the request: the consumer (id, username,
 * groups, claims) and the claimsToHeaders values, built once per token and
 * kept in the token cache. Values that go into headers are made header-safe
 * by ../credentials/claims.ts.
 */
import type { Consumer } from '../consumer.js';
import { claimGroups, claimHeaderValue as headerValue, deepFreeze } from '../credentials/claims.js';
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
  const groups = s.groupsClaim === null ? [] : claimGroups(payload[s.groupsClaim]);
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
