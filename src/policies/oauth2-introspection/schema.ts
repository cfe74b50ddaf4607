/**
 * The oauth2-introspection kind's config: its JSON Schema fragment and the
 * checks the schema cannot express (the URL parses, the secret and the CA
 * file can be read, credential sources parse, header names are usable).
 */
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import type { ConfigPath } from '../../config/issues.js';
import { checkSecret } from '../../config/secrets.js';
import { tryParseDuration, tryParseSize } from '../../config/units.js';
import { parseSource, SourceKind, type CredentialSource } from '../credentials/credential-source.js';
import type { IssueSink } from '../types.js';

/** `{ oauth2-introspection: <this> }` as written in the config file (schema- and check-valid). */
export interface IntrospectionConfig {
  /** The RFC 7662 introspection endpoint (http or https). */
  readonly url: string;
  readonly clientId: string;
  /** A secret reference: `env:NAME`, `file:PATH` or the literal secret. */
  readonly clientSecret: string;
  /** `basic` (default): HTTP Basic (RFC 6749 §2.3.1); `post`: client_id/client_secret in the form body. */
  readonly clientAuth?: 'basic' | 'post';
  /** Whole introspection call bound (default 3s). */
  readonly timeout?: string | number;
  /** How long an active result is reused, bounded by the token's `exp` (default 30s; 0 = never). */
  readonly cacheTtl?: string | number;
  /** How long an inactive result is reused (default 5s; 0 = never). */
  readonly negativeCacheTtl?: string | number;
  /** Most cached results per policy and worker (default 10000). */
  readonly cacheSize?: number;
  /** Most concurrent introspection calls per policy and worker (default 64). */
  readonly maxInFlight?: number;
  /** Most calls waiting for one of those slots (default 64); beyond: 503. */
  readonly maxQueued?: number;
  /** Scopes the token must all have (403 insufficient_scope otherwise). */
  readonly requiredScopes?: readonly string[];
  /** Where the token is read (default `["header:authorization:Bearer"]`). */
  readonly from?: readonly string[];
  /** Remove the token from what goes upstream (default false). */
  readonly hideCredentials?: boolean;
  /** Let requests without a token through without a consumer (default false). */
  readonly allowMissing?: boolean;
  /** Claim(s) naming the consumer, first present wins (default sub, username, client_id). */
  readonly consumerClaim?: string | readonly string[];
  /** Claim holding the consumer's username (default `username`). */
  readonly usernameClaim?: string;
  /** Claim holding the consumer's groups (an array of strings or a space-separated string). */
  readonly groupsClaim?: string;
  /** `{ <upstream header>: <claim> }`: claims copied to request headers (client-sent ones always removed). */
  readonly claimsToHeaders?: Readonly<Record<string, string>>;
  /** PEM file of CA certificates trusted for the endpoint, besides node's own store. */
  readonly ca?: string;
  /** The `iss` the result must carry, when set. */
  readonly issuer?: string;
  /** One of these must be in the result's `aud`, when set. */
  readonly audiences?: readonly string[];
  /** Tolerance for `nbf` and `exp` (default 60s). */
  readonly clockSkew?: string | number;
  /** Longer tokens are refused (malformed) without a call (default 8kb). */
  readonly maxTokenLength?: string | number;
  /** `realm` of the WWW-Authenticate challenge (default "turnpike"). */
  readonly realm?: string;
}

/** RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E (no space, quote or backslash). */
const SCOPE_TOKEN = '^[!#-\\[\\]-~]+$';
/** RFC 9110 token: what a header name may be. */
const TOKEN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

const duration = (description: string): Record<string, unknown> => ({ $ref: '#/$defs/duration', description });
const count = (description: string, minimum: number): Record<string, unknown> => ({ type: 'integer', minimum, description });

/** JSON Schema (2020-12) of `{ oauth2-introspection: <this> }`. */
export const introspectionSchema: Readonly<Record<string, unknown>> = {
  type: 'object',
  description: 'OAuth 2.0 token introspection (RFC 7662): asks the authorization server whether the bearer token is active, caches the answer, and sets the consumer.',
  additionalProperties: false,
  required: ['url', 'clientId', 'clientSecret'],
  properties: {
    url: { type: 'string', pattern: '^[hH][tT][tT][pP][sS]?://', description: 'The introspection endpoint (https://idp.example.com/oauth2/introspect).', 'x-message': { pattern: 'must be an http:// or https:// URL' } },
    clientId: { type: 'string', minLength: 1, description: 'The gateway\'s client id at the authorization server.' },
    clientSecret: { type: 'string', minLength: 1, description: 'The client secret: env:NAME, file:PATH or the literal secret.' },
    clientAuth: { enum: ['basic', 'post'], description: 'basic (default): HTTP Basic; post: client_id and client_secret in the form body.', 'x-message': 'must be basic or post' },
    timeout: duration('Bound on one introspection call (default 3s).'),
    cacheTtl: duration('How long an active result is reused, never past the token\'s exp (default 30s; 0 disables).'),
    negativeCacheTtl: duration('How long an inactive result is reused (default 5s; 0 disables).'),
    cacheSize: count('Most cached results per policy and worker (default 10000; least recently used go first).', 0),
    maxInFlight: count('Most concurrent introspection calls per policy and worker (default 64).', 1),
    maxQueued: count('Most calls waiting for a free slot (default 64); beyond, 503 auth_provider_unavailable.', 0),
    requiredScopes: {
      type: 'array', uniqueItems: true, description: 'Scopes the token must all have (403 insufficient_scope otherwise).',
      items: { type: 'string', pattern: SCOPE_TOKEN, 'x-message': 'must be a scope token (printable ASCII, no space, quote or backslash)' },
    },
    from: {
      type: 'array', minItems: 1, uniqueItems: true,
      description: 'Where the token is read: header:NAME[:SCHEME], query:NAME, cookie:NAME (default ["header:authorization:Bearer"]).',
      items: { type: 'string', minLength: 1 },
    },
    hideCredentials: { type: 'boolean', description: 'Remove the token from the request sent upstream (default false).' },
    allowMissing: { type: 'boolean', description: 'Let requests without a token through, without a consumer (default false).' },
    consumerClaim: {
      type: ['string', 'array'], minLength: 1, minItems: 1, items: { type: 'string', minLength: 1 },
      description: 'Claim naming the consumer, or a list (first present wins); default sub, then username, then client_id.',
    },
    usernameClaim: { type: 'string', minLength: 1, description: 'Claim holding the consumer\'s username (x-consumer-username); default username.' },
    groupsClaim: { type: 'string', minLength: 1, description: 'Claim holding the consumer\'s groups (a list of strings, or one space/comma-separated string).' },
    claimsToHeaders: {
      type: 'object', description: 'Upstream request header → claim name. Client-sent headers of these names are always removed.',
      propertyNames: { pattern: TOKEN, 'x-message': 'must be a header name like x-user-email' },
      additionalProperties: { type: 'string', minLength: 1, 'x-message': 'must be a claim name' },
    },
    ca: { type: 'string', minLength: 1, description: 'PEM file of CA certificates trusted for the endpoint, in addition to node\'s trust store.' },
    issuer: { type: 'string', minLength: 1, description: 'When set, the result\'s iss must equal it.' },
    audiences: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 }, description: 'When set, the result\'s aud must contain one of these.' },
    clockSkew: duration('Tolerance for nbf and exp (default 60s).'),
    maxTokenLength: { $ref: '#/$defs/size', description: 'Longer tokens are refused (malformed) without a call (default 8kb).' },
    realm: { type: 'string', pattern: '^[^"\\\\\\x00-\\x1f\\x7f]+$', description: 'realm of the WWW-Authenticate challenge (default "turnpike").', 'x-message': 'must be printable text without quotes or backslashes' },
  },
};

/**
 * Request headers a claim may not be copied to: framing and hop-by-hop
 * ones, and the identity headers only the gateway sets.
 */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'host', 'content-length', 'transfer-encoding', 'connection', 'keep-alive', 'te', 'trailer', 'upgrade', 'expect',
  'proxy-connection', 'proxy-authorization', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-request-id',
  'x-consumer-id', 'x-consumer-username', 'x-consumer-groups', 'x-anonymous-consumer',
  'x-client-cert-subject', 'x-client-cert-fingerprint',
]);

/** Why a CA file cannot be used, or null when it can. */
export function caProblem(path: string): string | null {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (err) {
    return `cannot read CA file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g);
  if (blocks === null) return `CA file ${path} holds no PEM certificate`;
  // why: tls.createSecureContext silently skips a CA entry it cannot parse; X509Certificate does not.
  for (let i = 0; i < blocks.length; i++) {
    try {
      new X509Certificate(blocks[i]);
    } catch {
      return `CA file ${path}: certificate ${i + 1} is not a valid PEM certificate`;
    }
  }
  return null;
}

/** Checks what the schema cannot. */
export function checkIntrospection(config: unknown, at: ConfigPath, issue: IssueSink): void {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) return;
  const c = config as Partial<Record<keyof IntrospectionConfig, unknown>>;
  if (typeof c.url === 'string') {
    let u: URL | null = null;
    try { u = new URL(c.url); } catch { issue([...at, 'url'], 'is not a valid URL'); }
    if (u !== null && (u.username !== '' || u.password !== '')) issue([...at, 'url'], 'must not hold credentials (use clientId and clientSecret)');
    if (u !== null && u.hash !== '') issue([...at, 'url'], 'must not have a #fragment');
  }
  checkSecret(c.clientSecret, [...at, 'clientSecret'], issue);
  if (typeof c.ca === 'string' && c.ca !== '') {
    const problem = caProblem(c.ca);
    if (problem !== null) issue([...at, 'ca'], problem);
  }
  if (c.timeout !== undefined && tryParseDuration(c.timeout) === 0) issue([...at, 'timeout'], 'must be more than 0');
  if (c.maxTokenLength !== undefined && tryParseSize(c.maxTokenLength) === 0) issue([...at, 'maxTokenLength'], 'must be more than 0');
  const sources: CredentialSource[] = [];
  const from = Array.isArray(c.from) ? c.from as unknown[] : DEFAULT_FROM;
  from.forEach((s: unknown, i: number) => {
    if (typeof s !== 'string' || s === '') return;
    const parsed = parseSource(s);
    if (typeof parsed === 'string') issue([...at, 'from', i], parsed);
    else sources.push(parsed);
  });
  if (typeof c.claimsToHeaders === 'object' && c.claimsToHeaders !== null && !Array.isArray(c.claimsToHeaders)) {
    const seen = new Set<string>();
    for (const header of Object.keys(c.claimsToHeaders)) {
      const name = header.toLowerCase();
      const path = [...at, 'claimsToHeaders', header];
      if (seen.has(name)) issue(path, `duplicate header name "${name}" (names are case-insensitive)`);
      seen.add(name);
      if (RESERVED_HEADERS.has(name)) issue(path, `${name} is set by the gateway itself (identity, forwarding or framing); it cannot carry a claim`);
      else if (sources.some((s) => (s.kind === SourceKind.Header && s.name === name) || (s.kind === SourceKind.Cookie && name === 'cookie'))) {
        issue(path, `${name} is where the token is read from (from); it cannot also carry a claim`);
      }
    }
  }
}

const DEFAULT_FROM: readonly string[] = ['header:authorization:Bearer'];
