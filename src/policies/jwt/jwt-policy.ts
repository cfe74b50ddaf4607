/**
 * One jwt policy (access phase). The hot path is a token seen before: one
 * Map lookup keyed by the whole token, the time checks (exp, nbf, the
 * verifying key still in its JWKS), then the cached consumer and header
 * values are set; no jose call, no parsing. Otherwise the token is checked
 * for shape and length, its protected header decoded (only `alg` and `kid`
 * are read: `jwk`, `jku`, `x5u`, `x5c` are never followed or trusted), the
 * algorithm must be listed, the keys that fit alg and kid are looked up
 * (configured keys, then the JWKS; an unknown kid may cause one refetch per
 * cooldown) and jose verifies signature and claims.
 */
import { decodeProtectedHeader, jwtVerify, type JWTVerifyOptions } from 'jose';
import { webcrypto } from 'node:crypto';
import { ErrorCodes } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { RequestContext } from '../../ingress/request-context.js';
import { challenge, duplicateCredentials } from '../credentials/challenge.js';
import { DUPLICATE, findCredential, hideCredential, type CredentialSource, type FoundCredential } from '../credentials/credential-source.js';
import type { PhaseResult, PolicyInstance, Verdict } from '../types.js';
import { verifiedToken, type VerifiedToken } from './claims.js';
import type { JwksSource } from './jwks-source.js';
import type { KeyIndex, VerifyKey } from './keys.js';
import { O, type JwtCounters } from './metrics.js';
import { DETAILS, isSignatureFailure, R, REASONS, reasonOf } from './reasons.js';
import type { JwtSettings } from './settings.js';
import { TokenCache } from './token-cache.js';

/** Most keys one token is tried against (a token without kid, several keys of its type). */
const MAX_KEY_ATTEMPTS = 4;

const HMAC_HASH: Readonly<Record<string, string>> = { HS256: 'SHA-256', HS384: 'SHA-384', HS512: 'SHA-512' };

/** Whether `token` looks like a compact JWS: three base64url segments (the signature may be empty, e.g. alg none). */
function isCompactJws(token: string): boolean {
  let dots = 0;
  let segment = 0;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c === 46) {
      if (segment === 0) return false;
      dots++;
      segment = 0;
      continue;
    }
    // A-Z a-z 0-9 - _
    if (!((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 95)) return false;
    segment++;
  }
  return dots === 2;
}

/** A jwt policy instance. */
export class JwtPolicy implements PolicyInstance {
  readonly name: string;
  /** Verified tokens (exported for tests and the cache-size gauge). */
  readonly cache: TokenCache<VerifiedToken>;
  private readonly algorithms: ReadonlySet<string>;
  private readonly headerNames: readonly string[];
  /** Each source alone, to hide a token found in several places. */
  private readonly single: ReadonlyArray<readonly CredentialSource[]>;

  constructor(
    policyName: string,
    private readonly s: JwtSettings,
    private readonly configured: KeyIndex,
    private readonly jwks: JwksSource | null,
    private readonly counters: JwtCounters,
    private readonly now: () => number,
  ) {
    this.name = 'jwt:' + policyName;
    this.cache = new TokenCache(s.tokenCacheSize);
    this.algorithms = new Set(s.algorithms);
    this.headerNames = s.headerNames;
    this.single = s.sources.map((src) => [src]);
  }

  /** The access phase: continue with a consumer, or refuse (401/503). */
  access(ctx: RequestContext): PhaseResult {
    const names = this.headerNames;
    // why: client-sent claim headers go first, on every path (allowMissing included).
    for (let i = 0; i < names.length; i++) ctx.removeHeader(names[i]);
    const found = findCredential(ctx, this.s.sources);
    if (found === null) {
      if (this.s.allowMissing) { this.counters.outcomes[O.Anonymous]++; return undefined; }
      this.counters.outcomes[O.Missing]++;
      return challenge(ctx, ErrorCodes.UNAUTHORIZED, 'Bearer', this.s.realm, '', '', 'A bearer token is required');
    }
    if (found === DUPLICATE) {
      this.counters.outcomes[O.Duplicate]++;
      return duplicateCredentials(ctx, 'Bearer', this.s.realm);
    }
    const token = found.value;
    const hit = this.cache.get(token);
    if (hit !== undefined) {
      const now = this.now();
      if (now < hit.expiresAt && now >= hit.validFrom && now < hit.key.usableUntil) {
        this.counters.outcomes[O.Cached]++;
        this.apply(ctx, hit, found);
        return undefined;
      }
      this.cache.delete(token);
      // why: its signature was good; only time ended it, so no need to verify again.
      if (now >= hit.expiresAt) return this.refuse(ctx, R.Expired);
    }
    return this.verify(ctx, token, found);
  }

  /** Sets the consumer and claim headers of a verified token; hides the token when configured. */
  private apply(ctx: RequestContext, t: VerifiedToken, found: FoundCredential): void {
    ctx.consumer = t.consumer;
    const values = t.headerValues;
    if (values !== null) {
      const names = this.headerNames;
      for (let i = 0; i < values.length; i++) if (values[i] !== null) ctx.addHeader(names[i], values[i]!);
    }
    if (this.s.hideCredentials) this.hide(ctx, found);
  }

  /** Removes the token from every configured place that carries it (the same token may be in a header and the query). */
  private hide(ctx: RequestContext, found: FoundCredential): void {
    hideCredential(ctx, found.source);
    if (this.single.length === 1) return;
    for (let i = 0; i < this.single.length; i++) {
      const src = this.single[i];
      if (src[0] === found.source) continue;
      const other = findCredential(ctx, src);
      if (other !== null && other !== DUPLICATE && other.value === found.value) hideCredential(ctx, src[0]);
    }
  }

  /** A 401 invalid_token with the reason. */
  private refuse(ctx: RequestContext, r: R): GatewayError {
    this.counters.outcomes[O.Refused]++;
    this.counters.reasons[r]++;
    return challenge(ctx, ErrorCodes.INVALID_TOKEN, 'Bearer', this.s.realm, 'invalid_token', REASONS[r], DETAILS[r]);
  }

  private unavailable(): GatewayError {
    this.counters.outcomes[O.Unavailable]++;
    return new GatewayError(ErrorCodes.AUTH_PROVIDER_UNAVAILABLE, 'The token cannot be checked: the identity provider\'s keys are unavailable');
  }

  /** The slow path: shape, header, algorithm and key lookup synchronously; jose asynchronously. */
  private verify(ctx: RequestContext, token: string, found: FoundCredential): PhaseResult {
    // why: checked before any decoding, so a huge or garbage token costs a length compare and one scan.
    if (token.length > this.s.maxTokenLength || !isCompactJws(token)) return this.refuse(ctx, R.Malformed);
    let alg: unknown;
    let kid: unknown;
    try {
      const header = decodeProtectedHeader(token);
      alg = header.alg;
      kid = header.kid;
    } catch {
      return this.refuse(ctx, R.Malformed);
    }
    if (typeof alg !== 'string' || (kid !== undefined && typeof kid !== 'string')) return this.refuse(ctx, R.Malformed);
    if (!this.algorithms.has(alg)) return this.refuse(ctx, R.BadAlgorithm);
    const keys: VerifyKey[] = [];
    this.configured.candidates(alg, kid, keys);
    const jwks = this.jwks;
    if (keys.length === 0 && jwks !== null) {
      const now = this.now();
      const set = jwks.keys(now);
      if (set !== null) set.candidates(alg, kid, keys);
      if (keys.length === 0) {
        // Unknown kid, or no usable set: one refetch per cooldown, shared by every request waiting for it.
        const pending = jwks.demand(now);
        if (pending === null) return set === null ? this.unavailable() : this.refuse(ctx, R.UnknownKey);
        return pending.then(() => this.afterRefetch(ctx, token, found, alg as string, kid as string | undefined));
      }
    }
    if (keys.length === 0) return this.refuse(ctx, R.UnknownKey);
    return this.check(ctx, token, found, keys, kid);
  }

  private afterRefetch(ctx: RequestContext, token: string, found: FoundCredential, alg: string, kid: string | undefined): PhaseResult {
    const set = this.jwks!.keys(this.now());
    if (set === null) return this.unavailable();
    const keys: VerifyKey[] = [];
    set.candidates(alg, kid, keys);
    if (keys.length === 0) return this.refuse(ctx, R.UnknownKey);
    return this.check(ctx, token, found, keys, kid);
  }

  /** jose verifies signature and claims with each candidate key in turn (a bad signature tries the next). */
  private async check(ctx: RequestContext, token: string, found: FoundCredential, keys: readonly VerifyKey[], kid: string | undefined): Promise<Verdict> {
    const s = this.s;
    const now = this.now();
    const options: JWTVerifyOptions = {
      algorithms: s.algorithms as string[], clockTolerance: s.clockSkewSec, currentDate: new Date(now),
      requiredClaims: s.requireExp ? ['exp'] : [],
    };
    if (s.issuer !== undefined) options.issuer = s.issuer;
    if (s.audiences !== undefined) options.audience = s.audiences;
    let last: unknown = null;
    const n = Math.min(keys.length, MAX_KEY_ATTEMPTS);
    for (let i = 0; i < n; i++) {
      const key = keys[i];
      let payload: Record<string, unknown>;
      try {
        payload = (await jwtVerify(token, await usableKey(key), options)).payload;
      } catch (err) {
        last = err;
        if (isSignatureFailure(err)) continue;
        return this.refuse(ctx, reasonOf(err));
      }
      const t = verifiedToken(s, token, payload, kid, key.ref);
      if (typeof t === 'number') return this.refuse(ctx, t);
      this.cache.set(t);
      this.counters.outcomes[O.Verified]++;
      this.apply(ctx, t, found);
      return undefined;
    }
    return this.refuse(ctx, reasonOf(last));
  }
}

/** The key jose gets: an HMAC secret is imported into a CryptoKey once, then reused. */
async function usableKey(k: VerifyKey): Promise<VerifyKey['key']> {
  if (!(k.key instanceof Uint8Array)) return k.key;
  const hash = HMAC_HASH[k.alg ?? ''] ?? 'SHA-256';
  k.key = await webcrypto.subtle.importKey('raw', k.key, { name: 'HMAC', hash }, false, ['verify']);
  return k.key;
}
