/**
 * A jwt policy's config turned into what the request path uses: defaults
 * filled in, durations and sizes in numbers, credential sources parsed.
 * Runs once per policy when the worker builds it.
 */
import { readFileSync } from 'node:fs';
import { parseDuration, parseSize } from '../../config/units.js';
import { parseSource, type CredentialSource } from '../credentials/credential-source.js';
import type { JwksOptions } from './jwks-source.js';
import type { JwtConfig } from './schema.js';

/** Defaults of the optional fields (README, "jwt"). */
export const JWT_DEFAULTS = {
  from: ['header:authorization:Bearer'],
  clockSkewMs: 60_000,
  cacheTtlMs: 600_000,
  cooldownMs: 30_000,
  timeoutMs: 2_000,
  maxStaleMs: 3_600_000,
  maxTokenLength: 16 * 1024,
  tokenCacheSize: 10_000,
  realm: 'turnpike',
} as const;

/** The compiled settings of one jwt policy. */
export interface JwtSettings {
  readonly algorithms: readonly string[];
  readonly issuer: string | string[] | undefined;
  readonly audiences: string[] | undefined;
  readonly sources: readonly CredentialSource[];
  /** Clock skew in whole seconds (jose's clockTolerance). */
  readonly clockSkewSec: number;
  readonly requireExp: boolean;
  readonly consumerClaim: string;
  readonly usernameClaim: string | null;
  readonly groupsClaim: string | null;
  /** Upstream header names (lower-case) and the claim each carries, index-aligned. */
  readonly headerNames: readonly string[];
  readonly headerClaims: readonly string[];
  readonly hideCredentials: boolean;
  readonly allowMissing: boolean;
  readonly realm: string;
  readonly maxTokenLength: number;
  readonly tokenCacheSize: number;
  /** The JWKS endpoint, or null when only configured keys are used. */
  readonly jwks: JwksOptions | null;
}

/** Compiles a check-valid config (throws only if a file changed since the check). */
export function jwtSettings(c: JwtConfig): JwtSettings {
  const sources = (c.from ?? JWT_DEFAULTS.from).map((spec) => {
    const s = parseSource(spec);
    if (typeof s === 'string') throw new Error('jwt from: ' + s);
    return s;
  });
  const headers = Object.entries(c.claimsToHeaders ?? {});
  return {
    algorithms: [...c.algorithms],
    issuer: c.issuer === undefined ? undefined : typeof c.issuer === 'string' ? c.issuer : [...c.issuer],
    audiences: c.audiences === undefined ? undefined : typeof c.audiences === 'string' ? [c.audiences] : [...c.audiences],
    sources,
    clockSkewSec: Math.floor((c.clockSkew === undefined ? JWT_DEFAULTS.clockSkewMs : parseDuration(c.clockSkew)) / 1000),
    requireExp: c.requireExp ?? true,
    consumerClaim: c.consumerClaim ?? 'sub',
    usernameClaim: c.usernameClaim ?? null,
    groupsClaim: c.groupsClaim ?? null,
    headerNames: headers.map(([name]) => name.toLowerCase()),
    headerClaims: headers.map(([, claim]) => claim),
    hideCredentials: c.hideCredentials ?? false,
    allowMissing: c.allowMissing ?? false,
    realm: c.realm ?? JWT_DEFAULTS.realm,
    maxTokenLength: c.maxTokenLength === undefined ? JWT_DEFAULTS.maxTokenLength : parseSize(c.maxTokenLength),
    tokenCacheSize: c.tokenCacheSize ?? JWT_DEFAULTS.tokenCacheSize,
    jwks: c.jwks === undefined ? null : {
      url: c.jwks.url,
      cacheTtlMs: c.jwks.cacheTtl === undefined ? JWT_DEFAULTS.cacheTtlMs : parseDuration(c.jwks.cacheTtl),
      cooldownMs: c.jwks.cooldown === undefined ? JWT_DEFAULTS.cooldownMs : parseDuration(c.jwks.cooldown),
      timeoutMs: c.jwks.timeout === undefined ? JWT_DEFAULTS.timeoutMs : parseDuration(c.jwks.timeout),
      maxStaleMs: c.jwks.maxStale === undefined ? JWT_DEFAULTS.maxStaleMs : parseDuration(c.jwks.maxStale),
      ca: c.jwks.ca === undefined ? null : readFileSync(c.jwks.ca, 'utf8'),
    },
  };
}
