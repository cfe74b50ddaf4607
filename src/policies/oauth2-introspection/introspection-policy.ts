/**
 * One oauth2-introspection policy on the request path. A token seen before
 * is decided synchronously from the cache (a hash, a Map lookup, no
 * allocation); an unknown one waits for one introspection call shared by
 * every request carrying it (single flight), bounded by the policy's call
 * slots.
 */
import { hash } from 'node:crypto';
import { ErrorCodes } from '../../errors/codes.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { RequestContext } from '../../ingress/request-context.js';
import { challenge, duplicateCredentials } from '../credentials/challenge.js';
import { DUPLICATE, findCredential, hideCredential, type CredentialSource } from '../credentials/credential-source.js';
import type { PolicyInstance, PhaseResult, Verdict } from '../types.js';
import type { CallSlots } from './call-slots.js';
import { ExpiringLru } from './expiring-lru.js';
import type { CallFailure, IntrospectionClient } from './introspection-client.js';
import { toResult, type ActiveResult, type TokenResult } from './introspection-result.js';
import type { IntrospectionCounters } from './metrics.js';
import type { IntrospectionSettings } from './settings.js';

const SCHEME = 'Bearer';

/** Why a call gave no verdict: the endpoint's failure, or no free call slot. */
type NoVerdict = CallFailure | 'overloaded';

/** What the policy needs besides its settings. */
export interface IntrospectionDeps {
  readonly client: IntrospectionClient;
  readonly slots: CallSlots;
  readonly counters: IntrospectionCounters;
  readonly now: () => number;
  /** Reports an endpoint failure (the provider rate-limits the log). */
  readonly onFailure: (policy: string, failure: NoVerdict, detail: string) => void;
}

/**
 * Whether a token may be sent for introspection: at most `maxLength`
 * characters, all visible ASCII (no space or control character; a query or
 * cookie source decodes to anything).
 */
export function wellFormedToken(token: string, maxLength: number): boolean {
  if (token.length > maxLength) return false;
  for (let i = 0; i < token.length; i++) {
    const c = token.charCodeAt(i);
    if (c <= 0x20 || c >= 0x7f) return false;
  }
  return true;
}

/** The oauth2-introspection instance: an access phase only. */
export class IntrospectionPolicy implements PolicyInstance {
  readonly name: string;
  readonly cache: ExpiringLru<TokenResult>;
  /** Calls in flight by token hash: the requests with the same token wait for the same call. */
  private readonly flights = new Map<string, Promise<TokenResult | NoVerdict>>();
  /** Header names client-sent values of which are removed (claimsToHeaders). */
  private readonly stripped: readonly string[];
  private readonly unavailable: GatewayError;
  private readonly scopeParam: string;

  constructor(policyName: string, private readonly s: IntrospectionSettings, private readonly deps: IntrospectionDeps) {
    this.name = 'oauth2-introspection:' + policyName;
    this.cache = new ExpiringLru(s.cacheSize);
    this.stripped = s.claimHeaders.map(([header]) => header);
    // why: one shared error object; a 503 allocates nothing (it carries no per-request header).
    this.unavailable = new GatewayError(ErrorCodes.AUTH_PROVIDER_UNAVAILABLE, 'The token could not be checked; try again later');
    this.scopeParam = 'scope="' + s.requiredScopes.join(' ') + '"';
  }

  access(ctx: RequestContext): PhaseResult {
    const s = this.s;
    for (let i = 0; i < this.stripped.length; i++) ctx.removeHeader(this.stripped[i]);
    const found = findCredential(ctx, s.sources);
    if (found === DUPLICATE) return duplicateCredentials(ctx, SCHEME, s.realm);
    if (found === null) {
      if (s.allowMissing) return undefined;
      // RFC 6750 §3.1: a request without a token gets a challenge without an error code.
      return challenge(ctx, ErrorCodes.UNAUTHORIZED, SCHEME, s.realm, '', '', 'An access token is required');
    }
    const token = found.value;
    if (!wellFormedToken(token, s.maxTokenLength)) return this.refuse(ctx, 'malformed');
    // why: results are keyed by a SHA-256 of the token, so the cache never
    // holds a usable token. The one-shot hash() costs about 1.7 µs for a
    // short token (createHash().update().digest() about 4 times that).
    const key = hash('sha256', token, 'base64');
    const counters = this.deps.counters;
    const cached = this.cache.get(key, this.deps.now());
    if (cached !== undefined) {
      counters.lookups[cached.active ? 0 : 1]++;
      return this.decide(ctx, found.source, cached);
    }
    let flight = this.flights.get(key);
    if (flight === undefined) {
      counters.lookups[3]++;
      flight = this.introspect(key, token);
      this.flights.set(key, flight);
      const land = (): void => { this.flights.delete(key); };
      flight.then(land, land);
    } else {
      counters.lookups[2]++;
    }
    return this.await(ctx, found.source, flight);
  }

  private async await(ctx: RequestContext, source: CredentialSource, flight: Promise<TokenResult | NoVerdict>): Promise<Verdict> {
    const result = await flight;
    return typeof result === 'string' ? this.unavailable : this.decide(ctx, source, result);
  }

  /** One call for `token` (slot permitting); caches what it learns. Never rejects. */
  private async introspect(key: string, token: string): Promise<TokenResult | NoVerdict> {
    const { slots, client, counters, now } = this.deps;
    const slot = slots.acquire();
    if (slot !== true && (slot === false || !(await slot))) {
      counters.overloaded++;
      this.deps.onFailure(this.name, 'overloaded', 'no free introspection slot');
      return 'overloaded';
    }
    try {
      const r = await client.introspect(token);
      if (!r.ok) {
        counters.call(r.failure);
        this.deps.onFailure(this.name, r.failure, r.detail);
        return r.failure;
      }
      const t = now();
      const result = toResult(r.body, this.s, t);
      counters.call(r.body.active === true ? 'active' : 'inactive');
      this.cache.set(key, result, t);
      return result;
    } finally {
      slots.release();
    }
  }

  /** The verdict of a cached or fresh result for this request. */
  private decide(ctx: RequestContext, source: CredentialSource, r: TokenResult): Verdict {
    if (!r.active) return this.refuse(ctx, r.reason);
    if (r.notBeforeMs !== 0 && r.notBeforeMs - this.s.clockSkewMs > this.deps.now()) return this.refuse(ctx, 'not_yet_valid');
    if (!r.scopeOk) return this.insufficientScope(ctx);
    this.admit(ctx, source, r);
    return undefined;
  }

  private admit(ctx: RequestContext, source: CredentialSource, r: ActiveResult): void {
    ctx.consumer = r.consumer;
    const h = r.headers;
    for (let i = 0; i < h.length; i += 2) ctx.setHeader(h[i], h[i + 1]);
    if (this.s.hideCredentials) hideCredential(ctx, source);
  }

  private refuse(ctx: RequestContext, reason: string): GatewayError {
    return challenge(ctx, ErrorCodes.INVALID_TOKEN, SCHEME, this.s.realm, 'invalid_token', reason, DETAIL[reason] ?? 'The access token is not valid');
  }

  private insufficientScope(ctx: RequestContext): GatewayError {
    const err = challenge(ctx, ErrorCodes.INSUFFICIENT_SCOPE, SCHEME, this.s.realm, 'insufficient_scope', '',
      'The access token lacks a scope this route requires', this.scopeParam);
    err.extraMembers = ',"requiredScopes":' + JSON.stringify(this.s.requiredScopes);
    return err;
  }
}

const DETAIL: Record<string, string> = {
  malformed: 'The access token is malformed',
  inactive: 'The access token is not active (unknown, expired or revoked)',
  expired: 'The access token has expired',
  not_yet_valid: 'The access token is not valid yet',
  bad_issuer: 'The access token was issued by another authorization server',
  bad_audience: 'The access token is not meant for this API',
  missing_claim: 'The access token names no subject, user or client',
};
