/**
 * The jwt kind's config as written and its JSON Schema fragment (composed
 * into `$defs.policy.properties.jwt` of the gateway schema). The checks the
 * schema cannot express are in check.ts.
 */
import { JWS_ALGORITHMS } from './algorithms.js';
import type { KeyConfig } from './keys.js';

type Obj = Record<string, unknown>;

/** `jwks:` as written. */
export interface JwksConfig {
  readonly url: string;
  /** How long a fetched set is fresh (default 10m). */
  readonly cacheTtl?: string | number;
  /** Least time between two fetches caused by unknown kids (or a cold set) (default 30s). */
  readonly cooldown?: string | number;
  /** Whole-fetch timeout (default 2s). */
  readonly timeout?: string | number;
  /** How long past cacheTtl a set is still used while refreshes fail (default 1h). */
  readonly maxStale?: string | number;
  /** PEM file of extra CA certificates trusted for the JWKS endpoint (besides node's). */
  readonly ca?: string;
}

/** `{ jwt: <this> }` as written (schema- and check-valid). */
export interface JwtConfig {
  readonly issuer?: string | readonly string[];
  readonly audiences?: string | readonly string[];
  readonly algorithms: readonly string[];
  readonly jwks?: JwksConfig;
  readonly keys?: readonly KeyConfig[];
  readonly from?: readonly string[];
  readonly clockSkew?: string | number;
  readonly requireExp?: boolean;
  readonly consumerClaim?: string;
  readonly usernameClaim?: string;
  readonly groupsClaim?: string;
  readonly claimsToHeaders?: Readonly<Record<string, string>>;
  readonly hideCredentials?: boolean;
  readonly allowMissing?: boolean;
  readonly realm?: string;
  readonly maxTokenLength?: string | number;
  readonly tokenCacheSize?: number;
}

/** RFC 9110 token: a header name. */
export const TOKEN_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";
const NAME_MESSAGE = 'is not a valid header name (RFC 9110 token: letters, digits and !#$%&\'*+.^_`|~-)';

const ALG_MESSAGE = `must be one of: ${JWS_ALGORITHMS.join(', ')} ("none" is never accepted)`;

const algorithm = { type: 'string', enum: JWS_ALGORITHMS, 'x-message': ALG_MESSAGE };

const stringOrList = (description: string): Obj => ({
  type: ['string', 'array'],
  description,
  minLength: 1,
  minItems: 1,
  items: { type: 'string', minLength: 1 },
});

const claimName = (description: string): Obj => ({ type: 'string', minLength: 1, description });

/** JSON Schema (2020-12) of `{ jwt: <this> }`. */
export const jwtSchema: Readonly<Obj> = {
  type: 'object',
  description: 'Verifies a JWT (JWS) bearer token with configured keys and/or a JWKS URL, and sets the request\'s consumer from its claims.',
  additionalProperties: false,
  required: ['algorithms'],
  properties: {
    issuer: stringOrList('Accepted "iss" value(s); when set, a token from another issuer is refused (bad_issuer).'),
    audiences: stringOrList('Accepted "aud" values; when set, the token\'s aud must contain one of them (bad_audience).'),
    algorithms: {
      type: 'array',
      description: 'Accepted JWS algorithms (required). HS* only with keys[].secret, the others only with public keys (jwk, pem, jwks).',
      minItems: 1,
      uniqueItems: true,
      'x-message': { minItems: 'must list at least one algorithm', uniqueItems: 'lists the same algorithm twice' },
      items: algorithm,
    },
    jwks: {
      type: 'object',
      description: 'A JSON Web Key Set endpoint, fetched at worker start and every cacheTtl.',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', minLength: 1, description: 'http(s) URL of the JWK Set.' },
        cacheTtl: { $ref: '#/$defs/duration', description: 'How long a fetched set is fresh before it is refetched. Default 10m.' },
        cooldown: { $ref: '#/$defs/duration', description: 'Least time between two fetches caused by an unknown kid (or a cold set). Default 30s.' },
        timeout: { $ref: '#/$defs/duration', description: 'Time limit of one fetch (connect, headers and body). Default 2s.' },
        maxStale: { $ref: '#/$defs/duration', description: 'How long past cacheTtl the last good set is still used while refreshes fail. Default 1h.' },
        ca: { type: 'string', minLength: 1, description: 'PEM file of CA certificates trusted for the endpoint in addition to node\'s trust store.' },
      },
    },
    keys: {
      type: 'array',
      description: 'Configured keys: { jwk: {...} }, { pem: file }, { secret: env:NAME, alg: HS256 }; each may carry a kid.',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          jwk: { type: 'object', description: 'A public JWK (RSA, EC or OKP/Ed25519).' },
          pem: { type: 'string', minLength: 1, description: 'A PEM file (public key or certificate), or inline PEM text.' },
          secret: { type: 'string', minLength: 1, description: 'An HMAC secret: env:NAME, file:PATH or literal text (needs alg).' },
          alg: { ...algorithm, description: 'The one algorithm this key verifies (required with secret).' },
          kid: { type: 'string', minLength: 1, description: 'Key id a token must name to use this key (a jwk\'s own kid otherwise).' },
        },
      },
    },
    from: {
      type: 'array',
      description: 'Where the token is read from, in order: header:NAME[:SCHEME], query:NAME, cookie:NAME. Default [ "header:authorization:Bearer" ].',
      minItems: 1,
      items: { type: 'string', minLength: 1 },
    },
    clockSkew: { $ref: '#/$defs/duration', description: 'Tolerance for exp and nbf. Default 60s.' },
    requireExp: { type: 'boolean', description: 'Refuse tokens without exp (missing_exp). Default true.' },
    consumerClaim: claimName('Claim that is the consumer id. Default sub.'),
    usernameClaim: claimName('Claim that is the consumer username (x-consumer-username). Default none.'),
    groupsClaim: claimName('Claim with the consumer groups: a list of strings, or one space/comma-separated string. Default none.'),
    claimsToHeaders: {
      type: 'object',
      description: 'Upstream request header → claim name. Client-sent headers of these names are always removed.',
      propertyNames: { pattern: TOKEN_PATTERN, 'x-message': NAME_MESSAGE },
      additionalProperties: { type: 'string', minLength: 1, 'x-message': 'must be a claim name' },
    },
    hideCredentials: { type: 'boolean', description: 'Remove the token from what goes upstream. Default false.' },
    allowMissing: { type: 'boolean', description: 'Let requests without a token through without a consumer (an invalid token is still refused). Default false.' },
    realm: {
      type: 'string',
      pattern: '^[ !#-\\[\\]-~]+$',
      'x-message': 'must be printable ASCII without " or \\',
      description: 'The realm of the WWW-Authenticate challenge. Default turnpike.',
    },
    maxTokenLength: { $ref: '#/$defs/size', description: 'Longer tokens are refused (malformed) before any parsing. Default 16kb.' },
    tokenCacheSize: {
      type: 'integer',
      minimum: 0,
      maximum: 1000000,
      description: 'Verified tokens remembered per worker (CLOCK eviction); 0 = verify every request. Default 10000.',
    },
  },
};
