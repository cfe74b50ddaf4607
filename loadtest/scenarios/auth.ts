/**
 * `auth`: `passthrough` behind a `jwt` policy (RS256 with a key pair the run
 * generates, so no private key is committed) and a `rate-limit` counting per
 * consumer (`key: consumer`, never reached): every request carries the same
 * valid token, so after the first one the jwt policy answers from its token
 * cache (the warm path of a logged-in client). Next to `passthrough`, the
 * CPU per request of a typical authenticated route.
 */
import { createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { b64url, BENCH_CLAIMS } from './jwt.js';
import { passthrough } from './passthrough.js';
import type { Scenario } from './types.js';

let keys: { privateKey: KeyObject; jwk: string } | null = null;

function runKeys(): { privateKey: KeyObject; jwk: string } {
  if (keys === null) {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = { ...pair.publicKey.export({ format: 'jwk' }), kid: 'bench-rs256', alg: 'RS256', use: 'sig' };
    keys = { privateKey: createPrivateKey(pair.privateKey.export({ format: 'pem', type: 'pkcs8' })), jwk: JSON.stringify(jwk) };
  }
  return keys;
}

/** An RS256 token config/loadtest/auth.yaml accepts (the claims of the jwt scenario's token). */
export function authBenchToken(): string {
  const input = b64url({ alg: 'RS256', typ: 'JWT', kid: 'bench-rs256' }) + '.' + b64url(BENCH_CLAIMS);
  return input + '.' + sign('sha256', Buffer.from(input), runKeys().privateKey).toString('base64url');
}

/** The passthrough load with `Authorization: Bearer <RS256 token>`, through jwt + a per-consumer rate limit. */
export const auth: Scenario = {
  ...passthrough,
  name: 'auth',
  description: 'passthrough + jwt (RS256, token-cache hit after the first request, claims to headers) + rate-limit key: consumer (per-worker, never reached)',
  configFile: 'auth.yaml',
  prepare: function authPrepare() {
    return { JWT_JWK: runKeys().jwk };
  },
  requests: function authRequests() {
    return [{ method: 'GET', path: '/api/hello', headers: { authorization: 'Bearer ' + authBenchToken() } }];
  },
};
