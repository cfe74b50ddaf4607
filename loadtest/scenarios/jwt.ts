/**
 * `jwt`: `passthrough` behind a jwt policy; every request carries the same
 * valid token, so the load measures the token-cache hit path (one lookup,
 * the time checks, consumer and claim headers set) next to `passthrough`.
 */
import { createHmac } from 'node:crypto';
import { passthrough } from './passthrough.js';
import type { Scenario } from './types.js';

/** The secret of config/loadtest/jwt.yaml. */
const SECRET = 'turnpike-loadtest-hs256-secret-0123456789';

/** base64url of a JSON value (a JWS header or payload). */
export function b64url(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

/** The claims of the bench tokens: about the size of a typical IdP access token (expires in 2100). */
export const BENCH_CLAIMS = {
  iss: 'https://id.example.com/', aud: 'orders-api', sub: 'user-1234567890', tenant: 'tenant-42', exp: 4102444800,
  iat: 1767225600, scope: 'orders:read orders:write profile email', groups: ['admins', 'ops', 'billing'],
  jti: 'b9c1d7e2-5f3a-4c8e-9d1b-2a6f7e8c9d0a', email: 'user@example.com',
};

/** An HS256 token the jwt.yaml policy accepts. */
export function benchToken(): string {
  const input = b64url({ alg: 'HS256', typ: 'JWT', kid: 'bench' }) + '.' + b64url(BENCH_CLAIMS);
  return input + '.' + createHmac('sha256', SECRET).update(input).digest('base64url');
}

/** The passthrough load with `Authorization: Bearer <token>`, through one jwt policy. */
export const jwt: Scenario = {
  ...passthrough,
  name: 'jwt',
  description: 'passthrough + jwt (HS256 token, token-cache hit after the first request; claims to two headers)',
  configFile: 'jwt.yaml',
  requests: function jwtRequests() {
    return [{ method: 'GET', path: '/api/hello', headers: { authorization: 'Bearer ' + benchToken() } }];
  },
};
