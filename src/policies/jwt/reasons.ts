/**
 * Why a token was refused: the `reason` member of the 401 problem and the
 * `error_description` of its WWW-Authenticate challenge, from a fixed list
 * (also the metric label, so its cardinality is bounded). jose's errors are
 * mapped here by their stable `code`, never shown: their messages stay in
 * the gateway.
 */

/** Every refusal reason, in the order of the counters. */
export const REASONS = [
  'expired', 'not_yet_valid', 'bad_signature', 'bad_issuer', 'bad_audience', 'unknown_key', 'malformed', 'missing_exp',
  'bad_algorithm', 'missing_claim',
] as const;
export type Reason = (typeof REASONS)[number];

/** Index of each reason in {@link REASONS}. */
export const enum R {
  Expired, NotYetValid, BadSignature, BadIssuer, BadAudience, UnknownKey, Malformed, MissingExp, BadAlgorithm, MissingClaim,
}

/** The client-facing detail of each reason (same order). */
export const DETAILS: readonly string[] = [
  'The token has expired',
  'The token is not valid yet (nbf)',
  'The token signature does not verify',
  'The token was not issued by an accepted issuer',
  'The token is not meant for this audience',
  'The token names a key the gateway does not know',
  'The token is malformed',
  'The token has no expiry (exp)',
  'The token\'s algorithm is not accepted',
  'The token lacks the consumer claim',
];

/** The reason for an error thrown by jose's jwtVerify (anything unrecognised is `malformed`). */
export function reasonOf(err: unknown): R {
  const e = err as { code?: unknown; claim?: unknown; reason?: unknown } | null;
  switch (e?.code) {
    case 'ERR_JWT_EXPIRED': return R.Expired;
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED': return R.BadSignature;
    case 'ERR_JOSE_ALG_NOT_ALLOWED': return R.BadAlgorithm;
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.claim === 'iss') return R.BadIssuer;
      if (e.claim === 'aud') return R.BadAudience;
      if (e.claim === 'nbf' && e.reason === 'check_failed') return R.NotYetValid;
      if (e.claim === 'exp' && e.reason === 'missing') return R.MissingExp;
      return R.Malformed;
    default: return R.Malformed;
  }
}

/** Whether jose refused the signature itself (the next candidate key may still verify it). */
export function isSignatureFailure(err: unknown): boolean {
  return (err as { code?: unknown } | null)?.code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED';
}
