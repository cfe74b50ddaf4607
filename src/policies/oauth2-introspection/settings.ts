/**
 * An oauth2-introspection policy's config resolved once, when the worker
 * builds it: durations in ms, sources parsed, the client secret read, the
 * Basic header and the form tail precomputed.
 */
import { readFileSync } from 'node:fs';
import { readSecret } from '../../config/secrets.js';
import { parseDuration, parseSize } from '../../config/units.js';
import { parseSource, type CredentialSource } from '../credentials/credential-source.js';
import type { IntrospectionConfig } from './schema.js';

/** Defaults (README "oauth2-introspection"). */
export const DEFAULTS = {
  timeoutMs: 3000,
  cacheTtlMs: 30_000,
  negativeCacheTtlMs: 5000,
  cacheSize: 10_000,
  maxInFlight: 64,
  maxQueued: 64,
  clockSkewMs: 60_000,
  maxTokenLength: 8192,
  usernameClaim: 'username',
  realm: 'turnpike',
  from: ['header:authorization:Bearer'],
  consumerClaims: ['sub', 'username', 'client_id'],
} as const;

/** Largest introspection response read; a larger one counts as an endpoint failure. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** The resolved settings of one policy. */
export interface IntrospectionSettings {
  readonly url: URL;
  /** `Authorization: Basic ...` for clientAuth basic, null for post. */
  readonly authorization: string | null;
  /** Appended to every form body: `&token_type_hint=access_token` plus, for post, the client credentials. */
  readonly formTail: string;
  /** Extra trusted CA certificates (PEM), null for node's store only. */
  readonly ca: string | null;
  readonly timeoutMs: number;
  readonly cacheTtlMs: number;
  readonly negativeCacheTtlMs: number;
  readonly cacheSize: number;
  readonly maxInFlight: number;
  readonly maxQueued: number;
  readonly clockSkewMs: number;
  readonly requiredScopes: readonly string[];
  readonly sources: readonly CredentialSource[];
  readonly hideCredentials: boolean;
  readonly allowMissing: boolean;
  readonly consumerClaims: readonly string[];
  readonly usernameClaim: string;
  readonly groupsClaim: string | null;
  /** `[header, claim]` pairs, headers lower-case. */
  readonly claimHeaders: ReadonlyArray<readonly [string, string]>;
  /** Longest token sent for introspection; a longer one is refused as malformed without a call. */
  readonly maxTokenLength: number;
  readonly issuer: string | null;
  readonly audiences: readonly string[] | null;
  readonly realm: string;
}

/**
 * `application/x-www-form-urlencoded` encoding of one value (the WHATWG
 * form encoding: space as `+`), as RFC 6749 §2.3.1 asks for the client id
 * and secret before they are joined for Basic, and for every form field.
 */
export function formEncode(value: string): string {
  return new URLSearchParams([['v', value]]).toString().slice(2);
}

/** Resolves a policy's config (schema- and check-valid). Throws when the secret or CA file cannot be read. */
export function resolveSettings(config: IntrospectionConfig, env: NodeJS.ProcessEnv = process.env): IntrospectionSettings {
  const secret = readSecret(config.clientSecret, env);
  const post = config.clientAuth === 'post';
  const sources = (config.from ?? DEFAULTS.from).map((spec) => {
    const s = parseSource(spec);
    if (typeof s === 'string') throw new Error(s);
    return s;
  });
  const consumerClaims = config.consumerClaim === undefined ? DEFAULTS.consumerClaims
    : typeof config.consumerClaim === 'string' ? [config.consumerClaim] : config.consumerClaim;
  const ms = (v: string | number | undefined, dflt: number): number => (v === undefined ? dflt : parseDuration(v));
  return {
    url: new URL(config.url),
    authorization: post ? null
      : 'Basic ' + Buffer.from(formEncode(config.clientId) + ':' + formEncode(secret)).toString('base64'),
    formTail: '&token_type_hint=access_token'
      + (post ? '&client_id=' + formEncode(config.clientId) + '&client_secret=' + formEncode(secret) : ''),
    ca: config.ca === undefined ? null : readFileSync(config.ca, 'utf8'),
    timeoutMs: ms(config.timeout, DEFAULTS.timeoutMs),
    cacheTtlMs: ms(config.cacheTtl, DEFAULTS.cacheTtlMs),
    negativeCacheTtlMs: ms(config.negativeCacheTtl, DEFAULTS.negativeCacheTtlMs),
    cacheSize: config.cacheSize ?? DEFAULTS.cacheSize,
    maxInFlight: config.maxInFlight ?? DEFAULTS.maxInFlight,
    maxQueued: config.maxQueued ?? DEFAULTS.maxQueued,
    clockSkewMs: ms(config.clockSkew, DEFAULTS.clockSkewMs),
    requiredScopes: config.requiredScopes ?? [],
    sources,
    hideCredentials: config.hideCredentials === true,
    allowMissing: config.allowMissing === true,
    consumerClaims,
    usernameClaim: config.usernameClaim ?? DEFAULTS.usernameClaim,
    groupsClaim: config.groupsClaim ?? null,
    claimHeaders: Object.entries(config.claimsToHeaders ?? {}).map(([header, claim]) => [header.toLowerCase(), claim] as const),
    maxTokenLength: config.maxTokenLength === undefined ? DEFAULTS.maxTokenLength : parseSize(config.maxTokenLength),
    issuer: config.issuer ?? null,
    audiences: config.audiences ?? null,
    realm: config.realm ?? DEFAULTS.realm,
  };
}
